//! The preprocessing the pretrained weights expect: RGB, center crop of 224/256 of the short
//! side, resize to 224x224, then `(x - 127) / 128` per channel, NCHW.
//!
//! Decoding and resizing are the platform's job (the browser's canvas in the page, the `image`
//! crate natively behind the `image` feature); both hand this module 224x224 RGBA pixels whose
//! transparency is already composited on white.

#[cfg(feature = "model")]
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Side of the square RGB image the backbone takes.
pub const INPUT_SIZE: usize = 224;

/// Side of the images a network trained from scratch sees: half the pretrained network's, so
/// that a class's run ends in classroom time on a CPU (an epoch costs a quarter).
pub const SCRATCH_INPUT_SIZE: usize = 112;

/// Fraction of the short side kept by the center crop.
pub const CROP_FRACTION: f32 = 224.0 / 256.0;

/// Pixel value mapped to 0 by the normalization.
pub const NORMALIZE_CENTER: f32 = 127.0;

/// Pixel range mapped to 1 by the normalization.
pub const NORMALIZE_SCALE: f32 = 128.0;

/// Number of values in one preprocessed image (`3 x 224 x 224`).
pub const INPUT_LEN: usize = 3 * INPUT_SIZE * INPUT_SIZE;

/// The square region of the source image that is resized to the network input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropRect {
    /// Left edge in source pixels.
    pub x: f32,
    /// Top edge in source pixels.
    pub y: f32,
    /// Side length in source pixels.
    pub size: f32,
}

/// The centered square covering [`CROP_FRACTION`] of the short side of a `width x height` image.
pub fn center_crop(width: u32, height: u32) -> CropRect {
    let short = width.min(height) as f32;
    let size = (short * CROP_FRACTION).max(1.0);
    CropRect {
        x: (width as f32 - size) / 2.0,
        y: (height as f32 - size) / 2.0,
        size,
    }
}

/// How pixel values 0..255 become the network's input numbers. Only [`Normalization::Model`]
/// is what the pretrained weights were trained with; the others exist for the lesson's
/// experiment of feeding them something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Normalization {
    /// `(x - 127) / 128`: what EfficientNet-Lite0 expects (about -1..1).
    Model,
    /// `x / 255`: inputs in 0..1, not centred.
    ZeroToOne,
    /// `x`: the pixel values themselves, 0..255 (normalization forgotten).
    Raw,
    /// ImageNet's mean and standard deviation per channel, as most PyTorch models expect.
    ImageNet,
}

/// ImageNet's per-channel mean and standard deviation of values in 0..1.
const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

impl Normalization {
    /// Every normalization, the model's first.
    pub const ALL: [Self; 4] = [Self::Model, Self::ZeroToOne, Self::Raw, Self::ImageNet];

    /// The formula, as the page writes it out.
    pub fn formula(self) -> &'static str {
        match self {
            Self::Model => "(x − 127) / 128",
            Self::ZeroToOne => "x / 255",
            Self::Raw => "x (no normalization)",
            Self::ImageNet => "(x / 255 − mean) / std, ImageNet's mean and std per colour",
        }
    }

    /// The input number of pixel value `value` in colour channel `channel` (0 red, 1 green, 2 blue).
    pub fn apply(self, channel: usize, value: u8) -> f32 {
        let x = value as f32;
        match self {
            Self::Model => (x - NORMALIZE_CENTER) / NORMALIZE_SCALE,
            Self::ZeroToOne => x / 255.0,
            Self::Raw => x,
            Self::ImageNet => (x / 255.0 - IMAGENET_MEAN[channel]) / IMAGENET_STD[channel],
        }
    }
}

/// Converts 224x224 RGBA pixels (row-major, alpha ignored) into the planar RGB input of one
/// image, normalized as `normalization` says.
///
/// # Panics
/// If `rgba` is not exactly `224 * 224 * 4` bytes long.
pub fn normalize_rgba(rgba: &[u8], normalization: Normalization) -> Vec<f32> {
    let plane = INPUT_SIZE * INPUT_SIZE;
    assert_eq!(rgba.len(), plane * 4, "expected 224x224 RGBA pixels");
    let mut input = vec![0.0; INPUT_LEN];
    for (pixel, rgba) in rgba.chunks_exact(4).enumerate() {
        for channel in 0..3 {
            input[channel * plane + pixel] = normalization.apply(channel, rgba[channel]);
        }
    }
    input
}

#[cfg(feature = "model")]
/// Stacks normalized images (each [`INPUT_LEN`] values) into a `[batch, 3, 224, 224]` tensor.
pub fn batch_tensor(images: &[Vec<f32>], device: &Device) -> Tensor<4> {
    let values: Vec<f32> = images.iter().flatten().copied().collect();
    let data = TensorData::new(values, [images.len(), 3, INPUT_SIZE, INPUT_SIZE]);
    Tensor::from_data(data, device)
}

#[cfg(feature = "image")]
pub use native::{DecodeError, decode_model_input, decode_to_rgba};

#[cfg(feature = "image")]
mod native {
    use super::{INPUT_SIZE, center_crop};
    use image::imageops::FilterType;
    use image::{DynamicImage, ImageDecoder, ImageReader, Rgba, RgbaImage};
    use std::io::Cursor;

    /// Why a file could not be turned into network input.
    #[derive(Debug)]
    pub struct DecodeError(pub String);

    impl std::fmt::Display for DecodeError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "could not decode image: {}", self.0)
        }
    }

    impl std::error::Error for DecodeError {}

    impl From<image::ImageError> for DecodeError {
        fn from(error: image::ImageError) -> Self {
            Self(error.to_string())
        }
    }

    impl From<std::io::Error> for DecodeError {
        fn from(error: std::io::Error) -> Self {
            Self(error.to_string())
        }
    }

    /// Decodes an encoded image (EXIF orientation applied, transparency composited on white),
    /// center-crops it and resizes it bicubically to 224x224 RGBA, as the page does with canvas.
    pub fn decode_to_rgba(encoded: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let mut decoder = ImageReader::new(Cursor::new(encoded))
            .with_guessed_format()?
            .into_decoder()?;
        let orientation = decoder.orientation()?;
        let mut image = DynamicImage::from_decoder(decoder)?;
        image.apply_orientation(orientation);
        let mut rgba = image.to_rgba8();
        for pixel in rgba.pixels_mut() {
            *pixel = over_white(*pixel);
        }
        let crop = center_crop(rgba.width(), rgba.height());
        let side = crop.size.round() as u32;
        let cropped = image::imageops::crop_imm(
            &rgba,
            crop.x.round() as u32,
            crop.y.round() as u32,
            side,
            side,
        )
        .to_image();
        let size = INPUT_SIZE as u32;
        let resized: RgbaImage =
            image::imageops::resize(&cropped, size, size, FilterType::CatmullRom);
        Ok(resized.into_raw())
    }

    /// Decodes a photo's model input as the page keeps it (a lossless 224x224 image of exactly
    /// what the backbone saw) without changing a pixel: no crop, no resize.
    pub fn decode_model_input(encoded: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let image = image::load_from_memory(encoded)?;
        let size = INPUT_SIZE as u32;
        if (image.width(), image.height()) != (size, size) {
            return Err(DecodeError(format!(
                "a model input is {size}x{size}, not {}x{}",
                image.width(),
                image.height()
            )));
        }
        let mut rgba = image.to_rgba8();
        for pixel in rgba.pixels_mut() {
            *pixel = over_white(*pixel);
        }
        Ok(rgba.into_raw())
    }

    fn over_white(pixel: Rgba<u8>) -> Rgba<u8> {
        let [r, g, b, a] = pixel.0;
        let alpha = a as f32 / 255.0;
        let blend = |c: u8| (c as f32 * alpha + 255.0 * (1.0 - alpha)).round() as u8;
        Rgba([blend(r), blend(g), blend(b), 255])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn center_crop_keeps_224_of_256_of_the_short_side() {
        let crop = center_crop(512, 256);
        assert_eq!(
            crop,
            CropRect {
                x: 144.0,
                y: 16.0,
                size: 224.0
            }
        );
        let crop = center_crop(300, 600);
        assert!((crop.size - 262.5).abs() < 1e-4);
        assert!((crop.x - 18.75).abs() < 1e-4);
    }

    #[test]
    fn normalizes_to_planar_rgb() {
        let mut rgba = vec![0u8; INPUT_SIZE * INPUT_SIZE * 4];
        // first pixel: r=255 g=127 b=0; last pixel: r=1
        rgba[..4].copy_from_slice(&[255, 127, 0, 9]);
        let last = rgba.len() - 4;
        rgba[last] = 1;
        let input = normalize_rgba(&rgba, Normalization::Model);
        let plane = INPUT_SIZE * INPUT_SIZE;
        assert_eq!(input.len(), INPUT_LEN);
        assert_eq!(input[0], 1.0);
        assert_eq!(input[plane], 0.0);
        assert_eq!(input[2 * plane], -127.0 / 128.0);
        assert_eq!(input[plane - 1], -126.0 / 128.0);
    }

    #[test]
    fn wrong_normalizations_really_change_the_input() {
        let rgba: Vec<u8> = (0..INPUT_SIZE * INPUT_SIZE * 4)
            .map(|i| (i % 251) as u8)
            .collect();
        let right = normalize_rgba(&rgba, Normalization::Model);
        let plane = INPUT_SIZE * INPUT_SIZE;
        let zero_to_one = normalize_rgba(&rgba, Normalization::ZeroToOne);
        let raw = normalize_rgba(&rgba, Normalization::Raw);
        let imagenet = normalize_rgba(&rgba, Normalization::ImageNet);
        for wrong in [&zero_to_one, &raw, &imagenet] {
            let differing = right
                .iter()
                .zip(wrong)
                .filter(|(a, b)| (*a - *b).abs() > 0.05);
            assert!(differing.count() > INPUT_LEN / 2);
        }
        // Their definitions, on the first pixel (r=0, g=1, b=2) and its blue channel.
        assert_eq!(zero_to_one[0], 0.0);
        assert_eq!(zero_to_one[plane], 1.0 / 255.0);
        assert_eq!(raw[plane], 1.0);
        assert!((imagenet[0] - (-0.485 / 0.229)).abs() < 1e-6);
        assert!((imagenet[2 * plane] - (2.0 / 255.0 - 0.406) / 0.225).abs() < 1e-6);
        // 0..1 inputs are all non-negative; the model's are centred on 127.
        assert!(zero_to_one.iter().all(|&x| (0.0..=1.0).contains(&x)));
        assert!(right.iter().any(|&x| x < -0.5));
    }
}
