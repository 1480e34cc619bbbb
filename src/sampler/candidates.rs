//! The data that flows from the model to the sampler and from the sampler to the loss.

use burn::tensor::{backend::Backend, Tensor};

use crate::loss::PairMask;
use crate::{Error, Result};

/// Negatives supplied by the data rather than by the batch.
#[derive(Debug, Clone)]
pub enum ExplicitNegatives<B: Backend> {
    /// `k` negatives of its own for each context: `[n, k, d]`.
    Paired(Tensor<B, 3>),
    /// `k` negatives shared by every context: `[k, d]`.
    Unpaired(Tensor<B, 2>),
}

/// What a model produces for one batch.
#[derive(Debug, Clone)]
pub struct Embeddings<B: Backend> {
    /// Context embeddings `[n, d_c]` (the anchors, the `c` of `f(x, c)`).
    pub context: Tensor<B, 2>,
    /// Positive sample embeddings `[n, d_x]`; row `i` is the positive of context `i`.
    pub samples: Tensor<B, 2>,
    /// Negatives that came with the batch, if any.
    pub negatives: Option<ExplicitNegatives<B>>,
}

impl<B: Backend> Embeddings<B> {
    /// Contexts and positives only.
    pub fn new(context: Tensor<B, 2>, samples: Tensor<B, 2>) -> Self {
        Self {
            context,
            samples,
            negatives: None,
        }
    }

    /// The same embeddings cut from the autodiff graph (what a memory queue stores).
    pub fn detach(&self) -> Self {
        Self {
            context: self.context.clone().detach(),
            samples: self.samples.clone().detach(),
            negatives: self.negatives.as_ref().map(|n| match n {
                ExplicitNegatives::Paired(t) => ExplicitNegatives::Paired(t.clone().detach()),
                ExplicitNegatives::Unpaired(t) => ExplicitNegatives::Unpaired(t.clone().detach()),
            }),
        }
    }

    /// Checks `context` and `samples` have the same number of rows, at least one.
    pub fn check(&self) -> Result<usize> {
        let [n, _] = self.context.dims();
        let [m, _] = self.samples.dims();
        if n != m {
            return Err(Error::shape(
                "rows of context vs positive samples",
                n.to_string(),
                m.to_string(),
            ));
        }
        if n == 0 {
            return Err(Error::EmptyBatch {
                what: "embeddings".into(),
            });
        }
        Ok(n)
    }
}

/// The input of the loss: who is compared with whom.
#[derive(Debug, Clone)]
pub struct CandidateSet<B: Backend> {
    /// The rows of the score matrix, `[n, d_c]`.
    pub context: Tensor<B, 2>,
    /// The columns, `[m, d_x]`.
    pub candidates: Tensor<B, 2>,
    /// `n × m`: which candidates are positives of each row.
    pub positives: PairMask,
    /// `n × m`: which candidates take part in each row (`None`: all of them).
    pub valid: Option<PairMask>,
    /// `[n, m]` log importance weights added to the scores, if any.
    pub log_weights: Option<Tensor<B, 2>>,
}

/// Lays out `[samples (if in_batch); negatives]` as candidates with the right masks.
///
/// Row `i`'s positive is candidate `i` (in-batch) or, without in-batch negatives, it is still
/// candidate `i` but the other samples are masked out. Paired negatives of row `i` occupy
/// columns `n + i·k .. n + (i+1)·k` and are valid only for row `i`.
pub(crate) fn layout_candidates<B: Backend>(
    embeddings: Embeddings<B>,
    in_batch: bool,
) -> Result<CandidateSet<B>> {
    let n = embeddings.check()?;
    let d = embeddings.samples.dims()[1];
    let Embeddings {
        context,
        samples,
        negatives,
    } = embeddings;
    let (extra, paired_k) = match negatives {
        None => (None, None),
        Some(ExplicitNegatives::Paired(t)) => {
            let [rows, k, dn] = t.dims();
            if rows != n || dn != d {
                return Err(Error::shape(
                    "paired negatives",
                    format!("[{n}, k, {d}]"),
                    format!("[{rows}, {k}, {dn}]"),
                ));
            }
            (Some(t.reshape([n * k, d])), Some(k))
        }
        Some(ExplicitNegatives::Unpaired(t)) => {
            let [_, dn] = t.dims();
            if dn != d {
                return Err(Error::shape(
                    "unpaired negatives width",
                    d.to_string(),
                    dn.to_string(),
                ));
            }
            (Some(t), None)
        }
    };
    let num_extra = extra.as_ref().map_or(0, |t| t.dims()[0]);
    let m = n + num_extra;
    let candidates = match extra {
        Some(t) => Tensor::cat(vec![samples, t], 0),
        None => samples,
    };
    let positives = PairMask::from_fn(n, m, |i, j| i == j);
    let all_valid = in_batch && paired_k.is_none();
    let valid = (!all_valid).then(|| {
        PairMask::from_fn(n, m, |i, j| {
            if j < n {
                in_batch || i == j
            } else {
                match paired_k {
                    Some(k) => (j - n) / k == i,
                    None => true,
                }
            }
        })
    });
    Ok(CandidateSet {
        context,
        candidates,
        positives,
        valid,
        log_weights: None,
    })
}
