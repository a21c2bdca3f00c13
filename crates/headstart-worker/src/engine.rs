//! The model side: the backbone on the chosen device, photo embedding, training (a head, or
//! network layers on kept model inputs) and classification with any model. One engine per
//! worker.

use crate::compute::{Compute, ComputePath, ComputeReason, choose};
use crate::photo::{DecodeError, DecodedPhoto, decode_input, decode_photo, encode_jpeg};
use crate::scope::yield_to_event_loop;
use burn::tensor::{Device, ExecutionError, Tensor};
use headstart_core::augment::{AugmentationSettings, augment_rgba};
use headstart_core::backbone::EfficientNetLite0;
use headstart_core::embedding::Embedding;
use headstart_core::inference::{
    GpuDistrust, InferenceError, LoadedModel, ModelMismatch, check_gpu_against_cpu, embed,
};
use headstart_core::preprocess::{INPUT_LEN, Normalization, batch_tensor, normalize_rgba};
use headstart_core::protocol::{
    ComputeChoice, Event, GpuDisagreement, JobId, PhotoError, TrainingError, ViewAugmentation,
};
use headstart_core::run::{RunSpec, TrainingData, TrainingExamples};
use headstart_core::training::{EpochReport, TrainedModel};
use headstart_core::weights::{WeightsError, load_backbone};
use web_sys::Blob;

/// The loaded backbone on its device.
pub struct Engine {
    /// The compute device and how it was chosen.
    pub compute: Compute,
    backbone: EfficientNetLite0,
}

/// Photos decoded (and run through the frozen prefix) at a time.
const PREFIX_BATCH: usize = 8;

impl From<DecodeError> for PhotoError {
    fn from(error: DecodeError) -> Self {
        match error {
            DecodeError::NotAnImage => Self::NotAnImage,
            DecodeError::TooLarge(width, height) => Self::TooLarge { width, height },
            DecodeError::Canvas(detail) => Self::Compute(detail),
        }
    }
}

/// Why the final test's probabilities could not be computed.
#[derive(Debug)]
pub enum EvaluateError {
    /// The model does not fit the network.
    Model(ModelMismatch),
    /// A photo's model input could not be used.
    Input(PhotoError),
    /// The model failed on the photos.
    Compute(InferenceError),
}

impl std::fmt::Display for EvaluateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Model(mismatch) => write!(f, "{mismatch}"),
            Self::Input(error) => write!(f, "a model input could not be used: {error}"),
            Self::Compute(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for EvaluateError {}

impl From<ModelMismatch> for EvaluateError {
    fn from(mismatch: ModelMismatch) -> Self {
        Self::Model(mismatch)
    }
}

impl From<PhotoError> for EvaluateError {
    fn from(error: PhotoError) -> Self {
        Self::Input(error)
    }
}

impl From<InferenceError> for EvaluateError {
    fn from(error: InferenceError) -> Self {
        Self::Compute(error)
    }
}

impl From<ExecutionError> for EvaluateError {
    fn from(error: ExecutionError) -> Self {
        Self::Compute(error.into())
    }
}

impl Engine {
    /// Loads the backbone from the weight bytes on the best device for `choice`; a WebGPU
    /// device whose results differ from the CPU's is dropped for the CPU.
    pub async fn start(weights: Vec<u8>, choice: ComputeChoice) -> Result<Self, WeightsError> {
        // The worker only runs the backbone forward, so its BatchNorm layers are folded into the
        // convolutions (one pass less per layer); fine-tuning will need the unfolded ones.
        let cpu_backbone = load_backbone(weights.clone(), &Device::flex())?.folded();
        let mut compute = choose(choice).await;
        if compute.path == ComputePath::WebGpu {
            // A separate model from the bytes: burn's BatchNorm statistics are shared between
            // clones, so moving a clone to the GPU would move the CPU model's statistics too.
            match load_backbone(weights, &compute.device).map(EfficientNetLite0::folded) {
                Ok(gpu_backbone) => {
                    match agree_on_probe(&cpu_backbone, &gpu_backbone, &compute.device).await {
                        Ok(()) => {
                            return Ok(Self {
                                compute,
                                backbone: gpu_backbone,
                            });
                        }
                        Err(reason) => compute = Compute::cpu(reason),
                    }
                }
                Err(error) => {
                    compute = Compute::cpu(ComputeReason::ModelNotLoaded(error.to_string()))
                }
            }
        }
        Ok(Self {
            compute,
            backbone: cpu_backbone,
        })
    }

    /// The device models live on.
    pub fn device(&self) -> &Device {
        &self.compute.device
    }

    /// The pretrained backbone, on [`Self::device`].
    pub fn backbone(&self) -> &EfficientNetLite0 {
        &self.backbone
    }

    /// A photo file as normalized network input, with its model input and thumbnail.
    pub async fn preprocess(&self, photo: &Blob) -> Result<(Vec<f32>, DecodedPhoto), PhotoError> {
        let decoded = decode_photo(photo).await?;
        Ok((
            normalize_rgba(&decoded.input_rgba, Normalization::Model),
            decoded,
        ))
    }

    async fn embed_one(&self, image: Vec<f32>) -> Result<Embedding, PhotoError> {
        Ok(embed(&self.backbone, &[image], self.device())
            .await
            .map_err(|e| PhotoError::Compute(e.to_string()))?
            .remove(0))
    }

    /// How many embeddings of a made-up model input end on the clock, embedded again and
    /// again for `warm_up_ms` off the clock, then for `timed_ms` on it. The workers of a round,
    /// asked at once, all embed throughout that time, so their counts together are what the
    /// pool embeds sharing the cores.
    pub async fn time_embedding(&self, warm_up_ms: u32, timed_ms: u32) -> Result<u32, PhotoError> {
        let input: Vec<f32> = (0..INPUT_LEN)
            .map(|i| (i % 251) as f32 / 125.0 - 1.0)
            .collect();
        let clock_starts = js_sys::Date::now() + f64::from(warm_up_ms);
        let clock_stops = clock_starts + f64::from(timed_ms);
        let mut ends_on_the_clock = 0;
        loop {
            self.embed_one(input.clone()).await?;
            let ended = js_sys::Date::now();
            if ended > clock_stops {
                return Ok(ends_on_the_clock);
            }
            if ended >= clock_starts {
                ends_on_the_clock += 1;
            }
        }
    }

    /// The embedding of a photo file, with its model input and thumbnail.
    pub async fn embed_photo(&self, photo: &Blob) -> Result<(Embedding, DecodedPhoto), PhotoError> {
        let (image, decoded) = self.preprocess(photo).await?;
        Ok((self.embed_one(image).await?, decoded))
    }

    /// The embedding of a kept model input, normalized as `normalization` says, augmented first
    /// when `augmentation` is given.
    pub async fn embed_input(
        &self,
        input: &Blob,
        normalization: Normalization,
        augmentation: Option<ViewAugmentation>,
    ) -> Result<Embedding, PhotoError> {
        let mut rgba = decode_input(input).await?;
        if let Some(view) = augmentation {
            rgba = augment_rgba(&rgba, &view.settings, view.seed);
        }
        self.embed_one(normalize_rgba(&rgba, normalization)).await
    }

    /// Augmented views of a kept model input, one JPEG per seed.
    pub async fn preview(
        &self,
        input: &Blob,
        settings: &AugmentationSettings,
        seeds: &[u64],
    ) -> Result<Vec<Blob>, PhotoError> {
        let rgba = decode_input(input).await?;
        let mut views = Vec::with_capacity(seeds.len());
        for &seed in seeds {
            views.push(encode_jpeg(&augment_rgba(&rgba, settings, seed)).await?);
        }
        Ok(views)
    }

    /// Class probabilities of a photo under `model`, with its model input and thumbnail.
    pub async fn classify_photo(
        &self,
        model: &LoadedModel,
        photo: &Blob,
    ) -> Result<(Vec<f32>, DecodedPhoto), PhotoError> {
        let (image, decoded) = self.preprocess(photo).await?;
        let images = batch_tensor(&[image], self.device());
        let probabilities = model
            .classify_images(&self.backbone, images)
            .await
            .map_err(|e| PhotoError::Compute(e.to_string()))?;
        Ok((
            probabilities.into_iter().next().unwrap_or_default(),
            decoded,
        ))
    }

    /// Kept model inputs decoded and normalized as the backbone expects, as one batch.
    async fn input_batch(&self, inputs: &[Blob]) -> Result<Tensor<4>, PhotoError> {
        let mut images = Vec::with_capacity(inputs.len());
        for input in inputs {
            let rgba = decode_input(input).await?;
            images.push(normalize_rgba(&rgba, Normalization::Model));
        }
        Ok(batch_tensor(&images, self.device()))
    }

    /// What the trained layers of network run `run` take of kept model inputs, one row each
    /// (see [`RunSpec::network_input`]).
    async fn network_inputs(
        &self,
        run: &RunSpec,
        inputs: &[Blob],
    ) -> Result<Tensor<4>, TrainingError> {
        let mut outputs = Vec::new();
        for chunk in inputs.chunks(PREFIX_BATCH) {
            let batch = self
                .input_batch(chunk)
                .await
                .map_err(|e| TrainingError::Compute(e.to_string()))?;
            outputs.push(run.network_input(&self.backbone, batch)?);
            yield_to_event_loop().await;
        }
        if outputs.is_empty() {
            return Err(TrainingError::Compute("no photos to train on".into()));
        }
        Ok(Tensor::cat(outputs, 0))
    }

    /// Class probabilities of photos under `model`: of their cached `embeddings`, or, for
    /// trained network layers, of their kept model `inputs`.
    pub async fn evaluate(
        &self,
        model: &TrainedModel,
        embeddings: &[Embedding],
        inputs: &[Blob],
    ) -> Result<Vec<Vec<f32>>, EvaluateError> {
        let loaded = LoadedModel::load(&self.backbone, model, self.device())?;
        if let Some(result) = loaded.classify_embeddings(embeddings, self.device()).await {
            return Ok(result?);
        }
        let mut probabilities = Vec::with_capacity(inputs.len());
        for chunk in inputs.chunks(PREFIX_BATCH) {
            let batch = self.input_batch(chunk).await?;
            probabilities.extend(loaded.classify_images(&self.backbone, batch).await?);
            yield_to_event_loop().await;
        }
        Ok(probabilities)
    }

    /// Trains run `job` as `run` says on `examples` (a network way on the attached model
    /// `inputs`), calling `on_epoch` after every epoch and checking `stop_requested` before
    /// each; returns the event that ends the run.
    pub async fn train(
        &self,
        job: JobId,
        run: RunSpec,
        examples: TrainingExamples,
        inputs: Vec<Blob>,
        stop_requested: impl Fn() -> bool,
        on_epoch: impl Fn(EpochReport),
    ) -> Event {
        let started = js_sys::Date::now();
        let result = async {
            let data = match examples {
                TrainingExamples::Embeddings { examples, views } => {
                    TrainingData::Embeddings { examples, views }
                }
                TrainingExamples::ModelInputs { labels } => TrainingData::NetworkInputs {
                    inputs: Box::new(self.network_inputs(&run, &inputs).await?),
                    labels,
                },
            };
            let device = self.device();
            run.train(
                data,
                &self.backbone,
                device,
                stop_requested,
                on_epoch,
                yield_to_event_loop,
            )
            .await
        };
        ended(job, result.await, started)
    }
}

/// The event that ends training run `job`, started at `started`: its model, or that it made
/// none (stopped before the first epoch ended), or why it failed.
fn ended(job: JobId, result: Result<Option<TrainedModel>, TrainingError>, started: f64) -> Event {
    match result {
        Ok(Some(mut model)) => {
            model.training_ms = js_sys::Date::now() - started;
            Event::Trained {
                job,
                model: Box::new(model),
            }
        }
        Ok(None) => Event::TrainingDiscarded { job },
        Err(error) => Event::TrainingFailed { job, error },
    }
}

/// Whether the WebGPU backbone agrees with the CPU's on the core's probe image.
async fn agree_on_probe(
    cpu: &EfficientNetLite0,
    gpu: &EfficientNetLite0,
    gpu_device: &Device,
) -> Result<(), ComputeReason> {
    check_gpu_against_cpu(cpu, &Device::flex(), gpu, gpu_device)
        .await
        .map_err(|distrust| {
            ComputeReason::GpuDistrusted(match distrust {
                GpuDistrust::Cpu(error) => GpuDisagreement::CpuFailed(error.to_string()),
                GpuDistrust::Failed(error) => GpuDisagreement::GpuFailed(error.to_string()),
                GpuDistrust::Differs(difference) => GpuDisagreement::Differs(difference),
            })
        })
}
