//! Negatives for sequences: other sequences at the same step, other steps of the same
//! sequence, or both.

use std::fmt;
use std::str::FromStr;

use burn::tensor::{Int, Tensor, backend::Backend};

use crate::loss::{BoundKind, Mask};
use crate::sampler::{CandidateSet, Embeddings};
use crate::{Error, NegativeSampler, Result};

/// Where the negatives of a prediction `c_t → x_{t+k}` come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SequenceNegatives {
    /// `z_{t+k}` of the batch's other sequences: independent draws from `p(x)`, so
    /// `log N − J` is a bound; `N` = the number of sequences.
    #[default]
    SameStep,
    /// The other predicted positions of the same sequence: harder negatives, but they
    /// depend on the context, so `log N − J` is not claimed as a bound; `N` = `L − K`.
    SameSequence,
    /// Both: `N` = sequences + `L − K` − 1.
    Both,
}

impl SequenceNegatives {
    /// The command-line spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::SameStep => "same-step",
            Self::SameSequence => "same-sequence",
            Self::Both => "both",
        }
    }

    /// Candidates per row (the positive included) for `sequences` sequences with
    /// `positions` predicted positions each.
    pub fn candidates(self, sequences: usize, positions: usize) -> usize {
        match self {
            Self::SameStep => sequences,
            Self::SameSequence => positions,
            Self::Both => sequences + positions - 1,
        }
    }
}

impl fmt::Display for SequenceNegatives {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SequenceNegatives {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        [Self::SameStep, Self::SameSequence, Self::Both]
            .into_iter()
            .find(|n| n.name() == s)
            .ok_or_else(|| {
                Error::config(
                    "negatives",
                    format!("unknown `{s}`; expected same-step, same-sequence or both"),
                )
            })
    }
}

/// The candidate set of [`super::CpcModel`]'s layout: row `i` (context `c_t` predicting `k`
/// steps ahead) is scored against the positives of the same step block, its own at column
/// `i`; [`SequenceNegatives`] says which of the others are its negatives.
///
/// Within a block each `(sequence, t + k)` occurs once, so a row's positive is never also
/// one of its negatives. Needs rows with `sequence` and `position` ids and `K` equal blocks.
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::{Int, Tensor};
/// use infonce::cpc::{SequenceNegatives, SequenceSampler};
/// use infonce::sampler::{Embeddings, RowIds};
/// use infonce::NegativeSampler;
///
/// let device = Default::default();
/// // K = 1, two sequences (7, 8) with two predicted positions (1, 2) each.
/// let ids = RowIds::default().with_sequence_position(vec![7, 7, 8, 8], vec![1, 2, 1, 2]);
/// let e = Embeddings::<PrebuiltNdArray>::new(Tensor::zeros([4, 3], &device), Tensor::zeros([4, 3], &device))
///     .with_rows(ids.to_device(&device));
/// let set = SequenceSampler::new(1, SequenceNegatives::SameStep).candidates(e).unwrap();
/// let valid = set.valid.unwrap().to_pair_mask([4, 4], &device).unwrap();
/// assert!(valid.get(0, 2) && !valid.get(0, 1)); // sequence 8 at the same step, not 7's next
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceSampler {
    /// Prediction steps `K` (blocks of rows).
    pub steps: usize,
    /// Which negatives each row sees.
    pub negatives: SequenceNegatives,
}

impl SequenceSampler {
    /// A sampler for `steps` prediction steps.
    pub fn new(steps: usize, negatives: SequenceNegatives) -> Self {
        Self { steps, negatives }
    }

    fn block_mask<B: Backend>(&self, n: usize, device: &B::Device) -> Result<Mask<B>> {
        if self.steps == 0 || !n.is_multiple_of(self.steps) {
            return Err(Error::shape(
                "rows of a sequence batch (K equal blocks)",
                format!("a multiple of K = {}", self.steps),
                n.to_string(),
            ));
        }
        let block =
            Tensor::<B, 1, Int>::arange(0..n as i64, device).div_scalar((n / self.steps) as i64);
        Ok(Mask::Equal {
            rows: block.clone(),
            cols: block,
        })
    }
}

impl<B: Backend> NegativeSampler<B> for SequenceSampler {
    fn candidates(&mut self, embeddings: Embeddings<B>) -> Result<CandidateSet<B>> {
        let n = embeddings.check()?;
        if embeddings.negatives.is_some() {
            return Err(Error::config(
                "SequenceSampler",
                "takes its negatives from the batch; explicit negatives are not supported",
            ));
        }
        let missing = || Error::config("SequenceSampler", "rows need sequence and position ids");
        let sequence = embeddings.rows.sequence.clone().ok_or_else(missing)?;
        let position = embeddings.rows.position.clone().ok_or_else(missing)?;
        let same_block = self.block_mask(n, &embeddings.context.device())?;
        let same_step = Mask::Equal {
            rows: position.clone(),
            cols: position,
        };
        let same_sequence = Mask::Equal {
            rows: sequence.clone(),
            cols: sequence,
        };
        let (pool, bound) = match self.negatives {
            SequenceNegatives::SameStep => (same_step, BoundKind::Bound),
            SequenceNegatives::SameSequence => (same_sequence, BoundKind::DependentNegatives),
            SequenceNegatives::Both => (same_step.or(same_sequence), BoundKind::DependentNegatives),
        };
        Ok(CandidateSet {
            context: embeddings.context,
            candidates: embeddings.samples,
            context_rows: embeddings.rows.clone(),
            col_rows: embeddings.rows,
            positives: Mask::Diagonal { offset: 0 },
            valid: Some(same_block.and(pool)),
            log_weights: None,
            bound,
        })
    }
}
