//! Contrastive methods on image pairs: two augmented views of every image, a ResNet encoder
//! with a projection head, a cosine critic. SimCLR (Chen et al. 2020, NT-Xent) by default;
//! `--method` picks MoCo v2 (momentum key encoder and a queue), SupCon (labels), or the
//! decoupled, debiased and hard-negative objectives. Then the learned features are compared
//! with the same network at random initialisation and with raw pixels, by weighted kNN and
//! by a linear probe.
//!
//!     cargo run --release --example simclr                       # embedded synthetic shapes
//!     cargo run --release --example simclr -- --method moco --queue-size 2048
//!     cargo run --release --example simclr -- --data idx:~/mnist --epochs 5
//!     cargo run --release --example simclr -- --resume          # after a crash or Ctrl-C
//!     cargo run --release --example simclr -- --batch-size 512 --grad-cache-chunk 64
//!
//! Writes `OUT/report.json`, `OUT/history.json`, `OUT/curves.svg` and `OUT/checkpoints/`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use infonce::backend::BackendKind;
use infonce::data::DataSpec;
use infonce::recipes::{Method, MocoSettings, SimclrConfig, SimclrReport};

mod common;

/// Contrastive training (SimCLR, MoCo v2, SupCon, ...) and evaluation on images.
#[derive(Parser, Debug)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// Method: simclr (NT-Xent, 2N − 2 negatives), moco (momentum key encoder + queue of
    /// keys), supcon (same-label views are positives; uses labels), decoupled (positive
    /// left out of the denominator), debiased (class prior --tau-plus), hard-negative
    /// (--beta, --tau-plus).
    #[arg(long, default_value = "simclr", value_parser = method_name)]
    method: Method,
    /// moco: the key encoder's momentum, in [0, 1] (default 0.99).
    #[arg(long, value_parser = common::probability64)]
    momentum: Option<f64>,
    /// moco: raise the momentum to 1 along a half cosine over the run (BYOL's schedule).
    #[arg(long)]
    cosine_momentum: bool,
    /// moco: keys in the queue (≥ 1, default 1024).
    #[arg(long, value_parser = common::at_least::<1>)]
    queue_size: Option<usize>,
    /// debiased, hard-negative: class prior τ⁺ in [0, 1) (default 0.1).
    #[arg(long, value_parser = common::probability64)]
    tau_plus: Option<f64>,
    /// hard-negative: concentration β ≥ 0 (default 1).
    #[arg(long, value_parser = common::non_negative)]
    beta: Option<f64>,
    /// Backend: ndarray, wgpu (feature `wgpu`), flex (feature `flex`) or cuda (feature `cuda`).
    #[arg(long, default_value = "ndarray")]
    backend: BackendKind,
    /// synthetic, idx:DIR (MNIST files), cifar10:DIR (binary batches) or folder:DIR.
    #[arg(long, default_value = "synthetic")]
    data: DataSpec,
    /// Training epochs (≥ 1).
    #[arg(long, default_value_t = 40, value_parser = common::at_least::<1>)]
    epochs: usize,
    /// Pairs per batch (≥ 2, at most the number of training images).
    #[arg(long, default_value_t = 64, value_parser = common::at_least::<2>)]
    batch_size: usize,
    /// Output directory.
    #[arg(long, default_value = "out/simclr")]
    out: PathBuf,
    /// Temperature of the cosine critic (finite, > 0).
    #[arg(long, default_value_t = 0.2, value_parser = common::positive)]
    temperature: f64,
    /// Adam learning rate (finite, > 0).
    #[arg(long, default_value_t = 2e-3, value_parser = common::positive)]
    lr: f64,
    /// Backbone width (1 to 512).
    #[arg(long, default_value_t = 16, value_parser = common::between::<1, 512>)]
    width: usize,
    /// Number of synthetic training images (test: a fifth of it; ≥ 2).
    #[arg(long, default_value_t = 2000, value_parser = common::at_least::<2>)]
    synthetic_images: usize,
    /// Side length of synthetic and image-folder images (8 to 256; default 16). MNIST and
    /// CIFAR-10 keep their own size: for them it may only repeat that size.
    #[arg(long, value_parser = common::between::<8, 256>)]
    image_size: Option<usize>,
    /// Backbone stages (1 to 6; each after the first halves the resolution).
    #[arg(long, default_value_t = 2, value_parser = common::between::<1, 6>)]
    stages: usize,
    /// Use at most this many training images (0: all).
    #[arg(long, default_value_t = 0)]
    max_train: usize,
    /// Smallest crop, as a fraction of the image area, in (0, 1].
    #[arg(long, default_value_t = 0.3, value_parser = common::fraction)]
    crop_min: f32,
    /// Probability of a horizontal flip, in [0, 1] (0 for data that is not
    /// mirror-symmetric, such as digits).
    #[arg(long, default_value_t = 0.5, value_parser = common::probability)]
    flip_probability: f32,
    /// Share of the training images held out as the validation split that chooses
    /// best.ckpt (in [0, 0.5]; 0: no selection). The test split never chooses anything.
    #[arg(long, default_value_t = 0.1, value_parser = common::probability64)]
    validation_fraction: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Continue an interrupted run from the newest good checkpoint in `<out>/checkpoints`.
    #[arg(long)]
    resume: bool,
    /// Gradient caching: the encoder sees this many pairs at a time (≥ 1), so a batch whose
    /// activations do not fit in memory still trains with the loss over the whole batch.
    /// Batch norm then normalises each chunk on its own.
    #[arg(long, value_parser = common::at_least::<1>)]
    grad_cache_chunk: Option<usize>,
}

fn run(args: &Args) -> infonce::Result<()> {
    // Fail at once, before reading the data, when another run holds the output folder
    // (the trainer takes the lock for the whole run).
    infonce::io::FolderLock::ensure_free(&args.out)?;
    let size = args.image_size.unwrap_or(16);
    let mut data = args.data.load(args.synthetic_images, size, args.seed)?;
    let own = (data.train.height, data.train.width);
    if args.image_size.is_some() && own != (size, size) {
        return Err(infonce::Error::config(
            "image_size",
            format!(
                "{} images are {}×{} and keep their size; got {size}",
                args.data, own.0, own.1
            ),
        ));
    }
    if args.max_train > 0 {
        data.train = data.train.take(args.max_train);
    }
    println!(
        "{} on {} ({} train / {} test images of {}×{}×{}, {} classes), {} epochs, batch {}, {}",
        args.method.name(),
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
        method: method(args)?,
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        temperature: args.temperature,
        width: args.width,
        stages: args.stages,
        seed: args.seed,
        validation_fraction: args.validation_fraction,
        out_dir: Some(args.out.clone()),
        resume: args.resume,
        grad_cache_chunk: args.grad_cache_chunk,
        augment: infonce::data::augment::AugmentConfig {
            crop_scale: (args.crop_min, 1.0),
            flip_probability: args.flip_probability,
            ..SimclrConfig::default().augment
        },
        ..SimclrConfig::default()
    };
    let report = infonce::launch::simclr(args.backend, &config, data)?;
    print_report(&report, &args.out);
    Ok(())
}

fn method_name(s: &str) -> Result<Method, String> {
    s.parse::<Method>().map_err(|_| {
        format!(
            "must be one of {}",
            infonce::recipes::METHOD_NAMES.join(", ")
        )
    })
}

/// The method with its options; an option given to a method that does not take it is a
/// usage error naming the option.
fn method(args: &Args) -> infonce::Result<Method> {
    let method = match args.method {
        Method::Moco(defaults) => Method::Moco(MocoSettings {
            momentum: args.momentum.unwrap_or(defaults.momentum),
            cosine_momentum: args.cosine_momentum,
            queue_size: args.queue_size.unwrap_or(defaults.queue_size),
        }),
        Method::Debiased { tau_plus } => Method::Debiased {
            tau_plus: args.tau_plus.unwrap_or(tau_plus),
        },
        Method::HardNegative { beta, tau_plus } => Method::HardNegative {
            beta: args.beta.unwrap_or(beta),
            tau_plus: args.tau_plus.unwrap_or(tau_plus),
        },
        other => other,
    };
    let name = method.name();
    let takes = |methods: &[&str]| methods.contains(&name);
    let given = [
        ("momentum", args.momentum.is_some(), takes(&["moco"])),
        ("cosine_momentum", args.cosine_momentum, takes(&["moco"])),
        ("queue_size", args.queue_size.is_some(), takes(&["moco"])),
        (
            "tau_plus",
            args.tau_plus.is_some(),
            takes(&["debiased", "hard-negative"]),
        ),
        ("beta", args.beta.is_some(), takes(&["hard-negative"])),
    ];
    if let Some((flag, _, _)) = given.iter().find(|(_, set, ok)| *set && !ok) {
        return Err(infonce::Error::config(
            *flag,
            format!("is not an option of --method {name}"),
        ));
    }
    method.validate()?;
    Ok(method)
}

fn print_report(r: &SimclrReport, out: &std::path::Path) {
    println!(
        "\n{:<22} {:>10} {:>12} {:>11}",
        "top-1 accuracy", "learned", "random init", "raw pixels"
    );
    for (name, s) in [
        ("kNN (k = 20)", r.knn_top1),
        ("linear probe", r.linear_probe_top1),
    ] {
        println!(
            "{name:<22} {:>10.3} {:>12.3} {:>11.3}",
            s.learned, s.random_init, s.raw_pixels
        );
    }
    println!(
        "alignment {:.3}, uniformity {:.3} (lower is better), {:.0} s",
        r.alignment, r.uniformity, r.seconds
    );
    let m = &r.model_selection;
    if let (Some(epoch), Some(value)) = (m.best_epoch, m.best_value) {
        println!(
            "best.ckpt: epoch {epoch}, validation kNN {value:.3} on {} held-out training images",
            m.validation_images
        );
    }
    println!(
        "wrote {}/report.json, history.json, curves.svg, checkpoints/",
        out.display()
    );
}

fn main() -> ExitCode {
    let args = match common::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    let result = run(&args);
    common::finish(
        result,
        &[("learning_rate", "--lr"), ("crop_scale", "--crop-min")],
    )
}
