//! The JavaScript form of a message between the page and a model worker: an array whose first
//! element is the postcard encoding of a [`headstart_core::protocol`] value, followed by what
//! travels beside it by structured clone, an [`Attachment`] of `Blob`s, named by its form:
//! `[bytes]`, `[bytes, "file", blob]`, `[bytes, "files", [blob, …]]` or
//! `[bytes, "decoded", thumbnail, input]`.

use headstart_core::protocol::{Attachment, decode, encode};
use js_sys::{Array, Uint8Array};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Blob;

/// Why data that came as a message is not one.
#[derive(Debug)]
pub enum EnvelopeError {
    /// Not an array.
    NotAnEnvelope,
    /// No message bytes first.
    NoBytes,
    /// The bytes are no message of the expected type (postcard's words).
    Malformed(String),
    /// The attachment does not have the form its name says.
    Attachment,
}

impl std::fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAnEnvelope => write!(f, "a worker message that is not an envelope"),
            Self::NoBytes => write!(f, "an envelope without message bytes"),
            Self::Malformed(error) => write!(f, "a malformed worker message: {error}"),
            Self::Attachment => write!(f, "an envelope whose attachment is not what it says"),
        }
    }
}

/// A message and its attachment as one JavaScript value for `postMessage`.
pub fn wrap<T: Serialize>(message: &T, attachment: &Attachment<Blob>) -> JsValue {
    let parts = Array::of1(&Uint8Array::from(encode(message).as_slice()));
    match attachment {
        Attachment::Nothing => {}
        Attachment::File(file) => {
            parts.push(&"file".into());
            parts.push(file);
        }
        Attachment::Files(files) => {
            parts.push(&"files".into());
            parts.push(&files.iter().collect::<Array>());
        }
        Attachment::Decoded { thumbnail, input } => {
            parts.push(&"decoded".into());
            parts.push(thumbnail);
            parts.push(input);
        }
    }
    parts.into()
}

/// The message and attachment in a `MessageEvent`'s data; malformed data is an error.
pub fn unwrap<T: DeserializeOwned>(data: JsValue) -> Result<(T, Attachment<Blob>), EnvelopeError> {
    if !Array::is_array(&data) {
        return Err(EnvelopeError::NotAnEnvelope);
    }
    let parts = Array::from(&data);
    let bytes = parts.get(0);
    if !bytes.is_instance_of::<Uint8Array>() {
        return Err(EnvelopeError::NoBytes);
    }
    let message = decode(&Uint8Array::new(&bytes).to_vec())
        .map_err(|error| EnvelopeError::Malformed(error.to_string()))?;
    let blob = |index| parts.get(index).dyn_into::<Blob>().ok();
    let attachment = match parts.get(1).as_string().as_deref() {
        None => Some(Attachment::Nothing),
        Some("file") => blob(2).map(Attachment::File),
        Some("files") => parts.get(2).dyn_into::<Array>().ok().and_then(|files| {
            let files: Option<Vec<Blob>> = files.iter().map(|f| f.dyn_into().ok()).collect();
            files.map(Attachment::Files)
        }),
        Some("decoded") => blob(2)
            .zip(blob(3))
            .map(|(thumbnail, input)| Attachment::Decoded { thumbnail, input }),
        Some(_) => None,
    };
    Ok((message, attachment.ok_or(EnvelopeError::Attachment)?))
}
