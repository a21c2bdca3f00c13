//! Shared by the integration tests: where the set-up script put the weights and photos, and
//! the native path from an image file to an embedding. Each test binary uses a part of it.
#![allow(dead_code)]

use burn::tensor::Device;
use headstart_core::augment::{AugmentationSettings, augment_rgba, view_seed};
use headstart_core::backbone::EfficientNetLite0;
use headstart_core::embedding::Embedding;
use headstart_core::few_photos::{PhotoSetEmbeddings, ShotSplit};
use headstart_core::inference::embed;
use headstart_core::preprocess::{INPUT_SIZE, Normalization, decode_to_rgba, normalize_rgba};
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

/// Views made of each photo for the few-photo measurements: the page's default number, with
/// crop, flip and colour on.
pub const VIEWS_PER_PHOTO: usize = 4;

/// The embeddings of every photo in the class folders under each of `dirs` (classes sorted by
/// name, a class's photos from every dir together), of its mirror image and of
/// [`VIEWS_PER_PHOTO`] augmented views, embedded in batches.
pub fn photo_set_embeddings(
    backbone: &EfficientNetLite0,
    dirs: &[PathBuf],
    device: &Device,
) -> (Vec<String>, PhotoSetEmbeddings) {
    let mut classes: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for (name, files) in dirs.iter().flat_map(|dir| class_folders(dir)) {
        match classes.iter_mut().find(|(known, _)| *known == name) {
            Some((_, known_files)) => known_files.extend(files),
            None => classes.push((name, files)),
        }
    }
    classes.sort();
    let mut labels = Vec::new();
    let mut inputs = Vec::new();
    for (label, (_, files)) in classes.iter().enumerate() {
        labels.extend(files.iter().map(|_| label));
        inputs.extend(decode_files(files));
    }
    let augmentation = AugmentationSettings {
        crop: true,
        flip: true,
        color: true,
        rotation: false,
        views_per_photo: VIEWS_PER_PHOTO,
    };
    let embed_all = |images: Vec<Vec<u8>>| -> Vec<Embedding> {
        images
            .chunks(32)
            .flat_map(|chunk| embed_inputs(backbone, chunk, Normalization::Model, device))
            .collect()
    };
    let photos = embed_all(inputs.clone());
    let mirrored = embed_all(inputs.iter().map(|rgba| mirror_rgba(rgba)).collect());
    let views: Vec<Vec<u8>> = inputs
        .iter()
        .enumerate()
        .flat_map(|(photo, rgba)| {
            (1..=VIEWS_PER_PHOTO).map(move |view| {
                augment_rgba(rgba, &augmentation, view_seed(42, photo as u32, view))
            })
        })
        .collect();
    let views = embed_all(views)
        .chunks(VIEWS_PER_PHOTO)
        .map(<[Embedding]>::to_vec)
        .collect();
    let names = classes.into_iter().map(|(name, _)| name).collect();
    let set = PhotoSetEmbeddings {
        labels,
        photos,
        mirrored,
        views,
    };
    (names, set)
}

/// A 224x224 RGBA model input mirrored left to right.
fn mirror_rgba(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks(INPUT_SIZE * 4)
        .flat_map(|row| row.chunks(4).rev().flatten().copied().collect::<Vec<_>>())
        .collect()
}

/// The test accuracy of each split for scikit-learn's logistic regression (its defaults, L2
/// with C = 1, on the raw embeddings) trained on the split's training photos: run by
/// `scripts/logistic_probe.py` in the Python that `scripts/setup.sh` made.
pub fn logistic_probe(set: &PhotoSetEmbeddings, splits: &[ShotSplit]) -> Vec<f32> {
    let cache = std::env::var("HEADSTART_CACHE").map_or_else(
        |_| PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/headstart"),
        PathBuf::from,
    );
    let python = cache.join("corpus-venv/bin/python");
    let input = serde_json::json!({
        "labels": set.labels,
        "embeddings": set.photos.iter().map(Embedding::values).collect::<Vec<_>>(),
        "splits": splits,
    });
    let mut child = std::process::Command::new(&python)
        .arg(repo_root().join("scripts/logistic_probe.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/setup.sh first", python.display()));
    serde_json::to_writer(child.stdin.take().expect("stdin"), &input).expect("probe input");
    let output = child.wait_with_output().expect("the probe runs");
    assert!(
        output.status.success(),
        "the logistic-regression probe failed"
    );
    serde_json::from_slice(&output.stdout).expect("the probe's accuracies")
}
