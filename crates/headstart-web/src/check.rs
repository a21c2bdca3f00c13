//! `?check=backends`: runs the same real photo through the WebGPU and CPU backends and reports
//! how far apart they are, on whatever adapter the browser has (software ones included, since
//! that may be all a test machine offers). Failed shaders can be silent on the web; this makes
//! them visible.

use crate::browser::fetch_blob;
use crate::compute::{init_webgpu, probe_adapter};
use crate::engine::{Engine, max_abs_difference};
use burn::module::Module;
use burn::tensor::Device;
use headstart_core::head::HeadConfig;
use headstart_core::inference::{classify, read_rows};
use headstart_core::preprocess::batch_tensor;

/// The photo compared.
const PROBE_PHOTO: &str = "samples/bird/owl.png";

/// Blocks of the backbone run on both backends: the stem and the first block cover the
/// regular, depthwise and pointwise convolutions, BatchNorm, ReLU6 and TF-SAME padding.
const PREFIX_BLOCKS: usize = 2;

/// The outcome shown on the page.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckOutcome {
    /// No WebGPU adapter: nothing to compare.
    Skipped(String),
    /// Both backends ran; the largest differences found.
    Compared {
        /// The adapter, as the browser describes it.
        adapter: String,
        /// Largest difference of the backbone prefix's feature maps.
        prefix_difference: f32,
        /// Largest difference of class probabilities from a head on real embeddings.
        probability_difference: f32,
        /// Whether both CPU and GPU picked the same class for every row.
        same_predictions: bool,
    },
    /// WebGPU failed.
    Failed(String),
}

/// Runs the comparison; the CPU side is the engine's backbone, which the page starts on the CPU
/// in check mode.
pub async fn compare_backends(engine: &Engine) -> CheckOutcome {
    let adapter = match probe_adapter().await {
        Ok(adapter) => adapter.description,
        Err(reason) => return CheckOutcome::Skipped(reason),
    };
    match compare_on(engine, adapter).await {
        Ok(outcome) => outcome,
        Err(error) => CheckOutcome::Failed(error),
    }
}

async fn compare_on(engine: &Engine, adapter: String) -> Result<CheckOutcome, String> {
    let gpu = init_webgpu().await?;
    let cpu = engine.device().clone();
    let photo = fetch_blob(PROBE_PHOTO).await?;
    let image = engine.preprocessed_photo(&photo).await?;

    let cpu_backbone = engine.backbone();
    let gpu_backbone = cpu_backbone.clone().to_device(&gpu);
    let prefix = |backbone: &headstart_core::backbone::EfficientNetLite0, device: &Device| {
        let features = backbone.prefix(
            batch_tensor(std::slice::from_ref(&image), device),
            PREFIX_BLOCKS,
        );
        let [batch, channels, height, width] = features.dims();
        features.reshape([batch, channels * height * width])
    };
    let error = |e| format!("{e:?}");
    let cpu_prefix = read_rows(prefix(cpu_backbone, &cpu)).await.map_err(error)?;
    let gpu_prefix = read_rows(prefix(&gpu_backbone, &gpu))
        .await
        .map_err(error)?;

    // A seeded head over the real embedding plus shifted copies of it, so rows differ.
    let embedding = engine.embed_photo(&photo).await?;
    let embeddings: Vec<Vec<f32>> = (0..4)
        .map(|shift| embedding.iter().map(|v| v + shift as f32 * 0.05).collect())
        .collect();
    cpu.seed(7);
    let head = HeadConfig::new(3).init(&cpu).valid();
    let cpu_probabilities = classify(&head, &embeddings, &cpu).await.map_err(error)?;
    let gpu_probabilities = classify(&head.clone().to_device(&gpu), &embeddings, &gpu)
        .await
        .map_err(error)?;

    let top = |row: &Vec<f32>| headstart_core::inference::top1(row).0;
    Ok(CheckOutcome::Compared {
        adapter,
        prefix_difference: max_abs_difference(&cpu_prefix[0], &gpu_prefix[0]),
        probability_difference: cpu_probabilities
            .iter()
            .zip(&gpu_probabilities)
            .map(|(a, b)| max_abs_difference(a, b))
            .fold(0.0, f32::max),
        same_predictions: cpu_probabilities
            .iter()
            .map(top)
            .eq(gpu_probabilities.iter().map(top)),
    })
}
