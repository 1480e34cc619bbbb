//! SimCLR's two-view layout.

use burn::tensor::backend::Backend;

use super::{CandidateSet, Embeddings, NegativeSampler, two_view_set};
use crate::{Error, Result};

/// NT-Xent's candidate set (Chen et al. 2020): the `2n` embeddings of both views are both
/// the contexts and the candidates; row `k`'s positive is `k ± n`, its self-pair is
/// excluded, and the other `2n − 2` are negatives. With a cosine critic this is exactly
/// [`crate::loss::nt_xent`]. The masks are structural ([`crate::loss::Mask::TwoView`]):
/// nothing `2n × 2n` is built on the host.
///
/// `Embeddings::context` holds view a, `Embeddings::samples` view b (one shared encoder).
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct TwoViewSampler;

impl<B: Backend> NegativeSampler<B> for TwoViewSampler {
    fn candidates(&mut self, embeddings: Embeddings<B>) -> Result<CandidateSet<B>> {
        check_two_view(&embeddings)?;
        two_view_set(embeddings)
    }
}

/// What the two-view layout refuses: explicit negatives and a batch of one pair.
pub(crate) fn check_two_view<B: Backend>(embeddings: &Embeddings<B>) -> Result<()> {
    let n = embeddings.check()?;
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
    Ok(())
}
