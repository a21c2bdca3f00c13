//! The new classification head and its training loop on cached embeddings.
//!
//! The loop is written by hand (burn-train's Learner does not build for wasm) and is `async`
//! because WebGPU has no synchronous reads: metrics are read once per epoch with
//! `into_data_async`. Native callers drive it with any executor (`pollster::block_on`).

use crate::embedding::{EMBEDDING_DIM, LabeledEmbedding};
use crate::neighbour_model::unit;
use crate::readback::{read_rows, read_values};
use crate::training::{
    AugmentedView, EpochReport, HeadWeights, Metrics, ModelVersion, ModelWeights, OptimizerKind,
    OptimizerSettings, SplitSizes, TrainedModel, TrainingError, TrainingSettings,
    ValidationPrediction,
};
use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, ExecutionError, Int, Tensor, TensorData};
use rand::rngs::{StdRng, Xoshiro256PlusPlus};
use rand::seq::SliceRandom;
use rand::{Rng, RngExt, SeedableRng};

/// Configuration of [`ClassifierHead`].
#[derive(Config, Debug)]
pub struct HeadConfig {
    /// Number of classes the head predicts.
    pub num_classes: usize,
    /// Width of the input embedding.
    #[config(default = "EMBEDDING_DIM")]
    pub embedding_dim: usize,
}

/// One linear layer from the embedding to class logits (dropout is applied by the trainer).
#[derive(Module, Debug)]
pub struct ClassifierHead {
    /// Embedding to logits.
    pub linear: Linear,
}

impl HeadConfig {
    /// A head initialized like burn's `Linear` (uniform in ±1/sqrt(embedding_dim)) from a seeded
    /// host RNG, so the same seed gives the same head on every backend.
    pub fn init(&self, seed: u64, device: &Device) -> ClassifierHead {
        let mut rng = StdRng::seed_from_u64(seed);
        let bound = 1.0 / (self.embedding_dim as f32).sqrt();
        let mut uniform = |count: usize| -> Vec<f32> {
            (0..count)
                .map(|_| rng.random_range(-bound..bound))
                .collect()
        };
        let weight = uniform(self.embedding_dim * self.num_classes);
        let bias = uniform(self.num_classes);
        ClassifierHead {
            linear: Linear {
                weight: Param::from_tensor(Tensor::from_data(
                    TensorData::new(weight, [self.embedding_dim, self.num_classes]),
                    device,
                )),
                bias: Some(Param::from_tensor(Tensor::from_data(
                    TensorData::new(bias, [self.num_classes]),
                    device,
                ))),
            },
        }
    }
}

impl ClassifierHead {
    /// Class logits, `[batch, classes]`.
    pub fn forward(&self, embeddings: Tensor<2>) -> Tensor<2> {
        self.linear.forward(embeddings)
    }

    /// Class probabilities, `[batch, classes]`.
    pub fn probabilities(&self, embeddings: Tensor<2>) -> Tensor<2> {
        softmax(self.forward(embeddings), 1)
    }

    /// The parameters as plain numbers, read with one asynchronous read each (WebGPU has no
    /// synchronous reads).
    pub async fn weights(&self) -> Result<HeadWeights, ExecutionError> {
        let bias = match &self.linear.bias {
            Some(bias) => read_values(bias.val()).await?,
            None => Vec::new(),
        };
        Ok(HeadWeights {
            weight: read_values(self.linear.weight.val().flatten::<1>(0, 1)).await?,
            bias,
        })
    }

    /// A head holding `weights` on `device`; `None` when their shapes do not fit together.
    pub fn from_weights(weights: &HeadWeights, device: &Device) -> Option<Self> {
        let classes = weights.classes()?;
        Some(Self {
            linear: Linear {
                weight: Param::from_tensor(Tensor::from_data(
                    TensorData::new(weights.weight.clone(), [EMBEDDING_DIM, classes]),
                    device,
                )),
                bias: Some(Param::from_tensor(Tensor::from_data(
                    TensorData::new(weights.bias.clone(), [classes]),
                    device,
                ))),
            },
        })
    }
}

/// The mean of `examples`' embeddings.
fn mean_embedding(examples: &[&LabeledEmbedding]) -> Vec<f32> {
    let mut mean = vec![0.0f32; EMBEDDING_DIM];
    for example in examples {
        for (sum, value) in mean.iter_mut().zip(example.embedding.values()) {
            *sum += value;
        }
    }
    let count = examples.len().max(1) as f32;
    mean.iter_mut().for_each(|sum| *sum /= count);
    mean
}

/// A head of the embeddings less `mean` whose weights point at each class's centroid of
/// `examples`, [`CENTROID_START_SCALE`] over the mean centred length long, with no bias (a
/// class without examples starts at zero).
fn centroid_start(examples: &[&LabeledEmbedding], mean: &[f32], classes: usize) -> HeadWeights {
    let mut sums = vec![vec![0.0f32; EMBEDDING_DIM]; classes];
    let mut mean_length = 0.0;
    for example in examples {
        let centred: Vec<f32> = example
            .embedding
            .values()
            .iter()
            .zip(mean)
            .map(|(value, mean)| value - mean)
            .collect();
        mean_length += centred.iter().map(|v| v * v).sum::<f32>().sqrt();
        for (sum, value) in sums[example.label].iter_mut().zip(centred) {
            *sum += value;
        }
    }
    mean_length /= examples.len().max(1) as f32;
    let mut weight = vec![0.0f32; EMBEDDING_DIM * classes];
    for (class, sum) in sums.iter().enumerate() {
        for (row, direction) in unit(sum).iter().enumerate() {
            weight[row * classes + class] =
                direction * CENTROID_START_SCALE / mean_length.max(1e-12);
        }
    }
    HeadWeights {
        weight,
        bias: vec![0.0; classes],
    }
}

pub(crate) fn compute_error(error: ExecutionError) -> TrainingError {
    TrainingError::Compute(format!("{error:?}"))
}

/// Examples as device tensors.
struct ExampleTensors {
    embeddings: Tensor<2>,
    labels: Tensor<1, Int>,
}

impl ExampleTensors {
    fn new(examples: &[&LabeledEmbedding], device: &Device) -> Self {
        let values: Vec<f32> = examples
            .iter()
            .flat_map(|e| e.embedding.values().iter().copied())
            .collect();
        let labels: Vec<i64> = examples.iter().map(|e| e.label as i64).collect();
        Self {
            embeddings: Tensor::from_data(
                TensorData::new(values, [examples.len(), EMBEDDING_DIM]),
                device,
            ),
            labels: Tensor::from_data(TensorData::new(labels, [examples.len()]), device),
        }
    }

    fn len(&self) -> usize {
        self.labels.dims()[0]
    }
}

/// A run's epochs and, with early stopping, its best one: what every trainer keeps the same way.
pub(crate) struct Progress<M> {
    /// Epochs the run may take.
    epochs: usize,
    /// Epochs without a better validation loss after which it stops (0 = never).
    patience: usize,
    /// Every epoch's metrics, in order.
    pub(crate) history: Vec<EpochReport>,
    /// With early stopping: the epoch of lowest validation loss so far, its loss and its model
    /// (in eval mode).
    best: Option<(usize, f32, M)>,
}

impl<M: Clone> Progress<M> {
    pub(crate) fn new(settings: &TrainingSettings) -> Self {
        Self {
            epochs: settings.epochs,
            patience: settings.patience,
            history: Vec::new(),
            best: None,
        }
    }

    /// Keeps the next epoch's metrics, and with early stopping `model` when its validation
    /// loss is the lowest so far; returns the epoch's report.
    pub(crate) fn finish_epoch(
        &mut self,
        train: Metrics,
        validation: Option<Metrics>,
        validation_spread: Option<Metrics>,
        model: impl FnOnce() -> M,
    ) -> EpochReport {
        let report = EpochReport {
            epoch: self.history.len() + 1,
            train,
            validation,
            validation_spread,
        };
        self.history.push(report);
        if let Some(validation) = report.validation
            && self.patience > 0
            && self
                .best
                .as_ref()
                .is_none_or(|(_, loss, _)| validation.loss < *loss)
        {
            self.best = Some((report.epoch, validation.loss, model()));
        }
        report
    }

    /// Whether the validation loss has not improved for `patience` epochs.
    pub(crate) fn patience_ran_out(&self) -> bool {
        self.patience > 0
            && self
                .best
                .as_ref()
                .is_some_and(|(epoch, _, _)| self.history.len() - epoch >= self.patience)
    }

    /// Whether all epochs ran or early stopping ran out of patience.
    pub(crate) fn is_finished(&self) -> bool {
        self.history.len() >= self.epochs || self.patience_ran_out()
    }

    /// With early stopping, the epoch whose model [`Self::kept`] returns, when not the last.
    pub(crate) fn restored_epoch(&self) -> Option<usize> {
        self.best
            .as_ref()
            .map(|(epoch, _, _)| *epoch)
            .filter(|epoch| *epoch < self.history.len())
    }

    /// The number of the epoch whose model [`Self::kept`] returns.
    pub(crate) fn kept_epoch_number(&self) -> usize {
        self.best
            .as_ref()
            .map_or(self.history.len(), |(epoch, _, _)| *epoch)
    }

    /// The model to keep: the best epoch's with early stopping, else `current`'s.
    pub(crate) fn kept(&self, current: impl FnOnce() -> M) -> M {
        match &self.best {
            Some((_, _, model)) => model.clone(),
            None => current(),
        }
    }
}

/// The temperature of the head's start at the class centroids: its first logits are this many
/// times the cosine similarity to each centroid (of the centred embeddings; 10 measured ahead
/// of 3, 5 and 20 on the few-photo sets).
pub const CENTROID_START_SCALE: f32 = 10.0;

/// Trains a [`ClassifierHead`] epoch by epoch; the caller shows progress between epochs.
///
/// The head trains on the embeddings less the training examples' mean, and starts at their
/// class centroids: each class's weights point at its centroid, so the first logits are a
/// cosine similarity scaled by [`CENTROID_START_SCALE`] (and the centred embedding's length
/// over the mean length). Every head it hands out takes the raw embedding (the mean's logits
/// come off the bias). The embeddings all point much the same way (every value is at least 0),
/// and from a random start the weights kept noise along directions no training photo has: on
/// seeded 5-photo splits of three photo sets (`scripts/bench-few-photos.sh`, the README's
/// table) the centred head started at the centroids scored 2 to 5 points above the random
/// start, level with scikit-learn's converged logistic regression.
pub struct HeadTrainer {
    settings: TrainingSettings,
    /// The head being trained, on centred embeddings.
    head: ClassifierHead,
    optimizer: ModuleOptimizer,
    /// The training examples' mean embedding, `[1, EMBEDDING_DIM]` on the plain device.
    mean: Tensor<2>,
    /// The training photos' examples, then their augmented views, centred.
    train: ExampleTensors,
    /// How many of `train`'s rows are photos (the rest are views).
    train_photos: usize,
    /// The training loss's weight of each class (see [`class_weights`]).
    class_weights: Option<Vec<f32>>,
    validation: Option<ExampleTensors>,
    /// Which examples were held back, in the order of `validation`'s rows, with their labels.
    validation_examples: Vec<(usize, usize)>,
    rng: StdRng,
    progress: Progress<ClassifierHead>,
}

impl HeadTrainer {
    /// Prepares a fresh head: the examples at the `validation` indices measure it, the others
    /// train it with their augmented views (views of validation examples are left out).
    /// `device` is the plain (non-autodiff) compute device.
    pub fn new(
        examples: &[LabeledEmbedding],
        validation: &[usize],
        views: &[AugmentedView],
        num_classes: usize,
        settings: TrainingSettings,
        device: &Device,
    ) -> Result<Self, TrainingError> {
        let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
        if let Some(&label) = labels.iter().find(|&&label| label >= num_classes) {
            return Err(TrainingError::LabelOutOfRange(label));
        }
        let classes_with_photos = (0..num_classes).filter(|c| labels.contains(c)).count();
        if classes_with_photos < 2 {
            return Err(TrainingError::TooFewClasses);
        }
        let mut validation = validation.to_vec();
        validation.sort_unstable();
        validation.dedup();
        if let Some(&index) = validation.iter().find(|&&i| i >= examples.len()) {
            return Err(TrainingError::InvalidSplit(index));
        }
        let train: Vec<usize> = (0..examples.len())
            .filter(|i| validation.binary_search(i).is_err())
            .collect();
        let pick = |indices: &[usize]| indices.iter().map(|&i| &examples[i]).collect::<Vec<_>>();
        let train_views: Vec<LabeledEmbedding> = views
            .iter()
            .filter(|view| train.binary_search(&view.example).is_ok())
            .map(|view| LabeledEmbedding {
                embedding: view.embedding.clone(),
                label: labels[view.example],
            })
            .collect();
        let mut train_examples = pick(&train);
        train_examples.extend(&train_views);
        let train_labels: Vec<usize> = train_examples.iter().map(|e| e.label).collect();
        let train_device = device.clone().autodiff();
        let mean = mean_embedding(&train_examples);
        let start = centroid_start(&train_examples, &mean, num_classes);
        let head = ClassifierHead::from_weights(&start, &train_device).expect("the head's shape");
        let mean = Tensor::<2>::from_data(TensorData::new(mean, [1, EMBEDDING_DIM]), device);
        let mut train_tensors = ExampleTensors::new(&train_examples, &train_device);
        train_tensors.embeddings = train_tensors.embeddings - Tensor::from_inner(mean.clone());
        Ok(Self {
            optimizer: optimizer(&settings.optimizer),
            mean,
            train: train_tensors,
            train_photos: train.len(),
            class_weights: class_weights(&settings, &train_labels, num_classes),
            validation: (!validation.is_empty())
                .then(|| ExampleTensors::new(&pick(&validation), device)),
            validation_examples: validation.iter().map(|&i| (i, labels[i])).collect(),
            rng: StdRng::seed_from_u64(settings.seed),
            head,
            progress: Progress::new(&settings),
            settings,
        })
    }

    /// `head` (trained on centred embeddings, in eval mode) as a head of the raw embeddings:
    /// the mean's logits come off its bias.
    fn uncentred(&self, head: ClassifierHead) -> ClassifierHead {
        let shift = self
            .mean
            .clone()
            .matmul(head.linear.weight.val())
            .flatten::<1>(0, 1);
        let bias = head.linear.bias.map(|bias| bias.map(|bias| bias - shift));
        ClassifierHead {
            linear: Linear {
                bias,
                ..head.linear
            },
        }
    }

    /// Number of training and validation examples.
    pub fn split_sizes(&self) -> SplitSizes {
        SplitSizes {
            train: self.train_photos,
            views: self.train.len() - self.train_photos,
            validation: self.validation.as_ref().map_or(0, ExampleTensors::len),
        }
    }

    /// Epochs run so far.
    pub fn epochs_run(&self) -> usize {
        self.progress.history.len()
    }

    /// Whether the run is over: all epochs of its settings have run, or early stopping ran
    /// out of patience.
    pub fn is_finished(&self) -> bool {
        self.progress.is_finished()
    }

    /// Whether the validation loss has not improved for `patience` epochs.
    pub fn patience_ran_out(&self) -> bool {
        self.progress.patience_ran_out()
    }

    /// Runs one epoch of shuffled minibatch optimizer steps and measures the result in eval
    /// mode (with the plain cross-entropy, whatever the label smoothing, so runs compare).
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
            let embeddings = self.train.embeddings.clone().select(0, indices.clone());
            let embeddings = embeddings
                * dropout_mask(&mut self.rng, self.settings.dropout, batch.len(), &device);
            let labels = self.train.labels.clone().select(0, indices);
            let loss = loss_fn.forward(self.head.forward(embeddings), labels);
            let grads = GradientsParams::from_grads(loss.backward(), &self.head);
            let head = self.head.clone();
            self.head = self
                .optimizer
                .step(self.settings.optimizer.learning_rate, head, grads);
        }
        let centred_head = self.head.valid();
        let train = measure(
            &centred_head,
            &self.train.embeddings.clone().inner(),
            &self.train.labels.clone().inner(),
        )
        .await
        .map_err(compute_error)?;
        let eval_head = self.uncentred(centred_head);
        let validation = match &self.validation {
            Some(set) => Some(
                measure(&eval_head, &set.embeddings, &set.labels)
                    .await
                    .map_err(compute_error)?,
            ),
            None => None,
        };
        Ok(self
            .progress
            .finish_epoch(train, validation, None, || eval_head))
    }

    /// The trained head in eval mode, for inference: with early stopping, the head of the
    /// epoch with the lowest validation loss so far.
    pub fn head(&self) -> ClassifierHead {
        self.progress.kept(|| self.uncentred(self.head.valid()))
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
        let head = self.head();
        let validation = self.predictions(&head).await?;
        Ok(Some(TrainedModel {
            version,
            class_names,
            settings: self.settings.clone(),
            split: self.split_sizes(),
            history: self.progress.history.clone(),
            stopped_early: !self.is_finished(),
            restored_epoch: self.progress.restored_epoch(),
            validation,
            weights: ModelWeights::Head(head.weights().await.map_err(compute_error)?),
            trainable_params: head.num_params(),
            training_ms: 0.0,
            fold_accuracies: Vec::new(),
        }))
    }

    /// How `head` classifies each validation example.
    pub async fn predictions(
        &self,
        head: &ClassifierHead,
    ) -> Result<Vec<ValidationPrediction>, TrainingError> {
        let Some(set) = &self.validation else {
            return Ok(Vec::new());
        };
        let rows = read_rows(head.probabilities(set.embeddings.clone()))
            .await
            .map_err(compute_error)?;
        Ok(rows
            .into_iter()
            .zip(&self.validation_examples)
            .map(|(probabilities, &(example, label))| ValidationPrediction {
                example,
                label,
                probabilities,
            })
            .collect())
    }
}

/// A run that trains epoch by epoch and ends with a model: a head on embeddings
/// ([`HeadTrainer`]) or network layers ([`crate::tune::TuneTrainer`]).
#[allow(async_fn_in_trait)]
pub trait EpochTrainer {
    /// Whether all epochs ran or early stopping ran out of patience.
    fn is_finished(&self) -> bool;
    /// One epoch, then its metrics.
    async fn run_epoch(&mut self) -> Result<EpochReport, TrainingError>;
    /// The model as it stands, `None` before the first epoch ended.
    async fn model(
        &self,
        version: ModelVersion,
        class_names: Vec<String>,
    ) -> Result<Option<TrainedModel>, TrainingError>;
}

impl EpochTrainer for HeadTrainer {
    fn is_finished(&self) -> bool {
        HeadTrainer::is_finished(self)
    }

    async fn run_epoch(&mut self) -> Result<EpochReport, TrainingError> {
        HeadTrainer::run_epoch(self).await
    }

    async fn model(
        &self,
        version: ModelVersion,
        class_names: Vec<String>,
    ) -> Result<Option<TrainedModel>, TrainingError> {
        HeadTrainer::model(self, version, class_names).await
    }
}

/// Runs `trainer` until it finishes or `stop_requested` says so (checked before each epoch),
/// calling `on_epoch` after every epoch and then awaiting `between` (a browser yields to its
/// event loop there); returns the model, `None` when no epoch ended.
pub async fn train_to_end<T: EpochTrainer, Pause: Future<Output = ()>>(
    mut trainer: T,
    stop_requested: impl Fn() -> bool,
    mut on_epoch: impl FnMut(EpochReport),
    between: impl Fn() -> Pause,
    version: ModelVersion,
    class_names: Vec<String>,
) -> Result<Option<TrainedModel>, TrainingError> {
    while !trainer.is_finished() && !stop_requested() {
        on_epoch(trainer.run_epoch().await?);
        between().await;
    }
    trainer.model(version, class_names).await
}

/// Inverted-dropout multipliers for a batch of embeddings: 0 with probability `dropout` (to
/// 1/65536), else `1 / (1 - dropout)`, drawn on the host (the same on every backend and
/// platform). A Xoshiro256++ stream seeded from `rng` gives four 16-bit draws a number: a
/// ChaCha draw per multiplier was half of a head's training time (a native profile).
pub(crate) fn dropout_mask(
    rng: &mut StdRng,
    dropout: f64,
    rows: usize,
    device: &Device,
) -> Tensor<2> {
    let keep = 1.0 - dropout;
    let scale = (1.0 / keep) as f32;
    let threshold = (keep * 65536.0).round() as u32;
    let mut draws = Xoshiro256PlusPlus::from_rng(rng);
    let mut mask = vec![0.0; rows * EMBEDDING_DIM];
    for multipliers in mask.chunks_mut(4) {
        let number = draws.next_u64();
        for (quarter, multiplier) in multipliers.iter_mut().enumerate() {
            let draw = (number >> (16 * quarter)) as u16;
            *multiplier = if u32::from(draw) < threshold {
                scale
            } else {
                0.0
            };
        }
    }
    Tensor::from_data(TensorData::new(mask, [rows, EMBEDDING_DIM]), device)
}

/// The optimizer `settings` describe.
pub(crate) fn optimizer(settings: &OptimizerSettings) -> ModuleOptimizer {
    let weight_decay =
        (settings.weight_decay > 0.0).then(|| WeightDecayConfig::new(settings.weight_decay as f32));
    match settings.kind {
        OptimizerKind::Adam => AdamConfig::new().with_weight_decay(weight_decay).init(),
        OptimizerKind::SgdMomentum => SgdConfig::new()
            .with_weight_decay(weight_decay)
            .with_momentum(Some(
                MomentumConfig::new()
                    .with_momentum(settings.momentum)
                    .with_dampening(0.0),
            ))
            .init(),
    }
}

/// With the settings' `balance_classes`, the training loss's weight of each of `classes` that
/// makes every class with rows count the same: a class's weight is the rows (`labels`, one a
/// training row) over the classes with rows times its own rows (1 for a class without rows).
/// `None` when balancing is off or the classes have as many rows each.
pub(crate) fn class_weights(
    settings: &TrainingSettings,
    labels: &[usize],
    classes: usize,
) -> Option<Vec<f32>> {
    let mut counts = vec![0usize; classes];
    for &label in labels {
        counts[label] += 1;
    }
    let present: Vec<usize> = counts.iter().copied().filter(|&count| count > 0).collect();
    if !settings.balance_classes || present.windows(2).all(|pair| pair[0] == pair[1]) {
        return None;
    }
    let share = labels.len() as f32 / present.len() as f32;
    Some(
        counts
            .iter()
            .map(|&count| {
                if count == 0 {
                    1.0
                } else {
                    share / count as f32
                }
            })
            .collect(),
    )
}

/// The loss training minimizes: cross-entropy on logits, with the settings' label smoothing
/// and each class's weight (see [`class_weights`]).
pub(crate) fn training_loss(
    settings: &TrainingSettings,
    class_weights: Option<Vec<f32>>,
    device: &Device,
) -> CrossEntropyLoss {
    CrossEntropyLossConfig::new()
        .with_smoothing((settings.label_smoothing > 0.0).then_some(settings.label_smoothing as f32))
        .with_weights(class_weights)
        .init(device)
}

/// Mean loss and accuracy of `head` on a labeled set, with one device read.
pub async fn measure(
    head: &ClassifierHead,
    embeddings: &Tensor<2>,
    labels: &Tensor<1, Int>,
) -> Result<Metrics, ExecutionError> {
    metrics_of(head.forward(embeddings.clone()), labels).await
}

/// Mean cross-entropy and accuracy of `logits` against `labels`, with one device read.
pub async fn metrics_of(
    logits: Tensor<2>,
    labels: &Tensor<1, Int>,
) -> Result<Metrics, ExecutionError> {
    let count = labels.dims()[0] as f32;
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits.clone(), labels.clone());
    let correct = logits
        .argmax(1)
        .flatten::<1>(0, 1)
        .equal(labels.clone())
        .float()
        .sum();
    // Two values: the loss and the count of right answers.
    let values: Vec<f32> = read_values(Tensor::cat(vec![loss, correct], 0)).await?;
    Ok(Metrics {
        loss: values[0],
        accuracy: values[1] / count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::stratified_split;

    #[test]
    fn dropout_zeroes_its_share_scales_the_rest_and_follows_the_seed() {
        let device = Device::flex();
        let mask = |seed: u64, dropout: f64| {
            let mut rng = StdRng::seed_from_u64(seed);
            dropout_mask(&mut rng, dropout, 16, &device)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let dropped = mask(7, 0.2);
        assert_eq!(dropped.len(), 16 * EMBEDDING_DIM);
        let zeros = dropped.iter().filter(|&&m| m == 0.0).count() as f64 / dropped.len() as f64;
        assert!((zeros - 0.2).abs() < 0.01, "{zeros}");
        assert!(dropped.iter().all(|&m| m == 0.0 || m == 1.25));
        assert_eq!(dropped, mask(7, 0.2));
        assert_ne!(dropped, mask(8, 0.2));
        assert!(mask(7, 0.0).iter().all(|&m| m == 1.0));
        let heavy = mask(7, 0.9);
        let kept = heavy.iter().filter(|&&m| m > 0.0).count() as f64 / heavy.len() as f64;
        assert!((kept - 0.1).abs() < 0.01, "{kept}");
    }

    fn weights(head: &ClassifierHead) -> Vec<f32> {
        head.linear
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn the_seed_alone_decides_the_initial_head() {
        let device = Device::flex();
        let config = HeadConfig::new(3);
        let first = weights(&config.init(5, &device));
        assert_eq!(first, weights(&config.init(5, &device)));
        assert_ne!(first, weights(&config.init(6, &device)));
        let bound = 1.0 / 1280f32.sqrt();
        assert!(first.iter().all(|w| w.abs() <= bound));
        assert_eq!(first.len(), 1280 * 3);
    }

    /// The validation part of the split the page makes with `settings` (no test part).
    fn validation_of(examples: &[LabeledEmbedding], settings: &TrainingSettings) -> Vec<usize> {
        let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
        stratified_split(&labels, settings.validation_fraction, 0.0, settings.seed).validation
    }

    fn example(label: usize) -> LabeledEmbedding {
        LabeledEmbedding {
            embedding: vec![label as f32; EMBEDDING_DIM].try_into().unwrap(),
            label,
        }
    }

    #[test]
    fn augmented_views_train_under_their_photos_label_and_only_beside_training_photos() {
        let examples: Vec<LabeledEmbedding> = (0..10).map(|i| example(i % 2)).collect();
        let settings = TrainingSettings {
            validation_fraction: 0.2,
            ..TrainingSettings::default()
        };
        let split = stratified_split(&[0, 1, 0, 1, 0, 1, 0, 1, 0, 1], 0.2, 0.0, settings.seed);
        // Two views of every photo, each embedded as its photo's class 5 (a value no photo has).
        let views: Vec<AugmentedView> = (0..10)
            .flat_map(|example| {
                (0..2).map(move |_| AugmentedView {
                    example,
                    embedding: vec![5.0 + example as f32; EMBEDDING_DIM]
                        .try_into()
                        .unwrap(),
                })
            })
            .collect();
        let trainer = HeadTrainer::new(
            &examples,
            &split.validation,
            &views,
            2,
            settings,
            &Device::flex(),
        )
        .unwrap();
        assert_eq!(
            trainer.split_sizes(),
            SplitSizes {
                train: 8,
                views: 16,
                validation: 2
            }
        );
        let labels = trainer.train.labels.clone().into_data().convert::<i64>();
        let labels = labels.try_to_vec::<i64>().unwrap();
        // The rows are kept less their mean.
        let embeddings = trainer.train.embeddings.clone().inner() + trainer.mean.clone();
        let embeddings = embeddings.into_data().try_to_vec::<f32>().unwrap();
        for (row, label) in labels.iter().enumerate().skip(8) {
            // Each view row is its photo's: the photo's label, and never a validation photo's.
            let example = (embeddings[row * EMBEDDING_DIM] - 5.0).round() as usize;
            assert_eq!(*label as usize, example % 2);
            assert!(split.train.contains(&example));
        }
    }

    #[test]
    fn training_needs_two_classes_with_photos_and_labels_that_name_one() {
        let new = |examples: &[LabeledEmbedding], classes| {
            HeadTrainer::new(
                examples,
                &[],
                &[],
                classes,
                TrainingSettings::default(),
                &Device::flex(),
            )
        };
        assert!(matches!(
            new(&vec![example(0); 4], 2),
            Err(TrainingError::TooFewClasses)
        ));
        assert!(matches!(
            new(&[example(0), example(1), example(2)], 2),
            Err(TrainingError::LabelOutOfRange(2))
        ));
    }

    #[test]
    fn label_smoothing_gives_every_class_its_share_of_the_target() {
        let device = Device::flex();
        let logits = [2.0f32, 0.0, -1.0];
        let loss = |smoothing: f64| {
            let settings = TrainingSettings {
                label_smoothing: smoothing,
                ..TrainingSettings::default()
            };
            let input = Tensor::<2>::from_data(TensorData::new(logits.to_vec(), [1, 3]), &device);
            let label = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64], [1]), &device);
            let loss = training_loss(&settings, None, &device).forward(input, label);
            loss.into_data().try_to_vec::<f32>().unwrap()[0]
        };
        // By hand: -sum_k target_k * log softmax_k, target = (1 - a) * one-hot + a / 3.
        let log_sum_exp = logits.iter().map(|z| z.exp()).sum::<f32>().ln();
        let by_hand = |a: f32| -> f32 {
            let target = [1.0 - a + a / 3.0, a / 3.0, a / 3.0];
            -(0..3)
                .map(|k| target[k] * (logits[k] - log_sum_exp))
                .sum::<f32>()
        };
        assert!(
            (loss(0.0) - by_hand(0.0)).abs() < 1e-5,
            "{} vs {}",
            loss(0.0),
            by_hand(0.0)
        );
        assert!(
            (loss(0.3) - by_hand(0.3)).abs() < 1e-5,
            "{} vs {}",
            loss(0.3),
            by_hand(0.3)
        );
        assert!(
            loss(0.3) > loss(0.0),
            "a confident right answer costs more with smoothing"
        );
    }

    #[test]
    fn balancing_weighs_each_class_by_the_inverse_of_its_rows_and_evens_out_a_large_class() {
        let settings = TrainingSettings::default();
        // 6 rows in 3 classes with rows: 2 a class is even, class 3 has none.
        assert_eq!(
            class_weights(&settings, &[0, 0, 0, 1, 2, 2], 4),
            Some(vec![2.0 / 3.0, 2.0, 1.0, 1.0])
        );
        assert_eq!(class_weights(&settings, &[0, 1, 1, 0], 2), None);
        let unbalanced = TrainingSettings {
            balance_classes: false,
            ..settings.clone()
        };
        assert_eq!(class_weights(&unbalanced, &[0, 0, 0, 1], 2), None);

        // 20 photos of class 0 and 2 of class 1 that overlap (ten values say how much of class
        // 1 a photo shows: class 0 from 0 to 0.95, class 1 0.5 and 1), in a run long and fast
        // enough to fit them: a new photo halfway gets a higher probability of class 1 when
        // the classes are balanced.
        let embedding = |signal: f32| -> crate::embedding::Embedding {
            (0..EMBEDDING_DIM)
                .map(|d| if d < 10 { signal } else { 0.3 })
                .collect::<Vec<f32>>()
                .try_into()
                .unwrap()
        };
        let examples: Vec<LabeledEmbedding> = (0..22)
            .map(|i| LabeledEmbedding {
                embedding: embedding(if i < 20 {
                    i as f32 / 20.0
                } else {
                    (i - 19) as f32 / 2.0
                }),
                label: usize::from(i >= 20),
            })
            .collect();
        let device = Device::flex();
        let new_photos = [embedding(0.75)];
        let class_1_probability = |settings: TrainingSettings| -> f32 {
            let mut trainer = HeadTrainer::new(&examples, &[], &[], 2, settings, &device).unwrap();
            while !trainer.is_finished() {
                pollster::block_on(trainer.run_epoch()).unwrap();
            }
            let probabilities = pollster::block_on(crate::inference::classify(
                &trainer.head(),
                &new_photos,
                &device,
            ))
            .unwrap();
            probabilities.iter().map(|p| p[1]).sum::<f32>() / new_photos.len() as f32
        };
        let fitting = |balance_classes| TrainingSettings {
            epochs: 200,
            optimizer: OptimizerSettings {
                learning_rate: 0.01,
                ..OptimizerSettings::default()
            },
            balance_classes,
            ..TrainingSettings::default()
        };
        let (balanced, plain) = (
            class_1_probability(fitting(true)),
            class_1_probability(fitting(false)),
        );
        assert!(
            balanced > plain + 0.05,
            "balanced {balanced} against {plain}"
        );
    }

    #[test]
    fn weight_decay_keeps_weights_smaller_and_sgd_with_momentum_learns() {
        // Each photo its own pattern, its class a small shift of ten values: the start at the
        // centroids is far from right, and the head must learn.
        let examples: Vec<LabeledEmbedding> = (0..12)
            .map(|i| LabeledEmbedding {
                embedding: (0..EMBEDDING_DIM)
                    .map(|d| {
                        ((i * 31 + d * 17) % 13) as f32 / 13.0
                            + (i % 2 * usize::from(d < 10)) as f32 * 0.1
                    })
                    .collect::<Vec<f32>>()
                    .try_into()
                    .unwrap(),
                label: i % 2,
            })
            .collect();
        let device = Device::flex();
        let train = |optimizer: OptimizerSettings| {
            let settings = TrainingSettings {
                epochs: 20,
                optimizer,
                ..TrainingSettings::default()
            };
            let validation = validation_of(&examples, &settings);
            let mut trainer =
                HeadTrainer::new(&examples, &validation, &[], 2, settings, &device).unwrap();
            let mut reports = Vec::new();
            while !trainer.is_finished() {
                reports.push(pollster::block_on(trainer.run_epoch()).unwrap());
            }
            let norm = weights(&trainer.head()).iter().map(|w| w * w).sum::<f32>();
            (reports, norm)
        };
        let (_, plain) = train(OptimizerSettings::default());
        let (_, decayed) = train(OptimizerSettings {
            weight_decay: 0.5,
            ..OptimizerSettings::default()
        });
        assert!(decayed < plain, "weight decay: {decayed} vs {plain}");

        let (reports, _) = train(OptimizerSettings {
            kind: OptimizerKind::SgdMomentum,
            learning_rate: 0.05,
            ..OptimizerSettings::default()
        });
        let (first, last) = (reports[0], reports[reports.len() - 1]);
        assert!(last.train.loss < first.train.loss, "{first:?} -> {last:?}");
        assert_eq!(last.train.accuracy, 1.0);
    }

    #[test]
    fn early_stopping_ends_the_run_and_keeps_the_epoch_of_lowest_validation_loss() {
        // Noisy labels: validation loss bottoms out early, then rises as the head memorizes.
        let examples: Vec<LabeledEmbedding> = (0..40)
            .map(|i| LabeledEmbedding {
                embedding: (0..EMBEDDING_DIM)
                    .map(|d| ((i * 31 + d * 17) % 13) as f32 / 13.0 - 0.5)
                    .collect::<Vec<f32>>()
                    .try_into()
                    .unwrap(),
                label: i % 2,
            })
            .collect();
        let device = Device::flex();
        let settings = TrainingSettings {
            epochs: 300,
            patience: 5,
            ..TrainingSettings::default()
        };
        let validation = validation_of(&examples, &settings);
        let mut trainer =
            HeadTrainer::new(&examples, &validation, &[], 2, settings, &device).unwrap();
        while !trainer.is_finished() {
            pollster::block_on(trainer.run_epoch()).unwrap();
        }
        assert!(
            trainer.patience_ran_out(),
            "ran all {} epochs",
            trainer.epochs_run()
        );
        let model =
            pollster::block_on(trainer.model(ModelVersion(1), vec!["a".into(), "b".into()]))
                .unwrap()
                .unwrap();
        let losses: Vec<f32> = model
            .history
            .iter()
            .map(|r| r.validation.unwrap().loss)
            .collect();
        let lowest = losses.iter().copied().fold(f32::INFINITY, f32::min);
        let best = losses.iter().position(|&l| l == lowest).unwrap() + 1;
        assert_eq!(
            model.history.len(),
            best + 5,
            "stopped 5 epochs after the best"
        );
        assert_eq!(model.restored_epoch, Some(best));
        assert_eq!(model.kept_epoch().unwrap().epoch, best);
        assert!(
            !model.stopped_early,
            "early stopping is not the student's Stop"
        );

        // The kept weights are the best epoch's: measuring them again gives its validation loss.
        let rebuilt = ClassifierHead::from_weights(model.weights.head().unwrap(), &device).unwrap();
        let validation = trainer.validation.as_ref().unwrap();
        let again = pollster::block_on(measure(
            &rebuilt,
            &validation.embeddings,
            &validation.labels,
        ))
        .unwrap();
        assert!(
            (again.loss - lowest).abs() < 1e-5,
            "{} vs {lowest}",
            again.loss
        );
    }

    #[test]
    fn a_model_exists_after_one_epoch_and_knows_it_was_stopped_early() {
        let examples: Vec<LabeledEmbedding> = (0..8).map(|i| example(i % 2)).collect();
        let settings = TrainingSettings {
            epochs: 3,
            ..TrainingSettings::default()
        };
        let device = Device::flex();
        let validation = validation_of(&examples, &settings);
        let mut trainer =
            HeadTrainer::new(&examples, &validation, &[], 2, settings, &device).unwrap();
        let names = vec!["a".to_string(), "b".to_string()];
        let model = |trainer: &HeadTrainer| {
            pollster::block_on(trainer.model(ModelVersion(4), names.clone())).unwrap()
        };
        assert_eq!(model(&trainer), None);
        pollster::block_on(trainer.run_epoch()).unwrap();
        let stopped = model(&trainer).unwrap();
        assert!(stopped.stopped_early);
        assert_eq!(stopped.last_epoch().unwrap().epoch, 1);
        assert_eq!(stopped.history.len(), 1);
        // Each held-back example is classified once, with one probability per class.
        assert_eq!(stopped.validation.len(), stopped.split.validation);
        assert!(
            stopped
                .validation
                .iter()
                .all(|p| p.probabilities.len() == 2 && examples[p.example].label == p.label)
        );
        assert_eq!(stopped.version, ModelVersion(4));

        // The plain weights rebuild the very same head.
        let rebuilt =
            ClassifierHead::from_weights(stopped.weights.head().unwrap(), &device).unwrap();
        assert_eq!(weights(&rebuilt), weights(&trainer.head()));
        while !trainer.is_finished() {
            pollster::block_on(trainer.run_epoch()).unwrap();
        }
        assert!(!model(&trainer).unwrap().stopped_early);
    }
}
