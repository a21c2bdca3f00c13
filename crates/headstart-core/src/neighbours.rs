//! An off-the-shelf classifier (see [`crate::neighbour_model`]) made the way a training run makes
//! a model: from the run's training examples, measured on its validation ones (held out, or by
//! folds), with no epochs.

use crate::dataset::Validation;
use crate::embedding::LabeledEmbedding;
use crate::training::{
    ModelVersion, ModelWeights, SplitSizes, TrainedModel, TrainingSettings, ValidationPrediction,
    prediction_accuracy,
};

// The classifiers themselves, where the page, the workers and the command line find them.
pub use crate::neighbour_model::{DEFAULT_K, NeighbourKind, NeighbourModel};

/// The model of `kind` as `validation` says: made from the examples it does not hold out, with
/// how it classified those it does; or, by folds, made from every example, with how the model
/// of each fold (made from the other folds) classified that fold's examples. Its version and
/// class names are the run's.
pub fn fit_model(
    version: ModelVersion,
    class_names: Vec<String>,
    kind: NeighbourKind,
    examples: &[LabeledEmbedding],
    validation: &Validation,
    settings: TrainingSettings,
) -> TrainedModel {
    let Validation::Folds(_) = validation else {
        let held_out = validation.held_out();
        return fit_held_out(version, class_names, kind, examples, held_out, settings);
    };
    let mut predictions = Vec::with_capacity(examples.len());
    let mut fold_accuracies = Vec::new();
    for part in validation.parts() {
        let names = class_names.clone();
        let fold = fit_held_out(version, names, kind, examples, &part, settings.clone());
        fold_accuracies.push(prediction_accuracy(&fold.validation));
        predictions.extend(fold.validation);
    }
    predictions.sort_by_key(|prediction| prediction.example);
    let mut model = fit_held_out(version, class_names, kind, examples, &[], settings);
    model.split.validation = predictions.len();
    model.validation = predictions;
    model.fold_accuracies = fold_accuracies;
    model
}

/// The model of `kind` made from the examples not at the `validation` indices, with how it
/// classified those that are.
fn fit_held_out(
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
        fold_accuracies: Vec::new(),
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
                &Validation::HeldOut(validation.to_vec()),
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

    #[test]
    fn by_folds_every_example_is_validated_once_and_the_model_is_made_from_all() {
        // Two classes of three, apart on the first axis; example 2 sits with the other class.
        let examples = [
            example(0, 1.0, 0.0, 0),
            example(0, 1.1, 0.0, 0),
            example(0, -1.0, 0.1, 0),
            example(1, -1.0, 0.0, 1),
            example(1, -1.1, 0.0, 1),
            example(1, -0.9, 0.0, 1),
        ];
        let folds = Validation::Folds(vec![0, 1, 2, 0, 1, 2]);
        let names = vec!["a".to_string(), "b".to_string()];
        let settings = TrainingSettings::default();
        let model = fit_model(
            ModelVersion(1),
            names,
            NeighbourKind::Knn { k: 1 },
            &examples,
            &folds,
            settings,
        );
        let validated: Vec<usize> = model.validation.iter().map(|p| p.example).collect();
        assert_eq!(validated, [0, 1, 2, 3, 4, 5]);
        let ModelWeights::Neighbours(NeighbourModel::Knn { examples: kept, .. }) = &model.weights
        else {
            unreachable!()
        };
        assert_eq!(kept.len(), 6, "the model in use remembers every example");
        assert_eq!((model.split.train, model.split.validation), (6, 6));
        // Fold 2 holds the odd one out: it is the only fold with a mistake.
        assert_eq!(model.fold_accuracies, [1.0, 1.0, 0.5]);
        let (folds, spread) = model.fold_spread().unwrap();
        assert_eq!(folds, 3);
        assert!((spread - 0.2357).abs() < 1e-3, "{spread}");
        assert!((model.validation_accuracy().unwrap() - 2.5 / 3.0).abs() < 1e-6);
    }
}
