//! The worker's side of the browser: its global scope, posting events to the page, and
//! yielding to its event loop so that messages (a Stop) are handled between units of work.

use headstart_browser::describe;
use headstart_core::protocol::{Attachment, Event};
use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, DedicatedWorkerGlobalScope, MessageChannel};

/// The dedicated worker this module runs in.
pub fn worker_scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Sends an event, with its attachment, to the page.
pub fn post(event: &Event, attachment: &Attachment<Blob>) {
    let envelope = headstart_browser::envelope::wrap(event, attachment);
    if let Err(error) = worker_scope().post_message(&envelope) {
        web_sys::console::error_1(
            &format!("worker could not post {event:?}: {}", describe(error)).into(),
        );
    }
}

/// Lets the worker's event loop run queued messages before the next unit of work. A
/// `MessageChannel` round trip, not `setTimeout(0)`, which browsers clamp to 4 ms when nested.
pub async fn yield_to_event_loop() {
    let Ok(channel) = MessageChannel::new() else {
        return;
    };
    let promise = Promise::new(&mut |resolve, _| {
        channel.port1().set_onmessage(Some(&resolve));
    });
    if channel.port2().post_message(&JsValue::UNDEFINED).is_ok() {
        let _ = JsFuture::from(promise).await;
    }
    channel.port1().set_onmessage(None);
}
