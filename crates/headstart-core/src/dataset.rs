//! The seeded, stratified train / validation / test split.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Indices into a list of examples, split into three parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// Examples the model learns from.
    pub train: Vec<usize>,
    /// Examples held back to measure generalization during training (curves, early stopping).
    pub validation: Vec<usize>,
    /// Examples held back until the final test: nothing during training looks at them.
    pub test: Vec<usize>,
}

/// What a training run sees of a [`Split`]: its training and validation examples together in
/// index order, and where the validation and the training ones are among them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunExamples {
    /// Indices of the training and validation examples, ascending.
    pub examples: Vec<usize>,
    /// Positions in `examples` of the validation examples.
    pub validation: Vec<usize>,
    /// Positions in `examples` of the training examples.
    pub train: Vec<usize>,
}

impl Split {
    /// The examples a training run sees (never the test ones).
    pub fn run_examples(&self) -> RunExamples {
        let mut examples: Vec<usize> = self.train.iter().chain(&self.validation).copied().collect();
        examples.sort_unstable();
        // Cannot fail: `examples` is made of the very indices looked up.
        let positions = |part: &[usize]| {
            part.iter()
                .map(|i| examples.binary_search(i).expect("a run example"))
                .collect()
        };
        RunExamples {
            validation: positions(&self.validation),
            train: positions(&self.train),
            examples,
        }
    }
}

/// How many of `n` examples a `fraction` asks for when `available` may be given: at least one
/// (for a positive fraction) while one is left over for training, never more.
fn part(n: usize, fraction: f64, available: usize) -> usize {
    if fraction <= 0.0 || available < 2 {
        return 0;
    }
    ((n as f64 * fraction).round() as usize).clamp(1, available - 1)
}

/// Splits example indices per class: validation takes `round(n * validation_fraction)` of a
/// class's examples and test `round(n * test_fraction)`, each at least one while at least one
/// example is left for training (validation first, so a tiny class gives up test examples
/// first). The same labels, fractions and seed always give the same split; with no test share
/// the validation part is the same as with any.
pub fn stratified_split(
    labels: &[usize],
    validation_fraction: f64,
    test_fraction: f64,
    seed: u64,
) -> Split {
    let mut rng = StdRng::seed_from_u64(seed);
    let num_classes = labels.iter().max().map_or(0, |max| max + 1);
    let mut split = Split::default();
    for class in 0..num_classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        members.shuffle(&mut rng);
        let n = members.len();
        let n_validation = part(n, validation_fraction, n);
        let n_test = part(n, test_fraction, n - n_validation);
        let (validation, rest) = members.split_at(n_validation);
        let (test, train) = rest.split_at(n_test);
        split.validation.extend_from_slice(validation);
        split.test.extend_from_slice(test);
        split.train.extend_from_slice(train);
    }
    split.train.sort_unstable();
    split.validation.sort_unstable();
    split.test.sort_unstable();
    split
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_run_sees_training_and_validation_examples_in_order_and_knows_which_is_which() {
        let split = super::Split {
            train: vec![0, 3, 5],
            validation: vec![1, 6],
            test: vec![2, 4],
        };
        let run = split.run_examples();
        assert_eq!(run.examples, [0, 1, 3, 5, 6]);
        assert_eq!(run.validation, [1, 4]);
        assert_eq!(run.train, [0, 2, 3]);
    }

    use super::*;

    #[test]
    fn split_is_stratified_disjoint_and_complete() {
        let labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2];
        let split = stratified_split(&labels, 0.2, 0.2, 7);
        let count =
            |indices: &[usize], class| indices.iter().filter(|&&i| labels[i] == class).count();
        let per_class = |indices: &[usize]| [0, 1, 2].map(|class| count(indices, class));
        assert_eq!(per_class(&split.validation), [1, 1, 2]);
        assert_eq!(per_class(&split.test), [1, 1, 2]);
        assert_eq!(per_class(&split.train), [3, 3, 6]);
        // No example in two parts, none left out.
        let mut all: Vec<usize> = split
            .train
            .iter()
            .chain(&split.validation)
            .chain(&split.test)
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..labels.len()).collect::<Vec<_>>());
        // A test share leaves the validation part as it was.
        assert_eq!(
            stratified_split(&labels, 0.2, 0.0, 7).validation,
            split.validation
        );
    }

    #[test]
    fn split_is_deterministic_per_seed() {
        let labels: Vec<usize> = (0..60).map(|i| i % 3).collect();
        assert_eq!(
            stratified_split(&labels, 0.25, 0.2, 1),
            stratified_split(&labels, 0.25, 0.2, 1)
        );
        assert_ne!(
            stratified_split(&labels, 0.25, 0.2, 1),
            stratified_split(&labels, 0.25, 0.2, 2)
        );
    }

    #[test]
    fn tiny_classes_keep_a_training_example() {
        let split = stratified_split(&[0, 1, 1], 0.5, 0.5, 3);
        assert_eq!(split.validation.len(), 1);
        assert!(
            split.test.is_empty(),
            "two photos: one to validation, one to train"
        );
        assert!(split.train.contains(&0));
        let split = stratified_split(&[0, 0, 0], 0.2, 0.2, 3);
        assert_eq!(
            (split.train.len(), split.validation.len(), split.test.len()),
            (1, 1, 1)
        );
        assert_eq!(
            stratified_split(&[0, 0, 1, 1], 0.0, 0.0, 3).validation,
            Vec::<usize>::new()
        );
    }
}
