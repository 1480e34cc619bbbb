//! SimCLR on image pairs (Chen et al. 2020): two augmented views of every image, a shared
//! ResNet encoder with a projection head, the NT-Xent loss; then the learned features are
//! compared with the same network at random initialisation and with raw pixels, by
//! weighted kNN and by a linear probe.
//!
//!     cargo run --release --example simclr                       # embedded synthetic shapes
//!     cargo run --release --example simclr -- --data idx:~/mnist --epochs 5
//!     cargo run --release --example simclr -- --resume          # after a crash or Ctrl-C
//!
//! Writes `OUT/report.json`, `OUT/history.json`, `OUT/curves.svg` and `OUT/checkpoints/`.

use std::path::PathBuf;
use std::process::ExitCode;

use burn::tensor::backend::AutodiffBackend;
use clap::Parser;
use infonce::backend::BackendKind;
use infonce::data::DataSpec;
use infonce::recipes::{train_simclr, SimclrConfig};

/// Self-supervised SimCLR training and evaluation.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Backend: ndarray, wgpu (feature `wgpu`) or flex (feature `flex`).
    #[arg(long, default_value = "ndarray")]
    backend: BackendKind,
    /// synthetic, idx:DIR (MNIST files), cifar10:DIR (binary batches) or folder:DIR.
    #[arg(long, default_value = "synthetic")]
    data: DataSpec,
    /// Training epochs.
    #[arg(long, default_value_t = 40)]
    epochs: usize,
    /// Pairs per batch.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Output directory.
    #[arg(long, default_value = "out/simclr")]
    out: PathBuf,
    /// NT-Xent temperature.
    #[arg(long, default_value_t = 0.2)]
    temperature: f64,
    /// Adam learning rate.
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Backbone width.
    #[arg(long, default_value_t = 16)]
    width: usize,
    /// Number of synthetic training images (test: a fifth of it).
    #[arg(long, default_value_t = 2000)]
    synthetic_images: usize,
    /// Side length of synthetic and image-folder images.
    #[arg(long, default_value_t = 16)]
    image_size: usize,
    /// Backbone stages (each after the first halves the resolution).
    #[arg(long, default_value_t = 2)]
    stages: usize,
    /// Use at most this many training images (0: all).
    #[arg(long, default_value_t = 0)]
    max_train: usize,
    /// Smallest crop, as a fraction of the image area.
    #[arg(long, default_value_t = 0.3)]
    crop_min: f32,
    /// Probability of a horizontal flip (0 for data that is not mirror-symmetric, such as
    /// digits).
    #[arg(long, default_value_t = 0.5)]
    flip_probability: f32,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Continue an interrupted run from the newest good checkpoint in `<out>/checkpoints`.
    #[arg(long)]
    resume: bool,
}

fn run<B: AutodiffBackend>(device: B::Device, args: &Args) -> infonce::Result<()> {
    let mut data = args
        .data
        .load(args.synthetic_images, args.image_size, args.seed)?;
    if args.max_train > 0 {
        data.train = data.train.take(args.max_train);
    }
    println!(
        "SimCLR on {} ({} train / {} test images of {}×{}×{}, {} classes), {} epochs, batch {}, {}",
        args.data,
        data.train.len(),
        data.test.len(),
        data.train.channels,
        data.train.height,
        data.train.width,
        data.train.num_classes,
        args.epochs,
        args.batch_size,
        args.backend
    );
    let config = SimclrConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        temperature: args.temperature,
        width: args.width,
        stages: args.stages,
        seed: args.seed,
        out_dir: Some(args.out.clone()),
        resume: args.resume,
        augment: infonce::data::augment::AugmentConfig {
            crop_scale: (args.crop_min, 1.0),
            flip_probability: args.flip_probability,
            ..SimclrConfig::default().augment
        },
        ..SimclrConfig::default()
    };
    let r = train_simclr::<B>(&config, data, &device)?;
    println!(
        "\n{:<22} {:>10} {:>12} {:>11}",
        "top-1 accuracy", "learned", "random init", "raw pixels"
    );
    println!(
        "{:<22} {:>10.3} {:>12.3} {:>11.3}",
        "kNN (k = 20)", r.knn_top1.learned, r.knn_top1.random_init, r.knn_top1.raw_pixels
    );
    println!(
        "{:<22} {:>10.3} {:>12.3} {:>11.3}",
        "linear probe",
        r.linear_probe_top1.learned,
        r.linear_probe_top1.random_init,
        r.linear_probe_top1.raw_pixels
    );
    println!(
        "alignment {:.3}, uniformity {:.3} (lower is better), {:.0} s",
        r.alignment, r.uniformity, r.seconds
    );
    println!(
        "wrote {}/report.json, history.json, curves.svg, checkpoints/",
        args.out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    infonce::backend::exit_code(infonce::with_backend!(args.backend, run, &args))
}
