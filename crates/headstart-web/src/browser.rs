//! Thin wrappers over what the browser already does well: fetching with progress, object URLs
//! that free themselves, the page's address.

use headstart_browser::{describe, fetch_ok};
use js_sys::{Array, Object, Reflect, Uint8Array};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableStreamDefaultReader};

pub fn window() -> web_sys::Window {
    web_sys::window().expect("a window")
}

/// The value of a `?name=value` parameter of the page's address.
pub fn query_param(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// Milliseconds since the page started, for measurements.
pub fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// Fetches a URL as a file, reporting `(received, total)` bytes as they arrive. The bytes stay
/// in JavaScript: they go on to the workers without a detour through wasm memory, and a file
/// is shared with each worker rather than copied.
pub async fn fetch_file(
    url: &str,
    mut on_progress: impl FnMut(u64, Option<u64>),
) -> Result<Blob, String> {
    let response = fetch_ok(url).await?;
    let total: Option<u64> = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|length| length.parse().ok());
    let body = response
        .body()
        .ok_or_else(|| format!("{url} has no body"))?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let chunks = Array::new();
    let mut received = 0u64;
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
        received += value.length() as u64;
        chunks.push(&value);
        on_progress(received, total);
    }
    Blob::new_with_u8_array_sequence(&chunks).map_err(describe)
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
    let response = fetch_ok(url).await?;
    let text = JsFuture::from(response.text().map_err(describe)?)
        .await
        .map_err(describe)?;
    text.as_string().ok_or_else(|| format!("{url} is not text"))
}

/// Offers `bytes` to save as a file named `file_name`, the way a link with `download` does: no
/// server involved.
pub fn download(file_name: &str, bytes: &[u8]) -> Result<(), String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(describe)?;
    download_blob(file_name, &blob)
}

/// Offers a blob to save as a file named `file_name`.
pub fn download_blob(file_name: &str, blob: &Blob) -> Result<(), String> {
    let url = ObjectUrl::new(blob)?;
    let link: web_sys::HtmlAnchorElement = window()
        .document()
        .ok_or("no document")?
        .create_element("a")
        .map_err(describe)?
        .unchecked_into();
    link.set_href(url.as_str());
    link.set_download(file_name);
    link.click();
    // The browser reads the URL after this task: revoke it (by dropping it) a minute later.
    let release = wasm_bindgen::closure::Closure::once_into_js(move || drop(url));
    window()
        .set_timeout_with_callback_and_timeout_and_arguments_0(release.unchecked_ref(), 60_000)
        .map_err(describe)?;
    Ok(())
}

/// Reads a file the student chose, whole.
pub async fn read_bytes(blob: &Blob) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(describe)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// An object URL showing a blob, with the blob; the URL is revoked when the last clone is
/// dropped (when nothing shows the picture any more).
#[derive(Clone, PartialEq)]
pub struct ObjectUrl(Rc<OwnedUrl>);

#[derive(PartialEq)]
struct OwnedUrl {
    url: String,
    blob: Blob,
}

impl Drop for OwnedUrl {
    fn drop(&mut self) {
        let _ = web_sys::Url::revoke_object_url(&self.url);
    }
}

impl ObjectUrl {
    /// Makes the URL.
    pub fn new(blob: &Blob) -> Result<Self, String> {
        let url = web_sys::Url::create_object_url_with_blob(blob).map_err(describe)?;
        Ok(Self(Rc::new(OwnedUrl {
            url,
            blob: blob.clone(),
        })))
    }

    /// The URL, for an `src`.
    pub fn as_str(&self) -> &str {
        &self.0.url
    }

    /// The blob it shows.
    pub fn blob(&self) -> &Blob {
        &self.0.blob
    }
}

impl std::fmt::Debug for ObjectUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectUrl({})", self.as_str())
    }
}

/// Installs the page's service worker (`offline.js`, which caches every file of the page) and
/// waits until it is active: from then on the page works with no network. It is then asked to
/// keep `on_demand` too, files it caches only when asked (the worker's WebGPU build, on a page
/// that uses it). An error when the browser has no service workers (an insecure address, a
/// private window in some browsers).
pub async fn install_offline_copy(on_demand: &[&str]) -> Result<(), String> {
    let navigator = window().navigator();
    let available = Reflect::get(&navigator, &"serviceWorker".into())
        .is_ok_and(|container| !container.is_undefined());
    if !available {
        return Err("this browser offers no service workers here".into());
    }
    let container = navigator.service_worker();
    JsFuture::from(container.register("offline.js"))
        .await
        .map_err(describe)?;
    let registration: web_sys::ServiceWorkerRegistration =
        JsFuture::from(container.ready().map_err(describe)?)
            .await
            .map_err(describe)?
            .unchecked_into();
    if let (Some(active), false) = (registration.active(), on_demand.is_empty()) {
        let keep = Object::new();
        let files: Array = on_demand.iter().map(|&file| JsValue::from(file)).collect();
        Reflect::set(&keep, &"keep".into(), &files).map_err(describe)?;
        active.post_message(&keep).map_err(describe)?;
    }
    Ok(())
}
