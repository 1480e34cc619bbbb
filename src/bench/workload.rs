//! The names of the benchmark workloads.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// A workload of the benchmark suite. The name (`loss_n1024`) says the computation and its
/// size: `n` rows of 128-dimensional embeddings for the losses, `b` images or pairs per
/// batch for the training steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// `sgemm_1024`: one 1024³ single-precision matrix product, the machine's roofline.
    Sgemm1024,
    /// `loss_n256`: cosine logits at τ 0.1 and InfoNCE over 256 × 256, forward and backward.
    LossN256,
    /// `loss_n1024`: the same at 1024 × 1024.
    LossN1024,
    /// `loss_n4096`: the same at 4096 × 4096.
    LossN4096,
    /// `loss_n16384`: the same at 16384 × 16384 (1 GiB per score matrix).
    LossN16384,
    /// `loss_n4096_tiled`: `loss_n4096` through [`crate::loss::tiled_info_nce`], 1 GiB of
    /// tiles.
    LossN4096Tiled,
    /// `loss_n65536_d128`: the tiled loss at 65536 × 65536 (plain logits would take 16 GiB),
    /// 1 GiB of tiles.
    LossN65536D128,
    /// `ntxent_n1024`: NT-Xent (τ 0.5) over two views of 1024 rows, forward and backward.
    NtxentN1024,
    /// `mi_step_b128`: one trainer step of the separable critic on 20-dimensional Gaussians.
    MiStepB128,
    /// `simclr_step_b256`: one trainer step of the reference CNN on two views of 256
    /// 32×32×3 images, NT-Xent τ 0.5, Adam.
    SimclrStepB256,
    /// `simclr_step_b1024`: the same step on 1024 images.
    SimclrStepB1024,
    /// `simclr_step_b1024_gradcache`: `simclr_step_b1024` with gradient caching, the CNN
    /// seeing 256 images of each view at a time
    /// ([`crate::trainer::Trainer::train_step_cached`]).
    SimclrStepB1024Gradcache,
}

impl Workload {
    /// Every workload, in the order `--workload all` runs them.
    pub const ALL: [Workload; 12] = [
        Workload::Sgemm1024,
        Workload::LossN256,
        Workload::LossN1024,
        Workload::LossN4096,
        Workload::LossN16384,
        Workload::LossN4096Tiled,
        Workload::LossN65536D128,
        Workload::NtxentN1024,
        Workload::MiStepB128,
        Workload::SimclrStepB256,
        Workload::SimclrStepB1024,
        Workload::SimclrStepB1024Gradcache,
    ];

    /// The workload's name, as the benchmark tables and the PyTorch reference spell it.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Sgemm1024 => "sgemm_1024",
            Workload::LossN256 => "loss_n256",
            Workload::LossN1024 => "loss_n1024",
            Workload::LossN4096 => "loss_n4096",
            Workload::LossN16384 => "loss_n16384",
            Workload::LossN4096Tiled => "loss_n4096_tiled",
            Workload::LossN65536D128 => "loss_n65536_d128",
            Workload::NtxentN1024 => "ntxent_n1024",
            Workload::MiStepB128 => "mi_step_b128",
            Workload::SimclrStepB256 => "simclr_step_b256",
            Workload::SimclrStepB1024 => "simclr_step_b1024",
            Workload::SimclrStepB1024Gradcache => "simclr_step_b1024_gradcache",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Workload {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Workload::ALL
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Workload::ALL.iter().map(|w| w.name()).collect();
                Error::config(
                    "workload",
                    format!(
                        "unknown workload `{s}`; expected one of {}",
                        names.join(", ")
                    ),
                )
            })
    }
}
