//! Warm-up, repeated timing and the summary of one workload.

use std::time::Instant;

use crate::encoder::ConvPath;
use crate::loss::LossKernel;
use crate::{Error, Result};

/// How a workload is timed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkloadOptions {
    /// Untimed iterations first (shader compilation, allocator warm-up). Default 3.
    pub warmup: usize,
    /// Timed iterations (≥ 1). Default 10.
    pub repeats: usize,
    /// The convolution path of `simclr_step_b256`; `None` takes the backend's fastest
    /// ([`ConvPath::fastest_for`]).
    pub conv_path: Option<ConvPath>,
    /// The InfoNCE implementation of the loss workloads: the fused kernel where the backend
    /// has one (the default), or the composed operations, to compare the two.
    pub loss_kernel: LossKernel,
}

impl Default for WorkloadOptions {
    fn default() -> Self {
        Self {
            warmup: 3,
            repeats: 10,
            conv_path: None,
            loss_kernel: LossKernel::Auto,
        }
    }
}

impl WorkloadOptions {
    /// Refuses zero timed iterations.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `repeats` is 0.
    pub fn validate(&self) -> Result<()> {
        if self.repeats == 0 {
            return Err(Error::config("repeats", "must be ≥ 1"));
        }
        Ok(())
    }
}

/// The timed iterations of one workload, milliseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Timing {
    /// Median of the timed iterations.
    pub median_ms: f64,
    /// Fastest iteration.
    pub min_ms: f64,
    /// Slowest iteration.
    pub max_ms: f64,
    /// Timed iterations.
    pub repeats: usize,
    /// Floating-point operations per second at the median, 10⁹ (the matrix products only),
    /// for workloads whose count is known.
    pub gflops: Option<f64>,
}

impl Timing {
    /// Summarises iteration times; `flops` is the work of one iteration when known.
    fn from_ms(mut ms: Vec<f64>, flops: Option<f64>) -> Self {
        ms.sort_by(f64::total_cmp);
        let median_ms = ms[ms.len() / 2];
        Self {
            median_ms,
            min_ms: ms[0],
            max_ms: ms[ms.len() - 1],
            repeats: ms.len(),
            gflops: flops.map(|f| f / (median_ms * 1e6)),
        }
    }
}

/// Runs `iteration` `options.warmup + options.repeats` times and summarises the timed ones.
pub(super) fn time_iterations(
    options: &WorkloadOptions,
    flops: Option<f64>,
    mut iteration: impl FnMut() -> Result<()>,
) -> Result<Timing> {
    for _ in 0..options.warmup {
        iteration()?;
    }
    let mut ms = Vec::with_capacity(options.repeats);
    for _ in 0..options.repeats {
        let start = Instant::now();
        iteration()?;
        ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(Timing::from_ms(ms, flops))
}
