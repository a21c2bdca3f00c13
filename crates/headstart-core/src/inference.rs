//! Eval-mode inference shared by the workers, the tests and native tools. Embeddings are made
//! here and only here, checked on the way out of the backbone.

use crate::backbone::EfficientNetLite0;
use crate::embedding::{Embedding, EmbeddingError};
use crate::head::ClassifierHead;
use crate::preprocess::batch_tensor;
use burn::tensor::{Device, ExecutionError, Tensor};

/// Why inference gave no answer.
#[derive(Debug)]
pub enum InferenceError {
    /// The compute device failed.
    Execution(ExecutionError),
    /// The backbone produced something that is not an embedding (e.g. NaNs from a bad shader).
    Embedding(EmbeddingError),
}

impl std::fmt::Display for InferenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Execution(error) => write!(f, "the compute device failed: {error:?}"),
            Self::Embedding(error) => write!(f, "the backbone gave no embedding: {error}"),
        }
    }
}

impl std::error::Error for InferenceError {}

impl From<ExecutionError> for InferenceError {
    fn from(error: ExecutionError) -> Self {
        Self::Execution(error)
    }
}

/// Embeds preprocessed images (see [`crate::preprocess::normalize_rgba`]), one per image.
pub async fn embed(
    backbone: &EfficientNetLite0,
    images: &[Vec<f32>],
    device: &Device,
) -> Result<Vec<Embedding>, InferenceError> {
    read_rows(backbone.embed(batch_tensor(images, device)))
        .await?
        .into_iter()
        .map(|row| Embedding::try_from(row).map_err(InferenceError::Embedding))
        .collect()
}

/// Class probabilities for embeddings, one row per embedding.
pub async fn classify(
    head: &ClassifierHead,
    embeddings: &[Embedding],
    device: &Device,
) -> Result<Vec<Vec<f32>>, ExecutionError> {
    let width = embeddings.first().map_or(0, |e| e.values().len());
    let values: Vec<f32> = embeddings
        .iter()
        .flat_map(|e| e.values().iter().copied())
        .collect();
    let input = Tensor::<2>::from_data(
        burn::tensor::TensorData::new(values, [embeddings.len(), width]),
        device,
    );
    read_rows(head.probabilities(input)).await
}

/// Reads a `[rows, columns]` tensor back to the host with one asynchronous read.
pub async fn read_rows(tensor: Tensor<2>) -> Result<Vec<Vec<f32>>, ExecutionError> {
    let [_, columns] = tensor.dims();
    let values = tensor
        .into_data_async()
        .await?
        .try_to_vec::<f32>()
        .expect("float tensor");
    Ok(values.chunks(columns.max(1)).map(<[f32]>::to_vec).collect())
}

/// Largest absolute element-wise difference of two equally long vectors.
pub fn max_abs_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
