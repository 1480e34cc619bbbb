//! Gradient caching (Gao, Zhang, Han and Callan 2021, "Scaling Deep Contrastive Learning
//! Batch Size under Memory Limited Setup"): a step whose encoder memory grows with a chunk
//! of the batch, not the whole batch, and whose gradients are the plain step's.
//!
//! The contrastive loss couples every row of the batch, but only through the embeddings.
//! So the step runs in three passes:
//! 1. embed the batch chunk by chunk without keeping any graph;
//! 2. compute the loss on the whole batch of embeddings, made leaves, and backpropagate to
//!    them (and to the critic's parameters): `g = ∂L/∂e`, one `[n, d]` tensor per side;
//! 3. embed each chunk again with its graph, and backpropagate the surrogate `Σ e ⊙ g` of
//!    the chunk, whose gradient with respect to the encoder's parameters is exactly the
//!    chunk's share of `∂L/∂θ` (the chain rule through `e`).
//!
//! The sum over chunks is the plain gradient. Each chunk's two forward passes draw the
//! same random numbers (dropout), since the backend is seeded identically before each.

use std::collections::BTreeMap;

use burn::module::AutodiffModule;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use super::source::derive_rng;
use super::step::StepGradients;
use super::{BatchSource, EpochRecord, Trainer, TrainingSummary};
use crate::loss::LossStats;
use crate::model::SplitBatch;
use crate::sampler::{Embeddings, ExplicitNegatives, Rows};
use crate::{ContrastiveModel, Error, NegativeSampler, Result};

/// Stream id of the backend seed of each chunk.
const CHUNK_STREAM: u64 = 0xC4C4;

impl<B, M, S> Trainer<B, M, S>
where
    B: AutodiffBackend,
    M: ContrastiveModel<B> + AutodiffModule<B>,
    M::Batch: SplitBatch,
    S: NegativeSampler<B>,
{
    /// One optimiser step on `batch` with gradient caching: the encoder sees `chunk` pairs
    /// at a time, so its activation memory is that of `chunk` pairs, while the loss still
    /// contrasts every pair of the batch (Gao et al. 2021). The gradients equal
    /// [`Trainer::train_step`]'s, up to rounding, for any model whose `embed` treats rows
    /// independently.
    ///
    /// Batch normalisation does not: each chunk is normalised with its own statistics (as
    /// on data-parallel devices without synchronised batch norm), and the running
    /// statistics are updated in both passes over each chunk. Use group or layer norm, or a
    /// chunk as large as the statistics need.
    ///
    /// The encoder runs twice per chunk, so a step costs about one more forward pass than
    /// the plain step.
    ///
    /// ```
    /// use burn::tensor::{Distribution, Tensor};
    /// use infonce::backend::NdArrayAutodiff as B;
    /// use infonce::critic::CosineCriticConfig;
    /// use infonce::encoder::MlpConfig;
    /// use infonce::model::{PairBatch, SharedEncoderModel};
    /// use infonce::sampler::TwoViewSampler;
    /// use infonce::trainer::{Trainer, TrainerConfig};
    ///
    /// let device = Default::default();
    /// let model = SharedEncoderModel::new(
    ///     MlpConfig::new(16, vec![32], 8).init::<B>(&device)?,
    ///     CosineCriticConfig::new().init::<B>(&device)?,
    /// );
    /// let config = TrainerConfig::new().with_progress(false);
    /// let mut trainer = Trainer::new(config, model, TwoViewSampler, device)?;
    /// let view = || Tensor::<B, 2>::random([64, 16], Distribution::Default, &device);
    /// // 64 pairs, 127 negatives per row, the encoder holding 16 pairs' activations.
    /// let stats = trainer.train_step_cached(PairBatch::new(view(), view()), 16, 1e-3)?;
    /// assert!(stats.loss.is_finite());
    /// # Ok::<(), infonce::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `chunk` is 0, the batch cannot be cut (see
    /// [`SplitBatch::split`]) or the trainer is a data-parallel peer; then those of
    /// [`Trainer::train_step`].
    pub fn train_step_cached(
        &mut self,
        batch: M::Batch,
        chunk: usize,
        lr: f64,
    ) -> Result<LossStats> {
        self.check_cacheable(chunk)?;
        let chunks = batch.split(chunk)?;
        self.flush()?;
        self.step_with(lr, true, |trainer, model| {
            trainer.cached_gradients(model, chunks)
        })?;
        Ok(self
            .last_stats
            .expect("an immediate step leaves its statistics"))
    }

    /// [`Trainer::fit`] with every step gradient-cached, the encoder seeing `chunk` pairs at
    /// a time (see [`Trainer::train_step_cached`]): a batch whose activations do not fit in
    /// memory trains with the loss over the whole batch.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `chunk` is 0 or the trainer is a data-parallel peer,
    /// before any step; then those of [`Trainer::fit`].
    pub fn fit_cached<D>(&mut self, data: &D, chunk: usize) -> Result<TrainingSummary>
    where
        D: BatchSource<B, Batch = M::Batch>,
    {
        self.fit_with_hook_cached(data, chunk, |_, _| Ok(BTreeMap::new()))
    }

    /// [`Trainer::fit_with_hook`] with every step gradient-cached in chunks of `chunk` pairs.
    ///
    /// # Errors
    /// As [`Trainer::fit_cached`].
    pub fn fit_with_hook_cached<D, H>(
        &mut self,
        data: &D,
        chunk: usize,
        hook: H,
    ) -> Result<TrainingSummary>
    where
        D: BatchSource<B, Batch = M::Batch>,
        H: FnMut(&M, &EpochRecord) -> Result<BTreeMap<String, f64>>,
    {
        self.check_cacheable(chunk)?;
        self.fit_loop(data, hook, |trainer, batch, lr, immediate| {
            let chunks = batch.split(chunk)?;
            trainer.step_with(lr, immediate, |trainer, model| {
                trainer.cached_gradients(model, chunks)
            })
        })
    }

    fn check_cacheable(&self, chunk: usize) -> Result<()> {
        if chunk == 0 {
            return Err(Error::config("grad_cache_chunk", "must be at least 1 pair"));
        }
        if self.peers() > 1 {
            return Err(Error::config(
                "grad_cache_chunk",
                "gradient caching is not available on data-parallel peers",
            ));
        }
        Ok(())
    }

    /// The three passes of gradient caching over `chunks`.
    fn cached_gradients(&mut self, model: &M, chunks: Vec<M::Batch>) -> Result<StepGradients<B>> {
        let seeds: Vec<u64> = (0..chunks.len() as u64)
            .map(|i| self.chunk_seed(i))
            .collect();
        // No graph for this pass: its gradients come from the cached re-runs below.
        let frozen = crate::model::without_graph(model);
        let mut parts = Vec::with_capacity(chunks.len());
        for (chunk, seed) in chunks.iter().zip(&seeds) {
            B::seed(&self.device, *seed);
            parts.push(frozen.embed(chunk.clone())?.detach());
        }
        drop(frozen);
        let leaves = leaf_embeddings(cat_embeddings(parts)?);
        let (out, detached) = self.loss_of(model, leaves.clone())?;
        let loss_grads = out.loss.clone().backward();
        let cached = CachedGradients::of(&leaves, &loss_grads);
        let mut sum = GradientsAccumulator::<M>::new();
        sum.accumulate(model, GradientsParams::from_grads(loss_grads, model));
        let mut start = 0;
        for (chunk, seed) in chunks.into_iter().zip(seeds) {
            B::seed(&self.device, seed);
            let part = model.embed(chunk)?;
            let rows = part.context.dims()[0];
            let surrogate = cached.surrogate(part, start);
            sum.accumulate(
                model,
                GradientsParams::from_grads(surrogate.backward(), model),
            );
            start += rows;
        }
        Ok(StepGradients {
            out,
            detached,
            grads: sum.grads(),
        })
    }

    /// The backend seed of chunk `index` of the current step.
    fn chunk_seed(&self, index: u64) -> u64 {
        use rand::Rng;
        derive_rng(self.config.seed ^ index, self.step, CHUNK_STREAM).next_u64()
    }
}

/// The chunks' embeddings one after another.
///
/// # Errors
/// [`Error::InvalidConfig`] when the chunks carry negatives shared by every context (they
/// belong to no chunk) or only some chunks carry negatives.
fn cat_embeddings<B: AutodiffBackend>(parts: Vec<Embeddings<B>>) -> Result<Embeddings<B>> {
    let with_paired = parts.iter().filter(|p| paired(p).is_some()).count();
    let with_any = parts.iter().filter(|p| p.negatives.is_some()).count();
    if with_any != with_paired || (with_paired != 0 && with_paired != parts.len()) {
        return Err(Error::config(
            "grad_cache_chunk",
            "each chunk must embed its own paired negatives, or none",
        ));
    }
    let negatives = (with_paired > 0).then(|| {
        ExplicitNegatives::Paired(Tensor::cat(parts.iter().filter_map(paired).collect(), 0))
    });
    let rows = Rows::cat(
        parts
            .iter()
            .map(|p| (p.rows.clone(), p.context.dims()[0]))
            .collect(),
    );
    let cat2 = |get: &dyn Fn(&Embeddings<B>) -> Tensor<B, 2>| {
        Tensor::cat(parts.iter().map(get).collect(), 0)
    };
    Ok(Embeddings {
        context: cat2(&|p| p.context.clone()),
        samples: cat2(&|p| p.samples.clone()),
        negatives,
        rows,
    })
}

fn paired<B: AutodiffBackend>(e: &Embeddings<B>) -> Option<Tensor<B, 3>> {
    match &e.negatives {
        Some(ExplicitNegatives::Paired(t)) => Some(t.clone()),
        _ => None,
    }
}

/// The same embeddings as new leaves of the graph, so that the loss's backward stops at
/// them and hands back `∂L/∂e`.
fn leaf_embeddings<B: AutodiffBackend>(e: Embeddings<B>) -> Embeddings<B> {
    Embeddings {
        context: e.context.require_grad(),
        samples: e.samples.require_grad(),
        negatives: e.negatives.map(|n| match n {
            ExplicitNegatives::Paired(t) => ExplicitNegatives::Paired(t.require_grad()),
            ExplicitNegatives::Unpaired(t) => ExplicitNegatives::Unpaired(t.require_grad()),
        }),
        rows: e.rows,
    }
}

/// `∂L/∂e` for each side of the batch's embeddings (none where the loss did not use a
/// side).
struct CachedGradients<B: AutodiffBackend> {
    context: Option<Tensor<B::InnerBackend, 2>>,
    samples: Option<Tensor<B::InnerBackend, 2>>,
    negatives: Option<Tensor<B::InnerBackend, 3>>,
}

impl<B: AutodiffBackend> CachedGradients<B> {
    fn of(leaves: &Embeddings<B>, grads: &B::Gradients) -> Self {
        Self {
            context: leaves.context.grad(grads),
            samples: leaves.samples.grad(grads),
            negatives: paired(leaves).and_then(|t| t.grad(grads)),
        }
    }

    /// `Σ e ⊙ g` over a chunk's embeddings and its rows' cached gradients, starting at row
    /// `start` of the batch.
    fn surrogate(&self, part: Embeddings<B>, start: usize) -> Tensor<B, 1> {
        let rows = part.context.dims()[0];
        let device = part.context.device();
        let mut total = Tensor::<B, 1>::zeros([1], &device);
        if let Some(g) = &self.context {
            total = total + dot(part.context.clone(), g.clone().narrow(0, start, rows));
        }
        if let Some(g) = &self.samples {
            total = total + dot(part.samples.clone(), g.clone().narrow(0, start, rows));
        }
        if let (Some(g), Some(x)) = (&self.negatives, paired(&part)) {
            total = total + dot(x, g.clone().narrow(0, start, rows));
        }
        total
    }
}

/// `Σ x ⊙ g`, with `g` a constant.
fn dot<B: AutodiffBackend, const D: usize>(
    x: Tensor<B, D>,
    g: Tensor<B::InnerBackend, D>,
) -> Tensor<B, 1> {
    (x * Tensor::from_inner(g)).sum()
}
