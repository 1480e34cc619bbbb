//! What a loss call returns besides the loss: accuracy and the MI bound.

use burn::tensor::{backend::Backend, ElementConversion, Tensor};

/// A loss value with its diagnostics, all still on the device.
///
/// Reading the numbers back ([`LossOutput::stats`]) synchronises with the device, so the
/// trainer does it once per step, after the backward pass has been queued.
#[derive(Debug, Clone)]
pub struct LossOutput<B: Backend> {
    /// The mean loss `J`, shape `[1]`, differentiable.
    pub loss: Tensor<B, 1>,
    /// Fraction of rows whose highest-scoring valid candidate is a positive, shape `[1]`,
    /// detached from the graph.
    pub accuracy: Tensor<B, 1>,
    /// Mean over rows of `ln N_i`, `N_i` the number of valid candidates of row `i`.
    pub log_num_candidates: f64,
}

/// The host-side numbers of a [`LossOutput`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LossStats {
    /// The loss `J` in nats.
    pub loss: f64,
    /// Top-1 accuracy of picking the positive, in `[0, 1]`.
    pub accuracy: f64,
    /// The InfoNCE bound `log N − J` in nats.
    pub mi_bound: f64,
    /// `log N` (mean over rows when `N` varies), the cap of the bound.
    pub log_n: f64,
}

impl<B: Backend> LossOutput<B> {
    /// Reads loss and accuracy back to the host and derives the MI bound.
    pub fn stats(&self) -> LossStats {
        let loss = self.loss.clone().into_scalar().elem::<f64>();
        let accuracy = self.accuracy.clone().into_scalar().elem::<f64>();
        LossStats {
            loss,
            accuracy,
            mi_bound: self.log_num_candidates - loss,
            log_n: self.log_num_candidates,
        }
    }
}
