//! What the page and the model workers share of the browser: the envelope their messages
//! travel in, JavaScript errors as sentences, `fetch` from either kind of global scope, and
//! what WebGPU adapter the browser offers (the page asks before it chooses the worker build,
//! each worker before it chooses its device).

pub mod envelope;

use headstart_core::protocol::ComputeReason;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

#[wasm_bindgen]
extern "C" {
    /// `fetch` of whichever global scope runs the code: a window or a worker.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str) -> js_sys::Promise;
}

/// A JavaScript error as a sentence.
pub fn describe(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

/// Fetches a URL (relative to the page, or to the worker's script), failing on anything but a
/// successful HTTP status.
pub async fn fetch_ok(url: &str) -> Result<Response, String> {
    let response: Response = JsFuture::from(global_fetch(url))
        .await
        .map_err(describe)?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("{url} answered HTTP {}", response.status()));
    }
    Ok(response)
}

/// What the browser's WebGPU adapter is.
pub struct AdapterInfo {
    /// True for software adapters (SwiftShader and the like): ~100x slower than the CPU path.
    pub is_fallback: bool,
    /// Vendor and architecture, as the browser reports them.
    pub description: String,
}

/// Asks the browser for a WebGPU adapter without creating a device, from a window or a worker;
/// without one, why the CPU path runs.
pub async fn probe_adapter() -> Result<AdapterInfo, ComputeReason> {
    let failed = |error| ComputeReason::AdapterFailed(describe(error));
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).map_err(failed)?;
    let gpu = Reflect::get(&navigator, &"gpu".into()).map_err(failed)?;
    if gpu.is_undefined() || gpu.is_null() {
        return Err(ComputeReason::NoWebGpu);
    }
    let request: Function = Reflect::get(&gpu, &"requestAdapter".into())
        .map_err(failed)?
        .unchecked_into();
    let promise: Promise = request.call0(&gpu).map_err(failed)?.unchecked_into();
    let adapter = JsFuture::from(promise).await.map_err(failed)?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(ComputeReason::NoAdapter);
    }
    let info = Reflect::get(&adapter, &"info".into()).unwrap_or(JsValue::UNDEFINED);
    let text = |object: &JsValue, key: &str| {
        Reflect::get(object, &key.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let flag = |object: &JsValue, key: &str| {
        Reflect::get(object, &key.into())
            .map(|v| v.is_truthy())
            .unwrap_or(false)
    };
    let architecture = text(&info, "architecture");
    let description = format!("{} {}", text(&info, "vendor"), architecture)
        .trim()
        .to_string();
    let is_fallback = flag(&info, "isFallbackAdapter")
        || flag(&adapter, "isFallbackAdapter")
        || architecture.eq_ignore_ascii_case("swiftshader");
    Ok(AdapterInfo {
        is_fallback,
        description,
    })
}
