//! Headstart's page, compiled to WebAssembly and served from `dist/`.

mod app;
mod browser;
mod check;
mod compute;
mod engine;

use wasm_bindgen::JsCast;

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

fn main() {
    install_panic_banner();
    yew::Renderer::<app::App>::new().render();
}
