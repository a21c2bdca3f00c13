//! The model side: the backbone on the chosen device, photo embedding, head training and
//! classification. One engine per worker.

use crate::compute::{Compute, ComputePath, choose};
use crate::photo::{DecodeError, PhotoCanvas};
use crate::scope::yield_to_event_loop;
use burn::tensor::Device;
use headstart_core::backbone::EfficientNetLite0;
use headstart_core::embedding::Embedding;
use headstart_core::head::{ClassifierHead, HeadTrainer};
use headstart_core::inference::{classify, embed, max_abs_difference};
use headstart_core::preprocess::{INPUT_LEN, normalize_rgba};
use headstart_core::protocol::{ComputeChoice, Event, JobId, PhotoError};
use headstart_core::training::{
    EpochReport, LabeledEmbedding, ModelVersion, TrainedModel, TrainingSettings,
};
use headstart_core::weights::load_backbone;
use web_sys::Blob;

/// Largest difference between GPU and CPU embeddings accepted at start-up.
const GPU_TOLERANCE: f32 = 1e-2;

/// The loaded backbone on its device.
pub struct Engine {
    /// The compute device and how it was chosen.
    pub compute: Compute,
    backbone: EfficientNetLite0,
    canvas: PhotoCanvas,
}

/// A training run's request.
pub struct TrainingRun {
    /// The run.
    pub job: JobId,
    /// The version its model gets.
    pub version: ModelVersion,
    /// Class names in label order.
    pub class_names: Vec<String>,
    /// The examples.
    pub examples: Vec<LabeledEmbedding>,
    /// Its settings.
    pub settings: TrainingSettings,
}

impl From<DecodeError> for PhotoError {
    fn from(error: DecodeError) -> Self {
        match error {
            DecodeError::NotAnImage => Self::NotAnImage,
            DecodeError::Canvas(detail) => Self::Compute(detail),
        }
    }
}

impl Engine {
    /// Loads the backbone from the weight bytes on the best device for `choice`; a WebGPU
    /// device whose results differ from the CPU's is dropped for the CPU.
    pub async fn start(weights: Vec<u8>, choice: ComputeChoice) -> Result<Self, String> {
        let canvas = PhotoCanvas::new()?;
        // The worker only runs the backbone forward, so its BatchNorm layers are folded into the
        // convolutions (one pass less per layer); fine-tuning will need the unfolded ones.
        let cpu_backbone = load_backbone(weights.clone(), &Device::flex())
            .map_err(|e| e.to_string())?
            .folded();
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
                                canvas,
                            });
                        }
                        Err(reason) => compute = Compute::cpu(reason),
                    }
                }
                Err(error) => {
                    compute = Compute::cpu(format!("WebGPU could not hold the model ({error})"))
                }
            }
        }
        Ok(Self {
            compute,
            backbone: cpu_backbone,
            canvas,
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

    /// A photo file as normalized network input and its thumbnail.
    pub async fn preprocess(&self, photo: &Blob) -> Result<(Vec<f32>, Blob), PhotoError> {
        let decoded = self.canvas.decode(photo).await?;
        Ok((normalize_rgba(&decoded.input_rgba), decoded.thumbnail))
    }

    /// The embedding of a photo file, and its thumbnail.
    pub async fn embed_photo(&self, photo: &Blob) -> Result<(Embedding, Blob), PhotoError> {
        let (image, thumbnail) = self.preprocess(photo).await?;
        let embedding = embed(&self.backbone, &[image], self.device())
            .await
            .map_err(|e| PhotoError::Compute(e.to_string()))?
            .remove(0);
        Ok((embedding, thumbnail))
    }

    /// Class probabilities of a photo under `model`, and its thumbnail.
    pub async fn classify_photo(
        &self,
        model: &TrainedModel,
        photo: &Blob,
    ) -> Result<(Vec<f32>, Blob), PhotoError> {
        let head = ClassifierHead::from_weights(&model.head, self.device())
            .ok_or_else(|| PhotoError::Compute("the model's head has mismatched shapes".into()))?;
        let (embedding, thumbnail) = self.embed_photo(photo).await?;
        let probabilities = classify(&head, &[embedding], self.device())
            .await
            .map_err(|e| PhotoError::Compute(format!("{e:?}")))?
            .remove(0);
        Ok((probabilities, thumbnail))
    }

    /// Trains a new head on cached embeddings, calling `on_epoch` after every epoch and
    /// checking `stop_requested` before each; returns the event that ends the run.
    pub async fn train(
        &self,
        run: TrainingRun,
        stop_requested: impl Fn() -> bool,
        on_epoch: impl Fn(EpochReport),
    ) -> Event {
        let job = run.job;
        let result = async {
            let mut trainer = HeadTrainer::new(
                &run.examples,
                run.class_names.len(),
                run.settings,
                self.device(),
            )?;
            while !trainer.is_finished() && !stop_requested() {
                on_epoch(trainer.run_epoch().await?);
                yield_to_event_loop().await;
            }
            trainer.model(run.version, run.class_names).await
        };
        match result.await {
            Ok(Some(model)) => Event::Trained {
                job,
                model: Box::new(model),
            },
            Ok(None) => Event::TrainingDiscarded { job },
            Err(error) => Event::TrainingFailed { job, error },
        }
    }
}

/// Runs a fixed synthetic image through both backbones; failed shaders can be silent on the
/// web, so the GPU is only trusted when it agrees with the CPU.
async fn agree_on_probe(
    cpu: &EfficientNetLite0,
    gpu: &EfficientNetLite0,
    gpu_device: &Device,
) -> Result<(), String> {
    let probe: Vec<f32> = (0..INPUT_LEN)
        .map(|i| ((i * 7919) % 255) as f32 / 128.0 - 1.0)
        .collect();
    let images = [probe];
    let expected = embed(cpu, &images, &Device::flex())
        .await
        .map_err(|e| e.to_string())?;
    let actual = embed(gpu, &images, gpu_device)
        .await
        .map_err(|e| format!("WebGPU failed running the model ({e})"))?;
    let difference = max_abs_difference(expected[0].values(), actual[0].values());
    if difference > GPU_TOLERANCE || difference.is_nan() {
        return Err(format!(
            "WebGPU results differ from the CPU's by {difference}"
        ));
    }
    Ok(())
}
