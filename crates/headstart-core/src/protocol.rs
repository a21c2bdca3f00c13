//! The one typed boundary between the page and its model workers: every request the page
//! sends and every event a worker answers with, as serde values sent as postcard bytes. A
//! browser file that goes with a message (a photo, a thumbnail, a model input, the weights)
//! travels beside these bytes as an [`Attachment`], never inside them.
//!
//! A photo's *model input* is the exact 224x224 image the backbone sees (centre crop, resize,
//! orientation applied, transparency on white), kept as a lossless PNG blob so that augmented
//! views, other normalizations and the preprocessing view start from the same pixels.

use crate::augment::AugmentationSettings;
use crate::embedding::Embedding;
use crate::preprocess::Normalization;
use crate::run::{RunSpec, TrainingExamples};
use crate::training::{EpochReport, ModelVersion, TrainedModel};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

// Made and matched by training, sent in these messages: where the page and the workers find them.
pub use crate::training::{NetworkTraining, TrainingError};

/// Identifies one request and every event about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct JobId(pub u32);

/// Which compute path the student (or a test) asked for with `?compute=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComputeChoice {
    /// WebGPU on a hardware adapter that agrees with the CPU, else the CPU (the default).
    Auto,
    /// Always the CPU.
    Cpu,
    /// WebGPU on any adapter, software ones included (for checks and comparisons).
    AnyWebGpu,
}

impl ComputeChoice {
    /// Reads the value of `?compute=cpu|webgpu|auto`.
    pub fn from_query(value: Option<&str>) -> Self {
        match value {
            Some("cpu") => Self::Cpu,
            Some("webgpu") => Self::AnyWebGpu,
            _ => Self::Auto,
        }
    }
}

/// Which backend runs a worker's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComputePath {
    /// burn-wgpu on the browser's WebGPU.
    WebGpu,
    /// burn-flex on the CPU (WebAssembly SIMD).
    Cpu,
}

impl ComputePath {
    /// The name shown on the badge.
    pub fn label(self) -> &'static str {
        match self {
            Self::WebGpu => "WebGPU",
            Self::Cpu => "CPU",
        }
    }
}

/// Why the model runs on the path it runs on: the badge says it, in the page's words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ComputeReason {
    /// The CPU was asked for (`?compute=cpu`).
    CpuRequested,
    /// The browser offers no WebGPU here.
    NoWebGpu,
    /// The browser found no WebGPU adapter.
    NoAdapter,
    /// Asking the browser for an adapter failed (its words, for the curious).
    AdapterFailed(String),
    /// The adapter is a software one, slower than the CPU path (as the browser names it).
    SoftwareAdapter(String),
    /// The page loaded the worker build without WebGPU.
    WebGpuNotLoaded,
    /// WebGPU failed to start (burn's words).
    WebGpuFailed(String),
    /// WebGPU could not hold the pretrained model (burn's words).
    ModelNotLoaded(String),
    /// WebGPU ran the probe image but was not trusted.
    GpuDistrusted(GpuDisagreement),
    /// WebGPU runs the model, on this adapter.
    WebGpu(String),
    /// WebGPU stopped working later (what failed); the CPU took over.
    GpuStopped(String),
}

/// Why a GPU's embedding of the probe image was not trusted (see the core's
/// `inference::check_gpu_against_cpu`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GpuDisagreement {
    /// The CPU failed to embed the probe, so nothing is known of the GPU.
    CpuFailed(String),
    /// The GPU failed running the backbone, or gave no embedding.
    GpuFailed(String),
    /// The GPU's embedding differs from the CPU's by this much.
    Differs(f32),
}

/// What the page asks a worker to do.
// A request is made once and encoded at once for its worker: a boxed run would only add an
// allocation to the largest variant.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Load the backbone from the weights' bytes ([`Attachment::File`]) on the best device for
    /// `compute`.
    Start {
        /// The requested compute path.
        compute: ComputeChoice,
    },
    /// Decode the photo file ([`Attachment::File`]), make its thumbnail and model input, and
    /// embed it.
    Embed {
        /// The job.
        job: JobId,
    },
    /// Embed a kept model input ([`Attachment::File`]) again: normalized as `normalization` says, and first
    /// augmented when `augmentation` is given (answered by [`Event::Embedded`], nothing attached).
    EmbedInput {
        /// The job.
        job: JobId,
        /// How pixel values become input numbers.
        normalization: Normalization,
        /// The view to make, if any.
        augmentation: Option<ViewAugmentation>,
    },
    /// Make one augmented view of a kept model input ([`Attachment::File`]) per seed, as small JPEGs for the
    /// page's preview (answered by [`Event::Previewed`]).
    PreviewAugmentation {
        /// The job.
        job: JobId,
        /// The augmentations.
        settings: AugmentationSettings,
        /// One seed per view.
        seeds: Vec<u64>,
    },
    /// Like [`Request::Embed`], then classify the photo with `model` (its embedding, or for
    /// trained network layers its model input).
    Classify {
        /// The job.
        job: JobId,
        /// The version of the model the student classified with when asking.
        version: ModelVersion,
        /// That model; `None` when this worker was last sent it (the pool sends a model of
        /// trained network layers, megabytes, once per worker rather than with every photo).
        model: Option<Box<TrainedModel>>,
    },
    /// Train a model as `run` says on `examples` (their model inputs as [`Attachment::Files`]
    /// when they are [`TrainingExamples::ModelInputs`]), reporting every epoch of a way that has them;
    /// answered by [`Event::Trained`], [`Event::TrainingDiscarded`] or
    /// [`Event::TrainingFailed`].
    Train {
        /// The job.
        job: JobId,
        /// The run.
        run: RunSpec,
        /// What it trains on.
        examples: TrainingExamples,
    },
    /// Class probabilities of photos under a model (the final test), answered by
    /// [`Event::Evaluated`]: of their cached embeddings, or, when the model's weights need the
    /// model input, of the photos' model inputs ([`Attachment::Files`]) instead.
    Evaluate {
        /// The job.
        job: JobId,
        /// The model to evaluate.
        model: Box<TrainedModel>,
        /// The embeddings, in the page's order (empty when the inputs travel instead).
        embeddings: Vec<Embedding>,
    },
    /// Check that an imported model's network layers fit the network (answered by
    /// [`Event::ModelChecked`]): only a worker holding the backbone can tell.
    CheckModel {
        /// The job.
        job: JobId,
        /// The model.
        model: Box<TrainedModel>,
    },
    /// Stop the training run `job` after its current epoch.
    StopTraining {
        /// The run to stop.
        job: JobId,
    },
    /// Compare WebGPU with the CPU on a real photo (the worker fetches the page's probe photo).
    CheckBackends,
    /// Answer at once with [`Event::Pong`] (measures the cost of one message).
    Ping,
    /// Embed a made-up model input again and again, untimed for `warm_up_ms` (the browser
    /// optimizes code that runs hot), then on the clock for `timed_ms`, and answer with
    /// [`Event::EmbeddingTimed`]: how the pool learns whether one more worker makes embedding
    /// faster (the pool's workers time at once, so their clocks overlap).
    TimeEmbedding {
        /// Milliseconds of embedding before the clock starts.
        warm_up_ms: u32,
        /// Milliseconds of embedding on the clock.
        timed_ms: u32,
    },
    /// Test hook: panic, as a worker hit by a bug would (the page sends it only when a test
    /// asks, with `?test-hooks`).
    Crash,
}

/// What a worker tells the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// The backbone is loaded; the worker takes requests.
    Started {
        /// The path it runs on.
        path: ComputePath,
        /// Why that path, for the badge.
        reason: ComputeReason,
    },
    /// The backbone could not be loaded.
    StartFailed {
        /// What went wrong, for the console.
        detail: String,
    },
    /// A photo's embedding. For [`Request::Embed`] the photo's thumbnail and model input
    /// travel beside it ([`Attachment::Decoded`]); for [`Request::EmbedInput`] nothing does.
    Embedded {
        /// The job.
        job: JobId,
        /// The photo's embedding.
        embedding: Embedding,
    },
    /// A photo's class probabilities (its [`Attachment::Decoded`], as with
    /// [`Event::Embedded`]).
    Classified {
        /// The job.
        job: JobId,
        /// One probability per class of the job's model, in its order.
        probabilities: Vec<f32>,
    },
    /// A photo could not be used.
    PhotoFailed {
        /// The job.
        job: JobId,
        /// Why.
        error: PhotoError,
    },
    /// The views of a [`Request::PreviewAugmentation`], as JPEG files ([`Attachment::Files`]).
    Previewed {
        /// The job.
        job: JobId,
    },
    /// An epoch of a training run finished.
    Epoch {
        /// The run.
        job: JobId,
        /// Its metrics.
        report: EpochReport,
    },
    /// A training run ended with a model, whatever way trained it: all its epochs ran, or it
    /// was stopped after at least one (then `model.stopped_early` is set).
    Trained {
        /// The run.
        job: JobId,
        /// The model.
        model: Box<TrainedModel>,
    },
    /// A training run was stopped before its first epoch ended: no model came of it.
    TrainingDiscarded {
        /// The run.
        job: JobId,
    },
    /// A training run failed.
    TrainingFailed {
        /// The run.
        job: JobId,
        /// Why.
        error: TrainingError,
    },
    /// The answer to [`Request::CheckModel`].
    ModelChecked {
        /// The job.
        job: JobId,
        /// Why the model does not fit, if it does not.
        problem: Option<String>,
    },
    /// The answer to [`Request::Evaluate`].
    Evaluated {
        /// The job.
        job: JobId,
        /// One probability row per embedding, in the request's order, or why there are none.
        probabilities: Result<Vec<Vec<f32>>, TrainingError>,
    },
    /// The outcome of [`Request::CheckBackends`].
    BackendCheck(BackendCheck),
    /// The answer to [`Request::Ping`].
    Pong,
    /// The answer to [`Request::TimeEmbedding`].
    EmbeddingTimed {
        /// How many embeddings ended on the clock; `None` if the network failed.
        photos_on_the_clock: Option<u32>,
    },
    /// The worker hit an internal error and stopped.
    Panicked {
        /// The panic message, for the console.
        detail: String,
    },
}

/// One augmented view to make of a model input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ViewAugmentation {
    /// Which augmentations.
    pub settings: AugmentationSettings,
    /// The view's seed (see [`crate::augment::view_seed`]).
    pub seed: u64,
}

/// Why a photo could not be used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PhotoError {
    /// The browser cannot decode the file as an image.
    NotAnImage,
    /// Its header states more pixels than a photo may have
    /// ([`crate::image_size::MAX_PHOTO_PIXELS`]): its width and height.
    TooLarge {
        /// Pixels across.
        width: u32,
        /// Pixels down.
        height: u32,
    },
    /// The model failed on it (detail for the console).
    Compute(String),
}

impl std::fmt::Display for PhotoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAnImage => write!(f, "the browser cannot decode the file as an image"),
            Self::TooLarge { width, height } => {
                write!(f, "{width}x{height} pixels, more than a photo may have")
            }
            Self::Compute(detail) => write!(f, "the model failed on the photo: {detail}"),
        }
    }
}

impl std::error::Error for PhotoError {}

/// The outcome of comparing WebGPU with the CPU on a real photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BackendCheck {
    /// No WebGPU adapter: nothing to compare.
    Skipped(ComputeReason),
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

/// What travels beside a message, outside its bytes, as handles `F` of the browser's files
/// (structured-cloned, never copied into the message). Each message's documentation says which
/// it carries; a receiver takes the form it expects and treats any other as missing.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Attachment<F> {
    /// Nothing travels beside the message.
    #[default]
    Nothing,
    /// One file: the photo a photo job is about, a kept model input, or the weights.
    File(F),
    /// Files in order: the run's or the final test's model inputs, one per example, or an
    /// augmentation preview's views.
    Files(Vec<F>),
    /// What a photo job made of its photo: the thumbnail and the model input.
    Decoded {
        /// The small image the page shows.
        thumbnail: F,
        /// The exact image the backbone saw.
        input: F,
    },
}

impl<F> Attachment<F> {
    /// The one file, if that is what came.
    pub fn file(self) -> Option<F> {
        match self {
            Self::File(file) => Some(file),
            _ => None,
        }
    }

    /// The files in order, none if something else came.
    pub fn files(self) -> Vec<F> {
        match self {
            Self::Files(files) => files,
            _ => Vec::new(),
        }
    }

    /// A photo's thumbnail and model input, if that is what came.
    pub fn decoded(self) -> Option<(F, F)> {
        match self {
            Self::Decoded { thumbnail, input } => Some((thumbnail, input)),
            _ => None,
        }
    }

    /// The same attachment with each file made into `G` by `convert`, or its first error.
    pub fn try_map<G, E>(
        self,
        mut convert: impl FnMut(F) -> Result<G, E>,
    ) -> Result<Attachment<G>, E> {
        Ok(match self {
            Self::Nothing => Attachment::Nothing,
            Self::File(file) => Attachment::File(convert(file)?),
            Self::Files(files) => {
                Attachment::Files(files.into_iter().map(convert).collect::<Result<_, _>>()?)
            }
            Self::Decoded { thumbnail, input } => Attachment::Decoded {
                thumbnail: convert(thumbnail)?,
                input: convert(input)?,
            },
        })
    }
}

/// A message as bytes.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    // Cannot fail for the protocol's plain values: postcard refuses only sequences of unknown
    // length, and every list here is a Vec (or a slice) that knows its own.
    postcard::to_allocvec(message).expect("protocol values always serialize")
}

/// A message from bytes; malformed bytes are an error, never a panic.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, postcard::Error> {
    postcard::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedding::EMBEDDING_DIM;

    #[test]
    fn messages_round_trip_and_bad_embeddings_are_refused_on_arrival() {
        let event = Event::Embedded {
            job: JobId(3),
            embedding: Embedding::try_from(vec![0.25; EMBEDDING_DIM]).unwrap(),
        };
        assert_eq!(decode::<Event>(&encode(&event)).unwrap(), event);

        // The same bytes with a NaN smuggled into the embedding do not decode.
        let mut bytes = encode(&event);
        let nan = f32::NAN.to_le_bytes();
        let at = bytes.len() - 4;
        bytes[at..].copy_from_slice(&nan);
        assert!(decode::<Event>(&bytes).is_err());
        assert!(decode::<Request>(&[0xff, 0x01]).is_err());
    }
}
