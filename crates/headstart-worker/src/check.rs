//! `?check=backends`: runs the same real photo through the WebGPU and CPU backends and reports
//! how far apart they are, on whatever adapter the browser has (software ones included, since
//! that may be all a test machine offers). Failed shaders can be silent on the web; this makes
//! them visible.

use crate::browser::{fetch_blob, fetch_bytes};
use crate::compute::{init_webgpu, probe_adapter};
use crate::engine::{BACKBONE_URL, Engine};
use burn::module::Module;
use headstart_core::head::HeadConfig;
use headstart_core::inference::{classify, embed, max_abs_difference};
use headstart_core::weights::load_backbone;

/// The photo compared.
const PROBE_PHOTO: &str = "samples/bird/owl.png";

/// The outcome shown on the page.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckOutcome {
    /// No WebGPU adapter: nothing to compare.
    Skipped(String),
    /// Both backends ran; the largest differences found.
    Compared {
        /// The adapter, as the browser describes it.
        adapter: String,
        /// Largest difference of the photo's 1280-d backbone embedding.
        embedding_difference: f32,
        /// Largest difference of class probabilities from a head on real embeddings.
        probability_difference: f32,
        /// Whether both CPU and GPU picked the same class for every row.
        same_predictions: bool,
    },
    /// WebGPU failed.
    Failed(String),
}

/// Runs the comparison, naming each stage through `on_stage` as it starts; the CPU side is the
/// engine's backbone, which the page starts on the CPU in check mode.
pub async fn compare_backends(engine: &Engine, on_stage: impl Fn(&str)) -> CheckOutcome {
    on_stage("asking the browser for a WebGPU adapter");
    let adapter = match probe_adapter().await {
        Ok(adapter) => adapter.description,
        Err(reason) => return CheckOutcome::Skipped(reason),
    };
    match compare_on(engine, adapter, on_stage).await {
        Ok(outcome) => outcome,
        Err(error) => CheckOutcome::Failed(error),
    }
}

async fn compare_on(
    engine: &Engine,
    adapter: String,
    on_stage: impl Fn(&str),
) -> Result<CheckOutcome, String> {
    on_stage("starting WebGPU");
    let gpu = init_webgpu().await?;
    let cpu = engine.device().clone();
    let error = |e| format!("{e:?}");
    on_stage("embedding a real photo on the CPU");
    let photo = fetch_blob(PROBE_PHOTO).await?;
    let image = engine.preprocessed_photo(&photo).await?;
    let cpu_embedding = embed(engine.backbone(), std::slice::from_ref(&image), &cpu)
        .await
        .map_err(error)?
        .remove(0);

    // A seeded head over the real embedding plus shifted copies of it, so rows differ.
    on_stage("classifying with the same head on the CPU and on WebGPU");
    let embeddings: Vec<Vec<f32>> = (0..4)
        .map(|shift| {
            cpu_embedding
                .iter()
                .map(|v| v + shift as f32 * 0.05)
                .collect()
        })
        .collect();
    let head = HeadConfig::new(3).init(7, &cpu);
    let cpu_probabilities = classify(&head, &embeddings, &cpu).await.map_err(error)?;
    let gpu_probabilities = classify(&head.clone().to_device(&gpu), &embeddings, &gpu)
        .await
        .map_err(error)?;

    // A separate GPU model from the weight file, as the page's WebGPU path makes it: burn's
    // BatchNorm statistics are shared between clones, so moving a clone would move the CPU
    // model's statistics too.
    on_stage("embedding the same photo on WebGPU (slow on software adapters)");
    let weights = fetch_bytes(BACKBONE_URL, |_, _| {}).await?;
    let gpu_backbone = load_backbone(weights, &gpu).map_err(|e| e.to_string())?;
    let gpu_embedding = embed(&gpu_backbone, &[image], &gpu)
        .await
        .map_err(error)?
        .remove(0);

    let top = |row: &Vec<f32>| headstart_core::inference::top1(row).0;
    Ok(CheckOutcome::Compared {
        adapter,
        embedding_difference: max_abs_difference(&cpu_embedding, &gpu_embedding),
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
