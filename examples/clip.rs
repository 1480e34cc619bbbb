//! CLIP-style two towers (Radford et al. 2021) on captioned synthetic shapes: an image tower
//! (ResNet + head) and a text tower (token embeddings per caption slot + MLP) trained with
//! the symmetric InfoNCE and a learnable temperature clamped as CLIP does. Reports
//! zero-shot classification from one prompt per class (the bare shape name) against chance,
//! image→text and text→image recall@1/@5 on the test pairs, and the temperature's path.
//!
//!     cargo run --release --example clip
//!     cargo run --release --example clip -- --epochs 5 --json out/clip.json --backend wgpu
//!
//! Writes `OUT/report.json`, `OUT/history.json` (with the per-epoch temperature) and
//! `OUT/curves.svg`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use infonce::backend::BackendKind;
use infonce::clip::{ClipConfig, ClipReport};
use infonce::data::{caption_text, captioned_shapes};

mod common;

/// Library field names and the flags that set them.
const FLAGS: &[(&str, &str)] = &[
    ("learning_rate", "--lr"),
    ("initial_temperature", "--temperature"),
    ("captioned_shapes", "--image-size"),
];

/// CLIP-style image–caption training with zero-shot evaluation.
#[derive(Parser, Debug)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// Backend: ndarray, wgpu (feature `wgpu`), flex (feature `flex`) or cuda (feature `cuda`).
    #[arg(long, default_value = "ndarray")]
    backend: BackendKind,
    /// Training pairs (≥ 2); the test split has a quarter as many (at least 20).
    #[arg(long, default_value_t = 3000, value_parser = common::at_least::<2>)]
    train_pairs: usize,
    /// Image side (8 to 64).
    #[arg(long, default_value_t = 16, value_parser = common::between::<8, 64>)]
    image_size: usize,
    /// Epochs (≥ 1).
    #[arg(long, default_value_t = 20, value_parser = common::at_least::<1>)]
    epochs: usize,
    /// Pairs per batch (≥ 2, at most --train-pairs).
    #[arg(long, default_value_t = 128, value_parser = common::at_least::<2>)]
    batch_size: usize,
    /// Adam learning rate (finite, > 0).
    #[arg(long, default_value_t = 2e-3, value_parser = common::positive)]
    lr: f64,
    /// Initial temperature of the learnable scale, in [0.01, 1] (CLIP: 0.07).
    #[arg(long, default_value_t = 0.07, value_parser = common::positive)]
    temperature: f64,
    /// Probability of blanking each caption slot but the shape's, in [0, 1] (high enough
    /// that bare shape names, the zero-shot prompts, are common: 0.7⁵ ≈ 17 %).
    #[arg(long, default_value_t = 0.7, value_parser = common::probability64)]
    caption_dropout: f64,
    /// Image backbone width (1 to 512).
    #[arg(long, default_value_t = 16, value_parser = common::between::<1, 512>)]
    width: usize,
    /// Embedding width (1 to 4096).
    #[arg(long, default_value_t = 64, value_parser = common::between::<1, 4096>)]
    embed_dim: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory.
    #[arg(long, default_value = "out/clip")]
    out: PathBuf,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn run(args: &Args) -> infonce::Result<()> {
    infonce::io::FolderLock::ensure_free(&args.out)?;
    let config = ClipConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        initial_temperature: args.temperature,
        caption_dropout: args.caption_dropout,
        width: args.width,
        embed_dim: args.embed_dim,
        seed: args.seed,
        out_dir: Some(args.out.clone()),
        ..ClipConfig::default()
    };
    config.validate()?;
    let test_pairs = (args.train_pairs / 4).max(20);
    let data = captioned_shapes(args.train_pairs, test_pairs, args.image_size, args.seed)?;
    println!(
        "CLIP on captioned shapes: {} train / {} test pairs of {s}×{s}, e.g. \"{}\"; {} epochs, \
         batch {}, {}",
        args.train_pairs,
        test_pairs,
        caption_text(&data.train.captions[0]),
        args.epochs,
        args.batch_size,
        args.backend,
        s = args.image_size,
    );
    let report = infonce::launch::clip(args.backend, &config, data)?;
    print_report(&report, &args.out);
    if let Some(path) = &args.json {
        infonce::io::write_json(path, &report)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn print_report(r: &ClipReport, out: &std::path::Path) {
    println!(
        "\nzero-shot top-1 {:.3} (chance {:.3}) from one prompt per class, {} test pairs",
        r.zero_shot_top1, r.chance, r.test_pairs
    );
    println!("{:<14} {:>10} {:>10}", "recall", "@1", "@5");
    println!(
        "{:<14} {:>10.3} {:>10.3}",
        "image → text", r.recall_at_1.image_to_text, r.recall_at_5.image_to_text
    );
    println!(
        "{:<14} {:>10.3} {:>10.3}",
        "text → image", r.recall_at_1.text_to_image, r.recall_at_5.text_to_image
    );
    println!(
        "temperature {:.4} → {:.4}; {:.0} s; wrote {}/report.json, history.json, curves.svg",
        r.temperature.start,
        r.temperature.end,
        r.seconds,
        out.display()
    );
}

fn main() -> ExitCode {
    let args = match common::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    common::finish(run(&args), FLAGS)
}
