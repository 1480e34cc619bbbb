//! SimCLR's two-view layout.

use burn::tensor::{backend::Backend, Tensor};

use super::{CandidateSet, Embeddings, NegativeSampler};
use crate::loss::two_view_masks;
use crate::{Error, Result};

/// NT-Xent's candidate set (Chen et al. 2020): the `2n` embeddings of both views are both
/// the contexts and the candidates; row `k`'s positive is `k ± n`, its self-pair is
/// excluded, and the other `2n − 2` are negatives. With a cosine critic this is exactly
/// [`crate::loss::nt_xent`].
///
/// `Embeddings::context` holds view a, `Embeddings::samples` view b (one shared encoder).
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct TwoViewSampler;

impl<B: Backend> NegativeSampler<B> for TwoViewSampler {
    fn candidates(&mut self, embeddings: Embeddings<B>) -> Result<CandidateSet<B>> {
        let n = embeddings.check()?;
        let (da, db) = (embeddings.context.dims()[1], embeddings.samples.dims()[1]);
        if da != db {
            return Err(Error::shape(
                "two-view widths (view a vs view b)",
                da.to_string(),
                db.to_string(),
            ));
        }
        if embeddings.negatives.is_some() {
            return Err(Error::config(
                "TwoViewSampler",
                "explicit negatives are not supported in the two-view layout; use InBatchSampler",
            ));
        }
        if n < 2 {
            return Err(Error::TooFewCandidates {
                what: "two-view sampler with a batch of one pair".into(),
                got: 1,
            });
        }
        let both = Tensor::cat(vec![embeddings.context, embeddings.samples], 0);
        let (positives, valid) = two_view_masks(n);
        Ok(CandidateSet {
            context: both.clone(),
            candidates: both,
            positives,
            valid: Some(valid),
            log_weights: None,
        })
    }
}
