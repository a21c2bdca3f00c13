//! Thin wrappers over what the browser already does well: fetching with progress, decoding
//! photos (createImageBitmap honours EXIF orientation), resizing on a canvas, object URLs.

use headstart_core::backbone::INPUT_SIZE;
use headstart_core::preprocess::center_crop;
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, CanvasRenderingContext2d, HtmlCanvasElement, ImageBitmap, ImageBitmapOptions,
    ImageOrientation, ReadableStreamDefaultReader, Response,
};

/// A JavaScript error as a sentence.
pub fn describe(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

fn window() -> web_sys::Window {
    web_sys::window().expect("a window")
}

/// The value of a `?name=value` parameter of the page's address.
pub fn query_param(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// Lets the browser render and handle input before the next chunk of work.
pub async fn yield_to_browser() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// Fetches a URL, failing on anything but a successful HTTP status.
async fn fetch_ok(url: &str) -> Result<Response, String> {
    let response: Response = JsFuture::from(window().fetch_with_str(url))
        .await
        .map_err(describe)?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("{url} answered HTTP {}", response.status()));
    }
    Ok(response)
}

/// Fetches a URL, reporting `(received, total)` bytes as they arrive.
pub async fn fetch_bytes(
    url: &str,
    mut on_progress: impl FnMut(u64, Option<u64>),
) -> Result<Vec<u8>, String> {
    let response = fetch_ok(url).await?;
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|length| length.parse().ok());
    let body = response
        .body()
        .ok_or_else(|| format!("{url} has no body"))?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(total.unwrap_or(0) as usize);
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(describe)?;
        if Reflect::get(&chunk, &"done".into())
            .map_err(describe)?
            .is_truthy()
        {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())
            .map_err(describe)?
            .unchecked_into();
        bytes.extend_from_slice(&value.to_vec());
        on_progress(bytes.len() as u64, total);
    }
    Ok(bytes)
}

/// Fetches a URL as a blob.
pub async fn fetch_blob(url: &str) -> Result<Blob, String> {
    let response = fetch_ok(url).await?;
    let blob = JsFuture::from(response.blob().map_err(describe)?)
        .await
        .map_err(describe)?;
    Ok(blob.unchecked_into())
}

/// Fetches a URL as text.
pub async fn fetch_text(url: &str) -> Result<String, String> {
    let bytes = fetch_bytes(url, |_, _| {}).await?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// An object URL showing a blob (free it with [`revoke_object_url`]).
pub fn object_url(blob: &Blob) -> String {
    web_sys::Url::create_object_url_with_blob(blob).unwrap_or_default()
}

/// Frees an object URL made by [`object_url`].
pub fn revoke_object_url(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}

/// A hidden 224x224 canvas that turns photos into the backbone's input pixels.
pub struct PhotoCanvas {
    context: CanvasRenderingContext2d,
}

impl PhotoCanvas {
    /// Creates the canvas.
    pub fn new() -> Result<Self, String> {
        let document = window().document().ok_or("no document")?;
        let canvas: HtmlCanvasElement = document
            .create_element("canvas")
            .map_err(describe)?
            .unchecked_into();
        canvas.set_width(INPUT_SIZE as u32);
        canvas.set_height(INPUT_SIZE as u32);
        let options = Object::new();
        Reflect::set(&options, &"willReadFrequently".into(), &true.into()).map_err(describe)?;
        let context: CanvasRenderingContext2d = canvas
            .get_context_with_context_options("2d", &options)
            .map_err(describe)?
            .ok_or("this browser gives no 2D canvas")?
            .unchecked_into();
        Reflect::set(&context, &"imageSmoothingQuality".into(), &"high".into())
            .map_err(describe)?;
        Ok(Self { context })
    }

    /// Decodes a photo (EXIF orientation applied), composites it on white, center-crops 224/256
    /// of its short side and resizes it to 224x224; returns RGBA pixels.
    pub async fn pixels(&self, photo: &Blob) -> Result<Vec<u8>, String> {
        let options = ImageBitmapOptions::new();
        options.set_image_orientation(ImageOrientation::FromImage);
        let promise = window()
            .create_image_bitmap_with_blob_and_image_bitmap_options(photo, &options)
            .map_err(describe)?;
        let bitmap: ImageBitmap = JsFuture::from(promise)
            .await
            .map_err(|_| "this is not an image the browser can decode".to_string())?
            .unchecked_into();
        let crop = center_crop(bitmap.width(), bitmap.height());
        let size = INPUT_SIZE as f64;
        self.context.set_fill_style_str("#ffffff");
        self.context.fill_rect(0.0, 0.0, size, size);
        self.context
            .draw_image_with_image_bitmap_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
                &bitmap,
                crop.x as f64,
                crop.y as f64,
                crop.size as f64,
                crop.size as f64,
                0.0,
                0.0,
                size,
                size,
            )
            .map_err(describe)?;
        bitmap.close();
        let data = self
            .context
            .get_image_data(0.0, 0.0, size, size)
            .map_err(describe)?;
        Ok(data.data().0)
    }
}
