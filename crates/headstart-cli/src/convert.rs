//! `headstart convert CHECKPOINT.pth OUT_DIR`: checks the reference checkpoint's SHA-256, reads
//! it with burn's PyTorch reader (which honours the non-contiguous strides of 50 of its
//! tensors), and writes two burnpack files with f16 convolution and linear weights:
//! `efficientnet-lite0.bpk` (the backbone the page downloads) and `imagenet-classifier.bpk` (the
//! 1000-class ImageNet head, for native tests and tools).

use burn::nn::Linear;
use burn::store::{ApplyResult, ModuleSnapshot, PytorchStore};
use burn::tensor::Device;
use headstart_core::backbone::{BackboneConfig, EfficientNetLite0};
use headstart_core::weights::{
    BACKBONE_FILE, BACKBONE_KEY_REMAP, CHECKPOINT_SHA256, CLASSIFIER_KEY_REMAP,
    IMAGENET_CLASSIFIER_FILE, imagenet_classifier, to_half_precision_burnpack,
};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Converts `checkpoint` into the two burnpack files in `out_dir`.
pub fn convert(checkpoint: &Path, out_dir: &Path) -> Result<(), String> {
    let (backbone, classifier) = read_checkpoint(checkpoint, &Device::flex())?;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    for (name, bytes) in [
        (BACKBONE_FILE, to_half_precision_burnpack(&backbone)),
        (
            IMAGENET_CLASSIFIER_FILE,
            to_half_precision_burnpack(&classifier),
        ),
    ] {
        let bytes = bytes.map_err(|e| e.to_string())?;
        let path = out_dir.join(name);
        std::fs::write(&path, &bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}

/// Reads the reference checkpoint (after checking its hash) into the backbone and the ImageNet
/// classifier, in full f32 precision.
fn read_checkpoint(
    checkpoint: &Path,
    device: &Device,
) -> Result<(EfficientNetLite0, Linear), String> {
    let bytes = std::fs::read(checkpoint)
        .map_err(|e| format!("cannot read {}: {e}", checkpoint.display()))?;
    let digest = format!("{:x}", Sha256::digest(&bytes));
    if digest != CHECKPOINT_SHA256 {
        return Err(format!(
            "{} has SHA-256 {digest}, expected {CHECKPOINT_SHA256}: not the reference weights",
            checkpoint.display()
        ));
    }

    let mut backbone = BackboneConfig::new().init(device);
    let mut store = PytorchStore::from_file(checkpoint).allow_partial(true);
    for (from, to) in BACKBONE_KEY_REMAP {
        store = store.with_key_remapping(from, to);
    }
    let result = backbone.load_from(&mut store).map_err(|e| e.to_string())?;
    check_complete("backbone", &result)?;
    let unused_weights: Vec<&String> = result
        .unused
        .iter()
        .filter(|key| !key.ends_with("num_batches_tracked") && !key.starts_with("_fc."))
        .collect();
    if !unused_weights.is_empty() {
        return Err(format!(
            "checkpoint tensors left unmapped: {unused_weights:?}"
        ));
    }

    let mut classifier = imagenet_classifier(device);
    let mut store = PytorchStore::from_file(checkpoint)
        .with_key_remapping(CLASSIFIER_KEY_REMAP.0, CLASSIFIER_KEY_REMAP.1)
        .allow_partial(true);
    let result = classifier
        .load_from(&mut store)
        .map_err(|e| e.to_string())?;
    check_complete("classifier", &result)?;
    Ok((backbone, classifier))
}

/// Every tensor of the module must have been filled from the checkpoint.
fn check_complete(part: &str, result: &ApplyResult) -> Result<(), String> {
    if !result.missing.is_empty() || !result.errors.is_empty() || !result.skipped.is_empty() {
        return Err(format!(
            "{part}: missing {:?}, skipped {:?}, errors {:?}",
            result.missing, result.skipped, result.errors
        ));
    }
    Ok(())
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
