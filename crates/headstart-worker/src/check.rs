//! `?check=backends`: runs the same real photo through the WebGPU and CPU backends and reports
//! how far apart they are, on whatever adapter the browser has (software ones included, since
//! that may be all a test machine offers). Failed shaders can be silent on the web; this makes
//! them visible.

use crate::compute::init_webgpu;
use crate::engine::Engine;
use burn::module::Module;
use burn::tensor::ExecutionError;
use headstart_browser::{describe, fetch_ok, probe_adapter};
use headstart_core::embedding::{Embedding, EmbeddingError};
use headstart_core::head::HeadConfig;
use headstart_core::inference::{InferenceError, classify, embed, max_abs_difference};
use headstart_core::protocol::{BackendCheck, ComputeReason, PhotoError};
use headstart_core::training::top1;
use headstart_core::weights::{BACKBONE_FILE, WeightsError, load_backbone};
use js_sys::{ArrayBuffer, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, Response};

/// The photo compared.
const PROBE_PHOTO: &str = "samples/bird/owl.png";

/// Where the worker finds the weights (relative to its script, which sits beside the page).
const WEIGHTS_FOLDER: &str = "weights";

/// Runs the comparison, naming each stage in the console as it starts; the CPU side is the
/// engine's backbone (the page starts its worker on the CPU in check mode).
pub async fn compare_backends(engine: &Engine) -> BackendCheck {
    let stage = |name: &str| web_sys::console::log_1(&format!("backend check: {name}").into());
    stage("asking the browser for a WebGPU adapter");
    let adapter = match probe_adapter().await {
        Ok(adapter) => adapter.description,
        Err(reason) => return BackendCheck::Skipped(reason),
    };
    match compare_on(engine, adapter, stage).await {
        Ok(outcome) => outcome,
        Err(failure) => BackendCheck::Failed(failure.to_string()),
    }
}

/// Why the comparison stopped before its end.
#[derive(Debug)]
enum CheckFailure {
    /// The photo or the weights could not be fetched (the browser's words).
    Fetch(String),
    /// WebGPU did not start.
    WebGpu(ComputeReason),
    /// The photo gave no model input.
    Photo(PhotoError),
    /// A backend failed embedding the photo.
    Embedding(InferenceError),
    /// The shifted copies of the embedding are not embeddings.
    Shifted(EmbeddingError),
    /// A backend failed classifying.
    Classifying(ExecutionError),
    /// WebGPU could not hold the backbone.
    Weights(WeightsError),
}

impl std::fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fetch(detail) => write!(f, "fetching failed: {detail}"),
            Self::WebGpu(reason) => write!(f, "WebGPU did not start: {reason:?}"),
            Self::Photo(error) => write!(f, "the photo gave no model input: {error}"),
            Self::Embedding(error) => write!(f, "{error}"),
            Self::Shifted(error) => write!(f, "a shifted embedding: {error}"),
            Self::Classifying(error) => write!(f, "classifying failed: {error:?}"),
            Self::Weights(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for CheckFailure {}

/// A failed fetch, in the browser's words.
fn fetch_failed(error: JsValue) -> CheckFailure {
    CheckFailure::Fetch(describe(error))
}

/// The body of the file at `url`, as what its reader makes of the response.
async fn fetched(
    url: &str,
    read: impl FnOnce(&Response) -> Result<Promise, JsValue>,
) -> Result<JsValue, CheckFailure> {
    let response = fetch_ok(url).await.map_err(CheckFailure::Fetch)?;
    JsFuture::from(read(&response).map_err(fetch_failed)?)
        .await
        .map_err(fetch_failed)
}

async fn compare_on(
    engine: &Engine,
    adapter: String,
    stage: impl Fn(&str),
) -> Result<BackendCheck, CheckFailure> {
    stage("fetching the photo and the weights");
    let photo: Blob = fetched(PROBE_PHOTO, Response::blob).await?.unchecked_into();
    let weights = format!("{WEIGHTS_FOLDER}/{BACKBONE_FILE}");
    let weights: ArrayBuffer = fetched(&weights, Response::array_buffer)
        .await?
        .unchecked_into();
    let weights = Uint8Array::new(&weights).to_vec();
    stage("starting WebGPU");
    let gpu = init_webgpu().await.map_err(CheckFailure::WebGpu)?;
    let cpu = engine.device().clone();
    stage("embedding a real photo on the CPU");
    let (image, _) = engine
        .preprocess(&photo)
        .await
        .map_err(CheckFailure::Photo)?;
    let cpu_embedding = embed(engine.backbone(), std::slice::from_ref(&image), &cpu)
        .await
        .map_err(CheckFailure::Embedding)?
        .remove(0);

    // A seeded head over the real embedding plus shifted copies of it, so rows differ.
    stage("classifying with the same head on the CPU and on WebGPU");
    let embeddings = (0..4)
        .map(|shift| {
            cpu_embedding
                .values()
                .iter()
                .map(|v| v + shift as f32 * 0.05)
                .collect::<Vec<f32>>()
                .try_into()
                .map_err(CheckFailure::Shifted)
        })
        .collect::<Result<Vec<Embedding>, _>>()?;
    let head = HeadConfig::new(3).init(7, &cpu);
    let cpu_probabilities = classify(&head, &embeddings, &cpu)
        .await
        .map_err(CheckFailure::Classifying)?;
    let gpu_probabilities = classify(&head.clone().to_device(&gpu), &embeddings, &gpu)
        .await
        .map_err(CheckFailure::Classifying)?;

    // A separate GPU model from the weight bytes, as the WebGPU path makes it: burn's
    // BatchNorm statistics are shared between clones.
    stage("embedding the same photo on WebGPU (slow on software adapters)");
    let gpu_backbone = load_backbone(weights, &gpu).map_err(CheckFailure::Weights)?;
    let gpu_embedding = embed(&gpu_backbone, &[image], &gpu)
        .await
        .map_err(CheckFailure::Embedding)?
        .remove(0);

    let top = |row: &Vec<f32>| top1(row).0;
    Ok(BackendCheck::Compared {
        adapter,
        embedding_difference: max_abs_difference(cpu_embedding.values(), gpu_embedding.values()),
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
