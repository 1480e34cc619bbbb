//! The InfoNCE estimate of mutual information on held-out batches.

use burn::tensor::backend::Backend;

use crate::loss::info_nce_with_masks;
use crate::trainer::{BatchSource, StepContext};
use crate::{ContrastiveModel, Error, NegativeSampler, Result};

/// Mean of `log N − J` over fresh batches, with its spread.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MiEstimate {
    /// Mean of the per-batch bound `log N − J`, nats.
    pub estimate: f64,
    /// Standard deviation of the per-batch bound.
    pub std: f64,
    /// `log N`, the cap of the bound.
    pub log_n: f64,
    /// Batches averaged.
    pub batches: usize,
}

/// Estimates `I(x; c)` as the mean InfoNCE bound `log N − J` (van den Oord et al. 2018;
/// Poole et al. 2019, eq. 12) over `batches` batches of `data` drawn with `seed` (use a
/// seed the training run did not use, so the batches are fresh). No parameter is updated.
///
/// # Errors
/// [`Error::InvalidConfig`] for `batches == 0`; any error of the model, sampler or loss.
pub fn estimate_mi<B, M, S, D>(
    model: &M,
    sampler: &mut S,
    data: &D,
    batches: usize,
    seed: u64,
    device: &B::Device,
) -> Result<MiEstimate>
where
    B: Backend,
    M: ContrastiveModel<B>,
    S: NegativeSampler<B>,
    D: BatchSource<B, Batch = M::Batch>,
{
    if batches == 0 {
        return Err(Error::config("batches", "must be ≥ 1"));
    }
    let model = crate::model::without_graph(model);
    let mut bounds = Vec::with_capacity(batches);
    let mut log_n = 0.0;
    for step in 0..batches as u64 {
        let ctx = StepContext::fresh(seed, step);
        let embeddings = model.embed(data.batch(&ctx, device)?)?;
        let set = sampler.candidates(embeddings)?;
        let mut scores = model.log_scores(set.context, set.candidates)?;
        if let Some(w) = set.log_weights {
            scores = scores + w;
        }
        let stats =
            info_nce_with_masks(scores.detach(), &set.positives, set.valid.as_ref())?.stats();
        bounds.push(stats.mi_bound);
        log_n = stats.log_n;
    }
    let k = bounds.len() as f64;
    let mean = bounds.iter().sum::<f64>() / k;
    let var = bounds.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / k;
    Ok(MiEstimate {
        estimate: mean,
        std: var.sqrt(),
        log_n,
        batches,
    })
}
