//! An off-the-shelf classifier (see [`crate::neighbour_model`]) made the way a training run makes
//! a model: from the run's training examples, measured on its validation ones, with no epochs.

use crate::embedding::LabeledEmbedding;
use crate::training::{
    ModelVersion, ModelWeights, SplitSizes, TrainedModel, TrainingSettings, ValidationPrediction,
};

// The classifiers themselves, where the page, the workers and the command line find them.
pub use crate::neighbour_model::{DEFAULT_K, NeighbourKind, NeighbourModel};

/// The model of `kind` made from the examples not at the `validation` indices, with how it
/// classified those that are. Its version and class names are the run's.
pub fn fit_model(
    version: ModelVersion,
    class_names: Vec<String>,
    kind: NeighbourKind,
    examples: &[LabeledEmbedding],
    validation: &[usize],
    settings: TrainingSettings,
) -> TrainedModel {
    let train: Vec<LabeledEmbedding> = examples
        .iter()
        .enumerate()
        .filter(|(i, _)| !validation.contains(i))
        .map(|(_, e)| e.clone())
        .collect();
    let model = NeighbourModel::fit(kind, &train, class_names.len());
    let validation_predictions = validation
        .iter()
        .filter_map(|&i| {
            let held_back = examples.get(i)?;
            Some(ValidationPrediction {
                example: i,
                label: held_back.label,
                probabilities: model.probabilities(&held_back.embedding),
            })
        })
        .collect::<Vec<_>>();
    TrainedModel {
        version,
        class_names,
        settings,
        split: SplitSizes {
            train: train.len(),
            views: 0,
            validation: validation_predictions.len(),
        },
        history: Vec::new(),
        stopped_early: false,
        restored_epoch: None,
        validation: validation_predictions,
        weights: ModelWeights::Neighbours(model),
        trainable_params: 0,
        training_ms: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbour_model::tests::example;

    #[test]
    fn validation_photos_measure_the_classifier_and_never_make_it() {
        let examples = [
            example(0, 1.0, 0.0, 0),
            example(1, 1.0, 0.0, 1),
            // Held back: a class-1 photo that looks like class 0, and a plain class-0 photo.
            example(0, 1.0, 0.01, 1),
            example(0, 2.0, 0.0, 0),
        ];
        let fit = |kind, validation: &[usize]| {
            let names = vec!["a".to_string(), "b".to_string()];
            let settings = TrainingSettings::default();
            fit_model(
                ModelVersion(1),
                names,
                kind,
                &examples,
                validation,
                settings,
            )
        };
        let model = fit(NeighbourKind::Knn { k: 1 }, &[2, 3]);
        let ModelWeights::Neighbours(NeighbourModel::Knn { examples: kept, .. }) = &model.weights
        else {
            unreachable!()
        };
        assert_eq!(kept.len(), 2);
        assert_eq!(model.validation_accuracy(), Some(0.5));
        assert_eq!((model.split.train, model.split.validation), (2, 2));
        assert_eq!(
            fit(NeighbourKind::Centroid, &[]).validation_accuracy(),
            None
        );
    }
}
