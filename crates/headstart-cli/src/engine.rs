//! The model work of the command line: the backbone on the chosen device, embeddings in
//! batches, each way of training as the page trains it, and classification with any model.

use crate::device::{DeviceChoice, PlaceError, place};
use crate::photos::{Dataset, Photo};
use burn::tensor::{Device, Tensor};
use headstart_core::augment::augment_rgba;
use headstart_core::backbone::EfficientNetLite0;
use headstart_core::dataset::{RunSplit, Split, run_split};
use headstart_core::embedding::Embedding;
use headstart_core::inference::{InferenceError, LoadedModel, ModelMismatch, embed};
use headstart_core::preprocess::{Normalization, batch_tensor, normalize_rgba};
use headstart_core::run::{RunSpec, TrainingData};
use headstart_core::training::{
    AugmentedView, EpochReport, LabeledEmbedding, ModelVersion, PlannedView, TrainedModel,
    TrainingError, TrainingSettings, Way, WayFamily,
};
use indicatif::ProgressBar;
use std::path::Path;

/// Photos run through the network at a time on the CPU, unless `--batch` says otherwise: 1
/// measured fastest on a 2-core CPU (33 photos a second against 21 at 32; scripts/bench-cli.sh).
const CPU_BATCH: usize = 1;
/// Photos run through the network at a time on a GPU, unless `--batch` says otherwise: the
/// largest activation of 16 photos (96x112x112 floats a photo) takes 77 MB, under the 128 MiB a
/// storage buffer may be on every adapter (32 failed on Mesa's llvmpipe).
const GPU_BATCH: usize = 16;

/// The pretrained backbone, BatchNorm folded as in the page's workers.
pub struct Engine {
    backbone: EfficientNetLite0,
    device: Device,
    /// Whether `device` is a GPU.
    on_gpu: bool,
    /// Photos run through the network at a time.
    batch: usize,
}

/// Why the model work failed.
#[derive(Debug)]
pub enum EngineError {
    /// A computation failed; `gpu_batch`, when it ran on a GPU, is the batch it ran (a GPU
    /// may run out of memory).
    Compute {
        /// What failed.
        error: InferenceError,
        /// The photos run at a time, on a GPU.
        gpu_batch: Option<usize>,
    },
    /// The model does not fit the network.
    Model(ModelMismatch),
    /// Training refused its photos or failed.
    Training(TrainingError),
    /// Training ended before its first epoch did.
    NoEpoch,
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Compute {
                error,
                gpu_batch: Some(batch),
            } => write!(
                f,
                "the GPU failed running the model, perhaps out of memory (try --batch below {batch}): {error}"
            ),
            Self::Compute {
                error,
                gpu_batch: None,
            } => write!(f, "the computation failed: {error}"),
            Self::Model(mismatch) => write!(f, "{mismatch}"),
            Self::Training(error) => write!(f, "{error}"),
            Self::NoEpoch => write!(f, "no epoch ran"),
        }
    }
}

impl std::error::Error for EngineError {}

impl From<ModelMismatch> for EngineError {
    fn from(mismatch: ModelMismatch) -> Self {
        Self::Model(mismatch)
    }
}

impl From<TrainingError> for EngineError {
    fn from(error: TrainingError) -> Self {
        Self::Training(error)
    }
}

/// What training gives: the model, and how it did on the test photos it never saw.
pub struct Trained {
    /// The model.
    pub model: TrainedModel,
    /// The split of the photos (indices into the dataset).
    pub split: Split,
    /// Class probabilities of each test photo, in `split.test` order.
    pub test_probabilities: Vec<Vec<f32>>,
}

impl Engine {
    /// Loads the converted backbone weights from `weights` onto the device `choice` names, to
    /// run `batch` photos at a time (by default the best for that device); says on stderr
    /// where it computes.
    pub fn load(
        weights: &Path,
        choice: DeviceChoice,
        batch: Option<usize>,
    ) -> Result<Self, PlaceError> {
        let bytes = std::fs::read(weights).map_err(|error| PlaceError::Unreadable {
            path: weights.into(),
            error,
        })?;
        let placed = place(bytes, choice)?;
        eprintln!("headstart: computing on {}", placed.description);
        let default_batch = if placed.on_gpu { GPU_BATCH } else { CPU_BATCH };
        Ok(Self {
            backbone: placed.backbone,
            device: placed.device,
            on_gpu: placed.on_gpu,
            batch: batch.unwrap_or(default_batch).max(1),
        })
    }

    /// A computation that failed on this engine's device.
    fn compute_error(&self, error: InferenceError) -> EngineError {
        EngineError::Compute {
            error,
            gpu_batch: self.on_gpu.then_some(self.batch),
        }
    }

    fn images(&self, photos: &[&[u8]]) -> Tensor<4> {
        let images: Vec<Vec<f32>> = photos
            .iter()
            .map(|rgba| normalize_rgba(rgba, Normalization::Model))
            .collect();
        batch_tensor(&images, &self.device)
    }

    /// The embedding of each model input, in batches, ticking `progress` per photo.
    pub fn embed(
        &self,
        inputs: &[&[u8]],
        progress: &ProgressBar,
    ) -> Result<Vec<Embedding>, EngineError> {
        let mut embeddings = Vec::with_capacity(inputs.len());
        for chunk in inputs.chunks(self.batch) {
            let images: Vec<Vec<f32>> = chunk
                .iter()
                .map(|rgba| normalize_rgba(rgba, Normalization::Model))
                .collect();
            embeddings.extend(
                pollster::block_on(embed(&self.backbone, &images, &self.device))
                    .map_err(|e| self.compute_error(e))?,
            );
            progress.inc(chunk.len() as u64);
        }
        Ok(embeddings)
    }

    /// Class probabilities of each photo under `model`, in batches, ticking `progress`.
    pub fn classify(
        &self,
        model: &TrainedModel,
        photos: &[&Photo],
        progress: &ProgressBar,
    ) -> Result<Vec<Vec<f32>>, EngineError> {
        let loaded = LoadedModel::load(&self.backbone, model, &self.device)?;
        let mut probabilities = Vec::with_capacity(photos.len());
        for chunk in photos.chunks(self.batch) {
            let inputs: Vec<&[u8]> = chunk.iter().map(|p| p.rgba.as_slice()).collect();
            let images = self.images(&inputs);
            probabilities.extend(
                pollster::block_on(loaded.classify_images(&self.backbone, images))
                    .map_err(|e| self.compute_error(e))?,
            );
            progress.inc(chunk.len() as u64);
        }
        Ok(probabilities)
    }

    /// Trains a model `way` on the photos of `dataset` with `settings`: the page's seeded split, its validation photos for the curves and early
    /// stopping, and its test photos measured once, at the end. `progress` shows the photos
    /// being embedded, then the epochs.
    pub fn train(
        &self,
        way: Way,
        dataset: &Dataset,
        settings: TrainingSettings,
        progress: &ProgressBar,
        on_epoch: impl Fn(&EpochReport),
    ) -> Result<Trained, EngineError> {
        let (photos, labels) = (&dataset.photos, &dataset.labels);
        let RunSplit {
            split,
            run,
            validation,
        } = run_split(labels, way, &settings, true);
        let run_labels: Vec<usize> = run.examples.iter().map(|&i| labels[i]).collect();
        let run_inputs: Vec<&[u8]> = run
            .examples
            .iter()
            .map(|&i| photos[i].rgba.as_slice())
            .collect();
        let spec = RunSpec {
            way,
            version: ModelVersion(1),
            class_names: dataset.class_names.clone(),
            validation,
            settings: settings.clone(),
        };
        let started = std::time::Instant::now();
        let data = match way.family() {
            WayFamily::Network(_) => {
                self.network_inputs(&spec, &run_inputs, run_labels, progress)?
            }
            WayFamily::NoGradient(_) | WayFamily::NewHead => {
                // The views the page would make, each photo keyed by its place in the folder.
                let planned = way.planned_views(&settings, &run.train, |example| {
                    run.examples[example] as u32
                });
                progress.set_length((run.examples.len() + planned.len()) as u64);
                let examples = self.labeled(&run_inputs, &run_labels, progress)?;
                let views = self.views(&planned, &run_inputs, &settings, progress)?;
                TrainingData::Embeddings { examples, views }
            }
        };
        if !matches!(way.family(), WayFamily::NoGradient(_)) {
            progress.set_position(0);
            progress.set_length(settings.epochs as u64);
            progress.set_message("epochs");
        }
        let report = |epoch: EpochReport| {
            on_epoch(&epoch);
            progress.inc(1);
        };
        let run = spec.train(
            data,
            &self.backbone,
            &self.device,
            || false,
            report,
            || async {},
        );
        let mut model = pollster::block_on(run)?.ok_or(EngineError::NoEpoch)?;
        model.training_ms = started.elapsed().as_secs_f64() * 1000.0;
        // The test photos, once, at the end.
        let test: Vec<&Photo> = split.test.iter().map(|&i| &photos[i]).collect();
        let test_probabilities = self.classify(&model, &test, &ProgressBar::hidden())?;
        Ok(Trained {
            model,
            split,
            test_probabilities,
        })
    }

    /// What the trained layers of network run `spec` take of `inputs`, with their `labels`.
    fn network_inputs(
        &self,
        spec: &RunSpec,
        inputs: &[&[u8]],
        labels: Vec<usize>,
        progress: &ProgressBar,
    ) -> Result<TrainingData, EngineError> {
        progress.set_length(inputs.len() as u64);
        let mut batches = Vec::new();
        for chunk in inputs.chunks(self.batch) {
            batches.push(spec.network_input(&self.backbone, self.images(chunk))?);
            progress.inc(chunk.len() as u64);
        }
        Ok(TrainingData::NetworkInputs {
            inputs: Box::new(Tensor::cat(batches, 0)),
            labels,
        })
    }

    /// The embeddings of the `planned` augmented views of `inputs`.
    fn views(
        &self,
        planned: &[PlannedView],
        inputs: &[&[u8]],
        settings: &TrainingSettings,
        progress: &ProgressBar,
    ) -> Result<Vec<AugmentedView>, EngineError> {
        let augmentation = settings.augmentation;
        let view_inputs: Vec<Vec<u8>> = planned
            .iter()
            .map(|view| augment_rgba(inputs[view.example], &augmentation, view.seed))
            .collect();
        let view_refs: Vec<&[u8]> = view_inputs.iter().map(Vec::as_slice).collect();
        Ok(self
            .embed(&view_refs, progress)?
            .into_iter()
            .zip(planned)
            .map(|(embedding, view)| AugmentedView {
                example: view.example,
                embedding,
            })
            .collect())
    }

    /// The embeddings of `inputs` under their `labels`.
    fn labeled(
        &self,
        inputs: &[&[u8]],
        labels: &[usize],
        progress: &ProgressBar,
    ) -> Result<Vec<LabeledEmbedding>, EngineError> {
        Ok(self
            .embed(inputs, progress)?
            .into_iter()
            .zip(labels)
            .map(|(embedding, &label)| LabeledEmbedding { embedding, label })
            .collect())
    }
}
