//! What a trained model got right and wrong on the validation photos: the confusion matrix and
//! per-class accuracy, computed from the model's validation predictions.

use crate::training::{ValidationPrediction, top1};

/// Counts of validation examples by true class (rows) and predicted class (columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    counts: Vec<Vec<usize>>,
}

impl ConfusionMatrix {
    /// Tallies predictions over `classes` classes; a prediction whose label or probabilities do
    /// not fit the classes is left out.
    pub fn new(classes: usize, predictions: &[ValidationPrediction]) -> Self {
        let pairs = predictions
            .iter()
            .filter(|prediction| prediction.probabilities.len() == classes)
            .map(|prediction| (prediction.label, prediction.predicted()));
        Self::of_pairs(classes, pairs)
    }

    /// Tallies (true class, predicted class) pairs over `classes` classes; a pair that does
    /// not fit the classes is left out.
    pub fn of_pairs(classes: usize, pairs: impl IntoIterator<Item = (usize, usize)>) -> Self {
        let mut counts = vec![vec![0; classes]; classes];
        for (truth, predicted) in pairs {
            if truth < classes && predicted < classes {
                counts[truth][predicted] += 1;
            }
        }
        Self { counts }
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.counts.len()
    }

    /// Examples of class `truth` predicted as `predicted`.
    pub fn count(&self, truth: usize, predicted: usize) -> usize {
        self.counts[truth][predicted]
    }

    /// All examples counted.
    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// Share of class `truth`'s examples predicted right; `None` when it has none.
    pub fn class_accuracy(&self, truth: usize) -> Option<f32> {
        let row: usize = self.counts[truth].iter().sum();
        (row > 0).then(|| self.counts[truth][truth] as f32 / row as f32)
    }
}

impl ValidationPrediction {
    /// The class the model chose.
    pub fn predicted(&self) -> usize {
        top1(&self.probabilities).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prediction(example: usize, label: usize, probabilities: &[f32]) -> ValidationPrediction {
        ValidationPrediction {
            example,
            label,
            probabilities: probabilities.to_vec(),
        }
    }

    #[test]
    fn counts_each_example_once_in_its_true_row_and_predicted_column() {
        let predictions = [
            prediction(0, 0, &[0.8, 0.1, 0.1]),
            prediction(1, 0, &[0.2, 0.7, 0.1]),
            prediction(2, 1, &[0.1, 0.6, 0.3]),
            prediction(3, 1, &[0.1, 0.6, 0.3]),
            prediction(4, 2, &[0.5, 0.2, 0.3]),
            prediction(5, 7, &[0.5, 0.2, 0.3]),
            prediction(6, 0, &[1.0]),
        ];
        let matrix = ConfusionMatrix::new(3, &predictions);
        assert_eq!(matrix.total(), 5, "the two that fit no class are left out");
        assert_eq!(matrix.count(0, 0), 1);
        assert_eq!(matrix.count(0, 1), 1);
        assert_eq!(matrix.count(1, 1), 2);
        assert_eq!(matrix.count(2, 0), 1);
        assert_eq!(matrix.class_accuracy(0), Some(0.5));
        assert_eq!(matrix.class_accuracy(1), Some(1.0));
        assert_eq!(matrix.class_accuracy(2), Some(0.0));
        assert_eq!(ConfusionMatrix::new(2, &[]).class_accuracy(0), None);
    }
}
