//! Pretrained weights: where they come from and how they travel.
//!
//! The reference checkpoint (`efficientnet-lite0-57934424.pth`, PyTorch legacy format) is
//! converted once, natively, by `headstart convert` into two burnpack files with convolution and
//! linear weights stored as f16 (BatchNorm stays f32): the backbone, which the page downloads,
//! and the 1000-class ImageNet classifier, which only the native golden tests and tools need.
//! [`load_backbone`] and [`load_imagenet_classifier`] read those bytes on any device.

use crate::backbone::{BackboneConfig, EfficientNetLite0};
use crate::embedding::EMBEDDING_DIM;
use burn::nn::{Linear, LinearConfig};
use burn::store::{BurnpackStore, HalfPrecisionAdapter, ModuleSnapshot};
use burn::tensor::{Bytes, Device};

pub use crate::model_file::BACKBONE_SHA256 as CHECKPOINT_SHA256;

/// File name of the backbone's converted weights (the file the page downloads).
pub const BACKBONE_FILE: &str = "efficientnet-lite0.bpk";

/// File name of the ImageNet classifier's converted weights.
pub const IMAGENET_CLASSIFIER_FILE: &str = "imagenet-classifier.bpk";

/// Number of ImageNet classes of the reference classifier.
pub const IMAGENET_CLASSES: usize = 1000;

/// Regex renames from the checkpoint's keys to [`EfficientNetLite0`]'s module paths.
pub const BACKBONE_KEY_REMAP: [(&str, &str); 10] = [
    (r"^_conv_stem\.", "stem.conv."),
    (r"^_bn0\.", "stem.bn."),
    (r"^_blocks\.(\d+)\._expand_conv\.", "blocks.$1.expand.conv."),
    (r"^_blocks\.(\d+)\._bn0\.", "blocks.$1.expand.bn."),
    (
        r"^_blocks\.(\d+)\._depthwise_conv\.",
        "blocks.$1.depthwise.conv.",
    ),
    (r"^_blocks\.(\d+)\._bn1\.", "blocks.$1.depthwise.bn."),
    (
        r"^_blocks\.(\d+)\._project_conv\.",
        "blocks.$1.project.conv.",
    ),
    (r"^_blocks\.(\d+)\._bn2\.", "blocks.$1.project.bn."),
    (r"^_conv_head\.", "head.conv."),
    (r"^_bn1\.", "head.bn."),
];

/// Regex rename from the checkpoint's classifier keys to a bare [`Linear`].
pub const CLASSIFIER_KEY_REMAP: (&str, &str) = (r"^_fc\.", "");

/// Why weights could not be loaded.
#[derive(Debug)]
pub struct WeightsError(pub String);

impl std::fmt::Display for WeightsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the model weights could not be read: {}", self.0)
    }
}

impl std::error::Error for WeightsError {}

/// A freshly initialized 1280 -> 1000 classifier shaped like the reference `_fc`.
pub fn imagenet_classifier(device: &Device) -> Linear {
    LinearConfig::new(EMBEDDING_DIM, IMAGENET_CLASSES).init(device)
}

/// Loads the backbone from the burnpack bytes written by `headstart convert`.
pub fn load_backbone(bytes: Vec<u8>, device: &Device) -> Result<EfficientNetLite0, WeightsError> {
    let mut model = BackboneConfig::new().init(device);
    load_into(&mut model, bytes)?;
    Ok(model)
}

/// Loads the ImageNet classifier from the burnpack bytes written by `headstart convert`.
pub fn load_imagenet_classifier(bytes: Vec<u8>, device: &Device) -> Result<Linear, WeightsError> {
    let mut classifier = imagenet_classifier(device);
    load_into(&mut classifier, bytes)?;
    Ok(classifier)
}

/// Serializes a module to burnpack bytes with f16 convolution and linear weights.
pub fn to_half_precision_burnpack<M: ModuleSnapshot>(module: &M) -> Result<Vec<u8>, WeightsError> {
    let mut store = BurnpackStore::from_bytes(None).with_to_adapter(HalfPrecisionAdapter::new());
    module
        .save_into(&mut store)
        .map_err(|error| WeightsError(error.to_string()))?;
    let bytes = store
        .get_bytes()
        .map_err(|error| WeightsError(error.to_string()))?;
    Ok(bytes.to_vec())
}

fn load_into<M: ModuleSnapshot>(module: &mut M, bytes: Vec<u8>) -> Result<(), WeightsError> {
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes)))
        .with_from_adapter(HalfPrecisionAdapter::new());
    let result = module
        .load_from(&mut store)
        .map_err(|error| WeightsError(error.to_string()))?;
    if !result.missing.is_empty() || !result.errors.is_empty() || !result.skipped.is_empty() {
        return Err(WeightsError(format!(
            "the file does not fit the model: missing {:?}, skipped {:?}, errors {:?}",
            result.missing, result.skipped, result.errors
        )));
    }
    Ok(())
}
