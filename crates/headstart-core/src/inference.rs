//! Eval-mode inference helpers shared by the page, the tests and future tools.

use crate::backbone::EfficientNetLite0;
use crate::head::ClassifierHead;
use crate::preprocess::batch_tensor;
use burn::tensor::{Device, ExecutionError, Tensor};

/// Embeds preprocessed images (see [`crate::preprocess::normalize_rgba`]), one row per image.
pub async fn embed(
    backbone: &EfficientNetLite0,
    images: &[Vec<f32>],
    device: &Device,
) -> Result<Vec<Vec<f32>>, ExecutionError> {
    read_rows(backbone.embed(batch_tensor(images, device))).await
}

/// Class probabilities for embeddings, one row per embedding.
pub async fn classify(
    head: &ClassifierHead,
    embeddings: &[Vec<f32>],
    device: &Device,
) -> Result<Vec<Vec<f32>>, ExecutionError> {
    let width = embeddings.first().map_or(0, Vec::len);
    let values: Vec<f32> = embeddings.iter().flatten().copied().collect();
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

/// Index and value of the largest entry.
pub fn top1(probabilities: &[f32]) -> (usize, f32) {
    probabilities
        .iter()
        .copied()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, p)| {
            if p > best.1 { (i, p) } else { best }
        })
}

/// Largest absolute element-wise difference of two equally long vectors.
pub fn max_abs_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
