//! Negatives supplied by the data only.

use burn::tensor::backend::Backend;

use super::{CandidateSet, Embeddings, NegativeSampler, in_batch_set};
use crate::{Error, Result};

/// Each context is contrasted with its own positive and the explicit negatives of the
/// batch only (hard negatives mined offline, distractors of a retrieval set): paired
/// negatives `[n, k, d]` give `k + 1` candidates per row, unpaired `[k, d]` give `k + 1`
/// shared by all rows. The other positives of the batch are masked out; use
/// [`super::InBatchSampler`] to keep them too.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct ExplicitNegativeSampler;

impl<B: Backend> NegativeSampler<B> for ExplicitNegativeSampler {
    fn candidates(&mut self, embeddings: Embeddings<B>) -> Result<CandidateSet<B>> {
        if embeddings.negatives.is_none() {
            return Err(Error::config(
                "ExplicitNegativeSampler",
                "the batch carries no explicit negatives (Embeddings::negatives is None)",
            ));
        }
        in_batch_set(embeddings, false)
    }
}
