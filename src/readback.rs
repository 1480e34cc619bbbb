//! Reading tensors back from the device, counted.
//!
//! Every read-back synchronises with the device: on a GPU the queue drains and the host
//! waits. The crate's own read-backs go through [`read_back`], which counts them, so the
//! number per training step can be measured ([`count`]) rather than guessed.

use std::sync::atomic::{AtomicU64, Ordering};

use burn::tensor::{Tensor, backend::Backend};

static READ_BACKS: AtomicU64 = AtomicU64::new(0);

/// All values of `tensor` as `f64`, counted as one read-back.
pub fn read_back<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Vec<f64> {
    READ_BACKS.fetch_add(1, Ordering::Relaxed);
    tensor
        .into_data()
        .convert::<f64>()
        .to_vec::<f64>()
        .unwrap_or_default()
}

/// How many read-backs the crate has made in this process so far.
pub fn count() -> u64 {
    READ_BACKS.load(Ordering::Relaxed)
}
