//! Turns a photo file into the backbone's input pixels, a lossless copy of them (the photo's
//! model input, kept by the page) and a small thumbnail, inside the worker: `createImageBitmap`
//! decodes (EXIF orientation applied; a photo of over 16 million pixels straight to about that
//! many, one whose header states over 200 million not at all) and `OffscreenCanvas`es crop,
//! resize and encode. The decoded bitmap is closed as soon as the canvases hold what they need. Also decodes a kept
//! model input back to pixels, and encodes pixels (augmented views) as JPEGs.

use crate::scope::worker_scope;
use headstart_browser::describe;
use headstart_core::image_size::{HEADER_BYTES, StatedSize, stated_size};
use headstart_core::preprocess::{INPUT_SIZE, center_crop};
use headstart_core::protocol::Attachment;
use js_sys::{Object, Reflect};
use wasm_bindgen::{Clamped, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, ColorSpaceConversion, ImageBitmap, ImageBitmapOptions, ImageData, ImageEncodeOptions,
    ImageOrientation, OffscreenCanvas, OffscreenCanvasRenderingContext2d, PremultiplyAlpha,
};

/// Longest side of a thumbnail, in pixels (shown at up to 84 CSS pixels; 160 stays sharp on
/// 2x screens).
pub const THUMBNAIL_SIDE: u32 = 160;

/// JPEG quality of thumbnails and previews.
const JPEG_QUALITY: f64 = 0.8;

/// What a photo becomes.
pub struct DecodedPhoto {
    /// 224x224 RGBA pixels, transparency composited on white.
    pub input_rgba: Vec<u8>,
    /// The same pixels as a PNG (lossless): the photo's model input.
    pub input: Blob,
    /// A JPEG at most [`THUMBNAIL_SIDE`] pixels on its longest side.
    pub thumbnail: Blob,
}

impl DecodedPhoto {
    /// What goes to the page beside the photo's event: its thumbnail and model input.
    pub fn attachment(self) -> Attachment<Blob> {
        Attachment::Decoded {
            thumbnail: self.thumbnail,
            input: self.input,
        }
    }
}

/// Why a file gave no photo.
#[derive(Debug)]
pub enum DecodeError {
    /// The browser cannot decode it as an image.
    NotAnImage,
    /// Its header states more pixels than a photo may have: its width and height.
    TooLarge(u32, u32),
    /// A canvas operation failed (detail for the console).
    Canvas(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAnImage => write!(f, "the browser cannot decode the file as an image"),
            Self::TooLarge(width, height) => {
                write!(
                    f,
                    "its header states {width}x{height} pixels, too many to decode"
                )
            }
            Self::Canvas(detail) => write!(f, "a canvas failed: {detail}"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<JsValue> for DecodeError {
    fn from(error: JsValue) -> Self {
        Self::Canvas(describe(error))
    }
}

/// A 2D context on a new canvas of `width x height`. Every image gets canvases of its own:
/// encoding one is asynchronous, and a canvas redrawn for the next photo meanwhile never
/// delivers its blob.
fn canvas(
    width: u32,
    height: u32,
) -> Result<(OffscreenCanvas, OffscreenCanvasRenderingContext2d), DecodeError> {
    let canvas = OffscreenCanvas::new(width, height)?;
    let options = Object::new();
    Reflect::set(&options, &"willReadFrequently".into(), &true.into())?;
    let context: OffscreenCanvasRenderingContext2d = canvas
        .get_context_with_context_options("2d", &options)?
        .ok_or_else(|| DecodeError::Canvas("this browser gives workers no 2D canvas".into()))?
        .unchecked_into();
    // The best resampling (a setting web-sys does not expose).
    Reflect::set(&context, &"imageSmoothingQuality".into(), &"high".into())?;
    context.set_fill_style_str("#ffffff");
    context.fill_rect(0.0, 0.0, width as f64, height as f64);
    Ok((canvas, context))
}

async fn bitmap(file: &Blob, options: &ImageBitmapOptions) -> Result<ImageBitmap, DecodeError> {
    let promise =
        worker_scope().create_image_bitmap_with_blob_and_image_bitmap_options(file, options)?;
    Ok(JsFuture::from(promise)
        .await
        .map_err(|_| DecodeError::NotAnImage)?
        .unchecked_into())
}

async fn encode(canvas: &OffscreenCanvas, kind: &str) -> Result<Blob, DecodeError> {
    let options = ImageEncodeOptions::new();
    options.set_type(kind);
    options.set_quality(JPEG_QUALITY);
    Ok(
        JsFuture::from(canvas.convert_to_blob_with_options(&options)?)
            .await?
            .unchecked_into(),
    )
}

/// Decodes a photo file into network input pixels, its model input and a thumbnail. Its
/// header is read first: a photo too large to decode safely is refused unread, and a large one
/// is decoded straight to a smaller size.
pub async fn decode_photo(photo: &Blob) -> Result<DecodedPhoto, DecodeError> {
    let options = ImageBitmapOptions::new();
    options.set_image_orientation(ImageOrientation::FromImage);
    let start = photo.slice_with_f64_and_f64(0.0, HEADER_BYTES as f64)?;
    let start = js_sys::Uint8Array::new(&JsFuture::from(start.array_buffer()).await?).to_vec();
    match stated_size(&start) {
        StatedSize::Fits => {}
        StatedSize::DecodeToWidth(width) => {
            Reflect::set(&options, &"resizeWidth".into(), &width.into())?;
            Reflect::set(&options, &"resizeQuality".into(), &"high".into())?;
        }
        StatedSize::TooLarge(width, height) => return Err(DecodeError::TooLarge(width, height)),
    }
    let bitmap = bitmap(photo, &options).await?;
    let drawn = draw(&bitmap);
    bitmap.close();
    let (input_rgba, input_canvas, thumbnail_canvas) = drawn?;
    Ok(DecodedPhoto {
        input_rgba,
        input: encode(&input_canvas, "image/png").await?,
        thumbnail: encode(&thumbnail_canvas, "image/jpeg").await?,
    })
}

/// Draws the bitmap twice: the centre crop resized to 224x224 on an input canvas (its pixels
/// are returned too) and the whole photo scaled onto a thumbnail canvas.
fn draw(bitmap: &ImageBitmap) -> Result<(Vec<u8>, OffscreenCanvas, OffscreenCanvas), DecodeError> {
    let (width, height) = (bitmap.width(), bitmap.height());
    let crop = center_crop(width, height);
    let side = INPUT_SIZE as f64;
    let (input_canvas, input) = canvas(INPUT_SIZE as u32, INPUT_SIZE as u32)?;
    input.draw_image_with_image_bitmap_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
        bitmap,
        crop.x as f64,
        crop.y as f64,
        crop.size as f64,
        crop.size as f64,
        0.0,
        0.0,
        side,
        side,
    )?;
    let pixels = input.get_image_data(0.0, 0.0, side, side)?.data().0;

    let scale = THUMBNAIL_SIDE as f64 / width.max(height).max(1) as f64;
    let (thumb_width, thumb_height) = (
        ((width as f64 * scale).round() as u32).max(1),
        ((height as f64 * scale).round() as u32).max(1),
    );
    let (thumbnail_canvas, thumbnail) = canvas(thumb_width, thumb_height)?;
    let (w, h) = (thumb_width as f64, thumb_height as f64);
    thumbnail.draw_image_with_image_bitmap_and_dw_and_dh(bitmap, 0.0, 0.0, w, h)?;
    Ok((pixels, input_canvas, thumbnail_canvas))
}

/// The 224x224 RGBA pixels of a model input made by [`decode_photo`], exactly as they were
/// (no colour conversion; every pixel is opaque, so no premultiplication loss).
pub async fn decode_input(input: &Blob) -> Result<Vec<u8>, DecodeError> {
    let options = ImageBitmapOptions::new();
    options.set_color_space_conversion(ColorSpaceConversion::None);
    options.set_premultiply_alpha(PremultiplyAlpha::None);
    let bitmap = bitmap(input, &options).await?;
    let side = INPUT_SIZE as f64;
    let (_, context) = canvas(INPUT_SIZE as u32, INPUT_SIZE as u32)?;
    let drawn = context.draw_image_with_image_bitmap(&bitmap, 0.0, 0.0);
    bitmap.close();
    drawn?;
    Ok(context.get_image_data(0.0, 0.0, side, side)?.data().0)
}

/// 224x224 RGBA pixels as a JPEG.
pub async fn encode_jpeg(rgba: &[u8]) -> Result<Blob, DecodeError> {
    let side = INPUT_SIZE as u32;
    let (canvas, context) = canvas(side, side)?;
    let data = ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), side, side)?;
    context.put_image_data(&data, 0.0, 0.0)?;
    encode(&canvas, "image/jpeg").await
}
