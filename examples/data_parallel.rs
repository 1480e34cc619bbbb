//! Data-parallel training with negatives gathered across peers (feature `collective`).
//!
//! Trains the same seeded MLP encoder on synthetic pairs twice: on one device with the
//! whole batch, and as K peers (threads; each a shard of every batch) whose embeddings are
//! gathered with gradient through burn-collective. Prints and writes how far apart they
//! are (the first step's gradients, every step's loss) and what a step costs.
//!
//!     cargo run --release --features collective --example data_parallel -- \
//!         --peers 4 --steps 20 --objective info-nce --json out/data_parallel.json

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use infonce::backend::BackendKind;
use infonce::objective::ObjectiveKind;
use infonce::parallel::CompareOptions;

mod common;

/// Library field names and the flags that set them.
const FLAGS: &[(&str, &str)] = &[("global_batch", "--batch-size"), ("learning_rate", "--lr")];

/// One device against K data-parallel peers, same seed, same global batches.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Backend: ndarray, wgpu (feature `wgpu`) or flex (feature `flex`).
    #[arg(long, default_value = "ndarray")]
    backend: BackendKind,
    /// Number of peers (≥ 1).
    #[arg(long, default_value_t = 2, value_parser = common::at_least::<1>)]
    peers: usize,
    /// Optimiser steps of each run (≥ 1).
    #[arg(long, default_value_t = 20, value_parser = common::at_least::<1>)]
    steps: usize,
    /// Pairs per step over all peers (a multiple of --peers, ≥ 2 per peer).
    #[arg(long, default_value_t = 64, value_parser = common::at_least::<2>)]
    batch_size: usize,
    /// Objective: info-nce, symmetric, decoupled, debiased:TAU_PLUS,
    /// hard-negative:BETA,TAU_PLUS or supcon.
    #[arg(long, default_value = "info-nce")]
    objective: ObjectiveKind,
    /// Adam learning rate (finite, > 0).
    #[arg(long, default_value_t = 1e-2, value_parser = common::positive)]
    lr: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn run(args: &Args) -> infonce::Result<()> {
    let options = CompareOptions {
        peers: args.peers,
        steps: args.steps,
        global_batch: args.batch_size,
        objective: args.objective,
        learning_rate: args.lr,
        seed: args.seed,
    };
    println!(
        "{} on {}: 1 device × {} pairs against {} peers × {}, {} steps",
        args.objective.name(),
        args.backend,
        args.batch_size,
        args.peers,
        args.batch_size / args.peers.max(1),
        args.steps
    );
    let report = infonce::launch::data_parallel(args.backend, &options)?;
    println!("negatives per row     {}", report.negatives_per_row);
    println!(
        "max |Δ gradient|      {:.3e} (first step)",
        report.max_abs_grad_diff
    );
    println!(
        "max |Δ loss|          {:.3e} (any step)",
        report.max_loss_diff
    );
    println!("collective bytes/step {}", report.bytes_per_step);
    println!(
        "step time             {:.2} ms on 1 device, {:.2} ms on {} peers",
        report.step_ms["1"], report.step_ms["k"], args.peers
    );
    if let Some(path) = &args.json {
        infonce::io::write_json(path, &report)?;
        println!("wrote {}", path.display());
    }
    if report.max_abs_grad_diff > 1e-5 || report.max_loss_diff > 1e-5 {
        return Err(infonce::Error::ShardMismatch {
            peers: report.peers,
            parameter: "(see the report)".into(),
            max_abs_grad_diff: report.max_abs_grad_diff,
            max_loss_diff: report.max_loss_diff,
            tolerance: 1e-5,
        });
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match common::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    common::finish(run(&args), FLAGS)
}
