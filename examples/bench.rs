//! The benchmark workloads of `infonce::bench`, one JSON line per workload:
//!
//!     {"workload": "loss_n1024", "median_ms": f, "min_ms": f, "max_ms": f, "peak_rss_mb": f, "backend": "ndarray"}
//!
//! Warm-up runs first, then the median over repeated runs. Each workload runs in a child
//! process of its own so `peak_rss_mb` is that workload's. `sgemm_1024` measures the
//! machine's single-precision matrix-multiply rate, the physical limit to compare against.
//! `benches/pytorch_reference.py` runs the same workloads in PyTorch, and
//! `benches/compare.py` alternates the two and prints the ratios.
//!
//!     cargo run --release --example bench -- --workload all --json

use std::process::{Command, ExitCode};

use clap::Parser;
use infonce::backend::BackendKind;
use infonce::bench::{Workload, WorkloadOptions};
use infonce::encoder::ConvPath;
use infonce::loss::LossKernel;

mod common;

/// Time the benchmark workloads.
#[derive(Parser, Debug)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// Workload name, or `all`: sgemm_1024, loss_n256, loss_n1024, loss_n4096, loss_n16384,
    /// loss_n4096_tiled, loss_n65536_d128, ntxent_n1024, mi_step_b128, simclr_step_b256,
    /// simclr_step_b1024, simclr_step_b1024_gradcache.
    #[arg(long, default_value = "all", value_parser = workload_name)]
    workload: Which,
    /// Backend: ndarray, wgpu (feature `wgpu`), flex (feature `flex`) or cuda (feature `cuda`).
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
    /// The convolution path of the simclr_step workloads: auto (the backend's fastest), im2col
    /// (the CPU operation of ndarray and flex), shifted (matrix products over shifted rows) or
    /// native (the backend's conv2d).
    #[arg(long, default_value = "auto", value_parser = ["auto", "im2col", "shifted", "native"])]
    conv_path: String,
    /// The InfoNCE implementation of the loss workloads: auto (the fused kernel where the
    /// backend has one) or composed (Burn's element-wise operations), to compare them.
    #[arg(long, default_value = "auto", value_parser = ["auto", "composed"])]
    loss_kernel: String,
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

/// Times one workload in this process and prints its JSON line.
fn run_one(args: &Args, workload: Workload) -> infonce::Result<()> {
    let options = WorkloadOptions {
        warmup: args.warmup,
        repeats: args.repeats,
        conv_path: match args.conv_path.as_str() {
            "im2col" => Some(ConvPath::Im2col),
            "shifted" => Some(ConvPath::Shifted),
            "native" => Some(ConvPath::Native),
            _ => None,
        },
        loss_kernel: match args.loss_kernel.as_str() {
            "composed" => LossKernel::Composed,
            _ => LossKernel::Auto,
        },
    };
    let timing = infonce::launch::bench(args.backend, workload, &options)?;
    let mut line = serde_json::json!({
        "workload": workload.name(),
        "median_ms": timing.median_ms,
        "min_ms": timing.min_ms,
        "max_ms": timing.max_ms,
        "peak_rss_mb": peak_rss_mb(),
        "backend": args.backend.to_string(),
        "repeats": timing.repeats,
        "conv_path": args.conv_path,
        "loss_kernel": args.loss_kernel,
    });
    if let Some(gflops) = timing.gflops {
        line["gflops"] = serde_json::json!(gflops);
    }
    println!("{line}");
    Ok(())
}

/// Runs every workload in a child process of its own, so each peak RSS is that workload's.
fn run_all(args: &Args) -> ExitCode {
    if !args.json {
        eprintln!(
            "# {} workloads on {}, {} warm-up + {} timed runs each",
            Workload::ALL.len(),
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
    for w in Workload::ALL {
        let status = Command::new(&exe)
            .args([
                "--workload",
                w.name(),
                "--backend",
                &args.backend.to_string(),
            ])
            .args(["--json", "--warmup", &args.warmup.to_string()])
            .args(["--repeats", &args.repeats.to_string()])
            .args(["--conv-path", &args.conv_path])
            .args(["--loss-kernel", &args.loss_kernel])
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("error: workload {w} failed");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// `--workload`: one workload, or all of them.
#[derive(Debug, Clone, Copy)]
enum Which {
    All,
    One(Workload),
}

/// A workload's name, or `all`.
fn workload_name(s: &str) -> Result<Which, String> {
    if s == "all" {
        return Ok(Which::All);
    }
    s.parse::<Workload>()
        .map(Which::One)
        .map_err(|e| format!("{e}, or all"))
}

fn main() -> ExitCode {
    let args = match common::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    match args.workload {
        Which::All => run_all(&args),
        Which::One(workload) => common::finish(run_one(&args, workload), &[]),
    }
}
