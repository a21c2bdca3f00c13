//! `headstart convert CHECKPOINT.pth OUT_DIR`: checks the reference checkpoint's SHA-256, reads
//! it with burn's PyTorch reader (which honours the non-contiguous strides of 50 of its
//! tensors), and writes two burnpack files with f16 convolution and linear weights:
//! `efficientnet-lite0.bpk` (the backbone the page downloads) and `imagenet-classifier.bpk` (the
//! 1000-class ImageNet head, for native tests and tools).

use crate::FileError;
use burn::nn::Linear;
use burn::store::{ApplyResult, ModuleSnapshot, PytorchStore, PytorchStoreError};
use burn::tensor::Device;
use headstart_core::backbone::{BackboneConfig, EfficientNetLite0};
use headstart_core::weights::{
    BACKBONE_FILE, BACKBONE_KEY_REMAP, CHECKPOINT_SHA256, CLASSIFIER_KEY_REMAP,
    IMAGENET_CLASSIFIER_FILE, WeightsError, imagenet_classifier, to_half_precision_burnpack,
};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Why the checkpoint could not be converted.
#[derive(Debug)]
pub enum ConvertError {
    /// The checkpoint could not be read, or what it became not written.
    File(FileError),
    /// The file is not the reference checkpoint: its SHA-256.
    NotTheReference {
        /// The file.
        path: PathBuf,
        /// Its SHA-256, in hex.
        digest: String,
    },
    /// burn's PyTorch reader failed.
    Read(PytorchStoreError),
    /// Tensors of a part of the network were not filled from the checkpoint.
    Incomplete {
        /// The part: the backbone or the classifier.
        part: &'static str,
        /// What filling it found.
        result: Box<ApplyResult>,
    },
    /// Checkpoint tensors that fill no tensor of the backbone.
    Unmapped(Vec<String>),
    /// A part could not be written as burnpack bytes.
    Weights(WeightsError),
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(error) => write!(f, "{error}"),
            Self::NotTheReference { path, digest } => write!(
                f,
                "{} has SHA-256 {digest}, expected {CHECKPOINT_SHA256}: not the reference weights",
                path.display()
            ),
            Self::Read(error) => write!(f, "{error}"),
            Self::Incomplete { part, result } => write!(
                f,
                "{part}: missing {:?}, skipped {:?}, errors {:?}",
                result.missing, result.skipped, result.errors
            ),
            Self::Unmapped(keys) => write!(f, "checkpoint tensors left unmapped: {keys:?}"),
            Self::Weights(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ConvertError {}

impl From<FileError> for ConvertError {
    fn from(error: FileError) -> Self {
        Self::File(error)
    }
}

impl From<PytorchStoreError> for ConvertError {
    fn from(error: PytorchStoreError) -> Self {
        Self::Read(error)
    }
}

impl From<WeightsError> for ConvertError {
    fn from(error: WeightsError) -> Self {
        Self::Weights(error)
    }
}

/// Converts `checkpoint` into the two burnpack files in `out_dir`.
pub fn convert(checkpoint: &Path, out_dir: &Path) -> Result<(), ConvertError> {
    let (backbone, classifier) = read_checkpoint(checkpoint, &Device::flex())?;
    std::fs::create_dir_all(out_dir).map_err(|e| FileError::Create(out_dir.into(), e))?;
    for (name, bytes) in [
        (BACKBONE_FILE, to_half_precision_burnpack(&backbone)),
        (
            IMAGENET_CLASSIFIER_FILE,
            to_half_precision_burnpack(&classifier),
        ),
    ] {
        let bytes = bytes?;
        let path = out_dir.join(name);
        if let Err(error) = std::fs::write(&path, &bytes) {
            return Err(FileError::Write(path, error).into());
        }
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}

/// Reads the reference checkpoint (after checking its hash) into the backbone and the ImageNet
/// classifier, in full f32 precision.
fn read_checkpoint(
    checkpoint: &Path,
    device: &Device,
) -> Result<(EfficientNetLite0, Linear), ConvertError> {
    let bytes = std::fs::read(checkpoint).map_err(|e| FileError::Read(checkpoint.into(), e))?;
    let digest = format!("{:x}", Sha256::digest(&bytes));
    if digest != CHECKPOINT_SHA256 {
        return Err(ConvertError::NotTheReference {
            path: checkpoint.into(),
            digest,
        });
    }

    let mut backbone = BackboneConfig::new().init(device);
    let mut store = PytorchStore::from_file(checkpoint).allow_partial(true);
    for (from, to) in BACKBONE_KEY_REMAP {
        store = store.with_key_remapping(from, to);
    }
    let result = check_complete("backbone", backbone.load_from(&mut store)?)?;
    let unused_weights: Vec<String> = result
        .unused
        .into_iter()
        .filter(|key| !key.ends_with("num_batches_tracked") && !key.starts_with("_fc."))
        .collect();
    if !unused_weights.is_empty() {
        return Err(ConvertError::Unmapped(unused_weights));
    }

    let mut classifier = imagenet_classifier(device);
    let mut store = PytorchStore::from_file(checkpoint)
        .with_key_remapping(CLASSIFIER_KEY_REMAP.0, CLASSIFIER_KEY_REMAP.1)
        .allow_partial(true);
    check_complete("classifier", classifier.load_from(&mut store)?)?;
    Ok((backbone, classifier))
}

/// `result`, when every tensor of the module `part` was filled from the checkpoint.
fn check_complete(part: &'static str, result: ApplyResult) -> Result<ApplyResult, ConvertError> {
    if !result.missing.is_empty() || !result.errors.is_empty() || !result.skipped.is_empty() {
        return Err(ConvertError::Incomplete {
            part,
            result: Box::new(result),
        });
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::store::bridge::to_data;
    use headstart_core::inference::{embed, max_abs_difference};
    use headstart_core::preprocess::{Normalization, decode_to_rgba, normalize_rgba};
    use headstart_core::weights::load_backbone;
    use std::path::PathBuf;

    /// Read when the test runs, not baked in when it builds: cargo reuses a test binary built
    /// in another checkout of the same sources (CI's clone and a working copy share the
    /// target directory), and a baked path would point into that other checkout.
    fn repo_file(relative: &str) -> PathBuf {
        let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
        Path::new(&manifest_dir).join("../..").join(relative)
    }

    /// Every tensor of `module` as `(path, values)`, in f32.
    fn tensors<M: ModuleSnapshot>(module: &M) -> Vec<(String, Vec<f32>)> {
        module
            .collect(None, None, false)
            .iter()
            .map(|tensor| {
                let values = to_data(tensor)
                    .unwrap()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .unwrap();
                (tensor.name.clone(), values)
            })
            .collect()
    }

    #[test]
    fn conversion_round_trips_within_half_precision() {
        let device = Device::flex();
        let checkpoint = repo_file("data/efficientnet-lite0.pth");
        let (original, _) = read_checkpoint(&checkpoint, &device)
            .unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh first)"));
        let converted =
            load_backbone(to_half_precision_burnpack(&original).unwrap(), &device).unwrap();

        let (before, after) = (tensors(&original), tensors(&converted));
        assert_eq!(before.len(), 245);
        for ((name, a), (name_after, b)) in before.iter().zip(&after) {
            assert_eq!(name, name_after);
            assert_eq!(a.len(), b.len(), "{name}");
            for (x, y) in a.iter().zip(b) {
                // f16 keeps 11 significant bits; BatchNorm tensors stay f32 and must be exact.
                let tolerance = if name.contains(".bn.") {
                    0.0
                } else {
                    x.abs() / 2048.0 + 1e-7
                };
                assert!((x - y).abs() <= tolerance, "{name}: {x} became {y}");
            }
        }

        // What the f16 storage costs on a real photo's embedding.
        let photo = std::fs::read(repo_file("data/golden/coffee.png")).unwrap();
        let image = vec![normalize_rgba(
            &decode_to_rgba(&photo).unwrap(),
            Normalization::Model,
        )];
        let full = pollster::block_on(embed(&original, &image, &device)).unwrap();
        let half = pollster::block_on(embed(&converted, &image, &device)).unwrap();
        let (full, half) = (full[0].values(), half[0].values());
        let largest = full.iter().fold(0f32, |m, v| m.max(v.abs()));
        let difference = max_abs_difference(full, half);
        println!(
            "f16 weights move the embedding by at most {difference} (largest value {largest})"
        );
        assert!(difference < 0.02 * largest, "{difference}");
    }
}
