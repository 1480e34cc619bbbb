//! Data-parallel training with negatives gathered across peers (feature `collective`).
//!
//! Trains the same seeded MLP encoder on synthetic pairs twice: on one device with the
//! whole batch, and as K peers (threads; each a shard of every batch) whose embeddings are
//! gathered with gradient through burn-collective. Prints and writes how far apart they
//! are (the first step's gradients, every step's loss) and what a step costs.
//!
//!     cargo run --release --features collective --example data_parallel -- \
//!         --peers 4 --steps 20 --objective info-nce --json out/data_parallel.json
//!
//! Across processes (one peer each) through burn-collective's orchestrator, here two on
//! loopback; on real machines give each node's reachable `host:port` instead:
//!
//!     data_parallel --nodes 2 --node 0 --serve-orchestrator 7100 --orchestrator 127.0.0.1:7100 \
//!         --node-address 127.0.0.1:7101 --json out/node0.json &
//!     data_parallel --nodes 2 --node 1 --orchestrator 127.0.0.1:7100 \
//!         --node-address 127.0.0.1:7102 --json out/node1.json

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use infonce::backend::BackendKind;
use infonce::objective::ObjectiveKind;
use infonce::parallel::{CompareOptions, NodeConfig};

mod common;

/// Library field names and the flags that set them.
const FLAGS: &[(&str, &str)] = &[("global_batch", "--batch-size"), ("learning_rate", "--lr")];

/// One device against K data-parallel peers, same seed, same global batches.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Backend: ndarray, wgpu (feature `wgpu`), flex (feature `flex`) or cuda (feature `cuda`).
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
    /// Run as one node of a multi-process run with this many nodes (one peer each)
    /// instead of threads (--peers is then ignored); needs --node, --orchestrator and
    /// --node-address.
    #[arg(long, value_parser = common::at_least::<1>)]
    nodes: Option<usize>,
    /// This process's node index, 0..nodes.
    #[arg(long)]
    node: Option<usize>,
    /// The orchestrator's `host:port`.
    #[arg(long)]
    orchestrator: Option<String>,
    /// `host:port` at which the other nodes reach this node; its port is listened on.
    #[arg(long)]
    node_address: Option<String>,
    /// Also start the orchestrator in this process, on this port (of all interfaces).
    #[arg(long)]
    serve_orchestrator: Option<u16>,
    /// With --nodes: keep burn-collective's INFO logs (every connection and transfer).
    #[arg(long)]
    verbose: bool,
}

fn options(args: &Args) -> CompareOptions {
    CompareOptions {
        peers: args.peers,
        steps: args.steps,
        global_batch: args.batch_size,
        objective: args.objective,
        learning_rate: args.lr,
        seed: args.seed,
    }
}

fn run(args: &Args) -> infonce::Result<()> {
    if let Some(nodes) = args.nodes {
        return run_node(args, nodes);
    }
    if args.node.is_some()
        || args.orchestrator.is_some()
        || args.node_address.is_some()
        || args.serve_orchestrator.is_some()
    {
        return Err(infonce::Error::config(
            "nodes",
            "--node, --orchestrator, --node-address and --serve-orchestrator need --nodes",
        ));
    }
    let options = options(args);
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

/// This process's node of a multi-process run, compared with the one-device run.
fn run_node(args: &Args, nodes: usize) -> infonce::Result<()> {
    let node = NodeConfig::new(
        nodes,
        required(args.node, "node")?,
        &required(args.orchestrator.clone(), "orchestrator")?,
        &required(args.node_address.clone(), "node_address")?,
    )?;
    if !args.verbose {
        quiet_collective_logs();
    }
    if let Some(port) = args.serve_orchestrator {
        infonce::parallel::start_orchestrator(port)?;
    }
    println!(
        "node {} of {nodes}: {} of {} pairs per step, {} steps, orchestrator {}",
        node.node,
        args.batch_size / nodes,
        args.batch_size,
        args.steps,
        node.orchestrator
    );
    let report = infonce::launch::data_parallel_node(args.backend, &options(args), &node)?;
    println!("negatives per row     {}", report.negatives_per_row);
    println!(
        "max |Δ parameter|     {:.3e} after {} steps",
        report.max_abs_param_diff, args.steps
    );
    println!(
        "max |Δ loss|          {:.3e} (any step)",
        report.max_loss_diff
    );
    println!("collective bytes/step {}", report.bytes_per_step);
    println!(
        "step time             {:.2} ms on 1 device, {:.2} ms on this node",
        report.step_ms["1"], report.step_ms["k"]
    );
    if let Some(path) = &args.json {
        infonce::io::write_json(path, &report)?;
        println!("wrote {}", path.display());
    }
    if report.max_abs_param_diff > 1e-5 || report.max_loss_diff > 1e-5 {
        return Err(infonce::Error::ShardMismatch {
            peers: nodes,
            parameter: "(see the report)".into(),
            max_abs_grad_diff: report.max_abs_param_diff,
            max_loss_diff: report.max_loss_diff,
            tolerance: 1e-5,
        });
    }
    Ok(())
}

/// A flag that --nodes needs.
fn required<T>(value: Option<T>, name: &str) -> infonce::Result<T> {
    value.ok_or_else(|| infonce::Error::config(name, "required with --nodes"))
}

/// burn-collective's transport logs every connection and download at level INFO; keep
/// warnings and errors only (`--verbose` keeps everything).
fn quiet_collective_logs() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(std::io::stderr)
        .try_init();
}

fn main() -> ExitCode {
    let args = match common::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    common::finish(run(&args), FLAGS)
}
