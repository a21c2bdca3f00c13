//! Cross-validation of a new head: with few photos, each fold of the run's examples in turn
//! validates a head trained on the other folds, all epoch by epoch together, so the curves
//! are the folds' mean with their spread; then the model in use learns from every example for
//! as many epochs as the folds chose (all of them, or early stopping's best).

use crate::head::{ClassifierHead, EpochTrainer, HeadTrainer, Progress, compute_error};
use crate::training::{
    AugmentedView, EpochReport, LabeledEmbedding, Metrics, ModelVersion, ModelWeights, SplitSizes,
    TrainedModel, TrainingError, TrainingSettings, mean_and_spread, prediction_accuracy,
};
use burn::module::Module;
use burn::tensor::Device;

/// Trains one head per fold and, at the end, the head of the model in use on every example.
pub struct FoldedHeadTrainer {
    /// One trainer per fold, validated by that fold (none of them stops early itself).
    folds: Vec<HeadTrainer>,
    /// The folds' mean metrics, and with early stopping every fold's head at the best epoch.
    progress: Progress<Vec<ClassifierHead>>,
    examples: Vec<LabeledEmbedding>,
    views: Vec<AugmentedView>,
    classes: usize,
    settings: TrainingSettings,
    device: Device,
}

impl FoldedHeadTrainer {
    /// One head per fold (`parts` are the examples each fold validates), trained on the other
    /// examples and their views; `device` is the plain compute device.
    pub fn new(
        examples: Vec<LabeledEmbedding>,
        parts: &[Vec<usize>],
        views: Vec<AugmentedView>,
        classes: usize,
        settings: TrainingSettings,
        device: &Device,
    ) -> Result<Self, TrainingError> {
        let fold_settings = TrainingSettings {
            patience: 0,
            ..settings.clone()
        };
        let folds = parts
            .iter()
            .map(|part| {
                HeadTrainer::new(
                    &examples,
                    part,
                    &views,
                    classes,
                    fold_settings.clone(),
                    device,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            folds,
            progress: Progress::new(&settings),
            examples,
            views,
            classes,
            settings,
            device: device.clone(),
        })
    }

    /// The head of the model in use: trained on every example and view for `epochs` epochs.
    async fn head_on_every_example(&self, epochs: usize) -> Result<HeadTrainer, TrainingError> {
        let settings = TrainingSettings {
            epochs,
            patience: 0,
            ..self.settings.clone()
        };
        let mut trainer = HeadTrainer::new(
            &self.examples,
            &[],
            &self.views,
            self.classes,
            settings,
            &self.device,
        )?;
        while !trainer.is_finished() {
            trainer.run_epoch().await?;
        }
        Ok(trainer)
    }
}

/// The mean and the standard deviation of `metrics`, loss and accuracy each.
fn metrics_mean_and_spread(metrics: &[Metrics]) -> (Metrics, Metrics) {
    let losses: Vec<f32> = metrics.iter().map(|m| m.loss).collect();
    let accuracies: Vec<f32> = metrics.iter().map(|m| m.accuracy).collect();
    let (loss, loss_spread) = mean_and_spread(&losses);
    let (accuracy, accuracy_spread) = mean_and_spread(&accuracies);
    (
        Metrics { loss, accuracy },
        Metrics {
            loss: loss_spread,
            accuracy: accuracy_spread,
        },
    )
}

impl EpochTrainer for FoldedHeadTrainer {
    fn is_finished(&self) -> bool {
        self.progress.is_finished()
    }

    async fn run_epoch(&mut self) -> Result<EpochReport, TrainingError> {
        let mut train = Vec::with_capacity(self.folds.len());
        let mut validation = Vec::with_capacity(self.folds.len());
        for fold in &mut self.folds {
            let report = fold.run_epoch().await?;
            train.push(report.train);
            validation.extend(report.validation);
        }
        let (train, _) = metrics_mean_and_spread(&train);
        let (mean, spread) = metrics_mean_and_spread(&validation);
        let folds = &self.folds;
        Ok(self
            .progress
            .finish_epoch(train, Some(mean), Some(spread), || {
                folds.iter().map(HeadTrainer::head).collect()
            }))
    }

    async fn model(
        &self,
        version: ModelVersion,
        class_names: Vec<String>,
    ) -> Result<Option<TrainedModel>, TrainingError> {
        if self.progress.history.is_empty() {
            return Ok(None);
        }
        let heads = self
            .progress
            .kept(|| self.folds.iter().map(HeadTrainer::head).collect());
        let mut validation = Vec::with_capacity(self.examples.len());
        let mut fold_accuracies = Vec::with_capacity(self.folds.len());
        for (fold, head) in self.folds.iter().zip(&heads) {
            let predictions = fold.predictions(head).await?;
            fold_accuracies.push(prediction_accuracy(&predictions));
            validation.extend(predictions);
        }
        validation.sort_by_key(|prediction| prediction.example);
        let trainer = self
            .head_on_every_example(self.progress.kept_epoch_number())
            .await?;
        let head = trainer.head();
        Ok(Some(TrainedModel {
            version,
            class_names,
            settings: self.settings.clone(),
            split: SplitSizes {
                validation: validation.len(),
                ..trainer.split_sizes()
            },
            history: self.progress.history.clone(),
            stopped_early: !self.is_finished(),
            restored_epoch: self.progress.restored_epoch(),
            validation,
            weights: ModelWeights::Head(head.weights().await.map_err(compute_error)?),
            trainable_params: head.num_params(),
            training_ms: 0.0,
            fold_accuracies,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{MAX_FOLDS, Validation, stratified_folds};
    use crate::embedding::EMBEDDING_DIM;
    use crate::head::train_to_end;

    /// Two classes of `per_class` noisy examples each, a little apart.
    fn examples(per_class: usize) -> Vec<LabeledEmbedding> {
        (0..2 * per_class)
            .map(|i| LabeledEmbedding {
                embedding: (0..EMBEDDING_DIM)
                    .map(|d| {
                        let noise = ((i * 31 + d * 17) % 13) as f32 / 13.0 - 0.5;
                        noise + if d % 2 == i % 2 { 0.3 } else { 0.0 }
                    })
                    .collect::<Vec<f32>>()
                    .try_into()
                    .unwrap(),
                label: i % 2,
            })
            .collect()
    }

    fn run(settings: TrainingSettings, examples: &[LabeledEmbedding]) -> TrainedModel {
        let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
        let folds = stratified_folds(&labels, MAX_FOLDS, settings.seed).unwrap();
        let parts = Validation::Folds(folds).parts();
        let views = vec![AugmentedView {
            example: 0,
            embedding: examples[1].embedding.clone(),
        }];
        let device = Device::flex();
        let trainer =
            FoldedHeadTrainer::new(examples.to_vec(), &parts, views, 2, settings, &device).unwrap();
        let names = vec!["a".to_string(), "b".to_string()];
        let run = train_to_end(
            trainer,
            || false,
            |_| {},
            || async {},
            ModelVersion(1),
            names,
        );
        pollster::block_on(run).unwrap().unwrap()
    }

    /// The head weights of a head trained on every example (and the view) for `epochs`.
    fn trained_on_all(
        examples: &[LabeledEmbedding],
        settings: &TrainingSettings,
        epochs: usize,
    ) -> Vec<f32> {
        let views = vec![AugmentedView {
            example: 0,
            embedding: examples[1].embedding.clone(),
        }];
        let settings = TrainingSettings {
            epochs,
            patience: 0,
            ..settings.clone()
        };
        let mut trainer =
            HeadTrainer::new(examples, &[], &views, 2, settings, &Device::flex()).unwrap();
        while !trainer.is_finished() {
            pollster::block_on(trainer.run_epoch()).unwrap();
        }
        pollster::block_on(trainer.head().weights()).unwrap().weight
    }

    #[test]
    fn each_fold_validates_once_and_the_model_in_use_learns_from_every_example() {
        let examples = examples(4);
        let settings = TrainingSettings {
            epochs: 12,
            ..TrainingSettings::default()
        };
        let model = run(settings.clone(), &examples);
        // Four folds (the smallest class has four photos), each example validated once.
        assert_eq!(model.fold_accuracies.len(), 4);
        let validated: Vec<usize> = model.validation.iter().map(|p| p.example).collect();
        assert_eq!(validated, (0..8).collect::<Vec<_>>());
        assert_eq!(
            (model.split.train, model.split.views, model.split.validation),
            (8, 1, 8)
        );
        // The curves are the folds' mean, with their spread.
        assert_eq!(model.history.len(), 12);
        let last = model.last_epoch().unwrap();
        let (mean, _) = mean_and_spread(&model.fold_accuracies);
        assert!((last.validation.unwrap().accuracy - mean).abs() < 1e-6);
        assert!(last.validation_spread.is_some());
        // The model in use is the head trained on all eight photos and the view.
        let ModelWeights::Head(head) = &model.weights else {
            panic!("a head")
        };
        assert_eq!(head.weight, trained_on_all(&examples, &settings, 12));
    }

    #[test]
    fn early_stopping_on_the_folds_mean_sets_how_long_the_model_in_use_trains() {
        let examples = examples(6);
        let settings = TrainingSettings {
            epochs: 300,
            patience: 5,
            ..TrainingSettings::default()
        };
        let model = run(settings.clone(), &examples);
        let best = model
            .restored_epoch
            .expect("stopped at the folds' best epoch");
        assert_eq!(model.history.len(), best + 5);
        let losses: Vec<f32> = model
            .history
            .iter()
            .map(|r| r.validation.unwrap().loss)
            .collect();
        let lowest = losses.iter().copied().fold(f32::INFINITY, f32::min);
        assert_eq!(losses[best - 1], lowest);
        let ModelWeights::Head(head) = &model.weights else {
            panic!("a head")
        };
        assert_eq!(head.weight, trained_on_all(&examples, &settings, best));
    }
}
