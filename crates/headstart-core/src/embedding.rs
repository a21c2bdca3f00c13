//! The embedding: what the frozen backbone makes of one photo, and the only thing the head
//! trains on. A checked type, so a wrong length or a NaN is an error where it is made, never a
//! panic deep inside training. With its class, it is one photo as training sees it.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Width of the pooled embedding the backbone produces.
pub const EMBEDDING_DIM: usize = 1280;

/// Exactly [`EMBEDDING_DIM`] finite floats, shared: a clone (the page's state copies its photos
/// whenever it changes) costs a reference count, not 5 KB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct Embedding(Arc<[f32]>);

/// Why values are not an embedding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddingError {
    /// Not [`EMBEDDING_DIM`] values.
    WrongLength(usize),
    /// A NaN or infinity at this index.
    NotFinite(usize),
}

impl std::fmt::Display for EmbeddingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WrongLength(length) => {
                write!(f, "an embedding has {EMBEDDING_DIM} values, not {length}")
            }
            Self::NotFinite(index) => write!(f, "embedding value {index} is not a finite number"),
        }
    }
}

impl std::error::Error for EmbeddingError {}

impl TryFrom<Vec<f32>> for Embedding {
    type Error = EmbeddingError;

    fn try_from(values: Vec<f32>) -> Result<Self, Self::Error> {
        if values.len() != EMBEDDING_DIM {
            return Err(EmbeddingError::WrongLength(values.len()));
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(EmbeddingError::NotFinite(index));
        }
        Ok(Self(values.into()))
    }
}

impl From<Embedding> for Vec<f32> {
    fn from(embedding: Embedding) -> Self {
        embedding.0.to_vec()
    }
}

impl Embedding {
    /// The values.
    pub fn values(&self) -> &[f32] {
        &self.0
    }
}

/// One photo as training sees it: its cached backbone embedding and its class index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabeledEmbedding {
    /// The pooled backbone output.
    pub embedding: Embedding,
    /// Index of the photo's class.
    pub label: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_1280_finite_values_make_an_embedding() {
        assert!(Embedding::try_from(vec![0.5; EMBEDDING_DIM]).is_ok());
        assert_eq!(
            Embedding::try_from(vec![0.5; 3]),
            Err(EmbeddingError::WrongLength(3))
        );
        let mut values = vec![0.0; EMBEDDING_DIM];
        values[7] = f32::NAN;
        assert_eq!(
            Embedding::try_from(values),
            Err(EmbeddingError::NotFinite(7))
        );
    }
}
