//! 2×2, stride-2 max pooling of channels-last images on host buffers, as an autodiff
//! operation: the forward pass records which of the four inputs won each output, and the
//! backward pass sends each output's gradient to that input alone.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use rayon::prelude::*;

use super::tensor::{float_tensor, from_host, to_host};
use super::{all_f32, return_on_host_backend, tracked_op};
use crate::loss::type_match::back_to;

/// Which input of its 2×2 window each output took, as the input's flat index, and the
/// input's shape.
#[derive(Clone, Debug)]
struct Winners {
    index: Vec<u32>,
    input_dims: [usize; 4],
}

/// `[b, h, w, c]` → `[b, h/2, w/2, c]` (odd edges dropped) and the winners; on ties the
/// first of the window in row-major order wins, and a NaN wins over any number.
fn pool(x: &[f32], [b, h, w, c]: [usize; 4]) -> (Vec<f32>, Winners) {
    assert!(
        x.len() <= u32::MAX as usize,
        "max pooling of under 2³² values"
    );
    let (h2, w2) = (h / 2, w / 2);
    let mut out = vec![0.0f32; b * h2 * w2 * c];
    let mut index = vec![0u32; out.len()];
    let line = (w2 * c).max(1);
    out.par_chunks_mut(line)
        .zip(index.par_chunks_mut(line))
        .enumerate()
        .for_each(|(row, (out, index))| {
            let top = ((row / h2) * h + 2 * (row % h2)) * w * c;
            let pixels = out.chunks_exact_mut(c).zip(index.chunks_exact_mut(c));
            for (j, (out, index)) in pixels.enumerate() {
                let corner = top + 2 * j * c;
                let window = [corner, corner + c, corner + w * c, corner + w * c + c];
                pool_pixel(x, window, out, index);
            }
        });
    let winners = Winners {
        index,
        input_dims: [b, h, w, c],
    };
    (out, winners)
}

/// One output pixel: for each channel, the largest of the four inputs whose channel 0 sits
/// at `window`'s offsets, and its index.
fn pool_pixel(x: &[f32], window: [usize; 4], out: &mut [f32], index: &mut [u32]) {
    let [first, rest @ ..] = window;
    for (ch, (out, index)) in out.iter_mut().zip(index).enumerate() {
        let mut best = first + ch;
        for offset in rest {
            let j = offset + ch;
            if x[j] > x[best] || (x[j].is_nan() && !x[best].is_nan()) {
                best = j;
            }
        }
        (*out, *index) = (x[best], best as u32);
    }
}

impl Winners {
    fn output_dims(&self) -> [usize; 4] {
        let [b, h, w, c] = self.input_dims;
        [b, h / 2, w / 2, c]
    }

    /// The input gradient: each output's gradient at its winner, zeros elsewhere.
    fn scatter(&self, upstream: &[f32]) -> Vec<f32> {
        let mut grad = vec![0.0f32; self.input_dims.iter().product()];
        for (&i, &g) in self.index.iter().zip(upstream) {
            grad[i as usize] = g;
        }
        grad
    }
}

#[derive(Debug)]
struct HostMaxPool2;

impl<K: Backend> Backward<K, 1> for HostMaxPool2 {
    type State = Winners;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<K>(&ops.node);
        let (g, _, device) = to_host::<K, 4>(upstream);
        let [parent] = ops.parents;
        if let Some(parent) = parent {
            let grad = ops.state.scatter(&g);
            let dims = ops.state.input_dims;
            grads.register::<K>(parent.id, from_host::<K, 4>(grad, dims, &device));
        }
    }
}

/// 2×2 max pooling on the host kernel when `B` is a host backend (ndarray, flex, with or
/// without autodiff); the input back otherwise.
pub(crate) fn try_host_max_pool2<B: Backend>(
    x: Tensor<B, 4>,
) -> Result<Tensor<B, 4>, Tensor<B, 4>> {
    if !all_f32(&[x.dtype()]) {
        return Err(x);
    }
    return_on_host_backend!(B, |K|
        tracked: back_to(tracked_pool::<K>(back_to(x))),
        plain: back_to(plain_pool::<K>(back_to(x))),
    );
    Err(x)
}

fn tracked_pool<K: Backend>(x: Tensor<Autodiff<K>, 4>) -> Tensor<Autodiff<K>, 4> {
    let output = tracked_op(HostMaxPool2, [x.into_primitive().tensor()], |[x]| {
        let (values, dims, device) = to_host::<K, 4>(x);
        let (out, winners) = pool(&values, dims);
        let out = from_host::<K, 4>(out, winners.output_dims(), &device);
        (winners, out)
    });
    float_tensor(output)
}

fn plain_pool<K: Backend>(x: Tensor<K, 4>) -> Tensor<K, 4> {
    let (values, dims, device) = to_host::<K, 4>(x.into_primitive().tensor());
    let (out, winners) = pool(&values, dims);
    float_tensor(from_host::<K, 4>(out, winners.output_dims(), &device))
}
