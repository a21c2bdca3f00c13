//! The model side of the page: the backbone on the chosen device, photo embedding, head
//! training and classification. Everything here is `async` and yields to the browser between
//! units of work, so progress renders while it runs.

use crate::browser::{PhotoCanvas, fetch_bytes, yield_to_browser};
use crate::compute::{Compute, ComputeChoice, ComputePath, choose};
use burn::tensor::Device;
use headstart_core::backbone::EfficientNetLite0;
use headstart_core::dataset::LabeledEmbedding;
use headstart_core::head::{ClassifierHead, EpochReport, HeadTrainer, TrainingConfig};
use headstart_core::inference::{classify, embed, max_abs_difference};
use headstart_core::preprocess::{INPUT_LEN, normalize_rgba};
use headstart_core::weights::load_backbone;
use web_sys::Blob;

/// Where the page finds the converted backbone weights.
pub const BACKBONE_URL: &str = "weights/efficientnet-lite0.bpk";

/// Largest difference between GPU and CPU embeddings accepted at start-up.
const GPU_TOLERANCE: f32 = 1e-2;

/// The loaded backbone on its device.
pub struct Engine {
    /// The compute device and how it was chosen.
    pub compute: Compute,
    backbone: EfficientNetLite0,
    canvas: PhotoCanvas,
}

/// A finished training run.
pub struct TrainedHead {
    /// The head, in eval mode.
    pub head: ClassifierHead,
    /// The last epoch's report.
    pub last: EpochReport,
    /// Training and validation example counts.
    pub split: (usize, usize),
}

impl Engine {
    /// Downloads the weights (reporting bytes received) and starts the backbone on the best
    /// device; a WebGPU device whose results differ from the CPU's is dropped for the CPU.
    pub async fn start(
        choice: ComputeChoice,
        on_progress: impl FnMut(u64, Option<u64>),
    ) -> Result<Self, String> {
        let canvas = PhotoCanvas::new()?;
        let bytes = fetch_bytes(BACKBONE_URL, on_progress)
            .await
            .map_err(|e| format!("the pretrained model could not be downloaded: {e}"))?;
        let cpu_backbone =
            load_backbone(bytes.clone(), &Device::flex()).map_err(|e| e.to_string())?;
        let mut compute = choose(choice).await;
        if compute.path == ComputePath::WebGpu {
            match load_backbone(bytes, &compute.device) {
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

    /// A photo file as normalized network input.
    pub async fn preprocessed_photo(&self, photo: &Blob) -> Result<Vec<f32>, String> {
        Ok(normalize_rgba(&self.canvas.pixels(photo).await?))
    }

    /// The 1280-d embedding of a photo file.
    pub async fn embed_photo(&self, photo: &Blob) -> Result<Vec<f32>, String> {
        let image = self.preprocessed_photo(photo).await?;
        let rows = embed(&self.backbone, &[image], self.device())
            .await
            .map_err(|e| format!("the model failed on this photo ({e:?})"))?;
        Ok(rows.into_iter().next().unwrap_or_default())
    }

    /// Trains a new head on cached embeddings, calling `on_epoch` after every epoch.
    pub async fn train(
        &self,
        examples: &[LabeledEmbedding],
        num_classes: usize,
        config: TrainingConfig,
        mut on_epoch: impl FnMut(EpochReport),
    ) -> Result<TrainedHead, String> {
        let mut trainer = HeadTrainer::new(examples, num_classes, config, self.device())
            .map_err(|e| e.to_string())?;
        let mut last = None;
        while !trainer.is_finished() {
            let report = trainer.run_epoch().await.map_err(|e| e.to_string())?;
            on_epoch(report);
            last = Some(report);
            yield_to_browser().await;
        }
        let last = last.ok_or("training ran no epoch")?;
        Ok(TrainedHead {
            head: trainer.head(),
            last,
            split: trainer.split_sizes(),
        })
    }

    /// Class probabilities of a photo under a trained head.
    pub async fn classify_photo(
        &self,
        head: &ClassifierHead,
        photo: &Blob,
    ) -> Result<Vec<f32>, String> {
        let embedding = self.embed_photo(photo).await?;
        let rows = classify(head, &[embedding], self.device())
            .await
            .map_err(|e| format!("the model failed on this photo ({e:?})"))?;
        Ok(rows.into_iter().next().unwrap_or_default())
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
        .map_err(|e| format!("{e:?}"))?;
    let actual = embed(gpu, &images, gpu_device)
        .await
        .map_err(|e| format!("WebGPU failed running the model ({e:?})"))?;
    let difference = max_abs_difference(&expected[0], &actual[0]);
    if difference > GPU_TOLERANCE || difference.is_nan() {
        return Err(format!(
            "WebGPU results differ from the CPU's by {difference}"
        ));
    }
    Ok(())
}
