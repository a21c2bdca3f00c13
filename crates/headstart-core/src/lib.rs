//! Headstart's machine-learning core: the pretrained EfficientNet-Lite0 backbone, the
//! preprocessing its weights expect, every way to train (off-the-shelf classifiers, new heads,
//! fine-tuning, LoRA, from scratch), the model file, and the plain values (embedding, settings,
//! trained model, worker messages) that the page, the workers and the command line exchange.
//!
//! It knows nothing of the browser: the workers (`headstart-worker`) and the command line
//! (`headstart-cli`) choose the
//! compute [`burn::tensor::Device`] and decode images, then call in here. Without the `model`
//! feature only the plain values remain, with no burn at all: that is what the page
//! (`headstart-app`, `headstart-web`) builds on.

pub mod augment;
pub mod checksum;
pub mod dataset;
pub mod embedding;
pub mod evaluation;
pub mod image_size;
pub mod model_file;
pub mod neighbour_model;
pub mod neighbours;
pub mod preprocess;
pub mod protocol;
pub mod run;
pub mod training;

#[cfg(feature = "model")]
pub mod backbone;
#[cfg(feature = "model")]
pub mod cross_validation;
#[cfg(feature = "model")]
pub mod few_photos;
#[cfg(feature = "model")]
pub mod head;
#[cfg(feature = "model")]
pub mod inference;
#[cfg(feature = "model")]
pub mod readback;
#[cfg(feature = "model")]
pub mod tune;
#[cfg(feature = "model")]
pub mod weights;
