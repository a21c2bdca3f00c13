//! What a training run is given and what it gives back, as plain values: the settings, the
//! per-epoch metrics and the trained model, or why it failed. The model is one value that
//! travels between the training worker, the page and every prediction it makes.

use crate::augment::{AugmentationSettings, view_seed};
use crate::embedding::{EMBEDDING_DIM, Embedding};
use crate::neighbour_model::{DEFAULT_K, NeighbourKind, NeighbourModel};
use crate::preprocess::SCRATCH_INPUT_SIZE;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, LazyLock};

// Where the page, the workers and the command line find what training sees of a photo.
pub use crate::embedding::LabeledEmbedding;

/// Settings of one head training run. Every field has the default a lesson starts from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingSettings {
    /// Passes over the training examples.
    pub epochs: usize,
    /// Examples per optimizer step.
    pub batch_size: usize,
    /// Share of each class held back for validation.
    pub validation_fraction: f64,
    /// Share of each class held back for the final test (never seen while training).
    pub test_fraction: f64,
    /// Seed of the split, the initialization, dropout and the shuffling (all drawn on the host,
    /// so a run is the same on every backend).
    pub seed: u64,
    /// Dropout on the embedding.
    pub dropout: f64,
    /// Early stopping: end the run once the validation loss has not improved for this many
    /// epochs, and keep the weights of the epoch where it was lowest (0 = off).
    pub patience: usize,
    /// Label smoothing of the training loss: the target gives `label_smoothing / classes` to
    /// every class and the rest to the true one.
    pub label_smoothing: f64,
    /// Every class counts the same in the training loss, however many photos it has (each
    /// photo's loss weighs the inverse of its class's count). Off in settings saved before it
    /// existed, which trained without it.
    #[serde(default)]
    pub balance_classes: bool,
    /// How the weights are updated.
    pub optimizer: OptimizerSettings,
    /// Extra augmented views of each training photo.
    pub augmentation: AugmentationSettings,
    /// How fine-tuning unfreezes the backbone.
    pub fine_tuning: FineTuningSettings,
}

/// Fine-tuning: the last blocks of the pretrained backbone train too, more gently than the new
/// head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FineTuningSettings {
    /// Backbone blocks unfrozen, counted from the last (1 to [`BACKBONE_BLOCKS`]); the 1x1
    /// head convolution after them trains too.
    pub unfrozen_blocks: usize,
    /// Step size of the unfrozen pretrained layers (the head uses the optimizer's).
    pub backbone_learning_rate: f64,
    /// LoRA: rank of the adapters on the same blocks' 1x1 convolutions (the blocks stay frozen).
    pub lora_rank: usize,
}

impl Default for FineTuningSettings {
    fn default() -> Self {
        Self {
            unfrozen_blocks: 2,
            // Measured (`fine_tuning_defaults_measured_on_real_photos` in tests/transfer.rs): on
            // three splits of 30 real photos, 1e-5 gave the lowest test loss for 1, 2 and 4
            // blocks and no lower accuracy than 1e-4 or 1e-3; 2 blocks scored as 4 in half the
            // time; rank 1 the lowest test loss of ranks 1, 4 and 16 at the same accuracy.
            backbone_learning_rate: 1e-5,
            lora_rank: 1,
        }
    }
}

/// The epochs a run may ask for.
pub const EPOCHS_RANGE: std::ops::RangeInclusive<usize> = 1..=5000;

/// Blocks of the backbone (EfficientNet-Lite0 has 16).
pub const BACKBONE_BLOCKS: usize = 16;

/// Most augmented views made of one photo.
pub const MAX_VIEWS_PER_PHOTO: usize = 16;

impl TrainingSettings {
    /// The settings with every value moved into the range the page and the command line allow
    /// (a typo cannot start a run of a million epochs or a negative learning rate).
    pub fn within_limits(mut self) -> Self {
        let clamp = |value: f64, low: f64, high: f64| {
            if value.is_nan() {
                low
            } else {
                value.clamp(low, high)
            }
        };
        self.epochs = self
            .epochs
            .clamp(*EPOCHS_RANGE.start(), *EPOCHS_RANGE.end());
        self.batch_size = self.batch_size.clamp(1, 256);
        self.patience = self.patience.min(1000);
        self.validation_fraction = clamp(self.validation_fraction, 0.0, 0.5);
        self.test_fraction = clamp(self.test_fraction, 0.0, 0.5);
        self.dropout = clamp(self.dropout, 0.0, 0.9);
        self.label_smoothing = clamp(self.label_smoothing, 0.0, 0.5);
        let optimizer = &mut self.optimizer;
        optimizer.learning_rate = clamp(optimizer.learning_rate, 1e-6, 1.0);
        optimizer.momentum = clamp(optimizer.momentum, 0.0, 0.99);
        optimizer.weight_decay = clamp(optimizer.weight_decay, 0.0, 1.0);
        let augmentation = &mut self.augmentation;
        augmentation.views_per_photo = augmentation.views_per_photo.clamp(1, MAX_VIEWS_PER_PHOTO);
        let fine_tuning = &mut self.fine_tuning;
        fine_tuning.unfrozen_blocks = fine_tuning.unfrozen_blocks.clamp(1, BACKBONE_BLOCKS);
        fine_tuning.backbone_learning_rate = clamp(fine_tuning.backbone_learning_rate, 1e-7, 1.0);
        fine_tuning.lora_rank = fine_tuning.lora_rank.clamp(1, 64);
        self
    }
}

impl Default for TrainingSettings {
    fn default() -> Self {
        Self {
            epochs: 40,
            batch_size: 16,
            validation_fraction: 0.2,
            test_fraction: 0.2,
            seed: 42,
            dropout: 0.2,
            patience: 0,
            label_smoothing: 0.0,
            balance_classes: true,
            optimizer: OptimizerSettings::default(),
            augmentation: AugmentationSettings::default(),
            fine_tuning: FineTuningSettings::default(),
        }
    }
}

/// Which optimizer updates the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OptimizerKind {
    /// Adam: a step size adapted per weight.
    Adam,
    /// Stochastic gradient descent with momentum.
    SgdMomentum,
}

/// The optimizer and its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OptimizerSettings {
    /// Which optimizer.
    pub kind: OptimizerKind,
    /// Step size.
    pub learning_rate: f64,
    /// Momentum of SGD (unused by Adam).
    pub momentum: f64,
    /// L2 penalty added to the gradient of every weight (0 = none).
    pub weight_decay: f64,
}

impl Default for OptimizerSettings {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Adam,
            learning_rate: 1e-3,
            momentum: 0.9,
            weight_decay: 0.0,
        }
    }
}

/// Loss and accuracy over one set of examples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Mean cross-entropy.
    pub loss: f32,
    /// Share of examples whose most probable class is the right one.
    pub accuracy: f32,
}

/// What one epoch achieved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Metrics on the training examples, measured in eval mode after the epoch.
    pub train: Metrics,
    /// Metrics on the validation examples; `None` when nothing was held back. After
    /// cross-validation, their mean over the folds.
    pub validation: Option<Metrics>,
    /// After cross-validation, the standard deviation of the folds' validation metrics.
    /// (Always written: the workers' postcard messages have no optional fields.)
    #[serde(default)]
    pub validation_spread: Option<Metrics>,
}

/// How many examples trained and how many were held back for validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitSizes {
    /// Photos the head learned from.
    pub train: usize,
    /// Augmented views of those photos it learned from too.
    pub views: usize,
    /// Examples held back to measure it.
    pub validation: usize,
}

/// Which training run made a model: numbered by the page, 1 for the first run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ModelVersion(pub u32);

impl std::fmt::Display for ModelVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The head's parameters as plain numbers: `weight` is `[EMBEDDING_DIM, classes]` row-major
/// (burn's `Linear` layout), `bias` is `[classes]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadWeights {
    /// Embedding-to-logit weights.
    pub weight: Vec<f32>,
    /// Per-class bias.
    pub bias: Vec<f32>,
}

impl HeadWeights {
    /// Number of classes, if the shapes agree with each other.
    pub fn classes(&self) -> Option<usize> {
        (self.weight.len() == EMBEDDING_DIM * self.bias.len()).then_some(self.bias.len())
    }
}

/// One tensor of trained network layers: its module path as burn names it (e.g.
/// `blocks.0.expand.conv.weight`), its shape and its values, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedTensor {
    /// The module path.
    pub name: String,
    /// The shape.
    pub shape: Vec<usize>,
    /// The values.
    pub values: Vec<f32>,
}

/// How the ways that train the network itself train it (see
/// [`crate::protocol::Request::TrainNetwork`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetworkTraining {
    /// The pretrained network's last blocks (see [`FineTuningSettings`]).
    FineTune,
    /// Low-rank adapters beside the same blocks' 1x1 convolutions, the network frozen.
    Lora,
    /// The same architecture, randomly initialized, whole, on images scaled down to
    /// [`crate::preprocess::SCRATCH_INPUT_SIZE`] pixels.
    FromScratch,
}

impl NetworkTraining {
    /// What a run costs a worker, against the others: from scratch trains every layer, about
    /// twice fine-tuning's or LoRA's time (the pool and the comparison's order go by it).
    pub fn relative_cost(self) -> usize {
        match self {
            Self::FromScratch => 2,
            Self::FineTune | Self::Lora => 1,
        }
    }
}

/// Trained network layers: what [`NetworkTraining`] trained, as plain tensors. Fine-tuning and
/// from scratch keep every tensor of the trained end of the network (with the classifier);
/// LoRA keeps only its adapters and the classifier, since the rest is the pretrained backbone.
/// Shared, because a model value is cloned into every request that classifies with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkWeights {
    /// How the layers were trained (which layers they are follows from it and the settings).
    pub training: NetworkTraining,
    /// The tensors.
    pub tensors: Arc<Vec<NamedTensor>>,
}

impl NetworkWeights {
    /// Numbers held.
    pub fn len(&self) -> usize {
        self.tensors.iter().map(|t| t.values.len()).sum()
    }

    /// Whether it holds no numbers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a trained model classifies with, by the way it was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModelWeights {
    /// A new head on the frozen backbone's embeddings.
    Head(HeadWeights),
    /// Nearest centroid or nearest neighbours on the frozen backbone's embeddings.
    Neighbours(NeighbourModel),
    /// Trained network layers with their classifier, on the model input.
    Network(NetworkWeights),
}

/// A way to train, as the automation contract, the model file and the command line name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Way {
    /// Nearest class centroid on the frozen embeddings (no gradient).
    Centroid,
    /// k-nearest neighbours on the frozen embeddings (no gradient).
    Knn,
    /// Frozen backbone and a new head trained by gradient descent.
    Frozen,
    /// The last backbone blocks unfrozen and trained with a new head.
    Finetune,
    /// Low-rank adapters on the last blocks, the network frozen, with a new head.
    Lora,
    /// The same network, randomly initialized, trained whole on the photos alone.
    Scratch,
}

impl Way {
    /// Every way, from the cheapest.
    pub const ALL: [Self; 6] = [
        Self::Centroid,
        Self::Knn,
        Self::Frozen,
        Self::Finetune,
        Self::Lora,
        Self::Scratch,
    ];

    /// Its name (`data-mode` in the page, `way` in a model file).
    pub fn name(self) -> &'static str {
        match self {
            Self::Centroid => "centroid",
            Self::Knn => "knn",
            Self::Frozen => "frozen",
            Self::Finetune => "finetune",
            Self::Lora => "lora",
            Self::Scratch => "scratch",
        }
    }

    /// The way of that name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|way| way.name() == name)
    }

    /// What the command line calls it.
    pub fn label(self) -> &'static str {
        static KNN: LazyLock<String> =
            LazyLock::new(|| format!("Nearest neighbours (k = {DEFAULT_K})"));
        static SCRATCH: LazyLock<String> = LazyLock::new(|| {
            format!("From scratch (at {SCRATCH_INPUT_SIZE} × {SCRATCH_INPUT_SIZE} pixels)")
        });
        match self {
            Self::Centroid => "Nearest centroid",
            Self::Knn => &KNN,
            Self::Frozen => "Frozen backbone + new head",
            Self::Finetune => "Fine-tuned last blocks + new head",
            Self::Lora => "LoRA adapters on the last blocks + new head",
            Self::Scratch => &SCRATCH,
        }
    }

    /// How it learns. Everything that differs between ways follows from this (a new way
    /// fails to compile here until it says).
    pub fn family(self) -> WayFamily {
        match self {
            Self::Centroid => WayFamily::NoGradient(NeighbourKind::Centroid),
            Self::Knn => WayFamily::NoGradient(NeighbourKind::Knn { k: DEFAULT_K }),
            Self::Frozen => WayFamily::NewHead,
            Self::Finetune => WayFamily::Network(NetworkTraining::FineTune),
            Self::Lora => WayFamily::Network(NetworkTraining::Lora),
            Self::Scratch => WayFamily::Network(NetworkTraining::FromScratch),
        }
    }

    /// The augmented views a run of this way trains on, the same in the page and on the
    /// command line: for each training example (its position among the run's examples,
    /// `train`) views 1 to `views_per_photo`, each seeded by the run's seed and its photo's
    /// stable `photo_key`, so a view is the same in every run and is embedded once. Only a new
    /// head trains on views: the network ways take each photo's model input as it is.
    pub fn planned_views(
        self,
        settings: &TrainingSettings,
        train: &[usize],
        photo_key: impl Fn(usize) -> u32,
    ) -> Vec<PlannedView> {
        let augmentation = settings.augmentation;
        if self.family() != WayFamily::NewHead || !augmentation.is_on() {
            return Vec::new();
        }
        train
            .iter()
            .flat_map(|&example| {
                let key = photo_key(example);
                (1..=augmentation.views_per_photo).map(move |view| PlannedView {
                    example,
                    seed: view_seed(settings.seed, key, view),
                })
            })
            .collect()
    }
}

/// How a way learns: what each photo gives it, and what it trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WayFamily {
    /// No gradient: a classifier made in one look at the frozen embeddings.
    NoGradient(NeighbourKind),
    /// A new head trained by gradient descent on the frozen embeddings (and augmented views).
    NewHead,
    /// Layers of the network, trained with a new classifier on the photos' model inputs.
    Network(NetworkTraining),
}

/// One augmented view a run trains on: of which example, made with which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedView {
    /// The example's position among the run's examples.
    pub example: usize,
    /// The seed its augmentation draws from.
    pub seed: u64,
}

impl ModelWeights {
    /// The way that made them.
    pub fn way(&self) -> Way {
        match self {
            Self::Head(_) => Way::Frozen,
            Self::Neighbours(NeighbourModel::Centroid { .. }) => Way::Centroid,
            Self::Neighbours(NeighbourModel::Knn { .. }) => Way::Knn,
            Self::Network(network) => match network.training {
                NetworkTraining::FineTune => Way::Finetune,
                NetworkTraining::Lora => Way::Lora,
                NetworkTraining::FromScratch => Way::Scratch,
            },
        }
    }

    /// The head, when they are one.
    pub fn head(&self) -> Option<&HeadWeights> {
        match self {
            Self::Head(head) => Some(head),
            _ => None,
        }
    }

    /// Whether classifying with them needs the photo's model input rather than its embedding.
    pub fn needs_model_input(&self) -> bool {
        matches!(self, Self::Network(_))
    }
}

/// A trained model: everything needed to classify a photo and to say what made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedModel {
    /// Which run made it.
    pub version: ModelVersion,
    /// Class names in the head's output order.
    pub class_names: Vec<String>,
    /// The settings it was trained with.
    pub settings: TrainingSettings,
    /// Training and validation example counts.
    pub split: SplitSizes,
    /// Every epoch's metrics, in order: the learning curves.
    pub history: Vec<EpochReport>,
    /// Whether the student stopped the run before its last epoch.
    pub stopped_early: bool,
    /// With early stopping: the epoch of lowest validation loss, whose weights the model holds,
    /// when that is not the last epoch that ran.
    pub restored_epoch: Option<usize>,
    /// How the final model classified each validation example; after cross-validation, how
    /// the model of each example's fold did (every example once).
    pub validation: Vec<ValidationPrediction>,
    /// After cross-validation, each fold's validation accuracy (at the kept epoch); empty
    /// when a part of the photos was held back instead.
    #[serde(default)]
    pub fold_accuracies: Vec<f32>,
    /// What it classifies with.
    pub weights: ModelWeights,
    /// Numbers its training changed (0 for the ways that only remember the training photos).
    pub trainable_params: usize,
    /// How long training took, in milliseconds (0 until whoever ran it sets it).
    pub training_ms: f64,
}

/// How a model classified one validation example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationPrediction {
    /// Index of the example in the run's examples.
    pub example: usize,
    /// Its true class.
    pub label: usize,
    /// One probability per class.
    pub probabilities: Vec<f32>,
}

impl TrainedModel {
    /// The metrics of the last epoch that ran (none only for a model that never trained).
    pub fn last_epoch(&self) -> Option<EpochReport> {
        self.history.last().copied()
    }

    /// Accuracy on the validation photos: the mean over the folds after cross-validation, at
    /// the kept epoch, else (for the ways that do not train by epochs) of its validation
    /// predictions; `None` without validation photos.
    pub fn validation_accuracy(&self) -> Option<f32> {
        if !self.fold_accuracies.is_empty() {
            return Some(mean_and_spread(&self.fold_accuracies).0);
        }
        if let Some(validation) = self.kept_epoch().and_then(|epoch| epoch.validation) {
            return Some(validation.accuracy);
        }
        (!self.validation.is_empty()).then(|| prediction_accuracy(&self.validation))
    }

    /// After cross-validation, how many folds validated it and the standard deviation of their
    /// accuracies.
    pub fn fold_spread(&self) -> Option<(usize, f32)> {
        (!self.fold_accuracies.is_empty()).then(|| {
            let (_, spread) = mean_and_spread(&self.fold_accuracies);
            (self.fold_accuracies.len(), spread)
        })
    }

    /// The metrics of the epoch whose weights the model holds: the restored one, else the last.
    pub fn kept_epoch(&self) -> Option<EpochReport> {
        match self.restored_epoch {
            Some(epoch) => self.history.get(epoch.checked_sub(1)?).copied(),
            None => self.last_epoch(),
        }
    }
}

/// Why a training run failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TrainingError {
    /// Fewer than two classes have photos.
    TooFewClasses,
    /// An example does not belong to any of the run's classes.
    LabelOutOfRange(usize),
    /// A validation index names no example.
    InvalidSplit(usize),
    /// The run's examples are not what its way trains on (embeddings for a network way, or
    /// model inputs for one on the frozen backbone).
    ExamplesUnfit(Way),
    /// Cross-validation was asked of a way that validates on one held-out part (the network
    /// ways: training one per fold would take as many times as long).
    FoldsUnfit(Way),
    /// The compute device failed, e.g. a lost WebGPU device (detail for the console).
    Compute(String),
}

impl std::fmt::Display for TrainingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooFewClasses => write!(f, "training needs photos in at least two classes"),
            Self::LabelOutOfRange(label) => write!(f, "label {label} names no class"),
            Self::InvalidSplit(index) => write!(f, "validation index {index} names no example"),
            Self::ExamplesUnfit(way) => {
                write!(
                    f,
                    "the run's examples are not what {} trains on",
                    way.name()
                )
            }
            Self::FoldsUnfit(way) => {
                write!(f, "{} validates on held-out photos, not folds", way.name())
            }
            Self::Compute(detail) => write!(f, "the compute device failed: {detail}"),
        }
    }
}

impl std::error::Error for TrainingError {}

/// An augmented view of one example (see [`crate::augment`]): it trains under the example's
/// label, and only when the example is in the training part of the split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentedView {
    /// Index of the example it was made from.
    pub example: usize,
    /// The view's backbone embedding.
    pub embedding: Embedding,
}

/// The share of `predictions` whose most probable class is the right one (0 for none).
pub fn prediction_accuracy(predictions: &[ValidationPrediction]) -> f32 {
    let right = predictions
        .iter()
        .filter(|p| top1(&p.probabilities).0 == p.label)
        .count();
    right as f32 / predictions.len().max(1) as f32
}

/// The mean and the (population) standard deviation of `values`; zeros for none.
pub fn mean_and_spread(values: &[f32]) -> (f32, f32) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let count = values.len() as f32;
    let mean = values.iter().sum::<f32>() / count;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / count;
    (mean, variance.sqrt())
}

/// Index and value of the largest entry.
pub fn top1(probabilities: &[f32]) -> (usize, f32) {
    probabilities
        .iter()
        .copied()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, p)| {
            if p > best.1 { (i, p) } else { best }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_new_head_trains_on_views_each_seeded_by_its_photo() {
        let mut settings = TrainingSettings::default();
        let train = [0, 2];
        let key = |example: usize| 100 + example as u32;
        // Augmentation off: no views for any way.
        for way in Way::ALL {
            assert!(way.planned_views(&settings, &train, key).is_empty());
        }
        settings.augmentation.flip = true;
        settings.augmentation.views_per_photo = 3;
        for way in Way::ALL {
            let views = way.planned_views(&settings, &train, key);
            match way.family() {
                WayFamily::NewHead => {
                    let examples: Vec<usize> = views.iter().map(|v| v.example).collect();
                    assert_eq!(examples, [0, 0, 0, 2, 2, 2]);
                    assert_eq!(views[4].seed, view_seed(settings.seed, 102, 2));
                }
                WayFamily::NoGradient(_) | WayFamily::Network(_) => assert!(views.is_empty()),
            }
        }
        // A photo's views keep their seeds when other photos come and go.
        let alone = Way::Frozen.planned_views(&settings, &[2], key);
        assert_eq!(
            alone[..],
            Way::Frozen.planned_views(&settings, &train, key)[3..]
        );
    }
}
