//! `?check=backends`: runs the same real photo through the WebGPU and CPU backends and reports
//! how far apart they are, on whatever adapter the browser has (software ones included, since
//! that may be all a test machine offers). Failed shaders can be silent on the web; this makes
//! them visible.

use crate::compute::init_webgpu;
use crate::engine::Engine;
use burn::module::Module;
use headstart_browser::{describe, fetch_ok, probe_adapter};
use headstart_core::head::HeadConfig;
use headstart_core::inference::{classify, embed, max_abs_difference};
use headstart_core::protocol::BackendCheck;
use headstart_core::training::top1;
use headstart_core::weights::{BACKBONE_FILE, load_backbone};
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

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
        Err(error) => BackendCheck::Failed(error),
    }
}

async fn compare_on(
    engine: &Engine,
    adapter: String,
    stage: impl Fn(&str),
) -> Result<BackendCheck, String> {
    stage("fetching the photo and the weights");
    let photo: Blob = JsFuture::from(fetch_ok(PROBE_PHOTO).await?.blob().map_err(describe)?)
        .await
        .map_err(describe)?
        .unchecked_into();
    let weights: ArrayBuffer = JsFuture::from(
        fetch_ok(&format!("{WEIGHTS_FOLDER}/{BACKBONE_FILE}"))
            .await?
            .array_buffer()
            .map_err(describe)?,
    )
    .await
    .map_err(describe)?
    .unchecked_into();
    let weights = Uint8Array::new(&weights).to_vec();
    stage("starting WebGPU");
    let gpu = init_webgpu()
        .await
        .map_err(|reason| format!("{reason:?}"))?;
    let cpu = engine.device().clone();
    stage("embedding a real photo on the CPU");
    let (image, _) = engine
        .preprocess(&photo)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let cpu_embedding = embed(engine.backbone(), std::slice::from_ref(&image), &cpu)
        .await
        .map_err(|e| e.to_string())?
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
                .map_err(|e| format!("{e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let head = HeadConfig::new(3).init(7, &cpu);
    let error = |e| format!("{e:?}");
    let cpu_probabilities = classify(&head, &embeddings, &cpu).await.map_err(error)?;
    let gpu_probabilities = classify(&head.clone().to_device(&gpu), &embeddings, &gpu)
        .await
        .map_err(error)?;

    // A separate GPU model from the weight bytes, as the WebGPU path makes it: burn's
    // BatchNorm statistics are shared between clones.
    stage("embedding the same photo on WebGPU (slow on software adapters)");
    let gpu_backbone = load_backbone(weights, &gpu).map_err(|e| e.to_string())?;
    let gpu_embedding = embed(&gpu_backbone, &[image], &gpu)
        .await
        .map_err(|e| e.to_string())?
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
