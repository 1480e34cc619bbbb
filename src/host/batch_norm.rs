//! Batch normalisation with batch statistics (training) over the channels of `[rows, c]`
//! host buffers, as one autodiff operation (Ioffe and Szegedy 2015, *Batch Normalization:
//! Accelerating Deep Network Training by Reducing Internal Covariate Shift*, Algorithm 1 and
//! its backward pass):
//!
//! ```text
//! μ = mean(x)   σ² = mean((x − μ)²)   x̂ = (x − μ) / √(σ² + ε)   y = γ·x̂ + β
//! ∂β = Σ g      ∂γ = Σ g·x̂            ∂x = γ / √(σ² + ε) · (g − ∂β/n − x̂·∂γ/n)
//! ```
//!
//! Burn's `BatchNorm` builds the same from a dozen broadcast operations, each with its own
//! backward step; here it is two passes forward and two back. Sums over rows go through
//! [`ordered_sum`], so they have the same bits on any number of threads.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use rayon::prelude::*;

use super::ordered_sum::ordered_sum;
use super::tensor::{float_tensor, from_host, to_host};
use super::{all_f32, return_on_host_backend, tracked_op};
use crate::loss::type_match::back_to;

/// Rows per unit of work.
const ROWS: usize = 512;

/// The batch's mean and (biased) variance per channel, for the running statistics.
pub(crate) struct BatchStats {
    pub(crate) mean: Vec<f32>,
    pub(crate) var: Vec<f32>,
}

/// What the backward pass needs: the normalised input, `1/√(σ² + ε)` and `γ`.
#[derive(Clone, Debug)]
struct Normalized {
    x_hat: Vec<f32>,
    inv_std: Vec<f32>,
    gamma: Vec<f32>,
}

/// Per-channel sums over the rows of `values` (`c` wide) of `term(channel, value)`.
fn channel_sums(values: &[f32], c: usize, term: impl Fn(usize, f32) -> f32 + Sync) -> Vec<f32> {
    ordered_sum(values.len() / c, ROWS, c, |range, sum| {
        for row in values[range.start * c..range.end * c].chunks_exact(c) {
            for (j, (s, &v)) in sum.iter_mut().zip(row).enumerate() {
                *s += term(j, v);
            }
        }
    })
}

/// Normalises `x` in place into `x̂`, returning the statistics and `1/√(σ² + ε)`.
fn normalize(x: &mut [f32], c: usize, epsilon: f32) -> (BatchStats, Vec<f32>) {
    let n = (x.len() / c) as f32;
    let mean: Vec<f32> = channel_sums(x, c, |_, v| v).iter().map(|s| s / n).collect();
    let var: Vec<f32> = channel_sums(x, c, |j, v| (v - mean[j]) * (v - mean[j]))
        .iter()
        .map(|s| s / n)
        .collect();
    let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + epsilon).sqrt()).collect();
    x.par_chunks_mut(ROWS * c).for_each(|block| {
        for row in block.chunks_exact_mut(c) {
            for ((v, m), s) in row.iter_mut().zip(&mean).zip(&inv_std) {
                *v = (*v - m) * s;
            }
        }
    });
    (BatchStats { mean, var }, inv_std)
}

/// `γ·x̂ + β`.
fn scale_shift(x_hat: &[f32], gamma: &[f32], beta: &[f32]) -> Vec<f32> {
    let c = gamma.len();
    let mut y = x_hat.to_vec();
    y.par_chunks_mut(ROWS * c).for_each(|block| {
        for row in block.chunks_exact_mut(c) {
            for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
                *v = *v * g + b;
            }
        }
    });
    y
}

impl Normalized {
    /// `(∂x, ∂γ, ∂β)` for the upstream gradient `g`; `∂x` overwrites `g`.
    fn gradients(&self, mut g: Vec<f32>) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let c = self.gamma.len();
        let n = (g.len() / c) as f32;
        let d_beta = channel_sums(&g, c, |_, v| v);
        let x_hat = &self.x_hat;
        let d_gamma = ordered_sum(g.len() / c, ROWS, c, |range, sum| {
            let (g, x_hat) = (
                &g[range.start * c..range.end * c],
                &x_hat[range.start * c..],
            );
            for (row, hat) in g.chunks_exact(c).zip(x_hat.chunks_exact(c)) {
                for ((s, v), h) in sum.iter_mut().zip(row).zip(hat) {
                    *s += v * h;
                }
            }
        });
        let scale: Vec<f32> = (0..c).map(|j| self.gamma[j] * self.inv_std[j]).collect();
        g.par_chunks_mut(ROWS * c)
            .zip(x_hat.par_chunks(ROWS * c))
            .for_each(|(g, x_hat)| {
                for (row, hat) in g.chunks_exact_mut(c).zip(x_hat.chunks_exact(c)) {
                    for j in 0..c {
                        row[j] = scale[j] * (row[j] - d_beta[j] / n - hat[j] * d_gamma[j] / n);
                    }
                }
            });
        (g, d_gamma, d_beta)
    }
}

#[derive(Debug)]
struct HostBatchNorm;

impl<K: Backend> Backward<K, 3> for HostBatchNorm {
    type State = Normalized;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<K>(&ops.node);
        let (g, dims, device) = to_host::<K, 2>(upstream);
        let (d_x, d_gamma, d_beta) = ops.state.gradients(g);
        let [parent_x, parent_gamma, parent_beta] = ops.parents;
        let c = [dims[1]];
        if let Some(parent) = parent_gamma {
            grads.register::<K>(parent.id, from_host::<K, 1>(d_gamma, c, &device));
        }
        if let Some(parent) = parent_beta {
            grads.register::<K>(parent.id, from_host::<K, 1>(d_beta, c, &device));
        }
        if let Some(parent) = parent_x {
            grads.register::<K>(parent.id, from_host::<K, 2>(d_x, dims, &device));
        }
    }
}

/// The normalised rows and the batch's statistics, on the host kernel when `B` is a host
/// backend (ndarray, flex, with or without autodiff) and `x` `[rows, c]` has at least one
/// row and `c` channels matching `gamma` and `beta`; the operands back otherwise.
#[allow(clippy::type_complexity)]
pub(crate) fn try_host_batch_norm<B: Backend>(
    x: Tensor<B, 2>,
    gamma: Tensor<B, 1>,
    beta: Tensor<B, 1>,
    epsilon: f64,
) -> Result<(Tensor<B, 2>, BatchStats), (Tensor<B, 2>, Tensor<B, 1>, Tensor<B, 1>)> {
    let [rows, c] = x.dims();
    let f32_operands = all_f32(&[x.dtype(), gamma.dtype(), beta.dtype()]);
    if rows == 0 || c == 0 || gamma.dims() != [c] || beta.dims() != [c] || !f32_operands {
        return Err((x, gamma, beta));
    }
    let epsilon = epsilon as f32;
    return_on_host_backend!(B, |K|
        tracked: {
            let (y, stats) = tracked_norm::<K>(back_to(x), back_to(gamma), back_to(beta), epsilon);
            (back_to(y), stats)
        },
        plain: {
            let (y, stats) = plain_norm::<K>(back_to(x), back_to(gamma), back_to(beta), epsilon);
            (back_to(y), stats)
        },
    );
    Err((x, gamma, beta))
}

fn tracked_norm<K: Backend>(
    x: Tensor<Autodiff<K>, 2>,
    gamma: Tensor<Autodiff<K>, 1>,
    beta: Tensor<Autodiff<K>, 1>,
    epsilon: f32,
) -> (Tensor<Autodiff<K>, 2>, BatchStats) {
    let parents = [
        x.into_primitive().tensor(),
        gamma.into_primitive().tensor(),
        beta.into_primitive().tensor(),
    ];
    let mut batch_stats = None;
    let output = tracked_op(HostBatchNorm, parents, |[x, gamma, beta]| {
        let (mut x_hat, dims, device) = to_host::<K, 2>(x);
        let (gamma, _, _) = to_host::<K, 1>(gamma);
        let (beta, _, _) = to_host::<K, 1>(beta);
        let (stats, inv_std) = normalize(&mut x_hat, dims[1], epsilon);
        let y = from_host::<K, 2>(scale_shift(&x_hat, &gamma, &beta), dims, &device);
        batch_stats = Some(stats);
        let state = Normalized {
            x_hat,
            inv_std,
            gamma,
        };
        (state, y)
    });
    let stats = batch_stats.expect("tracked_op runs its computation");
    (float_tensor(output), stats)
}

fn plain_norm<K: Backend>(
    x: Tensor<K, 2>,
    gamma: Tensor<K, 1>,
    beta: Tensor<K, 1>,
    epsilon: f32,
) -> (Tensor<K, 2>, BatchStats) {
    let (mut x_hat, dims, device) = to_host::<K, 2>(x.into_primitive().tensor());
    let (gamma, _, _) = to_host::<K, 1>(gamma.into_primitive().tensor());
    let (beta, _, _) = to_host::<K, 1>(beta.into_primitive().tensor());
    let (stats, _) = normalize(&mut x_hat, dims[1], epsilon);
    let y = from_host::<K, 2>(scale_shift(&x_hat, &gamma, &beta), dims, &device);
    (float_tensor(y), stats)
}
