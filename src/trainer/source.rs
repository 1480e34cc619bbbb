//! Where batches come from, and the randomness each step may use.

use burn::tensor::backend::Backend;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::Result;

/// The position of one optimiser step in a run, and its random generators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepContext {
    /// The run's seed.
    pub seed: u64,
    /// Global step, 0-based.
    pub step: u64,
    /// Epoch, 0-based.
    pub epoch: u64,
    /// Step within the epoch, 0-based.
    pub index_in_epoch: u64,
}

impl StepContext {
    /// The context of the `index`-th batch of a stream drawn with `seed` outside training
    /// (an evaluation or probe set): epoch 0, one batch per step.
    pub fn fresh(seed: u64, index: u64) -> Self {
        Self {
            seed,
            step: index,
            epoch: 0,
            index_in_epoch: index,
        }
    }

    /// A generator determined by `(seed, step, stream)` alone: the same step of a resumed
    /// run draws exactly the same numbers. Use one `stream` per purpose (data, augmentation,
    /// negatives...).
    pub fn rng(&self, stream: u64) -> ChaCha8Rng {
        derive_rng(self.seed, self.step, stream)
    }

    /// A generator for the whole epoch (a shuffle), determined by `(seed, epoch, stream)`.
    pub fn epoch_rng(&self, stream: u64) -> ChaCha8Rng {
        derive_rng(self.seed, u64::MAX - self.epoch, stream)
    }
}

/// ChaCha8 keyed by three words.
pub(crate) fn derive_rng(seed: u64, a: u64, b: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&a.to_le_bytes());
    key[16..24].copy_from_slice(&b.to_le_bytes());
    key[24..].copy_from_slice(b"infonce!");
    ChaCha8Rng::from_seed(key)
}

/// A source of training batches.
///
/// Batches must be a function of the [`StepContext`] only (draw randomness from
/// [`StepContext::rng`]); that is what makes resume exact.
pub trait BatchSource<B: Backend> {
    /// The batch type, the model's `ContrastiveModel::Batch`.
    type Batch;

    /// Optimiser steps in one epoch.
    fn steps_per_epoch(&self) -> usize;

    /// The batch of this step, on `device`.
    fn batch(&self, ctx: &StepContext, device: &B::Device) -> Result<Self::Batch>;
}
