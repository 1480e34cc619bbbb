//! The recipes on a backend picked at run time, compiled once inside this crate.
//!
//! Every recipe is generic over `B: AutodiffBackend`. An application that calls
//! `train_simclr::<B>` for each backend it offers compiles the whole stack (trainer,
//! encoders, augmentation, evaluation, Burn's autodiff operations) into its own binary once
//! per backend, which takes minutes of build time per binary. The functions here take a
//! [`BackendKind`] instead and call instances compiled in this library, one per backend
//! built in (features `ndarray`, `wgpu`, `flex`, `cuda`), so command-line tools that only choose the
//! backend at run time link them instead of compiling them again. The crate's examples are
//! built on these; call the generic functions when you bring your own model types.
//!
//! ```no_run
//! use infonce::backend::BackendKind;
//! use infonce::data::synthetic_shapes;
//! use infonce::recipes::SimclrConfig;
//!
//! let data = synthetic_shapes(600, 200, 16, 0)?;
//! let config = SimclrConfig { epochs: 2, ..SimclrConfig::default() };
//! let report = infonce::launch::simclr(BackendKind::NdArray, &config, data)?;
//! println!("kNN top-1 {:.3}", report.knn_top1.learned);
//! # Ok::<(), infonce::Error>(())
//! ```

use burn::tensor::backend::AutodiffBackend;

use crate::Result;
use crate::backend::BackendKind;
use crate::bench::{Timing, Workload, WorkloadOptions};
use crate::clip::{ClipConfig, ClipReport, train_clip};
use crate::cpc::{CpcConfig, CpcReport, train_cpc};
use crate::data::{CaptionedSplits, TrainTest};
use crate::eval::{GaussianBenchmark, GaussianLevel};
use crate::recipes::{SimclrConfig, SimclrReport, train_simclr};

/// [`train_simclr`] (any [`Method`](crate::recipes::Method)) on `backend`'s default device.
///
/// # Errors
/// [`Error::BackendUnavailable`](crate::Error::BackendUnavailable) when the backend has no
/// device; otherwise those of [`train_simclr`].
pub fn simclr(
    backend: BackendKind,
    config: &SimclrConfig,
    data: TrainTest,
) -> Result<SimclrReport> {
    fn on<B: AutodiffBackend>(
        device: B::Device,
        config: &SimclrConfig,
        data: TrainTest,
    ) -> Result<SimclrReport> {
        train_simclr::<B>(config, data, &device)
    }
    crate::with_backend!(backend, on, config, data)
}

/// [`train_clip`] on `backend`'s default device.
///
/// # Errors
/// As [`simclr`], then those of [`train_clip`].
pub fn clip(
    backend: BackendKind,
    config: &ClipConfig,
    data: CaptionedSplits,
) -> Result<ClipReport> {
    fn on<B: AutodiffBackend>(
        device: B::Device,
        config: &ClipConfig,
        data: CaptionedSplits,
    ) -> Result<ClipReport> {
        train_clip::<B>(config, data, &device)
    }
    crate::with_backend!(backend, on, config, data)
}

/// [`train_cpc`] on `backend`'s default device.
///
/// # Errors
/// As [`simclr`], then those of [`train_cpc`].
pub fn cpc(backend: BackendKind, config: &CpcConfig) -> Result<CpcReport> {
    fn on<B: AutodiffBackend>(device: B::Device, config: &CpcConfig) -> Result<CpcReport> {
        train_cpc::<B>(config, &device)
    }
    crate::with_backend!(backend, on, config)
}

/// One level of the Gaussian mutual-information benchmark
/// ([`GaussianBenchmark::run_level`]) on `backend`'s default device.
///
/// # Errors
/// As [`simclr`], then those of [`GaussianBenchmark::run_level`].
pub fn gaussian_level(
    backend: BackendKind,
    benchmark: &GaussianBenchmark,
    mi: f64,
) -> Result<GaussianLevel> {
    fn on<B: AutodiffBackend>(
        device: B::Device,
        benchmark: &GaussianBenchmark,
        mi: f64,
    ) -> Result<GaussianLevel> {
        benchmark.run_level::<B>(mi, &device)
    }
    crate::with_backend!(backend, on, benchmark, mi)
}

/// Times one benchmark workload ([`crate::bench::time_workload`]) on `backend`'s default
/// device.
///
/// # Errors
/// As [`simclr`], then those of the workload.
pub fn bench(
    backend: BackendKind,
    workload: Workload,
    options: &WorkloadOptions,
) -> Result<Timing> {
    fn on<B: AutodiffBackend>(
        device: B::Device,
        workload: Workload,
        options: &WorkloadOptions,
    ) -> Result<Timing> {
        crate::bench::time_workload::<B>(workload, options, &device)
    }
    crate::with_backend!(backend, on, workload, options)
}

/// [`crate::parallel::compare_with_one_device`] on `backend`'s default device: one seeded
/// run on one device against the same run on `options.peers` peers.
///
/// # Errors
/// As [`simclr`], then those of [`crate::parallel::compare_with_one_device`].
#[cfg(feature = "collective")]
pub fn data_parallel(
    backend: BackendKind,
    options: &crate::parallel::CompareOptions,
) -> Result<crate::parallel::CompareReport> {
    fn on<B: crate::parallel::GatherBackend>(
        device: B::Device,
        options: &crate::parallel::CompareOptions,
    ) -> Result<crate::parallel::CompareReport> {
        crate::parallel::compare_with_one_device::<B>(options, device)
    }
    crate::with_backend!(backend, on, options)
}

/// [`crate::parallel::compare_on_node`] on `backend`'s default device: this process's
/// node of a multi-process run, compared with the one-device run.
///
/// # Errors
/// As [`simclr`], then those of [`crate::parallel::compare_on_node`].
#[cfg(feature = "collective")]
pub fn data_parallel_node(
    backend: BackendKind,
    options: &crate::parallel::CompareOptions,
    node: &crate::parallel::NodeConfig,
) -> Result<crate::parallel::NodeReport> {
    fn on<B: crate::parallel::GatherBackend>(
        device: B::Device,
        options: &crate::parallel::CompareOptions,
        node: &crate::parallel::NodeConfig,
    ) -> Result<crate::parallel::NodeReport> {
        crate::parallel::compare_on_node::<B>(options, node, device)
    }
    crate::with_backend!(backend, on, options, node)
}
