//! Eval-mode inference shared by the workers, the tests and native tools. Embeddings are made
//! here and only here, checked on the way out of the backbone.

use crate::backbone::EfficientNetLite0;
use crate::embedding::{Embedding, EmbeddingError};
use crate::head::ClassifierHead;
use crate::neighbour_model::NeighbourModel;
use crate::preprocess::{INPUT_LEN, batch_tensor};
use crate::readback::read_rows;
use crate::training::{ModelWeights, NetworkTraining, TrainedModel};
use crate::tune::{LayerMismatch, TunedTail, scratch_input};
use burn::tensor::{Device, ExecutionError, Tensor};

/// Why inference gave no answer.
#[derive(Debug)]
pub enum InferenceError {
    /// The compute device failed.
    Execution(ExecutionError),
    /// The backbone produced something that is not an embedding (e.g. NaNs from a bad shader).
    Embedding(EmbeddingError),
}

impl std::fmt::Display for InferenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Execution(error) => write!(f, "the compute device failed: {error:?}"),
            Self::Embedding(error) => write!(f, "the backbone gave no embedding: {error}"),
        }
    }
}

impl std::error::Error for InferenceError {}

impl From<ExecutionError> for InferenceError {
    fn from(error: ExecutionError) -> Self {
        Self::Execution(error)
    }
}

/// The embeddings in the rows of the backbone's pooled output, each checked on the way out.
async fn embeddings_of(pooled: Tensor<2>) -> Result<Vec<Embedding>, InferenceError> {
    read_rows(pooled)
        .await?
        .into_iter()
        .map(|row| Embedding::try_from(row).map_err(InferenceError::Embedding))
        .collect()
}

/// Embeds preprocessed images (see [`crate::preprocess::normalize_rgba`]), one per image.
pub async fn embed(
    backbone: &EfficientNetLite0,
    images: &[Vec<f32>],
    device: &Device,
) -> Result<Vec<Embedding>, InferenceError> {
    embeddings_of(backbone.embed(batch_tensor(images, device))).await
}

/// Class probabilities for embeddings, one row per embedding.
pub async fn classify(
    head: &ClassifierHead,
    embeddings: &[Embedding],
    device: &Device,
) -> Result<Vec<Vec<f32>>, ExecutionError> {
    let width = embeddings.first().map_or(0, |e| e.values().len());
    let values: Vec<f32> = embeddings
        .iter()
        .flat_map(|e| e.values().iter().copied())
        .collect();
    let input = Tensor::<2>::from_data(
        burn::tensor::TensorData::new(values, [embeddings.len(), width]),
        device,
    );
    read_rows(head.probabilities(input)).await
}

/// Why a trained model does not fit the network it is loaded onto.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelMismatch {
    /// The head's weights and bias disagree on the number of classes.
    HeadShapes,
    /// The trained network layers are not those the model's settings name.
    Layers(LayerMismatch),
}

impl std::fmt::Display for ModelMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::HeadShapes => write!(f, "the model's head has mismatched shapes"),
            Self::Layers(mismatch) => {
                write!(f, "the model's layers do not fit the network: {mismatch}")
            }
        }
    }
}

impl std::error::Error for ModelMismatch {}

/// A classifier of embeddings: a head, or an off-the-shelf classifier.
pub enum EmbeddingClassifier {
    /// A head on embeddings.
    Head(ClassifierHead),
    /// An off-the-shelf classifier on embeddings.
    Neighbours(NeighbourModel),
}

impl EmbeddingClassifier {
    /// Class probabilities of `embeddings`, one row each.
    pub async fn classify(
        &self,
        embeddings: &[Embedding],
        device: &Device,
    ) -> Result<Vec<Vec<f32>>, ExecutionError> {
        match self {
            Self::Head(head) => classify(head, embeddings, device).await,
            Self::Neighbours(neighbours) => Ok(embeddings
                .iter()
                .map(|e| neighbours.probabilities(e))
                .collect()),
        }
    }
}

/// A trained model ready to classify on a device, whatever way trained it.
pub enum LoadedModel {
    /// A classifier of the frozen backbone's embeddings.
    OnEmbeddings(EmbeddingClassifier),
    /// Trained network layers on what the frozen prefix makes of model inputs.
    Network {
        /// How they were trained.
        training: NetworkTraining,
        /// Pretrained blocks before them.
        frozen: usize,
        /// The layers.
        tail: Box<TunedTail>,
    },
}

impl LoadedModel {
    /// `model` on `device`, its network layers (if any) on top of `backbone`; why not when its
    /// weights do not fit.
    pub fn load(
        backbone: &EfficientNetLite0,
        model: &TrainedModel,
        device: &Device,
    ) -> Result<Self, ModelMismatch> {
        Ok(match &model.weights {
            ModelWeights::Head(head) => Self::OnEmbeddings(EmbeddingClassifier::Head(
                ClassifierHead::from_weights(head, device).ok_or(ModelMismatch::HeadShapes)?,
            )),
            ModelWeights::Neighbours(neighbours) => {
                Self::OnEmbeddings(EmbeddingClassifier::Neighbours(neighbours.clone()))
            }
            ModelWeights::Network(network) => {
                let classes = model.class_names.len();
                let tail =
                    TunedTail::from_weights(backbone, network, &model.settings, classes, device)
                        .map_err(ModelMismatch::Layers)?;
                Self::Network {
                    training: network.training,
                    frozen: backbone.blocks.len() - tail.blocks.len(),
                    tail: Box::new(tail),
                }
            }
        })
    }

    /// Class probabilities of cached embeddings, one row each; `None` for network layers, which
    /// classify images (see [`Self::classify_images`]).
    pub async fn classify_embeddings(
        &self,
        embeddings: &[Embedding],
        device: &Device,
    ) -> Option<Result<Vec<Vec<f32>>, ExecutionError>> {
        match self {
            Self::OnEmbeddings(classifier) => Some(classifier.classify(embeddings, device).await),
            Self::Network { .. } => None,
        }
    }

    /// Class probabilities of a batch of preprocessed images (`[photos, 3, 224, 224]`), one
    /// row each: through the backbone for the models on embeddings (a backbone output that is
    /// not an embedding is an error, as when embedding), through the frozen prefix and the
    /// trained layers for network models.
    pub async fn classify_images(
        &self,
        backbone: &EfficientNetLite0,
        images: Tensor<4>,
    ) -> Result<Vec<Vec<f32>>, InferenceError> {
        let device = images.device();
        match self {
            Self::Network {
                training,
                frozen,
                tail,
            } => {
                let input = network_input(backbone, images, *training, *frozen);
                let logits = tail.forward(input);
                Ok(read_rows(burn::tensor::activation::softmax(logits, 1)).await?)
            }
            Self::OnEmbeddings(classifier) => {
                let embeddings = embeddings_of(backbone.embed(images)).await?;
                Ok(classifier.classify(&embeddings, &device).await?)
            }
        }
    }
}

/// What network layers trained as `training` take of a batch of preprocessed images: the output
/// of the stem and the first `frozen` blocks when fine-tuning, the images scaled down from
/// scratch.
pub fn network_input(
    backbone: &EfficientNetLite0,
    images: Tensor<4>,
    training: NetworkTraining,
    frozen: usize,
) -> Tensor<4> {
    match training {
        NetworkTraining::FineTune | NetworkTraining::Lora => backbone.prefix(images, frozen),
        NetworkTraining::FromScratch => scratch_input(images),
    }
}

/// Largest difference between a GPU's embeddings and the CPU's for the GPU to be trusted.
pub const GPU_TOLERANCE: f32 = 1e-2;

/// Why a GPU backbone is not trusted.
#[derive(Debug)]
pub enum GpuDistrust {
    /// The CPU failed to embed the probe (nothing is known of the GPU).
    Cpu(InferenceError),
    /// The GPU failed running the backbone, or gave something that is not an embedding (NaNs).
    Failed(InferenceError),
    /// The GPU's embedding differs from the CPU's by this much.
    Differs(f32),
}

impl GpuDistrust {
    /// One sentence for the user, naming the GPU as `gpu` ("WebGPU", "the GPU (…)").
    pub fn sentence(&self, gpu: &str) -> String {
        match self {
            Self::Cpu(error) => error.to_string(),
            Self::Failed(error) => format!("{gpu} failed running the model ({error})"),
            Self::Differs(difference) => {
                format!("{gpu} results differ from the CPU's by {difference}")
            }
        }
    }
}

/// Runs a fixed synthetic image through the backbone on the CPU and on a GPU; failed shaders
/// can be silent, so a GPU is only trusted when it agrees with the CPU. The two backbones are
/// separate models: burn's BatchNorm statistics are shared between clones.
pub async fn check_gpu_against_cpu(
    cpu: &EfficientNetLite0,
    cpu_device: &Device,
    gpu: &EfficientNetLite0,
    gpu_device: &Device,
) -> Result<(), GpuDistrust> {
    let probe: Vec<f32> = (0..INPUT_LEN)
        .map(|i| ((i * 7919) % 255) as f32 / 128.0 - 1.0)
        .collect();
    let images = [probe];
    let expected = embed(cpu, &images, cpu_device)
        .await
        .map_err(GpuDistrust::Cpu)?;
    let actual = embed(gpu, &images, gpu_device)
        .await
        .map_err(GpuDistrust::Failed)?;
    let difference = max_abs_difference(expected[0].values(), actual[0].values());
    if difference > GPU_TOLERANCE {
        return Err(GpuDistrust::Differs(difference));
    }
    Ok(())
}

/// Largest absolute element-wise difference of two equally long vectors.
pub fn max_abs_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backbone::BackboneConfig;
    use crate::head::HeadConfig;

    #[test]
    fn a_backbone_output_that_is_not_a_number_is_an_error_when_classifying() {
        let device = Device::flex();
        let backbone = BackboneConfig::new().init(&device).folded();
        let head = HeadConfig::new(2).init(1, &device);
        let model = LoadedModel::OnEmbeddings(EmbeddingClassifier::Head(head));
        // What a bad shader can make of any photo.
        let images = Tensor::<4>::full([1, 3, 32, 32], f32::NAN, &device);
        let classified = pollster::block_on(model.classify_images(&backbone, images));
        assert!(
            matches!(
                classified,
                Err(InferenceError::Embedding(EmbeddingError::NotFinite(_)))
            ),
            "{classified:?}"
        );
    }
}
