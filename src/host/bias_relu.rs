//! `relu(x + bias)` over the channels of channels-last images on host buffers, as one
//! autodiff operation: one pass forward, one pass back (which inputs were positive is kept
//! as one byte each), where Burn's composed form takes an addition, a ReLU and their
//! backward steps, each over the whole tensor.

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

/// Elements per parallel chunk.
const CHUNK: usize = 1 << 14;

/// Which outputs were positive (the ReLU passed them), and the input's shape.
#[derive(Clone, Debug)]
struct Passed {
    positive: Vec<bool>,
    dims: [usize; 4],
}

/// `max(x + bias[c], 0)` (NaN kept) in place over rows of `bias.len()` channels, and which
/// elements stayed positive.
pub(super) fn add_bias_relu(x: &mut [f32], bias: &[f32]) -> Vec<bool> {
    let c = bias.len();
    let mut positive = vec![false; x.len()];
    let chunk = CHUNK.div_ceil(c) * c;
    x.par_chunks_mut(chunk)
        .zip(positive.par_chunks_mut(chunk))
        .for_each(|(x, positive)| {
            for (x, positive) in x.chunks_exact_mut(c).zip(positive.chunks_exact_mut(c)) {
                for ((v, p), b) in x.iter_mut().zip(positive).zip(bias) {
                    let s = *v + b;
                    // As Burn's ReLU: only values ≤ 0 become 0, so a NaN stays NaN.
                    let blocked = s <= 0.0;
                    *p = !blocked;
                    *v = if blocked { 0.0 } else { s };
                }
            }
        });
    positive
}

/// The upstream gradient zeroed in place where the ReLU blocked its output.
pub(super) fn zero_blocked(upstream: &mut [f32], positive: &[bool]) {
    upstream
        .par_chunks_mut(CHUNK)
        .zip(positive.par_chunks(CHUNK))
        .for_each(|(g, positive)| {
            for (g, &p) in g.iter_mut().zip(positive) {
                *g = if p { *g } else { 0.0 };
            }
        });
}

/// Rows of `c` values summed into one row, in a fixed order (the bias gradient).
pub(super) fn bias_sums(gradient: &[f32], c: usize) -> Vec<f32> {
    let rows = gradient.len() / c.max(1);
    ordered_sum(rows, CHUNK.div_ceil(c), c, |range, sum| {
        for row in gradient[range.start * c..range.end * c].chunks_exact(c) {
            sum.iter_mut().zip(row).for_each(|(s, g)| *s += g);
        }
    })
}

#[derive(Debug)]
struct HostBiasRelu;

impl<K: Backend> Backward<K, 2> for HostBiasRelu {
    type State = Passed;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<K>(&ops.node);
        let (mut g, _, device) = to_host::<K, 4>(upstream);
        let passed = ops.state;
        zero_blocked(&mut g, &passed.positive);
        let [parent_x, parent_bias] = ops.parents;
        if let Some(parent) = parent_bias {
            let grad = bias_sums(&g, passed.dims[3]);
            let dims = [passed.dims[3]];
            grads.register::<K>(parent.id, from_host::<K, 1>(grad, dims, &device));
        }
        if let Some(parent) = parent_x {
            grads.register::<K>(parent.id, from_host::<K, 4>(g, passed.dims, &device));
        }
    }
}

/// `relu(x + bias)` on the host kernel when `B` is a host backend (ndarray, flex, with or
/// without autodiff) and `bias` has one value per channel of `x`; the operands back
/// otherwise.
pub(crate) fn try_host_bias_relu<B: Backend>(
    x: Tensor<B, 4>,
    bias: Tensor<B, 1>,
) -> Result<Tensor<B, 4>, (Tensor<B, 4>, Tensor<B, 1>)> {
    let channels = x.dims()[3];
    if channels == 0 || bias.dims()[0] != channels || !all_f32(&[x.dtype(), bias.dtype()]) {
        return Err((x, bias));
    }
    return_on_host_backend!(B, |K|
        tracked: back_to(tracked_bias_relu::<K>(back_to(x), back_to(bias))),
        plain: back_to(plain_bias_relu::<K>(back_to(x), back_to(bias))),
    );
    Err((x, bias))
}

fn tracked_bias_relu<K: Backend>(
    x: Tensor<Autodiff<K>, 4>,
    bias: Tensor<Autodiff<K>, 1>,
) -> Tensor<Autodiff<K>, 4> {
    let parents = [x.into_primitive().tensor(), bias.into_primitive().tensor()];
    let output = tracked_op(HostBiasRelu, parents, |[x, bias]| {
        let (mut values, dims, device) = to_host::<K, 4>(x);
        let (bias, _, _) = to_host::<K, 1>(bias);
        let positive = add_bias_relu(&mut values, &bias);
        let out = from_host::<K, 4>(values, dims, &device);
        (Passed { positive, dims }, out)
    });
    float_tensor(output)
}

fn plain_bias_relu<K: Backend>(x: Tensor<K, 4>, bias: Tensor<K, 1>) -> Tensor<K, 4> {
    let (mut values, dims, device) = to_host::<K, 4>(x.into_primitive().tensor());
    let (bias, _, _) = to_host::<K, 1>(bias.into_primitive().tensor());
    add_bias_relu(&mut values, &bias);
    float_tensor(from_host::<K, 4>(values, dims, &device))
}
