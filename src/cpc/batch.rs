//! The batch type of sequence models.

use burn::tensor::{Tensor, backend::Backend};

use crate::{Error, Result};

/// A batch of sequences: `frames[b, t]` is step `t` of sequence `b`.
#[derive(Debug, Clone)]
pub struct SequenceBatch<B: Backend> {
    /// The observations, `[batch, length, d_input]`.
    pub frames: Tensor<B, 3>,
    /// One id per sequence, unique within the run (`batch` of them).
    pub sequence_ids: Vec<i64>,
    /// A latent class per sequence, when the source knows one (the direction of
    /// [`super::MarkovSequences`]): what a probe on the contexts predicts.
    pub labels: Option<Vec<usize>>,
}

impl<B: Backend> SequenceBatch<B> {
    /// A batch whose sequences are numbered `0..batch`, without labels.
    pub fn new(frames: Tensor<B, 3>) -> Self {
        let batch = frames.dims()[0];
        Self {
            frames,
            sequence_ids: (0..batch as i64).collect(),
            labels: None,
        }
    }

    /// Checks the ids (and labels) match the number of sequences and returns
    /// `[batch, length, d_input]`.
    ///
    /// # Errors
    /// [`Error::EmptyBatch`] for no sequence or no step, [`Error::ShapeMismatch`] for ids or
    /// labels of another length.
    pub fn check(&self) -> Result<[usize; 3]> {
        let dims = self.frames.dims();
        if dims[0] == 0 || dims[1] == 0 || dims[2] == 0 {
            return Err(Error::EmptyBatch {
                what: format!("sequence batch {dims:?}"),
            });
        }
        if self.sequence_ids.len() != dims[0] {
            return Err(Error::shape(
                "sequence ids",
                dims[0].to_string(),
                self.sequence_ids.len().to_string(),
            ));
        }
        if let Some(l) = self.labels.as_ref().filter(|l| l.len() != dims[0]) {
            return Err(Error::shape(
                "sequence labels",
                dims[0].to_string(),
                l.len().to_string(),
            ));
        }
        Ok(dims)
    }
}
