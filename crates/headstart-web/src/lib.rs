//! Headstart's page, compiled to WebAssembly and served from `dist/`. It renders and routes
//! messages; the model runs in a pool of `headstart-worker` Web Workers (see [`pool`]).

mod app;
mod browser;
mod camera;
mod components;
mod pool;
mod project_file;
mod storage;
mod text;

use crate::text::tr;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::wasm_bindgen;

/// Replaces a silent dead page with a message saying what happened and what to do. Installed
/// through yew's `set_custom_panic_hook`: a plain `std::panic::set_hook` is overwritten by yew's
/// own console-only hook when the app renders, and the banner never showed. Its text is
/// rendered here, once: the hook looks nothing up in the catalog while the page panics.
fn install_panic_banner() {
    let text = tr!("fatal-error");
    yew::set_custom_panic_hook(Box::new(move |info| {
        web_sys::console::error_1(&info.to_string().into());
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if document.get_element_by_id("fatal-error").is_some() {
            return;
        }
        let Ok(banner) = document.create_element("div") else {
            return;
        };
        banner.set_id("fatal-error");
        let _ = banner.set_attribute("role", "alert");
        let _ = banner.set_attribute("data-testid", "fatal-error");
        banner.set_text_content(Some(&text));
        if let Some(body) = document.body() {
            let _ = body.prepend_with_node_1(banner.unchecked_ref());
        }
    }));
}

/// The document's title and language, in the page's language.
fn name_document() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    document.set_title(&tr!("page-title"));
    if let Some(html) = document.document_element() {
        let _ = html.set_attribute("lang", text::language());
    }
}

/// Entry point, run once when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    install_panic_banner();
    name_document();
    yew::Renderer::<app::App>::new().render();
}
