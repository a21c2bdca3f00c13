//! The JavaScript form of a message between the page and a model worker: a two-element array
//! `[Uint8Array, attachment]`, the bytes being the postcard encoding of a
//! [`headstart_core::protocol`] value and the attachment a browser object that travels beside it
//! by structured clone (a photo `Blob`, a thumbnail `Blob`, the weights' `ArrayBuffer`) or
//! `undefined`.

use headstart_core::protocol::{decode, encode};
use js_sys::{Array, Uint8Array};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};

/// A message and its attachment as one JavaScript value for `postMessage`.
pub fn wrap<T: Serialize>(message: &T, attachment: Option<&JsValue>) -> JsValue {
    let bytes = Uint8Array::from(encode(message).as_slice());
    Array::of2(&bytes, attachment.unwrap_or(&JsValue::UNDEFINED)).into()
}

/// The message and attachment in a `MessageEvent`'s data; malformed data is an error.
pub fn unwrap<T: DeserializeOwned>(data: JsValue) -> Result<(T, Option<JsValue>), String> {
    if !Array::is_array(&data) {
        return Err("a worker message that is not an envelope".into());
    }
    let parts = Array::from(&data);
    let bytes = parts.get(0);
    if !bytes.is_instance_of::<Uint8Array>() {
        return Err("an envelope without message bytes".into());
    }
    let message = decode(&Uint8Array::new(&bytes).to_vec())
        .map_err(|error| format!("a malformed worker message: {error}"))?;
    let attachment = parts.get(1);
    Ok((message, (!attachment.is_undefined()).then_some(attachment)))
}
