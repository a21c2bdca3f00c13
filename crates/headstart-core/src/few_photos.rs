//! How well a model learns from a few photos a class: seeded k-shot splits of a labelled photo
//! set (k photos of each class train, every other photo tests), and the accuracy of candidate
//! recipes on the photos each split leaves out: the measurements the page's defaults are judged
//! by (the README's table, `scripts/bench-few-photos.sh`).

use crate::dataset::class_members;
use crate::embedding::{EMBEDDING_DIM, Embedding, LabeledEmbedding};
use crate::evaluation::ConfusionMatrix;
use crate::head::{HeadTrainer, compute_error};
use crate::inference::classify;
use crate::neighbour_model::{NeighbourKind, NeighbourModel, unit};
use crate::training::{AugmentedView, TrainingError, TrainingSettings, top1};
use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;

/// A labelled photo set's embeddings: each photo, its mirror image and its augmented views.
#[derive(Debug, Clone)]
pub struct PhotoSetEmbeddings {
    /// Each photo's class.
    pub labels: Vec<usize>,
    /// Each photo's embedding.
    pub photos: Vec<Embedding>,
    /// Each photo mirrored left to right.
    pub mirrored: Vec<Embedding>,
    /// Each photo's augmented views (the same number for every photo).
    pub views: Vec<Vec<Embedding>>,
}

impl PhotoSetEmbeddings {
    /// Number of classes (one more than the largest label).
    pub fn classes(&self) -> usize {
        self.labels.iter().max().map_or(0, |max| max + 1)
    }
}

/// One k-shot split: `shots[class]` photos of each class train, the rest test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShotSplit {
    /// Photos of each class that train.
    pub shots: Vec<usize>,
    /// The split's seed.
    pub seed: u64,
    /// The training photos' indices, sorted.
    pub train: Vec<usize>,
    /// The test photos' indices, sorted.
    pub test: Vec<usize>,
}

/// The split seeded with `seed` that trains on `shots` photos of each class and tests on the
/// others; `None` when a class has no photo left to test.
pub fn shot_split(labels: &[usize], shots: usize, seed: u64) -> Option<ShotSplit> {
    let classes = class_members(labels).len();
    split_by_class(labels, &vec![shots; classes], seed)
}

/// The split seeded with `seed` in which one class is larger than the others: `large` photos of
/// class `seed % classes` train and `shots` of each other class; `None` when a class has no
/// photo left to test.
pub fn imbalanced_split(
    labels: &[usize],
    large: usize,
    shots: usize,
    seed: u64,
) -> Option<ShotSplit> {
    let classes = class_members(labels).len();
    let mut per_class = vec![shots; classes];
    per_class[seed as usize % classes.max(1)] = large;
    split_by_class(labels, &per_class, seed)
}

fn split_by_class(labels: &[usize], shots: &[usize], seed: u64) -> Option<ShotSplit> {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (mut members, &class_shots) in class_members(labels).into_iter().zip(shots) {
        if members.len() <= class_shots {
            return None;
        }
        members.shuffle(&mut rng);
        train.extend_from_slice(&members[..class_shots]);
        test.extend_from_slice(&members[class_shots..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    Some(ShotSplit {
        shots: shots.to_vec(),
        seed,
        train,
        test,
    })
}

/// How a candidate prepares embeddings, trains and classifies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Recipe {
    /// A new head trained by gradient descent.
    Head(HeadRecipe),
    /// Nearest class centroid (no training).
    NearestCentroid,
}

/// A new head and what surrounds its training.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadRecipe {
    /// The run's settings (epochs, optimizer, dropout, label smoothing...).
    pub settings: TrainingSettings,
    /// Scale every embedding to unit length, times `sqrt(EMBEDDING_DIM)` (so its values keep
    /// the size of a typical one).
    pub unit_length: bool,
    /// Train on the photos' augmented views too.
    pub views: bool,
    /// Classify a photo by the mean of its own and its mirror image's probabilities.
    pub mirrored_mean: bool,
}

impl HeadRecipe {
    /// The recipe of the page's new head with `settings`: nothing around the training.
    pub fn plain(settings: TrainingSettings) -> Self {
        Self {
            settings,
            unit_length: false,
            views: false,
            mirrored_mean: false,
        }
    }

    fn prepared(&self, embedding: &Embedding) -> Embedding {
        if !self.unit_length {
            return embedding.clone();
        }
        let scale = (EMBEDDING_DIM as f32).sqrt();
        let scaled: Vec<f32> = unit(embedding.values()).iter().map(|v| v * scale).collect();
        Embedding::try_from(scaled).expect("a scaled embedding has 1280 finite values")
    }
}

/// The share of `split`'s test photos that `recipe`, trained on its training photos, gets right.
pub async fn test_accuracy(
    set: &PhotoSetEmbeddings,
    split: &ShotSplit,
    recipe: &Recipe,
    device: &Device,
) -> Result<f32, TrainingError> {
    let predicted = test_predictions(set, split, recipe, device).await?;
    Ok(accuracy(set, split, &predicted))
}

/// The share of `split`'s test photos whose class is the one `predicted` (in their order).
pub fn accuracy(set: &PhotoSetEmbeddings, split: &ShotSplit, predicted: &[usize]) -> f32 {
    let correct = predicted
        .iter()
        .zip(&split.test)
        .filter(|(predicted, i)| **predicted == set.labels[**i])
        .count();
    correct as f32 / split.test.len().max(1) as f32
}

/// The mean over classes of the share of each class's test photos whose class is the one
/// `predicted` (a large class counts as much as a small one).
pub fn mean_class_accuracy(
    set: &PhotoSetEmbeddings,
    split: &ShotSplit,
    predicted: &[usize],
) -> f32 {
    let truths = split.test.iter().map(|&i| set.labels[i]);
    let matrix = ConfusionMatrix::of_pairs(set.classes(), truths.zip(predicted.iter().copied()));
    let accuracies: Vec<f32> = (0..matrix.classes())
        .filter_map(|class| matrix.class_accuracy(class))
        .collect();
    accuracies.iter().sum::<f32>() / accuracies.len().max(1) as f32
}

/// The class `recipe`, trained on `split`'s training photos, gives each of its test photos.
pub async fn test_predictions(
    set: &PhotoSetEmbeddings,
    split: &ShotSplit,
    recipe: &Recipe,
    device: &Device,
) -> Result<Vec<usize>, TrainingError> {
    let classes = set.classes();
    let predicted: Vec<usize> = match recipe {
        Recipe::NearestCentroid => {
            let train = labelled(set, &split.train, |e| e.clone());
            let model = NeighbourModel::fit(NeighbourKind::Centroid, &train, classes);
            split
                .test
                .iter()
                .map(|&i| model.predict(&set.photos[i]))
                .collect()
        }
        Recipe::Head(head) => head_predictions(set, split, head, classes, device).await?,
    };
    Ok(predicted)
}

fn labelled(
    set: &PhotoSetEmbeddings,
    indices: &[usize],
    prepare: impl Fn(&Embedding) -> Embedding,
) -> Vec<LabeledEmbedding> {
    indices
        .iter()
        .map(|&i| LabeledEmbedding {
            embedding: prepare(&set.photos[i]),
            label: set.labels[i],
        })
        .collect()
}

async fn head_predictions(
    set: &PhotoSetEmbeddings,
    split: &ShotSplit,
    recipe: &HeadRecipe,
    classes: usize,
    device: &Device,
) -> Result<Vec<usize>, TrainingError> {
    let train = labelled(set, &split.train, |e| recipe.prepared(e));
    let views: Vec<AugmentedView> = if recipe.views {
        split
            .train
            .iter()
            .enumerate()
            .flat_map(|(example, &photo)| set.views[photo].iter().map(move |view| (example, view)))
            .map(|(example, view)| AugmentedView {
                example,
                embedding: recipe.prepared(view),
            })
            .collect()
    } else {
        Vec::new()
    };
    let settings = recipe.settings.clone();
    let mut trainer = HeadTrainer::new(&train, &[], &views, classes, settings, device)?;
    while !trainer.is_finished() {
        trainer.run_epoch().await?;
    }
    let head = trainer.head();
    let prepare = |embeddings: &[Embedding]| -> Vec<Embedding> {
        split
            .test
            .iter()
            .map(|&i| recipe.prepared(&embeddings[i]))
            .collect()
    };
    let mut probabilities = classify(&head, &prepare(&set.photos), device)
        .await
        .map_err(compute_error)?;
    if recipe.mirrored_mean {
        let mirrored = classify(&head, &prepare(&set.mirrored), device)
            .await
            .map_err(compute_error)?;
        for (row, mirrored_row) in probabilities.iter_mut().zip(mirrored) {
            for (p, q) in row.iter_mut().zip(mirrored_row) {
                *p = (*p + q) / 2.0;
            }
        }
    }
    Ok(probabilities.iter().map(|p| top1(p).0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shot_split_trains_on_k_photos_of_each_class_tests_on_the_rest_and_follows_its_seed() {
        let labels = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2];
        let split = shot_split(&labels, 2, 7).unwrap();
        for class in 0..3 {
            assert_eq!(
                split.train.iter().filter(|&&i| labels[i] == class).count(),
                2
            );
        }
        let mut all: Vec<usize> = split.train.iter().chain(&split.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..labels.len()).collect::<Vec<_>>());
        assert_eq!(shot_split(&labels, 2, 7), Some(split.clone()));
        let others = (0..20).filter_map(|seed| shot_split(&labels, 2, seed));
        assert!(others.map(|s| s.train).any(|train| train != split.train));
        assert_eq!(
            shot_split(&labels, 3, 7),
            None,
            "class 0 has no photo left to test"
        );
        // Seed 4 makes class 1 (4 % 3) the large one.
        let imbalanced = imbalanced_split(&labels, 3, 1, 4).unwrap();
        assert_eq!(imbalanced.shots, [1, 3, 1]);
        let trained = |class| {
            imbalanced
                .train
                .iter()
                .filter(|&&i| labels[i] == class)
                .count()
        };
        assert_eq!([trained(0), trained(1), trained(2)], [1, 3, 1]);
        assert_eq!(imbalanced.train.len() + imbalanced.test.len(), labels.len());
    }
}
