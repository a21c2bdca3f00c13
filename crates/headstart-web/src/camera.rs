//! The camera, through the browser: a `getUserMedia` stream to show in a `<video>`, the cameras
//! to choose from, and frames taken from the video as JPEG blobs, which then go exactly the way
//! uploaded photos go (the same decoding, preprocessing and workers).

use crate::browser::window;
use headstart_browser::describe;
use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaDeviceInfo,
    MediaDeviceKind, MediaStream, MediaStreamConstraints, MediaStreamTrack,
};

/// Which way a camera faces, for tablets and phones that have both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facing {
    /// Towards the student (the front camera).
    User,
    /// Away from the student (the back camera).
    Environment,
}

impl Facing {
    fn constraint(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Environment => "environment",
        }
    }

    /// The other one.
    pub fn flipped(self) -> Self {
        match self {
            Self::User => Self::Environment,
            Self::Environment => Self::User,
        }
    }
}

/// A camera that is on; dropping it turns it off.
pub struct CameraStream(pub MediaStream);

impl Drop for CameraStream {
    fn drop(&mut self) {
        for track in self.0.get_tracks().iter() {
            track.unchecked_into::<MediaStreamTrack>().stop();
        }
    }
}

fn set(target: &Object, key: &str, value: &JsValue) -> Result<(), String> {
    Reflect::set(target, &key.into(), value)
        .map(|_| ())
        .map_err(describe)
}

/// Turns on the camera `device` (its id), or else the one facing `facing`.
pub async fn open(device: Option<&str>, facing: Facing) -> Result<CameraStream, String> {
    let video = Object::new();
    match device {
        Some(id) => {
            let exact = Object::new();
            set(&exact, "exact", &id.into())?;
            set(&video, "deviceId", &exact)?;
        }
        None => set(&video, "facingMode", &facing.constraint().into())?,
    }
    for (key, ideal) in [("width", 640), ("height", 480)] {
        let size = Object::new();
        set(&size, "ideal", &ideal.into())?;
        set(&video, key, &size)?;
    }
    let constraints = MediaStreamConstraints::new();
    constraints.set_video(&video);
    let devices = window().navigator().media_devices().map_err(describe)?;
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(describe)?;
    let stream = JsFuture::from(promise).await.map_err(describe)?;
    Ok(CameraStream(stream.unchecked_into()))
}

/// The cameras the browser lists, as `(id, label)` (labels appear once one camera is allowed).
pub async fn cameras() -> Vec<(String, String)> {
    let Ok(devices) = window().navigator().media_devices() else {
        return Vec::new();
    };
    let Ok(promise) = devices.enumerate_devices() else {
        return Vec::new();
    };
    let Ok(list) = JsFuture::from(promise).await else {
        return Vec::new();
    };
    js_sys::Array::from(&list)
        .iter()
        .map(|d| d.unchecked_into::<MediaDeviceInfo>())
        .filter(|d| d.kind() == MediaDeviceKind::Videoinput)
        .enumerate()
        .map(|(i, d)| {
            let label = d.label();
            let label = if label.is_empty() {
                crate::text::tr!("camera-unnamed", number = i + 1)
            } else {
                label
            };
            (d.device_id(), label)
        })
        .collect()
}

/// The video's current frame as a JPEG blob, at the camera's resolution.
pub async fn frame(video: &HtmlVideoElement) -> Result<Blob, String> {
    let (width, height) = (video.video_width(), video.video_height());
    if width == 0 || height == 0 {
        return Err("the camera has not shown a frame yet".into());
    }
    let canvas: HtmlCanvasElement = window()
        .document()
        .ok_or("no document")?
        .create_element("canvas")
        .map_err(describe)?
        .unchecked_into();
    canvas.set_width(width);
    canvas.set_height(height);
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(describe)?
        .ok_or("no 2d canvas")?
        .unchecked_into();
    context
        .draw_image_with_html_video_element(video, 0.0, 0.0)
        .map_err(describe)?;
    let blob = js_sys::Promise::new(&mut |resolve, reject| {
        let done = wasm_bindgen::closure::Closure::once_into_js(move |blob: JsValue| {
            let _ = match blob.is_null() {
                true => reject.call1(&JsValue::NULL, &"the frame could not be encoded".into()),
                false => resolve.call1(&JsValue::NULL, &blob),
            };
        });
        let _ = canvas.to_blob_with_type_and_encoder_options(
            done.unchecked_ref(),
            "image/jpeg",
            &0.92.into(),
        );
    });
    Ok(JsFuture::from(blob)
        .await
        .map_err(describe)?
        .unchecked_into())
}
