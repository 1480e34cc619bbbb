//! The Gaussian mutual-information benchmark of Poole et al. 2019, one level at a time.

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;

use super::{MiEstimate, estimate_mi};
use crate::critic::{BilinearCriticConfig, ConcatCriticConfig, SeparableCriticConfig};
use crate::data::CorrelatedGaussian;
use crate::encoder::IdentityEncoder;
use crate::model::SharedEncoderModel;
use crate::sampler::InBatchSampler;
use crate::trainer::{Trainer, TrainerConfig};
use crate::{Critic, Error, Result};

/// The critics the benchmark compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GaussianCritic {
    /// Two MLPs 20→256→256→32 and a dot product.
    Separable,
    /// `xᵀ W y` on the raw vectors.
    Bilinear,
    /// One MLP 40→256→256→1 on every pair (the slowest: `batch²` network evaluations).
    Concat,
}

impl std::str::FromStr for GaussianCritic {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "separable" => Ok(Self::Separable),
            "bilinear" => Ok(Self::Bilinear),
            "concat" => Ok(Self::Concat),
            other => Err(Error::config(
                "critic",
                format!("unknown critic `{other}`; expected separable, bilinear or concat"),
            )),
        }
    }
}

/// How each level is trained and evaluated. Defaults: Poole et al.'s d = 20, Adam 5e-4 and
/// 4 000 steps per level, at batch 128 (the paper's figure uses 64).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GaussianBenchmark {
    /// Dimension of x and y.
    pub dim: usize,
    /// Pairs per batch; the bound is capped at `ln batch_size`.
    pub batch_size: usize,
    /// Training steps per level.
    pub steps: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Fresh batches averaged for the estimate.
    pub eval_batches: usize,
    /// The critic.
    pub critic: GaussianCritic,
    /// Seed of training; evaluation uses `seed + 1 000 003`.
    pub seed: u64,
    /// Show the trainer's progress bar.
    pub progress: bool,
}

impl Default for GaussianBenchmark {
    fn default() -> Self {
        Self {
            dim: 20,
            batch_size: 128,
            steps: 4000,
            learning_rate: 5e-4,
            eval_batches: 50,
            critic: GaussianCritic::Separable,
            seed: 0,
            progress: false,
        }
    }
}

/// One level's result.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GaussianLevel {
    /// The true `I(x; y)`, nats.
    pub true_mi: f64,
    /// The InfoNCE estimate, mean of `log N − J` over fresh batches.
    pub estimate: f64,
    /// Its spread over the evaluation batches.
    pub std: f64,
    /// `ln batch_size`, the cap.
    pub log_n: f64,
}

impl GaussianBenchmark {
    /// Trains a fresh critic on data with `mi` nats of mutual information and estimates it.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an invalid level or setting; training errors.
    pub fn run_level<B: AutodiffBackend>(
        &self,
        mi: f64,
        device: &B::Device,
    ) -> Result<GaussianLevel> {
        let data = CorrelatedGaussian::with_mi(self.dim, mi, self.batch_size, self.steps.max(1))?;
        if self.steps == 0 {
            return Err(Error::config("steps", "must be ≥ 1"));
        }
        let d = self.dim;
        // Seed the backend so the critic's initial parameters follow from `seed`.
        B::seed(device, self.seed);
        let est = match self.critic {
            GaussianCritic::Separable => self.train(
                SeparableCriticConfig::new()
                    .with_d_context(d)
                    .with_d_candidate(d)
                    .init::<B>(device)?,
                &data,
                device,
            )?,
            GaussianCritic::Bilinear => self.train(
                BilinearCriticConfig::new(d, d).init::<B>(device)?,
                &data,
                device,
            )?,
            GaussianCritic::Concat => self.train(
                ConcatCriticConfig::new()
                    .with_d_context(d)
                    .with_d_candidate(d)
                    .init::<B>(device)?,
                &data,
                device,
            )?,
        };
        Ok(GaussianLevel {
            true_mi: data.true_mi(),
            estimate: est.estimate,
            std: est.std,
            log_n: est.log_n,
        })
    }

    fn train<B, K>(
        &self,
        critic: K,
        data: &CorrelatedGaussian,
        device: &B::Device,
    ) -> Result<MiEstimate>
    where
        B: AutodiffBackend,
        K: Critic<B> + AutodiffModule<B>,
        K::InnerModule: burn::module::ModuleDisplay,
    {
        let model = SharedEncoderModel::new(IdentityEncoder::new(), critic);
        let config = TrainerConfig::new()
            .with_epochs(1)
            .with_learning_rate(self.learning_rate)
            .with_cosine_decay(false)
            .with_seed(self.seed)
            .with_progress(self.progress);
        let mut trainer = Trainer::new(config, model, InBatchSampler, device.clone())?;
        trainer.fit(data)?;
        estimate_mi(
            trainer.model(),
            &mut InBatchSampler,
            data,
            self.eval_batches,
            self.seed.wrapping_add(1_000_003),
            device,
        )
    }
}
