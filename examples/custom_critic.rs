//! Writing your own critic: a dozen lines, and it trains on every backend.
//!
//! The critic below scores a pair by the negative squared distance of learned projections,
//! `log f(x, c) = −s·‖Pc − Qx‖²` with a learnable scale `s` — a Gaussian-kernel critic. It
//! implements one method, `log_scores`; everything else (samplers, the loss, the trainer,
//! checkpoints, the MI estimate) works with it unchanged.
//!
//! The backend is the type parameter `B` of `run`: `run::<infonce::backend::NdArrayAutodiff>`
//! on the CPU, `run::<infonce::backend::WgpuAutodiff>` on the GPU (Burn's ndarray and wgpu
//! backends, their operations compiled inside the library). `--backend` picks one at run
//! time.
//!
//!     cargo run --release --example custom_critic -- --backend ndarray

use std::process::ExitCode;

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};
use clap::Parser;
use infonce::Critic;
use infonce::backend::BackendKind;
use infonce::data::CorrelatedGaussian;
use infonce::encoder::IdentityEncoder;
use infonce::eval::estimate_mi;
use infonce::model::SharedEncoderModel;
use infonce::sampler::InBatchSampler;
use infonce::trainer::{Trainer, TrainerConfig};

mod common;

// ---- the user-defined critic -------------------------------------------------------------

/// `log f(x, c) = −exp(t)·‖Pc − Qx‖²`.
#[derive(Module, Debug)]
struct DistanceCritic<B: Backend> {
    p: Linear<B>,
    q: Linear<B>,
    log_scale: Param<Tensor<B, 1>>,
}

impl<B: Backend> Critic<B> for DistanceCritic<B> {
    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Tensor<B, 2> {
        let (a, b) = (self.p.forward(context), self.q.forward(candidates));
        let a2 = a.clone().powi_scalar(2).sum_dim(1); // [n, 1]
        let b2 = b.clone().powi_scalar(2).sum_dim(1).transpose(); // [1, m]
        let sq_dist = a2 + b2 - a.matmul(b.transpose()).mul_scalar(2.0);
        sq_dist.neg() * self.log_scale.val().exp().unsqueeze_dim::<2>(0)
    }
}

fn distance_critic<B: Backend>(d_in: usize, d_out: usize, device: &B::Device) -> DistanceCritic<B> {
    DistanceCritic {
        p: LinearConfig::new(d_in, d_out).init(device),
        q: LinearConfig::new(d_in, d_out).init(device),
        log_scale: Param::from_tensor(Tensor::zeros([1], device)),
    }
}

// ---- training it, generic over the backend -----------------------------------------------

/// Train a Gaussian-kernel critic on correlated Gaussians and estimate their MI.
#[derive(Parser, Debug)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// Backend: ndarray, wgpu (feature `wgpu`), flex (feature `flex`) or cuda (feature `cuda`).
    #[arg(long, default_value = "ndarray")]
    backend: BackendKind,
    /// True mutual information of the data, nats (finite, > 0).
    #[arg(long, default_value_t = 3.0, value_parser = common::positive)]
    mi: f64,
    /// Training steps (≥ 1).
    #[arg(long, default_value_t = 800, value_parser = common::at_least::<1>)]
    steps: usize,
}

fn run<B: AutodiffBackend>(device: B::Device, args: &Args) -> infonce::Result<()> {
    let data = CorrelatedGaussian::with_mi(10, args.mi, 128, args.steps)?;
    let model = SharedEncoderModel::new(
        IdentityEncoder::new(),
        distance_critic::<B>(10, 16, &device),
    );
    let config = TrainerConfig::new().with_epochs(1).with_learning_rate(2e-3);
    let mut trainer = Trainer::new(config, model, InBatchSampler, device.clone())?;
    let summary = trainer.fit(&data)?;
    let est = estimate_mi(trainer.model(), &mut InBatchSampler, &data, 20, 99, &device)?;
    println!(
        "{}: true MI {:.3} nats, InfoNCE estimate {:.3} ± {:.3} (cap ln 128 = {:.3}), final train loss {:.4}, learned scale {:.3}",
        args.backend,
        data.true_mi(),
        est.estimate,
        est.std,
        est.log_n,
        summary.last.map_or(f64::NAN, |s| s.loss),
        trainer
            .model()
            .critic
            .log_scale
            .val()
            .exp()
            .into_scalar()
            .elem::<f64>(),
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match common::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    common::finish(infonce::with_backend!(args.backend, run, &args), &[])
}
