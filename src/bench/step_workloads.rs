//! The training-step workloads: one [`Trainer::train_step`] on a fixed batch.

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, Tensor};

use super::timing::{Timing, WorkloadOptions, time_iterations};
use crate::Result;
use crate::critic::{CosineCriticConfig, SeparableCriticConfig};
use crate::data::CorrelatedGaussian;
use crate::encoder::{IdentityEncoder, ReferenceCnn};
use crate::model::{PairBatch, SharedEncoderModel};
use crate::sampler::{InBatchSampler, TwoViewSampler};
use crate::trainer::{BatchSource, StepContext, Trainer, TrainerConfig};

/// The separable critic on a batch of `batch` pairs of 20-dimensional Gaussians with 4 nats
/// of mutual information, Adam 5e-4.
pub(super) fn mi_step<B: AutodiffBackend>(
    batch: usize,
    options: &WorkloadOptions,
    device: &B::Device,
) -> Result<Timing> {
    let data = CorrelatedGaussian::with_mi(20, 4.0, batch, 1)?;
    let critic = SeparableCriticConfig::new().init::<B>(device)?;
    let model = SharedEncoderModel::new(IdentityEncoder::new(), critic);
    let mut trainer = Trainer::new(quiet(5e-4), model, InBatchSampler, device.clone())?;
    let ctx = StepContext {
        seed: 0,
        step: 0,
        epoch: 0,
        index_in_epoch: 0,
    };
    let pairs = BatchSource::<B>::batch(&data, &ctx, device)?;
    time_iterations(options, None, || {
        trainer.train_step(pairs.clone(), 5e-4).map(|_| ())
    })
}

/// The reference CNN on two views of `batch` uniform-noise 32×32×3 images, NT-Xent at
/// τ = 0.5 (cosine critic, two-view sampler), Adam 1e-3; with gradient caching over chunks
/// of `chunk` pairs when given.
pub(super) fn simclr_step<B: AutodiffBackend>(
    batch: usize,
    chunk: Option<usize>,
    options: &WorkloadOptions,
    device: &B::Device,
) -> Result<Timing> {
    let critic = CosineCriticConfig::new()
        .with_temperature(0.5)
        .init::<B>(device)?;
    let mut cnn = ReferenceCnn::<B>::new(3, device);
    if let Some(path) = options.conv_path {
        cnn = cnn.with_conv_path(path);
    }
    let model = SharedEncoderModel::new(cnn, critic);
    let mut trainer = Trainer::new(quiet(1e-3), model, TwoViewSampler, device.clone())?;
    let views = || Tensor::<B, 4>::random([batch, 3, 32, 32], Distribution::Default, device);
    let pairs = PairBatch::new(views(), views());
    time_iterations(options, None, || {
        match chunk {
            Some(c) => trainer.train_step_cached(pairs.clone(), c, 1e-3),
            None => trainer.train_step(pairs.clone(), 1e-3),
        }
        .map(|_| ())
    })
}

/// A trainer configuration at `learning_rate`, without a progress bar.
fn quiet(learning_rate: f64) -> TrainerConfig {
    TrainerConfig::new()
        .with_learning_rate(learning_rate)
        .with_progress(false)
}
