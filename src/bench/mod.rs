//! The benchmark workloads: what `examples/bench.rs` times and `benches/pytorch_reference.py`
//! reproduces in PyTorch for the ratios.
//!
//! Each workload is one iteration of a training-shaped computation that ends in a read-back
//! (so an asynchronous device has finished). [`time_workload`] runs warm-up iterations, then
//! timed ones, and reports their median, minimum and maximum; [`crate::launch::bench`] does
//! the same on a backend named at run time.
//!
//! ```
//! use infonce::backend::{BackendKind, NdArrayAutodiff};
//! use infonce::bench::{time_workload, Workload, WorkloadOptions};
//!
//! let options = WorkloadOptions { warmup: 1, repeats: 3, ..WorkloadOptions::default() };
//! let workload: Workload = "loss_n256".parse()?;
//! let timing = time_workload::<NdArrayAutodiff>(workload, &options, &Default::default())?;
//! assert!(timing.min_ms <= timing.median_ms && timing.median_ms <= timing.max_ms);
//! assert!(timing.gflops.unwrap() > 0.0);
//! # Ok::<(), infonce::Error>(())
//! ```

mod loss_workloads;
mod step_workloads;
mod timing;
mod workload;

pub use timing::{Timing, WorkloadOptions};
pub use workload::Workload;

use burn::tensor::backend::AutodiffBackend;

use crate::Result;

/// Runs `workload` `options.warmup` times untimed, then `options.repeats` times timed, on
/// `device` (seeded with 0 first, so the inputs are the same on every run).
///
/// # Errors
/// [`crate::Error::InvalidConfig`] when `options.repeats` is 0; errors of the workload.
pub fn time_workload<B: AutodiffBackend>(
    workload: Workload,
    options: &WorkloadOptions,
    device: &B::Device,
) -> Result<Timing> {
    options.validate()?;
    B::seed(device, 0);
    match workload {
        Workload::Sgemm1024 => loss_workloads::sgemm::<B>(1024, options, device),
        Workload::LossN256 => loss_workloads::info_nce::<B>(256, false, options, device),
        Workload::LossN1024 => loss_workloads::info_nce::<B>(1024, false, options, device),
        Workload::LossN4096 => loss_workloads::info_nce::<B>(4096, false, options, device),
        Workload::LossN16384 => loss_workloads::info_nce::<B>(16384, false, options, device),
        Workload::LossN4096Tiled => loss_workloads::info_nce::<B>(4096, true, options, device),
        Workload::LossN65536D128 => loss_workloads::info_nce::<B>(65536, true, options, device),
        Workload::NtxentN1024 => loss_workloads::nt_xent::<B>(1024, options, device),
        Workload::MiStepB128 => step_workloads::mi_step::<B>(128, options, device),
        Workload::SimclrStepB256 => step_workloads::simclr_step::<B>(256, None, options, device),
        Workload::SimclrStepB1024 => step_workloads::simclr_step::<B>(1024, None, options, device),
        Workload::SimclrStepB1024Gradcache => {
            step_workloads::simclr_step::<B>(1024, Some(256), options, device)
        }
    }
}
