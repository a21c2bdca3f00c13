//! Training the network itself, not only a head on its embeddings. Fine-tuning: the last blocks
//! of the pretrained backbone and its 1x1 head convolution train together with a new
//! classifier, the pretrained layers with a smaller learning rate (burn's per-parameter-group
//! learning rates). The frozen prefix runs once per photo; its output is what the trainer is
//! given, so each epoch costs only the unfrozen part. From scratch: the same architecture,
//! randomly initialized, trains whole on the images, with BatchNorm learning its statistics.
//!
//! The unfrozen layers are copied with each BatchNorm folded into its convolution (the worker's
//! inference backbone is folded already): the statistics stay exactly as pretrained (frozen)
//! while the folded weights and shift train. With a handful of photos per class, batch statistics would be
//! noise, so freezing them is what the lessons recommend.

use crate::backbone::{BackboneConfig, ConvBn, EfficientNetLite0, LowRank, MbConvBlock};
use crate::head::{
    ClassifierHead, EpochTrainer, HeadConfig, Progress, class_weights, compute_error, dropout_mask,
    metrics_of, optimizer, training_loss,
};
use crate::preprocess::SCRATCH_INPUT_SIZE;
use crate::readback::{read_rows, read_values};
use crate::training::{
    EpochReport, FineTuningSettings, ModelVersion, ModelWeights, NamedTensor, NetworkTraining,
    NetworkWeights, SplitSizes, TrainedModel, TrainingError, TrainingSettings,
    ValidationPrediction,
};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamGroup};
use burn::nn::BatchNorm;
use burn::optim::lr_scheduler::LrSchedulerConfig;
use burn::optim::lr_scheduler::module_lr_scheduler::{ModuleLrScheduler, ModuleLrSchedulerConfig};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, ExecutionError, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::collections::HashMap;
use std::sync::Arc;

/// The trainable end of the network: unfrozen blocks, the head convolution, pooling, and a new
/// classifier (from scratch: the whole network, stem included).
#[derive(Module, Debug)]
pub struct TunedTail {
    /// The stem convolution, when the tail is the whole network (training from scratch).
    pub stem: Option<ConvBn>,
    /// The unfrozen blocks, in order.
    pub blocks: Vec<MbConvBlock>,
    /// The 1x1 convolution to the 1280-d features.
    pub head: ConvBn,
    /// The new classifier on the pooled features.
    pub classifier: ClassifierHead,
}

impl TunedTail {
    /// The last `unfrozen` blocks and the head convolution of `backbone` (copies, their
    /// BatchNorms folded so that the pretrained statistics stay frozen) under a new classifier.
    pub fn new(backbone: &EfficientNetLite0, unfrozen: usize, classifier: ClassifierHead) -> Self {
        let first = backbone.blocks.len() - unfrozen.min(backbone.blocks.len());
        Self {
            stem: None,
            blocks: backbone.blocks[first..]
                .iter()
                .cloned()
                .map(MbConvBlock::folded)
                .collect(),
            head: backbone.head.clone().folded(),
            classifier,
        }
    }

    /// The last `blocks` blocks and the head convolution of `backbone`, frozen, with a LoRA
    /// adapter of `rank` beside each of the blocks' 1x1 convolutions (seeded with `seed`): only
    /// the adapters and the classifier train.
    pub fn lora(
        backbone: &EfficientNetLite0,
        blocks: usize,
        rank: usize,
        classifier: ClassifierHead,
        seed: u64,
    ) -> Self {
        let mut tail = Self::new(backbone, blocks, classifier);
        let device = tail.head.conv.weight.device();
        tail.head = tail.head.no_grad();
        let mut adapters = 0;
        for block in &mut tail.blocks {
            block.depthwise = block.depthwise.clone().no_grad();
            for conv in block.expand.iter_mut().chain([&mut block.project]) {
                let [channels_out, channels_in, _, _] = conv.conv.weight.dims();
                *conv = ConvBn {
                    conv: conv.conv.clone().no_grad(),
                    bn: conv.bn.clone().map(Module::no_grad),
                    adapter: Some(LowRank::new(
                        [channels_in, channels_out],
                        rank.max(1),
                        seed.wrapping_add(adapters),
                        &device,
                    )),
                };
                adapters += 1;
            }
        }
        tail
    }

    /// The adapters, when this is a LoRA tail.
    fn adapters(&self) -> impl Iterator<Item = &LowRank> {
        self.blocks
            .iter()
            .flat_map(|block| block.expand.iter().chain([&block.project]))
            .filter_map(|conv| conv.adapter.as_ref())
    }

    /// The whole EfficientNet-Lite0, freshly initialized with `seed` (BatchNorm not folded: it
    /// trains), under `classifier`. The convolutions draw from the backend's generator, so the
    /// CPU and a GPU start from different networks.
    pub fn scratch(classifier: ClassifierHead, seed: u64, device: &Device) -> Self {
        device.seed(seed);
        let network = BackboneConfig::new().init(device);
        Self {
            stem: Some(network.stem),
            blocks: network.blocks,
            head: network.head,
            classifier,
        }
    }

    /// Every layer's BatchNorm that has not been folded away (from scratch: all of them).
    fn batch_norms_mut(&mut self) -> impl Iterator<Item = &mut BatchNorm> {
        self.stem
            .iter_mut()
            .chain(self.blocks.iter_mut().flat_map(|block| {
                block
                    .expand
                    .iter_mut()
                    .chain([&mut block.depthwise, &mut block.project])
            }))
            .chain([&mut self.head])
            .filter_map(|conv| conv.bn.as_mut())
    }

    /// Sets the running statistics of its BatchNorms (which a clone shares) to those of
    /// `inputs` under the current weights: one training-mode pass with momentum 1. A network
    /// trained from scratch takes a handful of steps on a few photos, and statistics that trail
    /// its changing weights by momentum 0.1 make eval mode classify every photo alike; after
    /// this, eval mode sees the training photos as training saw them.
    fn recalibrate(&self, inputs: Tensor<4>) {
        let mut calibrating = self.clone();
        let mut any = false;
        for bn in calibrating.batch_norms_mut() {
            bn.momentum = 1.0;
            any = true;
        }
        if any {
            let _ = calibrating.embed(inputs.detach());
        }
    }

    /// The pooled 1280-d features of prefix outputs (from scratch: of images).
    pub fn embed(&self, prefix_output: Tensor<4>) -> Tensor<2> {
        let start = match &self.stem {
            Some(stem) => stem.forward_relu6(prefix_output),
            None => prefix_output,
        };
        let x = self.blocks.iter().fold(start, |x, block| block.forward(x));
        self.head.forward_relu6(x).mean_dims(&[2, 3]).flatten(1, 3)
    }

    /// Class logits of prefix outputs.
    pub fn forward(&self, prefix_output: Tensor<4>) -> Tensor<2> {
        self.classifier.forward(self.embed(prefix_output))
    }
}

/// Collects every float tensor of a module with its path, flattened (not yet read).
#[derive(Default)]
struct TensorCollector {
    path: Vec<String>,
    found: Vec<(String, Vec<usize>, Tensor<1>)>,
}

impl ModuleVisitor for TensorCollector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        let flat = tensor.reshape([shape.iter().product::<usize>()]);
        self.found.push((self.path.join("."), shape, flat));
    }
}

/// Why trained network layers do not fit the layers the model's settings name.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerMismatch {
    /// Tensors that do not fit the shape of the layer they name.
    Shapes(Vec<ShapeMismatch>),
    /// Tensors missing or left over.
    Count {
        /// Tensors given.
        given: usize,
        /// Of those, the ones that fit a layer.
        fitting: usize,
        /// Tensors the layers have.
        expected: usize,
    },
}

/// A tensor given for a layer of another shape (or with another number of values).
#[derive(Debug, Clone, PartialEq)]
pub struct ShapeMismatch {
    /// The layer's module path.
    pub path: String,
    /// The tensor's shape.
    pub given: Vec<usize>,
    /// The layer's shape.
    pub expected: Vec<usize>,
}

impl std::fmt::Display for LayerMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Shapes(mismatches) => {
                let each: Vec<String> = mismatches
                    .iter()
                    .map(|m| format!("{} is {:?}, not {:?}", m.path, m.given, m.expected))
                    .collect();
                write!(f, "{}", each.join("; "))
            }
            Self::Count {
                given,
                fitting,
                expected,
            } => write!(
                f,
                "{given} tensors given, {fitting} fit the {expected} the layers have"
            ),
        }
    }
}

impl std::error::Error for LayerMismatch {}

/// Replaces the float tensors of a module that `tensors` name, checking their shapes.
struct TensorLoader<'a> {
    path: Vec<String>,
    tensors: HashMap<&'a str, &'a NamedTensor>,
    loaded: usize,
    mismatches: Vec<ShapeMismatch>,
    device: Device,
}

impl ModuleMapper for TensorLoader<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.path.join(".");
        let Some(tensor) = self.tensors.get(path.as_str()) else {
            return param;
        };
        let shape = param.val().dims();
        if tensor.shape != shape || tensor.values.len() != shape.iter().product::<usize>() {
            self.mismatches.push(ShapeMismatch {
                path,
                given: tensor.shape.clone(),
                expected: shape.to_vec(),
            });
            return param;
        }
        self.loaded += 1;
        let values = Tensor::from_data(TensorData::new(tensor.values.clone(), shape), &self.device);
        param.map(|_| values)
    }
}

/// Whether a LoRA tail keeps the tensor at `path` (its adapters and its classifier; the rest
/// is the pretrained backbone).
fn kept_by_lora(path: &str) -> bool {
    path.starts_with("classifier.") || path.contains(".adapter.")
}

impl TunedTail {
    /// Its trained tensors as plain values, in name order (LoRA: only the adapters and the
    /// classifier), each read with one asynchronous read (WebGPU has no synchronous reads).
    pub async fn weights(
        &self,
        training: NetworkTraining,
    ) -> Result<NetworkWeights, ExecutionError> {
        let mut collector = TensorCollector::default();
        self.visit(&mut collector);
        let mut tensors = Vec::new();
        for (name, shape, flat) in collector.found {
            if training == NetworkTraining::Lora && !kept_by_lora(&name) {
                continue;
            }
            tensors.push(NamedTensor {
                name,
                shape,
                values: read_values(flat).await?,
            });
        }
        tensors.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(NetworkWeights {
            training,
            tensors: Arc::new(tensors),
        })
    }

    /// The tail `weights` hold, for `classes` classes, on top of `backbone` with the layers
    /// `settings` name, on `device`, for classifying. Refused when any tensor is missing, left
    /// over or of another shape.
    pub fn from_weights(
        backbone: &EfficientNetLite0,
        weights: &NetworkWeights,
        settings: &TrainingSettings,
        classes: usize,
        device: &Device,
    ) -> Result<Self, LayerMismatch> {
        let classifier = HeadConfig::new(classes).init(settings.seed, device);
        let tuning = &settings.fine_tuning;
        let tail = match weights.training {
            NetworkTraining::FineTune => Self::new(backbone, tuning.unfrozen_blocks, classifier),
            NetworkTraining::Lora => Self::lora(
                backbone,
                tuning.unfrozen_blocks,
                tuning.lora_rank,
                classifier,
                settings.seed,
            ),
            NetworkTraining::FromScratch => Self::scratch(classifier, settings.seed, device),
        };
        let mut expected = TensorCollector::default();
        tail.visit(&mut expected);
        let expected = expected
            .found
            .iter()
            .filter(|(name, ..)| weights.training != NetworkTraining::Lora || kept_by_lora(name))
            .count();
        let mut loader = TensorLoader {
            path: Vec::new(),
            tensors: weights
                .tensors
                .iter()
                .map(|t| (t.name.as_str(), t))
                .collect(),
            loaded: 0,
            mismatches: Vec::new(),
            device: device.clone(),
        };
        let tail = tail.map(&mut loader).valid();
        if !loader.mismatches.is_empty() {
            return Err(LayerMismatch::Shapes(loader.mismatches));
        }
        if loader.loaded != expected || loader.loaded != weights.tensors.len() {
            return Err(LayerMismatch::Count {
                given: weights.tensors.len(),
                fitting: loader.loaded,
                expected,
            });
        }
        Ok(tail)
    }
}

/// Preprocessed 224x224 images scaled down (bilinear) to what training from scratch takes.
pub fn scratch_input(images: Tensor<4>) -> Tensor<4> {
    interpolate(
        images,
        InterpolateOptions::new(InterpolateMode::Bilinear)
            .with_output_size([SCRATCH_INPUT_SIZE, SCRATCH_INPUT_SIZE]),
    )
}

/// How many blocks stay frozen when `settings` unfreeze theirs (the prefix to cache).
pub fn frozen_blocks(backbone: &EfficientNetLite0, settings: &FineTuningSettings) -> usize {
    backbone.blocks.len() - settings.unfrozen_blocks.clamp(1, backbone.blocks.len())
}

/// Prefix outputs and labels on a device.
struct Examples {
    features: Tensor<4>,
    labels: Tensor<1, Int>,
}

impl Examples {
    fn pick(features: &Tensor<4>, labels: &[usize], indices: &[usize], device: &Device) -> Self {
        let index = Tensor::<1, Int>::from_data(
            TensorData::new(
                indices.iter().map(|&i| i as i64).collect::<Vec<_>>(),
                [indices.len()],
            ),
            &features.device(),
        );
        Self {
            features: features.clone().select(0, index).to_device(device),
            labels: Tensor::from_data(
                TensorData::new(
                    indices
                        .iter()
                        .map(|&i| labels[i] as i64)
                        .collect::<Vec<_>>(),
                    [indices.len()],
                ),
                device,
            ),
        }
    }

    fn len(&self) -> usize {
        self.labels.dims()[0]
    }
}

/// Fine-tunes a [`TunedTail`] epoch by epoch on cached prefix outputs.
pub struct TuneTrainer {
    settings: TrainingSettings,
    training: NetworkTraining,
    tail: TunedTail,
    optimizer: ModuleOptimizer,
    learning_rates: ModuleLrScheduler,
    train: Examples,
    /// The training loss's weight of each class (see [`class_weights`]).
    class_weights: Option<Vec<f32>>,
    validation: Option<Examples>,
    /// The validation examples' indices, in the order of `validation`.
    validation_indices: Vec<usize>,
    rng: StdRng,
    progress: Progress<TunedTail>,
}

impl TuneTrainer {
    /// Prepares a run of `tail` (on the plain compute `device`): `prefix_outputs` holds one
    /// row per example, what the tail takes (see [`frozen_blocks`]; images from scratch); the
    /// examples at `validation` measure, the others train. The classifier steps at the
    /// optimizer's learning rate, every other layer at `layer_learning_rate`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        training: NetworkTraining,
        tail: TunedTail,
        prefix_outputs: Tensor<4>,
        labels: &[usize],
        validation: &[usize],
        settings: TrainingSettings,
        layer_learning_rate: f64,
        device: &Device,
    ) -> Result<Self, TrainingError> {
        let num_classes = tail.classifier.linear.weight.dims()[1];
        if let Some(&label) = labels.iter().find(|&&label| label >= num_classes) {
            return Err(TrainingError::LabelOutOfRange(label));
        }
        if let Some(&index) = validation.iter().find(|&&i| i >= labels.len()) {
            return Err(TrainingError::InvalidSplit(index));
        }
        if (0..num_classes).filter(|c| labels.contains(c)).count() < 2 {
            return Err(TrainingError::TooFewClasses);
        }
        let train: Vec<usize> = (0..labels.len())
            .filter(|i| !validation.contains(i))
            .collect();
        let train_device = device.clone().autodiff();
        let tail = tail.fork(&train_device).train();
        // The other layers step at their rate, the new classifier at the head's.
        let learning_rates =
            ModuleLrSchedulerConfig::new(LrSchedulerConfig::Constant(layer_learning_rate))
                .with_group(
                    ParamGroup::ids_from_module(tail.classifier.clone()),
                    LrSchedulerConfig::Constant(settings.optimizer.learning_rate),
                )
                .init()
                .map_err(TrainingError::Compute)?;
        Ok(Self {
            optimizer: optimizer(&settings.optimizer),
            learning_rates,
            train: Examples::pick(&prefix_outputs, labels, &train, &train_device),
            class_weights: class_weights(
                &settings,
                &train.iter().map(|&i| labels[i]).collect::<Vec<_>>(),
                num_classes,
            ),
            validation: (!validation.is_empty())
                .then(|| Examples::pick(&prefix_outputs, labels, validation, device)),
            validation_indices: validation.to_vec(),
            rng: StdRng::seed_from_u64(settings.seed),
            training,
            tail,
            progress: Progress::new(&settings),
            settings,
        })
    }

    /// A run of `kind` as `settings` say, with a new classifier: fine-tuning or LoRA on the last
    /// blocks of `backbone` (`inputs` are the frozen prefix's outputs), or the whole network
    /// from scratch (`inputs` are images; `backbone` is not used). The pretrained layers step
    /// at the backbone rate, adapters and new layers at the optimizer's.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        kind: NetworkTraining,
        backbone: &EfficientNetLite0,
        inputs: Tensor<4>,
        labels: &[usize],
        validation: &[usize],
        num_classes: usize,
        settings: TrainingSettings,
        device: &Device,
    ) -> Result<Self, TrainingError> {
        let classifier = HeadConfig::new(num_classes).init(settings.seed, device);
        let tuning = &settings.fine_tuning;
        let (tail, rate) = match kind {
            NetworkTraining::FineTune => (
                TunedTail::new(backbone, tuning.unfrozen_blocks, classifier),
                tuning.backbone_learning_rate,
            ),
            NetworkTraining::Lora => (
                TunedTail::lora(
                    backbone,
                    tuning.unfrozen_blocks,
                    tuning.lora_rank,
                    classifier,
                    settings.seed,
                ),
                settings.optimizer.learning_rate,
            ),
            NetworkTraining::FromScratch => (
                TunedTail::scratch(classifier, settings.seed, device),
                settings.optimizer.learning_rate,
            ),
        };
        Self::new(
            kind, tail, inputs, labels, validation, settings, rate, device,
        )
    }

    /// Numbers the run trains: with LoRA the adapters and the classifier; else the unfrozen
    /// layers (from scratch: all) and the classifier. BatchNorm's running statistics, which
    /// burn counts as parameters, are measured, not trained, and are left out.
    pub fn trainable_params(&self) -> usize {
        let tail = &self.tail;
        let adapters: usize = tail.adapters().map(Module::num_params).sum();
        if adapters > 0 {
            return adapters + tail.classifier.num_params();
        }
        let convs = tail
            .stem
            .iter()
            .chain(tail.blocks.iter().flat_map(|block| {
                block
                    .expand
                    .iter()
                    .chain([&block.depthwise, &block.project])
            }))
            .chain([&tail.head]);
        let statistics: usize = convs
            .filter_map(|conv| conv.bn.as_ref())
            .map(|bn| 2 * bn.gamma.val().dims()[0])
            .sum();
        tail.num_params() - statistics
    }

    /// Whether all epochs ran or early stopping ran out of patience.
    pub fn is_finished(&self) -> bool {
        self.progress.is_finished()
    }

    /// The epochs so far.
    pub fn history(&self) -> &[EpochReport] {
        &self.progress.history
    }

    /// With early stopping, the epoch whose weights [`Self::tail`] holds.
    pub fn restored_epoch(&self) -> Option<usize> {
        self.progress.restored_epoch()
    }

    /// One epoch of shuffled minibatch steps, then its metrics in eval mode.
    pub async fn run_epoch(&mut self) -> Result<EpochReport, TrainingError> {
        let mut order: Vec<usize> = (0..self.train.len()).collect();
        order.shuffle(&mut self.rng);
        let device = self.train.labels.device();
        let loss_fn = training_loss(&self.settings, self.class_weights.clone(), &device);
        for batch in order.chunks(self.settings.batch_size) {
            let indices = Tensor::<1, Int>::from_data(
                TensorData::new(
                    batch.iter().map(|&i| i as i64).collect::<Vec<_>>(),
                    [batch.len()],
                ),
                &device,
            );
            let features = self.train.features.clone().select(0, indices.clone());
            let labels = self.train.labels.clone().select(0, indices);
            let embeddings = self.tail.embed(features)
                * dropout_mask(&mut self.rng, self.settings.dropout, batch.len(), &device);
            let loss = loss_fn.forward(self.tail.classifier.forward(embeddings), labels);
            let grads = GradientsParams::from_grads(loss.backward(), &self.tail);
            let rates = self.learning_rates.step();
            self.tail = self.optimizer.step(rates, self.tail.clone(), grads);
        }
        self.tail.recalibrate(self.train.features.clone());
        let eval_tail = self.tail.valid();
        let train = metrics_of(
            eval_tail.forward(self.train.features.clone().inner()),
            &self.train.labels.clone().inner(),
        )
        .await
        .map_err(compute_error)?;
        let validation = match &self.validation {
            Some(set) => Some(
                metrics_of(eval_tail.forward(set.features.clone()), &set.labels)
                    .await
                    .map_err(compute_error)?,
            ),
            None => None,
        };
        Ok(self
            .progress
            .finish_epoch(train, validation, None, || eval_tail))
    }

    /// The trained tail in eval mode (with early stopping, the best epoch's).
    pub fn tail(&self) -> TunedTail {
        self.progress.kept(|| self.tail.valid())
    }

    /// The model as it stands, or `None` before the first epoch has ended. A model taken
    /// before the last epoch is marked as stopped early.
    pub async fn model(
        &self,
        version: ModelVersion,
        class_names: Vec<String>,
    ) -> Result<Option<TrainedModel>, TrainingError> {
        if self.progress.history.is_empty() {
            return Ok(None);
        }
        let tail = self.tail();
        let validation = match &self.validation {
            Some(set) => {
                let labels: Vec<i64> = read_values(set.labels.clone())
                    .await
                    .map_err(compute_error)?;
                classify_prefix_outputs(&tail, set.features.clone())
                    .await?
                    .into_iter()
                    .zip(self.validation_indices.iter().zip(labels))
                    .map(|(probabilities, (&example, label))| ValidationPrediction {
                        example,
                        label: label as usize,
                        probabilities,
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        Ok(Some(TrainedModel {
            version,
            class_names,
            settings: self.settings.clone(),
            split: SplitSizes {
                train: self.train.len(),
                views: 0,
                validation: self.validation_indices.len(),
            },
            history: self.progress.history.clone(),
            stopped_early: !self.is_finished(),
            restored_epoch: self.progress.restored_epoch(),
            validation,
            weights: ModelWeights::Network(
                tail.weights(self.training).await.map_err(compute_error)?,
            ),
            trainable_params: self.trainable_params(),
            training_ms: 0.0,
            fold_accuracies: Vec::new(),
        }))
    }
}

impl EpochTrainer for TuneTrainer {
    fn is_finished(&self) -> bool {
        TuneTrainer::is_finished(self)
    }

    async fn run_epoch(&mut self) -> Result<EpochReport, TrainingError> {
        TuneTrainer::run_epoch(self).await
    }

    async fn model(
        &self,
        version: ModelVersion,
        class_names: Vec<String>,
    ) -> Result<Option<TrainedModel>, TrainingError> {
        TuneTrainer::model(self, version, class_names).await
    }
}

/// Class probabilities of prefix outputs under a tuned tail.
pub async fn classify_prefix_outputs(
    tail: &TunedTail,
    prefix_outputs: Tensor<4>,
) -> Result<Vec<Vec<f32>>, TrainingError> {
    let logits = tail.forward(prefix_outputs);
    read_rows(burn::tensor::activation::softmax(logits, 1))
        .await
        .map_err(compute_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backbone::BackboneConfig;
    use crate::training::OptimizerSettings;

    fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
        tensor
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap()
    }

    /// A small random backbone (folded) and random images of two classes, brighter for class 1.
    fn setup(device: &Device) -> (EfficientNetLite0, Tensor<4>, Vec<usize>) {
        let backbone = BackboneConfig::new().init(device).folded();
        let labels: Vec<usize> = (0..8).map(|i| i % 2).collect();
        let images: Vec<f32> = labels
            .iter()
            .enumerate()
            .flat_map(|(i, &label)| {
                (0..3 * 32 * 32).map(move |p| ((p * 7 + i * 13) % 17) as f32 / 17.0 + label as f32)
            })
            .collect();
        let images = Tensor::<4>::from_data(TensorData::new(images, [8, 3, 32, 32]), device);
        (backbone, images, labels)
    }

    #[test]
    fn cached_prefix_then_tail_equals_the_whole_network() {
        let device = Device::flex();
        let (backbone, images, _) = setup(&device);
        let frozen = frozen_blocks(&backbone, &FineTuningSettings::default());
        assert_eq!(frozen, 14);
        let classifier = HeadConfig::new(2).init(1, &device);
        let tail = TunedTail::new(&backbone, 2, classifier);
        let through_tail = values(tail.embed(backbone.prefix(images.clone(), frozen)));
        let whole = values(backbone.embed(images));
        let difference = through_tail
            .iter()
            .zip(&whole)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(difference < 1e-5, "{difference}");
    }

    #[test]
    fn fine_tuning_changes_the_unfrozen_layers_and_the_head_and_nothing_else() {
        let device = Device::flex();
        let (backbone, images, labels) = setup(&device);
        let before = backbone.clone();
        let settings = TrainingSettings {
            epochs: 3,
            batch_size: 4,
            dropout: 0.0,
            optimizer: OptimizerSettings {
                learning_rate: 1e-2,
                ..OptimizerSettings::default()
            },
            fine_tuning: FineTuningSettings {
                unfrozen_blocks: 2,
                backbone_learning_rate: 1e-3,
                ..FineTuningSettings::default()
            },
            ..TrainingSettings::default()
        };
        let frozen = frozen_blocks(&backbone, &settings.fine_tuning);
        let prefix = backbone.prefix(images, frozen);
        let mut trainer = TuneTrainer::start(
            NetworkTraining::FineTune,
            &backbone,
            prefix,
            &labels,
            &[0, 1],
            2,
            settings,
            &device,
        )
        .unwrap();
        let start = trainer.tail();
        while !trainer.is_finished() {
            pollster::block_on(trainer.run_epoch()).unwrap();
        }
        let tuned = trainer.tail();
        // The unfrozen blocks, the head convolution and the classifier moved...
        let weights = |tail: &TunedTail| {
            (
                values(tail.blocks[1].project.conv.weight.val()),
                values(tail.head.conv.weight.val()),
                values(tail.classifier.linear.weight.val()),
            )
        };
        let (block_0, head_0, classifier_0) = weights(&start);
        let (block_1, head_1, classifier_1) = weights(&tuned);
        assert_ne!(block_0, block_1);
        assert_ne!(head_0, head_1);
        assert_ne!(classifier_0, classifier_1);
        // ...the pretrained ones by less than the new classifier (a tenth of its rate)...
        let change = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max)
        };
        assert!(change(&head_0, &head_1) < change(&classifier_0, &classifier_1));
        // ...and the backbone it came from is untouched (the frozen prefix included).
        assert_eq!(
            values(backbone.blocks[15].project.conv.weight.val()),
            values(before.blocks[15].project.conv.weight.val())
        );
        assert_eq!(
            values(backbone.stem.conv.weight.val()),
            values(before.stem.conv.weight.val())
        );
        assert_eq!(trainer.history().len(), 3);
        assert!(trainer.trainable_params() > 1_000_000);
    }

    #[test]
    fn a_network_from_scratch_trains_every_layer_batchnorm_included() {
        let device = Device::flex();
        let (backbone, images, labels) = setup(&device);
        let settings = TrainingSettings {
            epochs: 2,
            batch_size: 4,
            ..TrainingSettings::default()
        };
        let scratch = NetworkTraining::FromScratch;
        let mut trainer = TuneTrainer::start(
            scratch,
            &backbone,
            images,
            &labels,
            &[0, 1],
            2,
            settings,
            &device,
        )
        .unwrap();
        let before = values(trainer.tail().stem.unwrap().conv.weight.val());
        while !trainer.is_finished() {
            pollster::block_on(trainer.run_epoch()).unwrap();
        }
        let trained = trainer.tail();
        let stem = trained.stem.as_ref().unwrap();
        assert_ne!(values(stem.conv.weight.val()), before);
        // BatchNorm learned statistics of the training images (fresh ones are 0).
        let mean = values(stem.bn.as_ref().unwrap().running_mean.value());
        assert!(mean.iter().any(|m| m.abs() > 1e-4));
        // Every number of the network trains, the classifier included.
        assert!(trainer.trainable_params() > 3_000_000);
    }

    #[test]
    fn trained_layers_become_plain_tensors_and_come_back_classifying_the_same() {
        let device = Device::flex();
        let (backbone, images, labels) = setup(&device);
        let settings = TrainingSettings {
            epochs: 1,
            batch_size: 4,
            ..TrainingSettings::default()
        };
        let frozen = frozen_blocks(&backbone, &settings.fine_tuning);
        let prefix = backbone.prefix(images.clone(), frozen);
        for training in [
            NetworkTraining::FineTune,
            NetworkTraining::Lora,
            NetworkTraining::FromScratch,
        ] {
            let inputs = match training {
                NetworkTraining::FromScratch => images.clone(),
                _ => prefix.clone(),
            };
            let mut trainer = TuneTrainer::start(
                training,
                &backbone,
                inputs.clone(),
                &labels,
                &[0, 1],
                2,
                settings.clone(),
                &device,
            )
            .unwrap();
            pollster::block_on(trainer.run_epoch()).unwrap();
            let tail = trainer.tail();
            let names = vec!["dark".to_string(), "bright".to_string()];
            let model = pollster::block_on(trainer.model(ModelVersion(1), names))
                .unwrap()
                .unwrap();
            assert_eq!(model.validation.len(), 2);
            assert_eq!(
                model.validation_accuracy(),
                model.kept_epoch().unwrap().validation.map(|v| v.accuracy)
            );
            let ModelWeights::Network(weights) = model.weights else {
                unreachable!()
            };
            let names: Vec<&str> = weights.tensors.iter().map(|t| t.name.as_str()).collect();
            assert!(names.is_sorted(), "{training:?}");
            assert!(names.contains(&"classifier.linear.weight"), "{names:?}");
            if training == NetworkTraining::Lora {
                // Only what trained: the rest is the pretrained backbone.
                assert_eq!(weights.len(), trainer.trainable_params());
            }
            let rebuilt =
                TunedTail::from_weights(&backbone, &weights, &settings, 2, &device).unwrap();
            let (before, after) = (
                values(tail.forward(inputs.clone())),
                values(rebuilt.forward(inputs)),
            );
            let difference = before
                .iter()
                .zip(&after)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(difference < 1e-5, "{training:?}: {difference}");

            // A tensor of another shape, or one the layers do not have, is refused.
            let mut reshaped = weights.clone();
            Arc::make_mut(&mut reshaped.tensors)[0].shape.insert(0, 1);
            assert!(TunedTail::from_weights(&backbone, &reshaped, &settings, 2, &device).is_err());
            let mut stray = weights.clone();
            Arc::make_mut(&mut stray.tensors).push(NamedTensor {
                name: "blocks.99.weight".into(),
                shape: vec![1],
                values: vec![0.0],
            });
            assert!(TunedTail::from_weights(&backbone, &stray, &settings, 2, &device).is_err());
        }
    }

    #[test]
    fn recalibrated_batchnorm_lets_eval_mode_see_the_inputs_as_training_mode_does() {
        let device = Device::flex();
        let (_, images, _) = setup(&device);
        let train_device = device.clone().autodiff();
        let classifier = HeadConfig::new(2).init(1, &device);
        let tail = TunedTail::scratch(classifier, 3, &device)
            .fork(&train_device)
            .train();
        let inputs = images.clone().to_device(&train_device);
        let training_mode = values(tail.embed(inputs.clone()).inner());
        let largest_difference = |eval_mode: Vec<f32>| {
            eval_mode
                .iter()
                .zip(&training_mode)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max)
        };
        // Fresh statistics (mean 0, variance 1) are nothing like these images'.
        let stale = largest_difference(values(tail.valid().embed(images.clone())));
        tail.recalibrate(inputs);
        let recalibrated = largest_difference(values(tail.valid().embed(images)));
        assert!(stale > 0.1, "{stale}");
        assert!(recalibrated < 1e-3, "{recalibrated}");
    }

    #[test]
    fn a_new_lora_adapter_changes_nothing_and_few_numbers_train() {
        let device = Device::flex();
        let (backbone, images, labels) = setup(&device);
        let settings = TrainingSettings::default();
        let frozen = frozen_blocks(&backbone, &settings.fine_tuning);
        let prefix = backbone.prefix(images, frozen);
        // Its up-projection starts at zero.
        let fresh = TunedTail::lora(&backbone, 2, 4, HeadConfig::new(2).init(1, &device), 1);
        let plain = TunedTail::new(&backbone, 2, HeadConfig::new(2).init(1, &device));
        assert_eq!(
            values(fresh.embed(prefix.clone())),
            values(plain.embed(prefix.clone()))
        );
        let trainer = TuneTrainer::start(
            NetworkTraining::Lora,
            &backbone,
            prefix,
            &labels,
            &[0, 1],
            2,
            settings,
            &device,
        )
        .unwrap();
        // Block 14: 192->1152 and 1152->192; block 15: 192->1152 and 1152->320; the default
        // rank each way; plus the classifier's 1280 x 2 + 2.
        let rank = TrainingSettings::default().fine_tuning.lora_rank;
        let adapters = rank * ((192 + 1152) * 2 + (192 + 1152) + (1152 + 320));
        assert_eq!(trainer.trainable_params(), adapters + 1280 * 2 + 2);
    }

    #[test]
    fn fine_tuning_freezes_batchnorm_statistics_whatever_backbone_it_is_given() {
        let device = Device::flex();
        let unfolded = BackboneConfig::new().init(&device);
        let (_, images, _) = setup(&device);
        let prefix = unfolded.prefix(images.clone(), 14);
        let tail = TunedTail::new(&unfolded, 2, HeadConfig::new(2).init(1, &device));
        // No BatchNorm is left to update: every statistic is folded into a convolution...
        let convs = tail
            .blocks
            .iter()
            .flat_map(|b| b.expand.iter().chain([&b.depthwise, &b.project]))
            .chain([&tail.head]);
        assert!(convs.into_iter().all(|conv| conv.bn.is_none()));
        // ...and the tail computes what the unfolded network does in eval mode.
        let through_tail = values(tail.embed(prefix));
        let whole = values(unfolded.embed(images));
        let difference = through_tail
            .iter()
            .zip(&whole)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(difference < 1e-4, "{difference}");
    }
}
