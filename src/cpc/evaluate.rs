//! Per-step loss, top-1 accuracy and MI bound of a sequence model on fresh batches.

use burn::tensor::{Bool, Tensor, backend::Backend};

use crate::loss::{MASKED_LOG_SCORE, exp_of_shifted};
use crate::readback::read_back;
use crate::sampler::CandidateSet;
use crate::trainer::{BatchSource, StepContext};
use crate::{ContrastiveModel, Error, NegativeSampler, Result};

/// Scores within this many nats of a row's best count as tied with it: a noise-free source
/// gives identical frames identical embeddings, and their scores then differ only by the
/// order of a matrix product's sums.
pub const TIE_TOLERANCE: f64 = 1e-4;

/// What one prediction step `k` reached, averaged over rows and batches.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepMetrics {
    /// Steps ahead.
    pub k: usize,
    /// Mean InfoNCE loss `J_k` in nats.
    pub loss: f64,
    /// Fraction of rows whose best candidate is the positive, ties broken uniformly at
    /// random (as an expectation: a tie among `t` counts `1/t`).
    pub top1: f64,
    /// `log N − J_k` in nats.
    pub mi_bound: f64,
    /// Mean `log N` (candidates per row).
    pub log_n: f64,
}

/// Evaluates each of `steps` prediction steps on `batches` batches of `data` drawn with
/// `seed` (use one the training did not use). Rows must come in `steps` equal blocks, block
/// `k − 1` predicting `k` ahead (the layout of [`super::CpcModel`]). Nothing is updated.
///
/// # Errors
/// [`Error::InvalidConfig`] for zero batches or steps; [`Error::ShapeMismatch`] when the
/// rows do not split into `steps` blocks; any error of the model, sampler or data.
pub fn evaluate_steps<B, M, S, D>(
    model: &M,
    sampler: &mut S,
    data: &D,
    steps: usize,
    batches: usize,
    seed: u64,
    device: &B::Device,
) -> Result<Vec<StepMetrics>>
where
    B: Backend,
    M: ContrastiveModel<B>,
    S: NegativeSampler<B>,
    D: BatchSource<B, Batch = M::Batch>,
{
    if batches == 0 || steps == 0 {
        return Err(Error::config(
            "evaluate_steps",
            "need ≥ 1 batch and ≥ 1 step",
        ));
    }
    let model = crate::model::without_graph(model);
    let mut sums = vec![[0.0f64; 3]; steps];
    for step in 0..batches as u64 {
        let ctx = StepContext::fresh(seed, step);
        let set = sampler.candidates(model.embed(data.batch(&ctx, device)?)?)?;
        let n = set.dims()[0];
        if !n.is_multiple_of(steps) {
            return Err(Error::shape(
                "rows (equal step blocks)",
                format!("a multiple of {steps}"),
                n.to_string(),
            ));
        }
        let mut scores = model.log_scores(set.context.clone(), set.candidates.clone())?;
        if let Some(w) = &set.log_weights {
            scores = scores + w.clone();
        }
        let rows = read_back(per_row_metrics(scores.detach(), &set)?);
        for (i, row) in rows.chunks(3).enumerate() {
            let block = &mut sums[i / (n / steps)];
            for (s, v) in block.iter_mut().zip(row) {
                *s += v / (n / steps) as f64 / batches as f64;
            }
        }
    }
    Ok(sums
        .into_iter()
        .enumerate()
        .map(|(i, [loss, top1, log_n])| StepMetrics {
            k: i + 1,
            loss,
            top1,
            mi_bound: log_n - loss,
            log_n,
        })
        .collect())
}

/// `[n, 3]`: each row's loss, tie-aware top-1 and `log N`.
fn per_row_metrics<B: Backend>(
    scores: Tensor<B, 2>,
    set: &CandidateSet<B>,
) -> Result<Tensor<B, 2>> {
    let dims = scores.dims();
    let device = scores.device();
    let positives = set.positives.to_tensor(dims, &device)?;
    let valid = match &set.valid {
        Some(v) => v.to_tensor(dims, &device)?.bool_or(positives.clone()),
        None => Tensor::<B, 2, Bool>::full(dims, true, &device),
    };
    let s = scores.mask_fill(valid.clone().bool_not(), MASKED_LOG_SCORE);
    let max = s.clone().max_dim(1);
    let lse = exp_of_shifted(s.clone() - max.clone()).sum_dim(1).log() + max.clone();
    let pos = positives.clone().float();
    let positive_score = (s.clone() * pos.clone()).sum_dim(1) / pos.clone().sum_dim(1);
    let tied = s
        .greater_equal(max.sub_scalar(TIE_TOLERANCE).expand(dims))
        .bool_and(valid.clone());
    let tied_positives = tied.clone().bool_and(positives).float().sum_dim(1);
    let top1 = tied_positives / tied.float().sum_dim(1);
    let log_n = valid.float().sum_dim(1).log();
    Ok(Tensor::cat(vec![lse - positive_score, top1, log_n], 1))
}
