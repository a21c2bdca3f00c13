//! Turns a photo file into the backbone's input pixels and a small thumbnail, inside the worker:
//! `createImageBitmap` decodes (EXIF orientation applied) and two `OffscreenCanvas`es crop,
//! resize and encode. The decoded bitmap is closed as soon as both are made.

use crate::scope::worker_scope;
use headstart_browser::describe;
use headstart_core::preprocess::{INPUT_SIZE, center_crop};
use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, ImageBitmap, ImageBitmapOptions, ImageEncodeOptions, ImageOrientation, OffscreenCanvas,
    OffscreenCanvasRenderingContext2d,
};

/// Longest side of a thumbnail, in pixels (shown at up to 84 CSS pixels; 160 stays sharp on
/// 2x screens).
pub const THUMBNAIL_SIDE: u32 = 160;

/// JPEG quality of thumbnails.
const THUMBNAIL_QUALITY: f64 = 0.8;

/// What a photo becomes.
pub struct DecodedPhoto {
    /// 224x224 RGBA pixels, transparency composited on white.
    pub input_rgba: Vec<u8>,
    /// A JPEG at most [`THUMBNAIL_SIDE`] pixels on its longest side.
    pub thumbnail: Blob,
}

/// Why a file gave no photo.
pub enum DecodeError {
    /// The browser cannot decode it as an image.
    NotAnImage,
    /// A canvas operation failed (detail for the console).
    Canvas(String),
}

impl From<JsValue> for DecodeError {
    fn from(error: JsValue) -> Self {
        Self::Canvas(describe(error))
    }
}

/// The input canvas, made once per worker. Each thumbnail gets a canvas of its own: encoding
/// one is asynchronous, and a canvas resized for the next photo meanwhile never delivers it.
pub struct PhotoCanvas {
    input: OffscreenCanvasRenderingContext2d,
}

fn context(canvas: &OffscreenCanvas) -> Result<OffscreenCanvasRenderingContext2d, String> {
    let options = Object::new();
    Reflect::set(&options, &"willReadFrequently".into(), &true.into()).map_err(describe)?;
    let context: OffscreenCanvasRenderingContext2d = canvas
        .get_context_with_context_options("2d", &options)
        .map_err(describe)?
        .ok_or("this browser gives workers no 2D canvas")?
        .unchecked_into();
    smooth(&context)?;
    Ok(context)
}

/// Asks for the best resampling (a setting web-sys does not expose).
fn smooth(context: &OffscreenCanvasRenderingContext2d) -> Result<(), String> {
    Reflect::set(context, &"imageSmoothingQuality".into(), &"high".into())
        .map(|_| ())
        .map_err(describe)
}

impl PhotoCanvas {
    /// Creates the canvases.
    pub fn new() -> Result<Self, String> {
        let side = INPUT_SIZE as u32;
        let input = context(&OffscreenCanvas::new(side, side).map_err(describe)?)?;
        Ok(Self { input })
    }

    /// Decodes a photo file into network input pixels and a thumbnail.
    pub async fn decode(&self, photo: &Blob) -> Result<DecodedPhoto, DecodeError> {
        let options = ImageBitmapOptions::new();
        options.set_image_orientation(ImageOrientation::FromImage);
        let promise = worker_scope()
            .create_image_bitmap_with_blob_and_image_bitmap_options(photo, &options)?;
        let bitmap: ImageBitmap = JsFuture::from(promise)
            .await
            .map_err(|_| DecodeError::NotAnImage)?
            .unchecked_into();
        let made = self.draw(&bitmap);
        bitmap.close();
        let (input_rgba, thumbnail_canvas) = made?;
        let encode = ImageEncodeOptions::new();
        encode.set_type("image/jpeg");
        encode.set_quality(THUMBNAIL_QUALITY);
        let thumbnail = JsFuture::from(thumbnail_canvas.convert_to_blob_with_options(&encode)?)
            .await?
            .unchecked_into();
        Ok(DecodedPhoto {
            input_rgba,
            thumbnail,
        })
    }

    /// Draws the bitmap twice: the centre crop resized to 224x224 on the input canvas (its
    /// pixels are returned) and the whole photo scaled onto a new thumbnail canvas.
    fn draw(&self, bitmap: &ImageBitmap) -> Result<(Vec<u8>, OffscreenCanvas), DecodeError> {
        let (width, height) = (bitmap.width(), bitmap.height());
        let crop = center_crop(width, height);
        let side = INPUT_SIZE as f64;
        self.input.set_fill_style_str("#ffffff");
        self.input.fill_rect(0.0, 0.0, side, side);
        self.input
            .draw_image_with_image_bitmap_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
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
        let pixels = self.input.get_image_data(0.0, 0.0, side, side)?.data().0;

        let scale = THUMBNAIL_SIDE as f64 / width.max(height).max(1) as f64;
        let (thumb_width, thumb_height) = (
            ((width as f64 * scale).round() as u32).max(1),
            ((height as f64 * scale).round() as u32).max(1),
        );
        let thumbnail_canvas = OffscreenCanvas::new(thumb_width, thumb_height)?;
        let thumbnail = context(&thumbnail_canvas).map_err(DecodeError::Canvas)?;
        thumbnail.set_fill_style_str("#ffffff");
        let (w, h) = (thumb_width as f64, thumb_height as f64);
        thumbnail.fill_rect(0.0, 0.0, w, h);
        thumbnail.draw_image_with_image_bitmap_and_dw_and_dh(bitmap, 0.0, 0.0, w, h)?;
        Ok((pixels, thumbnail_canvas))
    }
}
