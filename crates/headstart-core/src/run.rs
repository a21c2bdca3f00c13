//! A training run as the page and the command line both specify it: [`RunSpec`] says which way
//! trains, on which classes, which examples validate it and with which settings; [`TrainingExamples`]
//! is what it trains on, by its way's family. The page sends both to a worker in one
//! `Request::Train`; the worker and the command line both run them with [`RunSpec::train`], the
//! one place where each family of ways starts.

use crate::dataset::Validation;
use crate::embedding::LabeledEmbedding;
use crate::training::{AugmentedView, ModelVersion, TrainingSettings, Way, WayFamily};
use serde::{Deserialize, Serialize};

#[cfg(feature = "model")]
use crate::{
    backbone::EfficientNetLite0,
    cross_validation::FoldedHeadTrainer,
    head::{HeadTrainer, train_to_end},
    inference::network_input,
    neighbours::fit_model,
    training::{EpochReport, TrainedModel, TrainingError},
    tune::{TuneTrainer, frozen_blocks},
};
#[cfg(feature = "model")]
use burn::tensor::{Device, Tensor};

/// One training run: the way that trains, the model's version and class names (in label order),
/// how the run's examples validate it (test photos are never among them), and the settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The way to train.
    pub way: Way,
    /// The version the model will carry.
    pub version: ModelVersion,
    /// Class names in label order.
    pub class_names: Vec<String>,
    /// Which examples validate: held out, or by folds (the ways on embeddings only).
    pub validation: Validation,
    /// The run's settings (kept with the model).
    pub settings: TrainingSettings,
}

/// What a run trains on, as it travels: the examples' embeddings for the ways on the frozen
/// backbone, their labels alone for the network ways (whose model inputs travel beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TrainingExamples {
    /// Each example's embedding and label, and augmented views of examples (a new head trains
    /// on those of its training examples; the other ways get none).
    Embeddings {
        /// The training and validation examples.
        examples: Vec<LabeledEmbedding>,
        /// Augmented views of examples.
        views: Vec<AugmentedView>,
    },
    /// Each example's class; the examples' model inputs are attached, in the same order.
    ModelInputs {
        /// One class per example.
        labels: Vec<usize>,
    },
}

impl TrainingExamples {
    /// What a run of `way` carries: `embeddings` makes the examples' embeddings and views for
    /// the ways on the frozen backbone (only a new head keeps views); a network way carries
    /// the `labels`.
    pub fn for_way(
        way: Way,
        labels: Vec<usize>,
        embeddings: impl FnOnce() -> (Vec<LabeledEmbedding>, Vec<AugmentedView>),
    ) -> Self {
        match way.family() {
            WayFamily::NoGradient(_) => Self::Embeddings {
                examples: embeddings().0,
                views: Vec::new(),
            },
            WayFamily::NewHead => {
                let (examples, views) = embeddings();
                Self::Embeddings { examples, views }
            }
            WayFamily::Network(_) => Self::ModelInputs { labels },
        }
    }

    /// Whether the examples' model inputs travel with it.
    pub fn needs_model_inputs(&self) -> bool {
        matches!(self, Self::ModelInputs { .. })
    }
}

/// What a run trains on once read on a device.
#[cfg(feature = "model")]
pub enum TrainingData {
    /// The examples' embeddings and augmented views.
    Embeddings {
        /// The training and validation examples.
        examples: Vec<LabeledEmbedding>,
        /// Augmented views of examples.
        views: Vec<AugmentedView>,
    },
    /// The input of the network's trained layers for each example (see
    /// [`RunSpec::network_input`]), in one batch, and each example's class.
    NetworkInputs {
        /// One input per example (boxed: a tensor is far larger than the other variant).
        inputs: Box<Tensor<4>>,
        /// One class per example.
        labels: Vec<usize>,
    },
}

#[cfg(feature = "model")]
impl RunSpec {
    /// What the trained layers of this run's network way take from a batch of model-input
    /// `images` (the frozen blocks' output, or the small images a network from scratch learns
    /// on); an error for a way that trains no network layers.
    pub fn network_input(
        &self,
        backbone: &EfficientNetLite0,
        images: Tensor<4>,
    ) -> Result<Tensor<4>, TrainingError> {
        match self.way.family() {
            WayFamily::Network(kind) => {
                let frozen = frozen_blocks(backbone, &self.settings.fine_tuning);
                Ok(network_input(backbone, images, kind, frozen))
            }
            WayFamily::NoGradient(_) | WayFamily::NewHead => {
                Err(TrainingError::ExamplesUnfit(self.way))
            }
        }
    }

    /// Trains this run's way on `data` on `device` (with the pretrained `backbone` the network
    /// ways start from): at once for a way without gradient, else epoch by epoch, reporting
    /// each to `on_epoch` and awaiting `between` after it, until all have run, early stopping
    /// ends it or `stop_requested`. `None` when stopped before the first epoch ended.
    pub async fn train<Pause: Future<Output = ()>>(
        self,
        data: TrainingData,
        backbone: &EfficientNetLite0,
        device: &Device,
        stop_requested: impl Fn() -> bool,
        on_epoch: impl FnMut(EpochReport),
        between: impl Fn() -> Pause,
    ) -> Result<Option<TrainedModel>, TrainingError> {
        let RunSpec {
            way,
            version,
            class_names,
            validation,
            settings,
        } = self;
        let classes = class_names.len();
        match (way.family(), data) {
            (WayFamily::NoGradient(kind), TrainingData::Embeddings { examples, .. }) => {
                check_labels(examples.iter().map(|example| example.label), classes)?;
                let model = fit_model(version, class_names, kind, &examples, &validation, settings);
                Ok(Some(model))
            }
            (WayFamily::NewHead, TrainingData::Embeddings { examples, views }) => {
                let Validation::HeldOut(held_out) = &validation else {
                    let parts = validation.parts();
                    let trainer =
                        FoldedHeadTrainer::new(examples, &parts, views, classes, settings, device)?;
                    return train_to_end(
                        trainer,
                        stop_requested,
                        on_epoch,
                        between,
                        version,
                        class_names,
                    )
                    .await;
                };
                let trainer =
                    HeadTrainer::new(&examples, held_out, &views, classes, settings, device)?;
                train_to_end(
                    trainer,
                    stop_requested,
                    on_epoch,
                    between,
                    version,
                    class_names,
                )
                .await
            }
            (WayFamily::Network(kind), TrainingData::NetworkInputs { inputs, labels }) => {
                check_labels(labels.iter().copied(), classes)?;
                let Validation::HeldOut(held_out) = &validation else {
                    return Err(TrainingError::FoldsUnfit(way));
                };
                let trainer = TuneTrainer::start(
                    kind, backbone, *inputs, &labels, held_out, classes, settings, device,
                )?;
                train_to_end(
                    trainer,
                    stop_requested,
                    on_epoch,
                    between,
                    version,
                    class_names,
                )
                .await
            }
            (WayFamily::NoGradient(_) | WayFamily::NewHead, TrainingData::NetworkInputs { .. })
            | (WayFamily::Network(_), TrainingData::Embeddings { .. }) => {
                Err(TrainingError::ExamplesUnfit(way))
            }
        }
    }
}

/// An error when a label names no class.
#[cfg(feature = "model")]
fn check_labels(
    mut labels: impl Iterator<Item = usize>,
    classes: usize,
) -> Result<(), TrainingError> {
    match labels.find(|&label| label >= classes) {
        Some(label) => Err(TrainingError::LabelOutOfRange(label)),
        None => Ok(()),
    }
}

#[cfg(all(test, feature = "model"))]
mod tests {
    use super::*;
    use crate::backbone::BackboneConfig;
    use crate::neighbour_model::tests::example;

    fn spec(way: Way) -> RunSpec {
        RunSpec {
            way,
            version: ModelVersion(7),
            class_names: vec!["a".into(), "b".into()],
            validation: Validation::HeldOut(vec![3]),
            settings: TrainingSettings::default(),
        }
    }

    fn embeddings(labels: [usize; 4]) -> TrainingData {
        TrainingData::Embeddings {
            examples: labels
                .iter()
                .enumerate()
                .map(|(i, &label)| example(label, 1.0 + i as f32, 0.0, label))
                .collect(),
            views: Vec::new(),
        }
    }

    /// Trains `spec` on `data` to its end, nothing stopping it.
    fn train(spec: RunSpec, data: TrainingData) -> Result<Option<TrainedModel>, TrainingError> {
        let device = Device::flex();
        let backbone = BackboneConfig::new().init(&device).folded();
        let run = spec.train(data, &backbone, &device, || false, |_| {}, || async {});
        pollster::block_on(run)
    }

    #[test]
    fn each_way_carries_what_its_family_trains_on() {
        let labels = vec![0, 1, 0];
        let made = || (vec![example(0, 1.0, 0.0, 0)], vec![]);
        for way in Way::ALL {
            let examples = TrainingExamples::for_way(way, labels.clone(), made);
            let network = matches!(way.family(), WayFamily::Network(_));
            assert_eq!(examples.needs_model_inputs(), network, "{way:?}");
        }
    }

    #[test]
    fn a_way_without_gradient_fits_at_once_and_refuses_what_it_cannot_train_on() {
        let model = train(spec(Way::Centroid), embeddings([0, 1, 0, 1]))
            .unwrap()
            .expect("a model");
        assert_eq!(model.version, ModelVersion(7));
        assert_eq!(model.weights.way(), Way::Centroid);
        assert_eq!(model.split.validation, 1, "example 3 validates");

        assert_eq!(
            train(spec(Way::Knn), embeddings([0, 1, 0, 2])),
            Err(TrainingError::LabelOutOfRange(2)),
            "a label past the classes is an error, not a panic"
        );
        let inputs = TrainingData::NetworkInputs {
            inputs: Box::new(Tensor::zeros([4, 3, 8, 8], &Device::flex())),
            labels: vec![0, 1, 0, 1],
        };
        assert_eq!(
            train(spec(Way::Frozen), inputs),
            Err(TrainingError::ExamplesUnfit(Way::Frozen))
        );
        assert_eq!(
            train(spec(Way::Lora), embeddings([0, 1, 0, 1])),
            Err(TrainingError::ExamplesUnfit(Way::Lora))
        );
    }
}
