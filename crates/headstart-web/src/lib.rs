//! Headstart's page, compiled to WebAssembly and served from `dist/`.
//!
//! Static constructors (cubecl's dependency `pliron` registers with `inventory`) run exactly
//! once, from [`start`]. Without that explicit call wasm-ld links the module "command-style" and
//! wraps every export so that each call from JavaScript re-runs all constructors, which made
//! every callback, render and training epoch cost ~170 ms.

mod app;
mod browser;
mod check;
mod compute;
mod engine;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::wasm_bindgen;

/// Replaces a silent dead page with a message saying what happened and what to do.
fn install_panic_banner() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        web_sys::console::error_1(&message.clone().into());
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Ok(banner) = document.create_element("div") else {
            return;
        };
        banner.set_id("fatal-error");
        let _ = banner.set_attribute("role", "alert");
        let _ = banner.set_attribute("data-testid", "fatal-error");
        banner.set_text_content(Some(&format!(
            "Headstart stopped because of an internal error ({message}). Nothing was sent anywhere. \
             Reload the page to start again; photos added in this session must be added again."
        )));
        if let Some(body) = document.body() {
            let _ = body.prepend_with_node_1(banner.unchecked_ref());
        }
    }));
}

unsafe extern "C" {
    /// The linker-synthesized function running all static constructors.
    fn __wasm_call_ctors();
}

/// Entry point, run once when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    // SAFETY: called once, first, before any code relying on constructors runs.
    unsafe { __wasm_call_ctors() };
    install_panic_banner();
    yew::Renderer::<app::App>::new().render();
}
