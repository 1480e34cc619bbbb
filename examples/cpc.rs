//! Contrastive Predictive Coding on sequences with a known answer (van den Oord et al. 2018).
//!
//! A hidden state walks a cycle of S states (one step in its sequence's direction with
//! probability λ, a uniform jump otherwise) and is observed as a one-hot vector plus noise.
//! A GRU summarises each sequence's past into c_t, and one bilinear critic per step k picks
//! the true x_{t+k} out of negatives. Each k's top-1 and bound `log N − J_k` are printed
//! beside the closed-form optimum (noise-free, one direction, same-step negatives) and
//! chance; with two directions a linear probe reads the direction from the context.
//!
//!     cargo run --release --example cpc -- --steps-ahead 3 --json out/cpc.json

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use infonce::backend::BackendKind;
use infonce::cpc::{CpcConfig, CpcReport, SequenceNegatives};

mod common;

/// Library field names and the flags that set them.
const FLAGS: &[(&str, &str)] = &[
    ("states", "--states"),
    ("lambda", "--lambda"),
    ("noise", "--noise"),
    ("directions", "--directions"),
    ("steps_ahead", "--steps-ahead"),
    ("negatives", "--negatives"),
    ("learning_rate", "--lr"),
];

/// CPC: a GRU context, per-step bilinear critics, negatives across sequences and time.
#[derive(Parser, Debug)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// Backend: ndarray, wgpu (feature `wgpu`), flex (feature `flex`) or cuda (feature `cuda`).
    #[arg(long, default_value = "ndarray")]
    backend: BackendKind,
    /// States S on the hidden cycle (2..=256).
    #[arg(long, default_value_t = 8, value_parser = common::between::<2, 256>)]
    states: usize,
    /// Probability λ of a regular move (else a uniform jump), in [0, 1].
    #[arg(long, default_value_t = 0.8, value_parser = common::probability64)]
    lambda: f64,
    /// Emission noise σ ≥ 0 added to the one-hot observations.
    #[arg(long, default_value_t = 0.0, value_parser = common::non_negative)]
    noise: f64,
    /// 1: every sequence moves +1; 2: each moves +1 or −1 (probed from the context).
    #[arg(long, default_value_t = 1, value_parser = common::between::<1, 2>)]
    directions: usize,
    /// Sequences per batch (≥ 1; same-step negatives need ≥ 2).
    #[arg(long, default_value_t = 64, value_parser = common::at_least::<1>)]
    batch_size: usize,
    /// Steps per sequence (≥ 2, more than --steps-ahead).
    #[arg(long, default_value_t = 12, value_parser = common::between::<2, 4096>)]
    length: usize,
    /// Prediction steps K, one bilinear critic each (≥ 1).
    #[arg(long, default_value_t = 3, value_parser = common::between::<1, 64>)]
    steps_ahead: usize,
    /// Negatives: same-step (other sequences), same-sequence (other steps) or both.
    #[arg(long, default_value = "same-step")]
    negatives: SequenceNegatives,
    /// Epochs (≥ 1).
    #[arg(long, default_value_t = 8, value_parser = common::at_least::<1>)]
    epochs: usize,
    /// Optimiser steps per epoch (≥ 1).
    #[arg(long, default_value_t = 100, value_parser = common::at_least::<1>)]
    steps_per_epoch: usize,
    /// Adam learning rate (finite, > 0).
    #[arg(long, default_value_t = 3e-3, value_parser = common::positive)]
    lr: f64,
    /// Fresh batches for the final per-step evaluation (≥ 1).
    #[arg(long, default_value_t = 40, value_parser = common::at_least::<1>)]
    eval_batches: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Folder for history.json and checkpoints.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

impl Args {
    fn config(&self) -> CpcConfig {
        let mut config = CpcConfig {
            negatives: self.negatives,
            epochs: self.epochs,
            learning_rate: self.lr,
            seed: self.seed,
            eval_batches: self.eval_batches,
            out_dir: self.out.as_ref().map(|p| p.display().to_string()),
            ..CpcConfig::default()
        };
        config.data.states = self.states;
        config.data.lambda = self.lambda;
        config.data.noise = self.noise;
        config.data.directions = self.directions;
        config.data.batch_size = self.batch_size;
        config.data.length = self.length;
        config.data.steps_per_epoch = self.steps_per_epoch;
        config.model.steps_ahead = self.steps_ahead;
        config
    }
}

fn run(args: &Args) -> infonce::Result<()> {
    let config = args.config();
    config.validate()?;
    println!(
        "CPC on a lazy cycle: S = {}, λ = {}, σ = {}, {} direction(s); {} sequences × {} steps, K = {}, \
         {} negatives (N = {}), {}",
        args.states,
        args.lambda,
        args.noise,
        args.directions,
        args.batch_size,
        args.length,
        args.steps_ahead,
        args.negatives,
        config.candidates(),
        args.backend
    );
    let report = infonce::launch::cpc(args.backend, &config)?;
    print_report(&report);
    if let Some(path) = &args.json {
        infonce::io::write_json(path, &report)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn print_report(report: &CpcReport) {
    let kind = if report.is_bound {
        "MI ≥"
    } else {
        "log N − J"
    };
    println!(
        "trained {} epochs in {:.1} s; fresh batches, ln N = {:.3}",
        report.epochs, report.seconds, report.log_n
    );
    println!(
        "{:>3} {:>8} {:>9} {:>8} | {:>10} {:>10} {:>9}",
        "k", "top-1", "optimum", "chance", kind, "optimum", "true MI"
    );
    // `+ 0.0` turns a −0 (an optimum of exactly log N − log N) into 0.
    let show = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{:.3}", v + 0.0));
    for s in &report.steps {
        println!(
            "{:>3} {:>8.3} {:>9} {:>8.3} | {:>10.3} {:>10} {:>9}",
            s.k,
            s.top1,
            show(s.optimal_top1),
            s.chance_top1,
            s.mi_bound,
            show(s.optimal_bound),
            show(s.mutual_information)
        );
    }
    if let (Some(p), Some(c)) = (report.probe_top1, report.probe_chance) {
        println!("linear probe on the direction from c_(L-1): {p:.3} (chance {c:.3})");
    }
}

fn main() -> ExitCode {
    let args = match common::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    common::finish(run(&args), FLAGS)
}
