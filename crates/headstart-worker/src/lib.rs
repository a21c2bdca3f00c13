//! Headstart's model worker: a dedicated Web Worker holding its own EfficientNet-Lite0 and
//! answering the page's [`Request`]s with [`Event`]s (see [`headstart_core::protocol`]). The page
//! runs a pool of these; all model work (decoding, embedding, training, classifying) happens
//! here, never on the page's thread.
//!
//! Static constructors (cubecl's dependency `pliron` registers with `inventory`) run exactly
//! once, from [`start`]. Without that explicit call wasm-ld links the module "command-style" and
//! wraps every export so that each call from JavaScript re-runs all constructors: a message's
//! round trip took 4.6 ms instead of 0.1 ms, and each call into the model far more.

mod check;
mod compute;
mod engine;
mod photo;
mod scope;

use crate::engine::Engine;
use crate::scope::{post, worker_scope};
use headstart_core::inference::{LoadedModel, ModelMismatch};
use headstart_core::protocol::{
    Attachment, ComputeChoice, Event, JobId, PhotoError, Request, TrainingError,
};
use headstart_core::run::{RunSpec, TrainingExamples};
use headstart_core::training::{ModelVersion, TrainedModel};
use js_sys::{ArrayBuffer, Uint8Array};
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use wasm_bindgen::prelude::{Closure, wasm_bindgen};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{Blob, MessageEvent};

thread_local! {
    /// The engine, once [`Request::Start`] has loaded it.
    static ENGINE: RefCell<Option<Rc<Engine>>> = const { RefCell::new(None) };
    /// Training runs the page asked to stop.
    static STOPS: Rc<RefCell<HashSet<JobId>>> = Rc::default();
    /// The model photos were last classified with, loaded, by version: a model's version
    /// names it for the whole page session, and loading trained network layers again for
    /// every photo would cost more than classifying it.
    static CLASSIFYING: RefCell<Option<(ModelVersion, Rc<LoadedModel>)>> = const { RefCell::new(None) };
}

unsafe extern "C" {
    /// The linker-synthesized function running all static constructors.
    fn __wasm_call_ctors();
}

/// Entry point, run once when the module is instantiated in the worker.
#[wasm_bindgen(start)]
pub fn start() {
    // SAFETY: called once, first, before any code relying on constructors runs.
    unsafe { __wasm_call_ctors() };
    std::panic::set_hook(Box::new(|info| {
        let detail = info.to_string();
        web_sys::console::error_1(&format!("model worker panicked: {detail}").into());
        post(&Event::Panicked { detail }, &Attachment::Nothing);
    }));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        match headstart_browser::envelope::unwrap::<Request>(event.data()) {
            Ok((request, attachment)) => handle(request, attachment),
            Err(error) => web_sys::console::error_1(&error.to_string().into()),
        }
    });
    worker_scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
}

/// Bytes of this worker's wasm memory (for measurements: the benchmark reads it through
/// `wasm_bindgen.memory_bytes()` in each worker).
#[wasm_bindgen]
pub fn memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<ArrayBuffer>()
        .byte_length() as f64
}

/// The embeddings of a batch of normalized model inputs (`inputs` is `[batch, 3, 224, 224]`
/// flattened), flattened: the network alone, for the benchmark (`scripts/bench.sh` times it
/// through `wasm_bindgen.embed_normalized` in each worker and checks it against ONNX Runtime).
#[wasm_bindgen]
pub async fn embed_normalized(inputs: Vec<f32>) -> Result<Vec<f32>, JsValue> {
    let engine = engine().ok_or("the model is not loaded yet")?;
    let images: Vec<Vec<f32>> = inputs
        .chunks(headstart_core::preprocess::INPUT_LEN)
        .map(<[f32]>::to_vec)
        .collect();
    let embeddings = headstart_core::inference::embed(engine.backbone(), &images, engine.device())
        .await
        .map_err(|error| error.to_string())?;
    Ok(embeddings
        .iter()
        .flat_map(|embedding| embedding.values().iter().copied())
        .collect())
}

/// The embedding of a photo file the way a photo job makes it (decoded, its model input and
/// thumbnail encoded, embedded), without the page: for the benchmark, beside
/// [`embed_normalized`].
#[wasm_bindgen]
pub async fn embed_file(photo: web_sys::Blob) -> Result<Vec<f32>, JsValue> {
    let engine = engine().ok_or("the model is not loaded yet")?;
    let (embedding, _) = engine
        .embed_photo(&photo)
        .await
        .map_err(|error| error.to_string())?;
    Ok(embedding.into())
}

fn engine() -> Option<Rc<Engine>> {
    ENGINE.with_borrow(Clone::clone)
}

/// Why a photo cannot be classified with the model its request names.
#[derive(Debug)]
enum ModelUnavailable {
    /// The worker has no backbone to load it on.
    NoEngine,
    /// It came with an earlier request, and this worker has loaded another since.
    NoLongerHeld(ModelVersion),
    /// It does not fit the network.
    Mismatch(ModelMismatch),
}

impl std::fmt::Display for ModelUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoEngine => write!(f, "the worker has no model"),
            Self::NoLongerHeld(version) => write!(f, "this worker no longer holds model {version}"),
            Self::Mismatch(mismatch) => write!(f, "{mismatch}"),
        }
    }
}

impl std::error::Error for ModelUnavailable {}

/// The model of `version` loaded on the engine: `model` when given (then kept in
/// [`CLASSIFYING`]), else the one kept there if it is that version.
fn loaded_for_classifying(
    version: ModelVersion,
    model: Option<Box<TrainedModel>>,
) -> Result<Rc<LoadedModel>, ModelUnavailable> {
    let Some(model) = model else {
        return match CLASSIFYING.with_borrow(Clone::clone) {
            Some((kept, loaded)) if kept == version => Ok(loaded),
            _ => Err(ModelUnavailable::NoLongerHeld(version)),
        };
    };
    let engine = engine().ok_or(ModelUnavailable::NoEngine)?;
    let loaded = LoadedModel::load(engine.backbone(), &model, engine.device())
        .map_err(ModelUnavailable::Mismatch)?;
    let loaded = Rc::new(loaded);
    CLASSIFYING.set(Some((version, Rc::clone(&loaded))));
    Ok(loaded)
}

fn handle(request: Request, attachment: Attachment<Blob>) {
    match request {
        Request::Start { compute } => spawn_local(start_engine(compute, attachment.file())),
        Request::Embed { job } => photo_job(job, attachment.file(), |engine, blob| async move {
            let (embedding, decoded) = engine.embed_photo(&blob).await?;
            Ok((Event::Embedded { job, embedding }, decoded.attachment()))
        }),
        Request::EmbedInput {
            job,
            normalization,
            augmentation,
        } => photo_job(job, attachment.file(), move |engine, blob| async move {
            let embedding = engine
                .embed_input(&blob, normalization, augmentation)
                .await?;
            Ok((Event::Embedded { job, embedding }, Attachment::Nothing))
        }),
        Request::PreviewAugmentation {
            job,
            settings,
            seeds,
        } => photo_job(job, attachment.file(), move |engine, blob| async move {
            let views = engine.preview(&blob, &settings, &seeds).await?;
            Ok((Event::Previewed { job }, Attachment::Files(views)))
        }),
        Request::Classify {
            job,
            version,
            model,
        } => {
            // Loaded now, before any later request is handled: the next photo may come
            // without the model.
            let loaded = loaded_for_classifying(version, model);
            photo_job(job, attachment.file(), |engine, blob| async move {
                let loaded = loaded.map_err(|error| PhotoError::Compute(error.to_string()))?;
                let (probabilities, decoded) = engine.classify_photo(&loaded, &blob).await?;
                let event = Event::Classified { job, probabilities };
                Ok((event, decoded.attachment()))
            })
        }
        Request::Train { job, run, examples } => train(job, run, examples, attachment.files()),
        Request::Evaluate {
            job,
            model,
            embeddings,
        } => {
            let Some(engine) = engine() else { return };
            let inputs = attachment.files();
            spawn_local(async move {
                let probabilities = engine
                    .evaluate(&model, &embeddings, &inputs)
                    .await
                    .map_err(|error| TrainingError::Compute(error.to_string()));
                post(
                    &Event::Evaluated { job, probabilities },
                    &Attachment::Nothing,
                );
            });
        }
        Request::CheckModel { job, model } => {
            let problem = match engine() {
                Some(engine) => LoadedModel::load(engine.backbone(), &model, engine.device())
                    .err()
                    .map(|mismatch| mismatch.to_string()),
                None => Some("the worker has no backbone".into()),
            };
            post(&Event::ModelChecked { job, problem }, &Attachment::Nothing);
        }
        Request::StopTraining { job } => {
            STOPS.with(|stops| stops.borrow_mut().insert(job));
        }
        Request::CheckBackends => {
            if let Some(engine) = engine() {
                spawn_local(async move {
                    let outcome = check::compare_backends(&engine).await;
                    post(&Event::BackendCheck(outcome), &Attachment::Nothing);
                });
            }
        }
        Request::Ping => post(&Event::Pong, &Attachment::Nothing),
        Request::TimeEmbedding {
            warm_up_ms,
            timed_ms,
        } => {
            if let Some(engine) = engine() {
                spawn_local(async move {
                    // A failure here shows again, and is reported, on the next photo.
                    let photos_on_the_clock =
                        engine.time_embedding(warm_up_ms, timed_ms).await.ok();
                    post(
                        &Event::EmbeddingTimed {
                            photos_on_the_clock,
                        },
                        &Attachment::Nothing,
                    );
                });
            }
        }
        Request::Crash => panic!("a test asked this worker to crash"),
    }
}

/// Loads the backbone from the `weights` file on the best device for `compute`, and tells the
/// page how it went.
async fn start_engine(compute: ComputeChoice, weights: Option<Blob>) {
    let bytes = match weights {
        Some(file) => JsFuture::from(file.array_buffer()).await.ok(),
        None => None,
    };
    let weights = bytes.map_or_else(Vec::new, |bytes| Uint8Array::new(&bytes).to_vec());
    match Engine::start(weights, compute).await {
        Ok(engine) => {
            let started = Event::Started {
                path: engine.compute.path,
                reason: engine.compute.reason.clone(),
            };
            ENGINE.set(Some(Rc::new(engine)));
            post(&started, &Attachment::Nothing);
        }
        Err(error) => {
            let detail = error.to_string();
            post(&Event::StartFailed { detail }, &Attachment::Nothing);
        }
    }
}

/// Trains run `job` as `run` says on `examples` (a network way on the model `inputs`),
/// posting each epoch and then how the run ended; a stop the page sends ends it early.
fn train(job: JobId, run: RunSpec, examples: TrainingExamples, inputs: Vec<Blob>) {
    let Some(engine) = engine() else {
        return post(&not_started_training(job), &Attachment::Nothing);
    };
    spawn_local(async move {
        let stops = STOPS.with(Rc::clone);
        let stop_requested = || stops.borrow().contains(&job);
        let on_epoch = |report| post(&Event::Epoch { job, report }, &Attachment::Nothing);
        let ended = engine
            .train(job, run, examples, inputs, stop_requested, on_epoch)
            .await;
        stops.borrow_mut().remove(&job);
        post(&ended, &Attachment::Nothing);
    });
}

fn not_started_training(job: JobId) -> Event {
    Event::TrainingFailed {
        job,
        error: TrainingError::Compute("the worker has no model".into()),
    }
}

/// Runs `work` on a photo job and posts its event with its attachment, or the photo's failure.
fn photo_job<Work>(job: JobId, photo: Option<Blob>, work: impl FnOnce(Rc<Engine>, Blob) -> Work)
where
    Work: Future<Output = Result<(Event, Attachment<Blob>), PhotoError>> + 'static,
{
    let (Some(engine), Some(photo)) = (engine(), photo) else {
        let error = PhotoError::Compute("the worker has no model or no photo".into());
        return post(&Event::PhotoFailed { job, error }, &Attachment::Nothing);
    };
    let work = work(engine, photo);
    spawn_local(async move {
        match work.await {
            Ok((event, attachment)) => post(&event, &attachment),
            Err(error) => post(&Event::PhotoFailed { job, error }, &Attachment::Nothing),
        }
    });
}
