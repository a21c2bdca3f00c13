//! Headstart's machine-learning core: the pretrained EfficientNet-Lite0 backbone, the
//! preprocessing its weights expect, cached-embedding datasets and the training of new heads.
//!
//! It knows nothing of the browser: the page (`headstart-web`) and native tools choose the
//! compute [`burn::tensor::Device`] and decode images, then call in here.

pub mod backbone;
pub mod dataset;
pub mod head;
pub mod inference;
pub mod preprocess;
pub mod weights;
