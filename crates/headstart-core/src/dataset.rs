//! The seeded, stratified train / validation / test split, and the folds of cross-validation.

use crate::training::{TrainingSettings, Way, WayFamily};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// While every class has at most this many photos, the ways on the frozen backbone's
/// embeddings validate by folds: a held-out fifth of so few photos is one or two photos a
/// class, and one mistake moves the figure by a third or more.
pub const FOLDS_UP_TO_PHOTOS: usize = 15;

/// Most folds a cross-validation makes (fewer when a class has fewer photos).
pub const MAX_FOLDS: usize = 5;

/// How a run measures its model on photos it did not learn from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Validation {
    /// The examples at these indices are held back and measure; the others train.
    HeldOut(Vec<usize>),
    /// k-fold cross-validation: the fold of each example. Each fold in turn measures a model
    /// trained on the other folds; then the model in use trains on every example.
    Folds(Vec<usize>),
}

impl Validation {
    /// The examples held back from the model in use (none after cross-validation, whose
    /// model learns from every example).
    pub fn held_out(&self) -> &[usize] {
        match self {
            Self::HeldOut(indices) => indices,
            Self::Folds(_) => &[],
        }
    }

    /// The examples each fold validates, in fold order (one part for a held-out split).
    pub fn parts(&self) -> Vec<Vec<usize>> {
        match self {
            Self::HeldOut(indices) => vec![indices.clone()],
            Self::Folds(fold_of) => {
                let folds = fold_of.iter().max().map_or(0, |max| max + 1);
                (0..folds)
                    .map(|fold| (0..fold_of.len()).filter(|&i| fold_of[i] == fold).collect())
                    .collect()
            }
        }
    }
}

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
    let mut split = Split::default();
    for mut members in class_members(labels) {
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

/// How a run of `way` splits photos with these labels under `settings`, the same in the page
/// and on the command line: by folds (see [`cross_validation_split`] and [`stratified_folds`])
/// when `folds_allowed`, the way trains on the frozen backbone's embeddings (a head trains in
/// a moment, so once per fold costs little), validation is on and the smallest class has at
/// most [`FOLDS_UP_TO_PHOTOS`]; else with a held-out validation part ([`stratified_split`]).
pub fn run_split(
    labels: &[usize],
    way: Way,
    settings: &TrainingSettings,
    folds_allowed: bool,
) -> RunSplit {
    let smallest = class_members(labels)
        .iter()
        .map(Vec::len)
        .filter(|&count| count > 0)
        .min();
    let by_folds = folds_allowed
        && !matches!(way.family(), WayFamily::Network(_))
        && settings.validation_fraction > 0.0
        && smallest.is_some_and(|count| count <= FOLDS_UP_TO_PHOTOS);
    let seed = settings.seed;
    if !by_folds {
        let split = stratified_split(
            labels,
            settings.validation_fraction,
            settings.test_fraction,
            seed,
        );
        let run = split.run_examples();
        let validation = Validation::HeldOut(run.validation.clone());
        return RunSplit {
            split,
            run,
            validation,
        };
    }
    let split = cross_validation_split(labels, settings.test_fraction, seed);
    let run = split.run_examples();
    let run_labels: Vec<usize> = run.examples.iter().map(|&i| labels[i]).collect();
    // `None` for one photo a class: nothing can validate it, and every photo trains.
    let validation = stratified_folds(&run_labels, MAX_FOLDS, seed)
        .map_or(Validation::HeldOut(Vec::new()), Validation::Folds);
    RunSplit {
        split,
        run,
        validation,
    }
}

/// A run's split: the photos' parts, the examples the run sees, and how they validate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSplit {
    /// Which photos train, validate (held out) and wait for the final test.
    pub split: Split,
    /// The training and validation photos the run sees.
    pub run: RunExamples,
    /// How the run's examples validate it (positions among `run.examples`).
    pub validation: Validation,
}

impl RunSplit {
    /// Whether the run validates by folds.
    pub fn by_folds(&self) -> bool {
        matches!(self.validation, Validation::Folds(_))
    }
}

/// Splits example indices per class for cross-validation: the test part takes
/// `round(n * test_fraction)` of a class's examples, at least one, while two are left for the
/// folds (so a class of one or two photos gives none to the test). The rest train and
/// validate by folds; `validation` is empty. The same labels, fraction and seed always give
/// the same split.
pub fn cross_validation_split(labels: &[usize], test_fraction: f64, seed: u64) -> Split {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut split = Split::default();
    for mut members in class_members(labels) {
        members.shuffle(&mut rng);
        let n = members.len();
        let n_test = part(n, test_fraction, n.saturating_sub(1));
        let (test, train) = members.split_at(n_test);
        split.test.extend_from_slice(test);
        split.train.extend_from_slice(train);
    }
    split.train.sort_unstable();
    split.test.sort_unstable();
    split
}

/// The examples of each class, in index order, by class.
pub(crate) fn class_members(labels: &[usize]) -> Vec<Vec<usize>> {
    let num_classes = labels.iter().max().map_or(0, |max| max + 1);
    (0..num_classes)
        .map(|class| (0..labels.len()).filter(|&i| labels[i] == class).collect())
        .collect()
}

/// The fold of each example for a stratified, seeded k-fold cross-validation with as many
/// folds as the smallest class allows, up to `max_folds`: every fold holds at least one
/// example of every class, and each class's examples are dealt out in turn so folds differ in
/// size by at most one. `None` when a class has a single example (or `max_folds < 2`), where
/// no fold could validate it.
pub fn stratified_folds(labels: &[usize], max_folds: usize, seed: u64) -> Option<Vec<usize>> {
    let classes: Vec<Vec<usize>> = class_members(labels)
        .into_iter()
        .filter(|members| !members.is_empty())
        .collect();
    let smallest = classes.iter().map(Vec::len).min()?;
    let folds = smallest.min(max_folds);
    if folds < 2 {
        return None;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut fold_of = vec![0; labels.len()];
    // Where the next class starts dealing, so the folds' sizes stay even across classes.
    let mut next_fold = 0;
    for mut members in classes {
        members.shuffle(&mut rng);
        for example in members {
            fold_of[example] = next_fold;
            next_fold = (next_fold + 1) % folds;
        }
    }
    Some(fold_of)
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

    #[test]
    fn folds_are_stratified_seeded_disjoint_and_validate_every_example_once() {
        // Classes of 4, 7 and 12 photos, interleaved.
        let labels: Vec<usize> = (0..23)
            .map(|i| match i % 3 {
                0 if i < 12 => 0,
                1 if i < 21 => 1,
                _ => 2,
            })
            .collect();
        let sizes: Vec<usize> = (0..3)
            .map(|c| labels.iter().filter(|&&l| l == c).count())
            .collect();
        assert_eq!(sizes, [4, 7, 12]);
        let fold_of = stratified_folds(&labels, MAX_FOLDS, 9).unwrap();
        let parts = Validation::Folds(fold_of.clone()).parts();
        assert_eq!(
            parts.len(),
            4,
            "as many folds as the smallest class has photos"
        );
        // Every example in exactly one fold.
        let mut all: Vec<usize> = parts.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..labels.len()).collect::<Vec<_>>());
        for part in &parts {
            for (class, size) in sizes.iter().enumerate() {
                let count = part.iter().filter(|&&i| labels[i] == class).count();
                let share = size / 4;
                assert!(
                    count == share || count == share + 1,
                    "class {class}: {count} in a fold"
                );
            }
        }
        let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
            "{sizes:?}"
        );
        assert_eq!(stratified_folds(&labels, MAX_FOLDS, 9).unwrap(), fold_of);
        assert_ne!(stratified_folds(&labels, MAX_FOLDS, 10).unwrap(), fold_of);
        // Large classes: at most MAX_FOLDS folds.
        let many: Vec<usize> = (0..40).map(|i| i % 2).collect();
        assert_eq!(
            Validation::Folds(stratified_folds(&many, MAX_FOLDS, 1).unwrap())
                .parts()
                .len(),
            5
        );
        // A class of one photo cannot be validated.
        assert_eq!(stratified_folds(&[0, 0, 1], MAX_FOLDS, 1), None);
    }

    #[test]
    fn cross_validation_keeps_two_photos_a_class_for_the_folds() {
        let labels = [0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 3];
        let split = cross_validation_split(&labels, 0.2, 4);
        let count =
            |indices: &[usize], class| indices.iter().filter(|&&i| labels[i] == class).count();
        // Two photos: none to test; three: one; five: one; one photo: it trains.
        assert_eq!([0, 1, 2, 3].map(|c| count(&split.test, c)), [0, 1, 1, 0]);
        assert_eq!([0, 1, 2, 3].map(|c| count(&split.train, c)), [2, 2, 4, 1]);
        assert!(split.validation.is_empty());
        assert_eq!(split, cross_validation_split(&labels, 0.2, 4));
    }
}
