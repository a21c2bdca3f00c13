//! The seeded, stratified train/validation split.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Indices into a list of examples, split into training and validation parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Examples the head learns from.
    pub train: Vec<usize>,
    /// Examples held back to measure generalization during training.
    pub validation: Vec<usize>,
}

/// Splits example indices per class: each class with at least two examples gives
/// `round(n * validation_fraction)` of them (at least one, never all) to validation.
/// The same labels, fraction and seed always give the same split.
pub fn stratified_split(labels: &[usize], validation_fraction: f64, seed: u64) -> Split {
    let mut rng = StdRng::seed_from_u64(seed);
    let num_classes = labels.iter().max().map_or(0, |max| max + 1);
    let mut split = Split {
        train: Vec::new(),
        validation: Vec::new(),
    };
    for class in 0..num_classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        members.shuffle(&mut rng);
        let n = members.len();
        let wanted = (n as f64 * validation_fraction).round() as usize;
        let n_validation = if n < 2 || validation_fraction <= 0.0 {
            0
        } else {
            wanted.clamp(1, n - 1)
        };
        split.validation.extend_from_slice(&members[..n_validation]);
        split.train.extend_from_slice(&members[n_validation..]);
    }
    split.train.sort_unstable();
    split.validation.sort_unstable();
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_disjoint_and_complete() {
        let labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2];
        let split = stratified_split(&labels, 0.2, 7);
        let count =
            |indices: &[usize], class| indices.iter().filter(|&&i| labels[i] == class).count();
        assert_eq!(
            [
                count(&split.validation, 0),
                count(&split.validation, 1),
                count(&split.validation, 2)
            ],
            [1, 1, 2]
        );
        let mut all: Vec<usize> = split
            .train
            .iter()
            .chain(&split.validation)
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..labels.len()).collect::<Vec<_>>());
    }

    #[test]
    fn split_is_deterministic_per_seed() {
        let labels: Vec<usize> = (0..60).map(|i| i % 3).collect();
        assert_eq!(
            stratified_split(&labels, 0.25, 1),
            stratified_split(&labels, 0.25, 1)
        );
        assert_ne!(
            stratified_split(&labels, 0.25, 1),
            stratified_split(&labels, 0.25, 2)
        );
    }

    #[test]
    fn tiny_classes_keep_a_training_example() {
        let split = stratified_split(&[0, 1, 1], 0.5, 3);
        assert_eq!(split.validation.len(), 1);
        assert!(split.train.contains(&0));
        assert_eq!(
            stratified_split(&[0, 0, 1, 1], 0.0, 3).validation,
            Vec::<usize>::new()
        );
    }
}
