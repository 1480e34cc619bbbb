//! The benchmark workloads of BENCHMARKS.md, one JSON line per workload:
//!
//!     {"workload": "loss_n1024", "median_ms": f, "min_ms": f, "max_ms": f, "peak_rss_mb": f, "backend": "ndarray"}
//!
//! Warm-up runs first, then the median over repeated runs. Each workload runs in a child
//! process of its own so `peak_rss_mb` is that workload's. `sgemm_1024` measures the
//! machine's single-precision matrix-multiply rate, the physical limit to compare against.
//! `benches/pytorch_reference.py` runs the same workloads in PyTorch for the ratios.
//!
//!     cargo run --release --example bench -- --workload all --json

use std::process::{Command, ExitCode};
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, ElementConversion, Int, Tensor};
use clap::Parser;
use infonce::backend::BackendKind;
use infonce::critic::{CosineCriticConfig, SeparableCriticConfig};
use infonce::data::CorrelatedGaussian;
use infonce::encoder::{ConvPath, IdentityEncoder, ReferenceCnn};
use infonce::model::{PairBatch, SharedEncoderModel};
use infonce::sampler::{InBatchSampler, TwoViewSampler};
use infonce::trainer::{BatchSource, StepContext, Trainer, TrainerConfig};
use infonce::{loss, Error};

mod common;

const WORKLOADS: &[&str] = &[
    "sgemm_1024",
    "loss_n256",
    "loss_n1024",
    "loss_n4096",
    "ntxent_n1024",
    "mi_step_b128",
];

/// Time the BENCHMARKS.md workloads.
#[derive(Parser, Debug)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// Workload name, or `all`: sgemm_1024, loss_n256, loss_n1024, loss_n4096, ntxent_n1024,
    /// mi_step_b128, simclr_step_b256.
    #[arg(long, default_value = "all", value_parser = workload_name)]
    workload: String,
    /// Backend: ndarray, wgpu (feature `wgpu`) or flex (feature `flex`).
    #[arg(long, default_value = "ndarray")]
    backend: BackendKind,
    /// Print JSON lines only (otherwise a header line too).
    #[arg(long)]
    json: bool,
    /// Untimed runs before timing.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Timed runs (≥ 1).
    #[arg(long, default_value_t = 10, value_parser = common::at_least::<1>)]
    repeats: usize,
    /// The convolution path of `simclr_step_b256`: auto (the backend's fastest), shifted
    /// (matrix products over shifted rows) or native (the backend's conv2d).
    #[arg(long, default_value = "auto", value_parser = ["auto", "shifted", "native"])]
    conv_path: String,
}

/// Peak resident set size of this process, MiB (Linux; 0 elsewhere).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Runs `iteration` `warmup + repeats` times; returns the timed durations in ms.
fn time(
    warmup: usize,
    repeats: usize,
    mut iteration: impl FnMut() -> infonce::Result<()>,
) -> infonce::Result<Vec<f64>> {
    for _ in 0..warmup {
        iteration()?;
    }
    let mut ms = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        iteration()?;
        ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(ms)
}

/// One iteration of `loss_nN` or `ntxent_n1024`: forward, backward, and a read-back of the
/// gradients (which waits for an asynchronous device).
fn loss_iteration<B: AutodiffBackend>(
    z1: &Tensor<B, 2>,
    z2: &Tensor<B, 2>,
    ntxent: bool,
) -> infonce::Result<()> {
    let (a, b) = (z1.clone().require_grad(), z2.clone().require_grad());
    let loss = if ntxent {
        loss::nt_xent(a.clone(), b.clone(), 0.5)?
    } else {
        let n = a.dims()[0];
        let logits = loss::l2_normalize(a.clone())
            .matmul(loss::l2_normalize(b.clone()).transpose())
            .div_scalar(0.1);
        loss::info_nce(
            logits,
            Tensor::<B, 1, Int>::arange(0..n as i64, &a.device()),
        )?
    };
    let grads = loss.backward();
    let sum = a.grad(&grads).unwrap().sum() + b.grad(&grads).unwrap().sum();
    let _ = sum.into_scalar().elem::<f32>();
    Ok(())
}

fn run_one<B: AutodiffBackend>(device: B::Device, name: &str, args: &Args) -> infonce::Result<()> {
    B::seed(&device, 0);
    let normal = |n: usize| {
        Tensor::<B::InnerBackend, 2>::random([n, 128], Distribution::Normal(0.0, 1.0), &device)
    };
    let (ms, flops) = match name {
        "sgemm_1024" => {
            let a =
                Tensor::<B::InnerBackend, 2>::random([1024, 1024], Distribution::Default, &device);
            let b =
                Tensor::<B::InnerBackend, 2>::random([1024, 1024], Distribution::Default, &device);
            let ms = time(args.warmup, args.repeats, || {
                let _ = a
                    .clone()
                    .matmul(b.clone())
                    .sum()
                    .into_scalar()
                    .elem::<f32>();
                Ok(())
            })?;
            (ms, 2.0 * 1024f64.powi(3))
        }
        "loss_n256" | "loss_n1024" | "loss_n4096" | "ntxent_n1024" => {
            let n: usize = name
                .rsplit('n')
                .next()
                .and_then(|s| s.parse().ok())
                .expect("workload size");
            let z1 = Tensor::<B, 2>::from_inner(normal(n));
            let z2 = Tensor::<B, 2>::from_inner(normal(n));
            let ntxent = name.starts_with("ntxent");
            let ms = time(args.warmup, args.repeats, || {
                loss_iteration(&z1, &z2, ntxent)
            })?;
            let rows = if ntxent { 2 * n } else { n } as f64;
            (ms, 6.0 * rows * rows * 128.0)
        }
        "mi_step_b128" => {
            let data = CorrelatedGaussian::with_mi(20, 4.0, 128, 1)?;
            let critic = SeparableCriticConfig::new().init::<B>(&device)?;
            let model = SharedEncoderModel::new(IdentityEncoder::new(), critic);
            let config = TrainerConfig::new()
                .with_learning_rate(5e-4)
                .with_progress(false);
            let mut trainer = Trainer::new(config, model, InBatchSampler, device.clone())?;
            let ctx = StepContext {
                seed: 0,
                step: 0,
                epoch: 0,
                index_in_epoch: 0,
            };
            let batch = BatchSource::<B>::batch(&data, &ctx, &device)?;
            let ms = time(args.warmup, args.repeats, || {
                trainer.train_step(batch.clone(), 5e-4).map(|_| ())
            })?;
            (ms, f64::NAN)
        }
        "simclr_step_b256" => {
            // The reference CNN on two views of 256 noise images, NT-Xent τ = 0.5, Adam 1e-3.
            let critic = CosineCriticConfig::new()
                .with_temperature(0.5)
                .init::<B>(&device)?;
            let cnn = ReferenceCnn::<B>::new(3, &device);
            let cnn = match args.conv_path.as_str() {
                "shifted" => cnn.with_conv_path(ConvPath::Shifted),
                "native" => cnn.with_conv_path(ConvPath::Native),
                _ => cnn,
            };
            let model = SharedEncoderModel::new(cnn, critic);
            let config = TrainerConfig::new()
                .with_learning_rate(1e-3)
                .with_progress(false);
            let mut trainer = Trainer::new(config, model, TwoViewSampler, device.clone())?;
            let views = || Tensor::<B, 4>::random([256, 3, 32, 32], Distribution::Default, &device);
            let batch = PairBatch::new(views(), views());
            let ms = time(args.warmup, args.repeats, || {
                trainer.train_step(batch.clone(), 1e-3).map(|_| ())
            })?;
            (ms, f64::NAN)
        }
        other => {
            return Err(Error::InvalidConfig {
                name: "workload".into(),
                reason: format!("unknown workload `{other}`; expected one of {WORKLOADS:?} or all"),
            })
        }
    };
    let mut sorted = ms.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let mut line = serde_json::json!({
        "workload": name,
        "median_ms": median,
        "min_ms": sorted[0],
        "max_ms": sorted[sorted.len() - 1],
        "peak_rss_mb": peak_rss_mb(),
        "backend": args.backend.to_string(),
        "repeats": args.repeats,
        "conv_path": args.conv_path,
    });
    if flops.is_finite() {
        line["gflops"] = serde_json::json!(flops / (median * 1e6));
    }
    println!("{line}");
    Ok(())
}

fn run<B: AutodiffBackend>(device: B::Device, args: &Args) -> infonce::Result<()> {
    run_one::<B>(device, &args.workload, args)
}

/// A workload of [`WORKLOADS`], or `all`.
fn workload_name(s: &str) -> Result<String, String> {
    if s == "all" || s == "simclr_step_b256" || WORKLOADS.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "must be one of {}, simclr_step_b256 or all",
            WORKLOADS.join(", ")
        ))
    }
}

fn main() -> ExitCode {
    let args = match common::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.workload == "all" {
        // One child process per workload, so each peak RSS is that workload's own.
        if !args.json {
            eprintln!(
                "# {} workloads on {}, {} warm-up + {} timed runs each",
                WORKLOADS.len(),
                args.backend,
                args.warmup,
                args.repeats
            );
        }
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: cannot find this executable: {e}");
                return ExitCode::FAILURE;
            }
        };
        for w in WORKLOADS {
            let status = Command::new(&exe)
                .args([
                    "--workload",
                    w,
                    "--backend",
                    &args.backend.to_string(),
                    "--json",
                ])
                .args([
                    "--warmup",
                    &args.warmup.to_string(),
                    "--repeats",
                    &args.repeats.to_string(),
                    "--conv-path",
                    &args.conv_path,
                ])
                .status();
            if !matches!(status, Ok(s) if s.success()) {
                eprintln!("error: workload {w} failed");
                return ExitCode::FAILURE;
            }
        }
        return ExitCode::SUCCESS;
    }
    common::finish(infonce::with_backend!(args.backend, run, &args), &[])
}
