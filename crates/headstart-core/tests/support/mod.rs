//! Shared by the integration tests: where the set-up script put the weights and photos, and
//! the native path from an image file to an embedding. Each test binary uses a part of it.
#![allow(dead_code)]

use burn::tensor::Device;
use headstart_core::backbone::EfficientNetLite0;
use headstart_core::embedding::Embedding;
use headstart_core::inference::embed;
use headstart_core::preprocess::{Normalization, decode_to_rgba, normalize_rgba};
use headstart_core::weights::BACKBONE_FILE;
use std::path::{Path, PathBuf};

/// The repository root. Read when the test runs, not baked in when it builds: cargo reuses a
/// test binary built in another checkout of the same sources (CI's clone and a working copy
/// share the target directory), and a baked path would point into that other checkout.
pub fn repo_root() -> PathBuf {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
    Path::new(&manifest_dir).join("../..")
}

/// A file under `data/` (made by `scripts/setup.sh`), with a clear failure when it is missing.
pub fn data_file(relative: &str) -> Vec<u8> {
    let path = repo_root().join("data").join(relative);
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "{} is missing ({error}); run scripts/setup.sh first",
            path.display()
        )
    })
}

/// Loads the converted backbone.
pub fn backbone(device: &Device) -> EfficientNetLite0 {
    let weights = data_file(&format!("weights/{BACKBONE_FILE}"));
    headstart_core::weights::load_backbone(weights, device).expect("backbone weights load")
}

/// Decodes image files into 224x224 RGBA model inputs.
pub fn decode_files(files: &[PathBuf]) -> Vec<Vec<u8>> {
    files
        .iter()
        .map(|file| {
            let encoded = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            decode_to_rgba(&encoded).expect("decodable photo")
        })
        .collect()
}

/// Normalizes model inputs as `normalization` says and embeds them in one batch.
pub fn embed_inputs(
    backbone: &EfficientNetLite0,
    inputs: &[Vec<u8>],
    normalization: Normalization,
    device: &Device,
) -> Vec<Embedding> {
    let images: Vec<Vec<f32>> = inputs
        .iter()
        .map(|rgba| normalize_rgba(rgba, normalization))
        .collect();
    pollster::block_on(embed(backbone, &images, device)).expect("embedding")
}

/// Decodes, preprocesses (normalizing as `normalization` says) and embeds image files in one
/// batch.
pub fn embed_files(
    backbone: &EfficientNetLite0,
    files: &[PathBuf],
    normalization: Normalization,
    device: &Device,
) -> Vec<Embedding> {
    embed_inputs(backbone, &decode_files(files), normalization, device)
}

/// The `.png`/`.jpg` files of each class folder under `dir`, classes sorted by name.
pub fn class_folders(dir: &Path) -> Vec<(String, Vec<PathBuf>)> {
    let mut classes: Vec<(String, Vec<PathBuf>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .filter(|file| {
                    matches!(
                        file.extension().and_then(|e| e.to_str()),
                        Some("png" | "jpg")
                    )
                })
                .collect();
            files.sort();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                files,
            )
        })
        .collect();
    classes.sort();
    classes
}
