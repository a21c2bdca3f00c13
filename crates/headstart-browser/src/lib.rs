//! What the page and the model workers share of the browser: the envelope their messages
//! travel in, JavaScript errors as sentences, and `fetch` from either kind of global scope.

pub mod envelope;

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
