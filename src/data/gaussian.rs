//! Jointly Gaussian pairs with known mutual information.

use burn::tensor::{Tensor, TensorData, backend::Backend};
use rand::RngExt;
use rand_distr::StandardNormal;

use crate::model::PairBatch;
use crate::sampler::RowIds;
use crate::trainer::{BatchSource, StepContext};
use crate::{Error, Result};

/// Stream id of the Gaussian draws.
const DATA_STREAM: u64 = 0x6A55;

/// The benchmark of Poole et al. 2019 ("On Variational Bounds of Mutual Information", §4):
/// `x ~ N(0, I_d)`, `y = ρ·x + √(1 − ρ²)·ε`, `ε ~ N(0, I_d)`, so each of the `d`
/// coordinate pairs has correlation ρ and `I(x; y) = −(d/2)·ln(1 − ρ²)` nats.
///
/// As a [`BatchSource`] it yields fresh pairs every step (contexts `x`, positives `y`), each
/// with its global index in the run as instance id.
///
/// # Example
/// ```
/// use infonce::data::CorrelatedGaussian;
///
/// let g = CorrelatedGaussian::with_mi(20, 4.0, 128, 100).unwrap();
/// assert!((g.true_mi() - 4.0).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CorrelatedGaussian {
    /// Dimension `d` of `x` and `y`.
    pub dim: usize,
    /// Per-coordinate correlation ρ.
    pub rho: f64,
    /// Pairs per batch.
    pub batch_size: usize,
    /// Steps per epoch when used as a batch source.
    pub steps_per_epoch: usize,
}

impl CorrelatedGaussian {
    /// A source with correlation `rho`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `0 ≤ ρ < 1`, `dim ≥ 1`, `batch_size ≥ 1` and
    /// `steps_per_epoch ≥ 1`.
    pub fn new(dim: usize, rho: f64, batch_size: usize, steps_per_epoch: usize) -> Result<Self> {
        if !(0.0..1.0).contains(&rho) {
            return Err(Error::config(
                "rho",
                format!("must be in [0, 1), got {rho}"),
            ));
        }
        if dim == 0 || batch_size == 0 || steps_per_epoch == 0 {
            return Err(Error::config(
                "CorrelatedGaussian",
                format!(
                    "dim ({dim}), batch_size ({batch_size}) and steps_per_epoch ({steps_per_epoch}) must be ≥ 1"
                ),
            ));
        }
        Ok(Self {
            dim,
            rho,
            batch_size,
            steps_per_epoch,
        })
    }

    /// A source whose true mutual information is `mi` nats: `ρ = √(1 − e^{−2·mi/d})`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a negative or non-finite `mi`, and as [`Self::new`].
    pub fn with_mi(dim: usize, mi: f64, batch_size: usize, steps_per_epoch: usize) -> Result<Self> {
        if !(mi.is_finite() && mi >= 0.0) {
            return Err(Error::config(
                "mi",
                format!("must be finite and ≥ 0, got {mi}"),
            ));
        }
        let rho = (1.0 - (-2.0 * mi / dim.max(1) as f64).exp()).sqrt();
        Self::new(dim, rho, batch_size, steps_per_epoch)
    }

    /// `I(x; y) = −(d/2)·ln(1 − ρ²)` in nats.
    pub fn true_mi(&self) -> f64 {
        -(self.dim as f64) / 2.0 * (1.0 - self.rho * self.rho).ln()
    }

    /// Draws `n` pairs: row-major `x` and `y`, each `n × dim`.
    pub fn sample(&self, rng: &mut impl rand::Rng, n: usize) -> (Vec<f32>, Vec<f32>) {
        let noise_scale = (1.0 - self.rho * self.rho).sqrt();
        let mut x = Vec::with_capacity(n * self.dim);
        let mut y = Vec::with_capacity(n * self.dim);
        for _ in 0..n * self.dim {
            let xi: f64 = rng.sample(StandardNormal);
            let e: f64 = rng.sample(StandardNormal);
            x.push(xi as f32);
            y.push((self.rho * xi + noise_scale * e) as f32);
        }
        (x, y)
    }
}

impl<B: Backend> BatchSource<B> for CorrelatedGaussian {
    type Batch = PairBatch<Tensor<B, 2>, Tensor<B, 2>>;

    fn steps_per_epoch(&self) -> usize {
        self.steps_per_epoch
    }

    fn batch(&self, ctx: &StepContext, device: &B::Device) -> Result<Self::Batch> {
        let (x, y) = self.sample(&mut ctx.rng(DATA_STREAM), self.batch_size);
        let shape = [self.batch_size, self.dim];
        // Every pair is drawn fresh: its instance id is its global index in the run.
        let first = ctx.step as i64 * self.batch_size as i64;
        let ids =
            RowIds::default().with_instance((first..first + self.batch_size as i64).collect());
        Ok(PairBatch::new(
            Tensor::from_data(TensorData::new(x, shape), device),
            Tensor::from_data(TensorData::new(y, shape), device),
        )
        .with_ids(ids))
    }
}
