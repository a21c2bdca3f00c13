//! Off-the-shelf classifiers on frozen embeddings, with no gradient at all (the lessons'
//! "shallow model on pretrained features"): nearest centroid and k-nearest neighbours. Both
//! compare directions, not lengths: embeddings are scaled to unit length and compared by cosine
//! similarity. [`crate::neighbours`] makes one the way a training run makes a model.

use crate::embedding::{Embedding, LabeledEmbedding};
use serde::{Deserialize, Serialize};

/// Neighbours that vote in [`NeighbourModel::Knn`] by default.
pub const DEFAULT_K: usize = 5;

/// Which off-the-shelf classifier to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NeighbourKind {
    /// [`NeighbourModel::Centroid`].
    Centroid,
    /// [`NeighbourModel::Knn`] with `k` voters.
    Knn {
        /// How many neighbours vote.
        k: usize,
    },
}

/// A classifier made by looking at the training photos once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NeighbourModel {
    /// One mean direction per class; a photo gets the class whose mean it is most similar to.
    Centroid {
        /// Unit-length mean embedding of each class (empty for a class without photos).
        centroids: Vec<Vec<f32>>,
    },
    /// The `k` most similar training photos vote; a tie goes to the class of the most similar
    /// photo among the tied ones.
    Knn {
        /// How many neighbours vote.
        k: usize,
        /// Number of classes.
        classes: usize,
        /// Every training photo, unit length, with its class.
        examples: Vec<(Vec<f32>, usize)>,
    },
}

/// `values` scaled to length 1 (all zeros stay as they are).
pub(crate) fn unit(values: &[f32]) -> Vec<f32> {
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm == 0.0 {
        return values.to_vec();
    }
    values.iter().map(|v| v / norm).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl NeighbourModel {
    /// The class means of `examples` (labels below `classes`).
    pub fn centroid(examples: &[LabeledEmbedding], classes: usize) -> Self {
        let mut sums = vec![Vec::<f32>::new(); classes];
        for example in examples {
            let direction = unit(example.embedding.values());
            let sum = &mut sums[example.label];
            if sum.is_empty() {
                *sum = direction;
            } else {
                sum.iter_mut().zip(&direction).for_each(|(s, d)| *s += d);
            }
        }
        Self::Centroid {
            centroids: sums.iter().map(|sum| unit(sum)).collect(),
        }
    }

    /// `k`-nearest neighbours over `examples` (labels below `classes`).
    pub fn knn(examples: &[LabeledEmbedding], classes: usize, k: usize) -> Self {
        Self::Knn {
            k: k.max(1),
            classes,
            examples: examples
                .iter()
                .map(|e| (unit(e.embedding.values()), e.label))
                .collect(),
        }
    }

    /// The classifier of `kind` over `examples` (labels below `classes`).
    pub fn fit(kind: NeighbourKind, examples: &[LabeledEmbedding], classes: usize) -> Self {
        match kind {
            NeighbourKind::Centroid => Self::centroid(examples, classes),
            NeighbourKind::Knn { k } => Self::knn(examples, classes, k),
        }
    }

    /// Number of classes it chooses from.
    pub fn classes(&self) -> usize {
        match self {
            Self::Centroid { centroids } => centroids.len(),
            Self::Knn { classes, .. } => *classes,
        }
    }

    /// Share of `examples` it classifies right (`None` for no examples).
    pub fn accuracy(&self, examples: &[&LabeledEmbedding]) -> Option<f32> {
        if examples.is_empty() {
            return None;
        }
        let right = examples
            .iter()
            .filter(|e| self.predict(&e.embedding) == e.label)
            .count();
        Some(right as f32 / examples.len() as f32)
    }

    /// Its probabilities for `embedding`: 1 for the class it picks, 0 for the others.
    pub fn probabilities(&self, embedding: &Embedding) -> Vec<f32> {
        let picked = self.predict(embedding);
        (0..self.classes())
            .map(|class| f32::from(u8::from(class == picked)))
            .collect()
    }

    /// The class it gives `embedding`.
    pub fn predict(&self, embedding: &Embedding) -> usize {
        let direction = unit(embedding.values());
        match self {
            Self::Centroid { centroids } => centroids
                .iter()
                .enumerate()
                .filter(|(_, centroid)| !centroid.is_empty())
                .map(|(class, centroid)| (class, dot(&direction, centroid)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(0, |(class, _)| class),
            Self::Knn {
                k,
                classes,
                examples,
            } => {
                let mut similar: Vec<(f32, usize)> = examples
                    .iter()
                    .map(|(example, label)| (dot(&direction, example), *label))
                    .collect();
                similar.sort_by(|a, b| b.0.total_cmp(&a.0));
                similar.truncate(*k);
                let mut votes = vec![0usize; *classes];
                for (_, label) in &similar {
                    votes[*label] += 1;
                }
                let most = votes.iter().copied().max().unwrap_or(0);
                // Most similar first: the first tied class met wins.
                similar
                    .iter()
                    .map(|(_, label)| *label)
                    .find(|label| votes[*label] == most)
                    .unwrap_or(0)
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::embedding::EMBEDDING_DIM;

    /// An embedding pointing mostly along axis `axis`, nudged along axis 10 by `nudge`.
    fn along(axis: usize, scale: f32, nudge: f32) -> Embedding {
        let mut values = vec![0.0; EMBEDDING_DIM];
        values[axis] = scale;
        values[10] = nudge;
        Embedding::try_from(values).unwrap()
    }

    /// A photo of class `label` embedded as [`along`] says.
    pub(crate) fn example(axis: usize, scale: f32, nudge: f32, label: usize) -> LabeledEmbedding {
        LabeledEmbedding {
            embedding: along(axis, scale, nudge),
            label,
        }
    }

    #[test]
    fn centroids_are_class_mean_directions_whatever_the_lengths() {
        let examples = [
            example(0, 1.0, 0.1, 0),
            example(0, 50.0, -5.0, 0),
            example(1, 2.0, 0.0, 1),
        ];
        let model = NeighbourModel::centroid(&examples, 3);
        let NeighbourModel::Centroid { centroids } = &model else {
            unreachable!()
        };
        assert!((dot(&centroids[0], &centroids[0]) - 1.0).abs() < 1e-5);
        assert!(
            centroids[2].is_empty(),
            "a class without photos has no centroid"
        );
        assert_eq!(model.predict(&along(0, 0.01, 0.0)), 0);
        assert_eq!(model.predict(&along(1, 100.0, 3.0)), 1);
    }

    #[test]
    fn the_nearest_neighbours_vote_and_the_closest_breaks_ties() {
        // Class 0 along axis 0, class 1 along axis 1; one class-1 photo sits close to axis 0.
        let examples = [
            example(0, 1.0, 0.0, 0),
            example(0, 1.0, 0.2, 0),
            example(1, 1.0, 0.0, 1),
            example(1, 1.0, 0.1, 1),
            example(0, 1.0, 0.05, 1),
        ];
        let query = along(0, 1.0, 0.06);
        // Alone, the nearest photo is the stray class-1 one.
        assert_eq!(NeighbourModel::knn(&examples, 2, 1).predict(&query), 1);
        // Three neighbours: two of class 0 outvote it.
        assert_eq!(NeighbourModel::knn(&examples, 2, 3).predict(&query), 0);
        // Two neighbours tie 1-1: the closer (the stray photo) wins.
        assert_eq!(NeighbourModel::knn(&examples, 2, 2).predict(&query), 1);
        // k=1 remembers every training photo.
        let memorizer = NeighbourModel::knn(&examples, 2, 1);
        assert!(
            examples
                .iter()
                .all(|e| memorizer.predict(&e.embedding) == e.label)
        );
    }
}
