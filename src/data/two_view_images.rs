//! Two augmented views of each image, prepared on worker threads.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use burn::tensor::{Tensor, TensorData, backend::Backend};
use rand::seq::SliceRandom;
use rayon::prelude::*;

use super::ImageDataset;
use super::augment::{AugmentConfig, augment};
use crate::model::PairBatch;
use crate::sampler::RowIds;
use crate::trainer::{BatchSource, StepContext};
use crate::{Error, Result};

const SHUFFLE_STREAM: u64 = 0x5A0F;
const VIEW_STREAM: u64 = 0x1_0000_0000;

/// Two views of a batch, on the host.
struct HostPair {
    step: u64,
    a: Vec<f32>,
    b: Vec<f32>,
    /// Image index as instance id (both views share it) and class label.
    ids: RowIds,
}

/// SimCLR's input pipeline: each epoch shuffles the images, each step takes `batch_size` of
/// them and augments every image twice ([`augment`]); the pairs are the positives. Each pair
/// carries its image index as instance id and its class label ([`RowIds`]).
///
/// Augmentation runs in parallel (rayon) on a worker thread that prepares step `k + 1` while
/// step `k` trains, so the encoder does not wait on it. Every choice is drawn from
/// `(seed, step, image)`, so batches are identical across runs and resumes.
///
/// # Shapes
/// - batch: two `[batch_size, channels, output_size, output_size]` tensors
pub struct TwoViewImages {
    data: Arc<ImageDataset>,
    config: Arc<AugmentConfig>,
    batch_size: usize,
    pending: Mutex<Option<JoinHandle<HostPair>>>,
}

impl std::fmt::Debug for TwoViewImages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwoViewImages")
            .field("images", &self.data.len())
            .field("batch_size", &self.batch_size)
            .field("config", &self.config)
            .finish()
    }
}

impl TwoViewImages {
    /// A source over `data`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an invalid augmentation config, a batch size below 2 or
    /// above the number of images, or images smaller than `output_size`;
    /// [`Error::EmptyBatch`] for an empty dataset.
    pub fn new(data: Arc<ImageDataset>, config: AugmentConfig, batch_size: usize) -> Result<Self> {
        config.validate()?;
        if batch_size < 2 {
            return Err(Error::config(
                "batch_size",
                format!("must be ≥ 2 for negatives to exist, got {batch_size}"),
            ));
        }
        if data.is_empty() {
            return Err(Error::EmptyBatch {
                what: "two-view source: 0 images".into(),
            });
        }
        if data.len() < batch_size {
            return Err(Error::config(
                "batch_size",
                format!(
                    "must not exceed the {} training images (one batch must fill), got \
                     {batch_size}",
                    data.len()
                ),
            ));
        }
        if data.height < config.output_size || data.width < config.output_size {
            return Err(Error::config(
                "output_size",
                format!(
                    "images of {}×{} are smaller than the {s}×{s} crop output; lower \
                     output_size or use larger images",
                    data.height,
                    data.width,
                    s = config.output_size
                ),
            ));
        }
        Ok(Self {
            data,
            config: Arc::new(config),
            batch_size,
            pending: Mutex::new(None),
        })
    }

    /// The augmentation settings.
    pub fn config(&self) -> &AugmentConfig {
        &self.config
    }

    /// Image indices of a step: a slice of the epoch's permutation.
    fn indices(data: &ImageDataset, batch_size: usize, ctx: &StepContext) -> Vec<usize> {
        let mut order: Vec<usize> = (0..data.len()).collect();
        order.shuffle(&mut ctx.epoch_rng(SHUFFLE_STREAM));
        let start = ctx.index_in_epoch as usize * batch_size;
        order[start..start + batch_size].to_vec()
    }

    fn host_batch(
        data: &ImageDataset,
        config: &AugmentConfig,
        batch_size: usize,
        ctx: StepContext,
    ) -> HostPair {
        let indices = Self::indices(data, batch_size, &ctx);
        let views: Vec<(Vec<f32>, Vec<f32>)> = indices
            .par_iter()
            .enumerate()
            .map(|(k, &i)| {
                let mut rng = ctx.rng(VIEW_STREAM + k as u64);
                let mut view = || {
                    augment(
                        data.image(i),
                        data.channels,
                        data.height,
                        data.width,
                        config,
                        &mut rng,
                    )
                };
                let a = view();
                (a, view())
            })
            .collect();
        let (a, b): (Vec<_>, Vec<_>) = views.into_iter().unzip();
        let instance: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let label = indices.iter().map(|&i| data.labels[i] as i64).collect();
        HostPair {
            step: ctx.step,
            a: a.concat(),
            b: b.concat(),
            ids: RowIds::default().with_instance(instance).with_label(label),
        }
    }

    fn spawn(&self, ctx: StepContext) -> JoinHandle<HostPair> {
        let (data, config, bs) = (
            Arc::clone(&self.data),
            Arc::clone(&self.config),
            self.batch_size,
        );
        std::thread::spawn(move || Self::host_batch(&data, &config, bs, ctx))
    }
}

impl<B: Backend> BatchSource<B> for TwoViewImages {
    type Batch = PairBatch<Tensor<B, 4>, Tensor<B, 4>>;

    fn steps_per_epoch(&self) -> usize {
        self.data.len() / self.batch_size
    }

    fn batch(&self, ctx: &StepContext, device: &B::Device) -> Result<Self::Batch> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let ready = pending
            .take()
            .and_then(|h| h.join().ok())
            .filter(|p| p.step == ctx.step);
        let host = match ready {
            Some(p) => p,
            None => Self::host_batch(&self.data, &self.config, self.batch_size, *ctx),
        };
        let per_epoch = (self.data.len() / self.batch_size) as u64;
        let next = ctx.step + 1;
        *pending = Some(self.spawn(StepContext {
            seed: ctx.seed,
            step: next,
            epoch: next / per_epoch,
            index_in_epoch: next % per_epoch,
        }));
        let s = self.config.output_size;
        let shape = [self.batch_size, self.data.channels, s, s];
        Ok(PairBatch::new(
            Tensor::from_data(TensorData::new(host.a, shape), device),
            Tensor::from_data(TensorData::new(host.b, shape), device),
        )
        .with_ids(host.ids))
    }
}
