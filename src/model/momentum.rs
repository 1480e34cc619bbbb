//! An online encoder and its momentum copy: MoCo's query and key encoders.

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use super::batch::assemble_embeddings;
use super::ema::{ema_update, independent_copy};
use super::{ContrastiveModel, PairBatch};
use crate::sampler::Embeddings;
use crate::{Critic, Encoder, Error, Result};

/// The momentum coefficient over training: constant (MoCo, He et al. 2020) or rising from
/// `base` to 1 along a half cosine (BYOL, Grill et al. 2020, §3.2:
/// `m_k = 1 − (1 − base)·(cos(πk/K) + 1)/2` at step k of K).
///
/// # Example
/// ```
/// use infonce::model::MomentumSchedule;
///
/// let constant = MomentumSchedule::constant(0.99);
/// assert_eq!(constant.at(500), 0.99);
/// let cosine = MomentumSchedule::cosine(0.99, 1000);
/// assert_eq!(cosine.at(0), 0.99);
/// assert!((cosine.at(500) - 0.995).abs() < 1e-12);
/// assert_eq!(cosine.at(1000), 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MomentumSchedule {
    /// The coefficient at the first step, in `[0, 1]`.
    pub base: f64,
    /// Rise to 1 along a half cosine over `total_steps` (else constant).
    pub cosine: bool,
    /// Steps of the whole run (the cosine's length).
    pub total_steps: u64,
}

impl MomentumSchedule {
    /// The same coefficient at every step.
    pub fn constant(base: f64) -> Self {
        Self {
            base,
            cosine: false,
            total_steps: 0,
        }
    }

    /// From `base` at step 0 to 1 at `total_steps`.
    pub fn cosine(base: f64, total_steps: u64) -> Self {
        Self {
            base,
            cosine: true,
            total_steps,
        }
    }

    /// The coefficient of the update that follows step `k` (0-based).
    pub fn at(&self, k: u64) -> f64 {
        if !self.cosine || self.total_steps == 0 {
            return self.base;
        }
        let progress = (k.min(self.total_steps) as f64) / self.total_steps as f64;
        1.0 - (1.0 - self.base) * ((std::f64::consts::PI * progress).cos() + 1.0) / 2.0
    }

    /// Checks that `base` lies in `[0, 1]`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming `momentum`.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.base) {
            return Err(Error::config(
                "momentum",
                format!("must lie in [0, 1], got {}", self.base),
            ));
        }
        Ok(())
    }
}

/// MoCo's model (He et al. 2020; v2: Chen et al. 2020): contexts (queries) from the online
/// encoder, samples (keys, and explicit negatives) from a momentum copy of it, without
/// gradient. The copy is not optimised (`no_grad()`); after every optimiser step
/// [`ContrastiveModel::after_step`] moves it to `m·copy + (1 − m)·online`
/// ([`ema_update`]; batch-norm running statistics are the copy's own). Both encoders are
/// fields of this module, so a checkpoint holds the copy and resume is exact. Pair it with a
/// [`crate::sampler::MemoryQueueSampler`] for MoCo's queue of keys: the sampler enqueues
/// the batch's samples, which are momentum keys.
///
/// # Example
/// ```
/// use infonce::backend::NdArrayAutodiff;
/// use infonce::critic::CosineCriticConfig;
/// use infonce::encoder::MlpConfig;
/// use infonce::model::{MomentumEncoderModel, MomentumSchedule};
///
/// type B = NdArrayAutodiff;
/// let device = Default::default();
/// let mlp = || MlpConfig::new(8, vec![32], 16).init::<B>(&device).unwrap();
/// let critic = CosineCriticConfig::new().with_temperature(0.2).init::<B>(&device).unwrap();
/// let model =
///     MomentumEncoderModel::new(mlp(), mlp(), critic, MomentumSchedule::constant(0.99)).unwrap();
/// # let _ = model;
/// ```
#[derive(Module, Debug)]
pub struct MomentumEncoderModel<B: Backend, E: Module<B>, K: Module<B>> {
    /// The encoder that trains (queries).
    pub online: E,
    /// Its momentum copy (keys), without gradient.
    pub momentum: E,
    /// The critic.
    pub critic: K,
    base_momentum: f64,
    cosine: bool,
    total_steps: u64,
    backend: core::marker::PhantomData<B>,
}

impl<B: Backend, E: Module<B>, K: Module<B>> MomentumEncoderModel<B, E, K> {
    /// The pair from `online` and `fresh`, a second instance of the same architecture that
    /// becomes the momentum copy (its values are replaced by `online`'s, see
    /// [`independent_copy`]).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `fresh` differs from `online` in architecture;
    /// [`Error::InvalidConfig`] for a momentum outside `[0, 1]`.
    pub fn new(online: E, fresh: E, critic: K, schedule: MomentumSchedule) -> Result<Self> {
        schedule.validate()?;
        let momentum = independent_copy(&online, fresh)?.no_grad();
        Ok(Self {
            online,
            momentum,
            critic,
            base_momentum: schedule.base,
            cosine: schedule.cosine,
            total_steps: schedule.total_steps,
            backend: core::marker::PhantomData,
        })
    }

    /// The momentum schedule.
    pub fn schedule(&self) -> MomentumSchedule {
        MomentumSchedule {
            base: self.base_momentum,
            cosine: self.cosine,
            total_steps: self.total_steps,
        }
    }
}

impl<B, E, K> ContrastiveModel<B> for MomentumEncoderModel<B, E, K>
where
    B: Backend,
    E: Encoder<B>,
    K: Critic<B>,
{
    type Batch = PairBatch<E::Input, E::Input>;

    fn embed(&self, batch: Self::Batch) -> Result<Embeddings<B>> {
        assemble_embeddings(
            self.online.encode(batch.context),
            self.momentum.encode(batch.positive).detach(),
            batch.negatives,
            batch.ids,
            |x| self.momentum.encode(x).detach(),
        )
    }

    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Result<Tensor<B, 2>> {
        self.critic.try_log_scores(context, candidates)
    }

    /// Clamps the critic, then the EMA update with the schedule's coefficient for the step
    /// just taken (`step − 1`, 0-based).
    fn after_step(mut self, step: u64) -> Self {
        self.critic = self.critic.after_step(step);
        let m = self.schedule().at(step.saturating_sub(1));
        let momentum = self.momentum.clone();
        // Same architecture by construction and m validated: the update cannot fail.
        self.momentum = ema_update(self.momentum, &self.online, m).unwrap_or(momentum);
        self
    }
}
