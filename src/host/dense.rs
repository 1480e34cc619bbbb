//! A fully connected layer, `x · W + b` with an optional ReLU, as one autodiff operation on
//! burn-ndarray: the product goes to [`product`] (split over rayon's threads when large),
//! the bias and the ReLU are applied in the same pass over its output (the pass of
//! `encoder::bias_relu_nhwc`, whose rows are pixels), and the backward
//! pass masks the upstream gradient once and makes the two gradient products with the
//! transposes as strides. burn-ndarray's composed layer copies its operands for `matmul`,
//! makes a pass each for the bias and the ReLU, and copies transposes in its backward
//! products. burn-flex keeps its own layer: its kernels beat a round trip through host
//! buffers there (`mi_step_b128` took 1.16× PyTorch's time with this operation against
//! 0.88× without).

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::bias_relu::{add_bias_relu, bias_sums, zero_blocked};
use super::sgemm::{View, product};
use super::tensor::{float_tensor, from_host, to_host};
use super::{all_f32, return_on_host_backend, tracked_op};
use crate::loss::type_match::back_to;

/// What the backward pass needs: the input, the weight, and which outputs the ReLU passed.
#[derive(Clone, Debug)]
struct DenseState {
    x: Vec<f32>,
    weight: Vec<f32>,
    /// `[rows, inputs, outputs]`.
    dims: [usize; 3],
    passed: Option<Vec<bool>>,
}

/// `x · W + b` (`x` `[rows, inputs]`, `W` `[inputs, outputs]`), then `max(·, 0)` when
/// `relu`, keeping which outputs passed (a NaN passes, as with Burn's `relu`).
fn forward(state: &mut DenseState, bias: &[f32], relu: bool) -> Vec<f32> {
    let [rows, inputs, outputs] = state.dims;
    let x = View::row_major(&state.x, rows, inputs);
    let mut out = product(x, View::row_major(&state.weight, inputs, outputs), 1.0);
    if relu {
        state.passed = Some(add_bias_relu(&mut out, bias));
    } else {
        for row in out.chunks_exact_mut(outputs) {
            row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
        }
    }
    out
}

impl DenseState {
    /// Zeroes the upstream gradient where the ReLU blocked the output.
    fn mask(&self, upstream: &mut [f32]) {
        if let Some(passed) = &self.passed {
            zero_blocked(upstream, passed);
        }
    }

    /// `G · Wᵀ`, `[rows, inputs]`.
    fn input_gradient(&self, g: &[f32]) -> Vec<f32> {
        let [rows, inputs, outputs] = self.dims;
        let weight = View::row_major(&self.weight, inputs, outputs);
        product(View::row_major(g, rows, outputs), weight.transposed(), 1.0)
    }

    /// `xᵀ · G`, `[inputs, outputs]`.
    fn weight_gradient(&self, g: &[f32]) -> Vec<f32> {
        let [rows, inputs, outputs] = self.dims;
        let x = View::row_major(&self.x, rows, inputs);
        product(x.transposed(), View::row_major(g, rows, outputs), 1.0)
    }

    /// `G` summed over the rows, in a fixed order.
    fn bias_gradient(&self, g: &[f32]) -> Vec<f32> {
        bias_sums(g, self.dims[2])
    }
}

#[derive(Debug)]
struct HostDense;

impl<K: Backend> Backward<K, 3> for HostDense {
    type State = DenseState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<K>(&ops.node);
        let (mut g, _, device) = to_host::<K, 2>(upstream);
        let state = ops.state;
        state.mask(&mut g);
        let [rows, inputs, outputs] = state.dims;
        let [parent_x, parent_weight, parent_bias] = ops.parents;
        if let Some(parent) = parent_x {
            let grad = from_host::<K, 2>(state.input_gradient(&g), [rows, inputs], &device);
            grads.register::<K>(parent.id, grad);
        }
        if let Some(parent) = parent_weight {
            let grad = from_host::<K, 2>(state.weight_gradient(&g), [inputs, outputs], &device);
            grads.register::<K>(parent.id, grad);
        }
        if let Some(parent) = parent_bias {
            let grad = from_host::<K, 1>(state.bias_gradient(&g), [outputs], &device);
            grads.register::<K>(parent.id, grad);
        }
    }
}

/// The layer's operands: input `[rows, inputs]`, weight `[inputs, outputs]`, bias `[outputs]`.
pub(crate) type DenseOperands<B> = (Tensor<B, 2>, Tensor<B, 2>, Tensor<B, 1>);

/// `x · W + b`, then ReLU when `relu`, on the host kernel when `B` is burn-ndarray (with or
/// without autodiff) and the shapes fit (non-empty, matching); the operands back otherwise.
pub(crate) fn try_host_dense<B: Backend>(
    (x, weight, bias): DenseOperands<B>,
    relu: bool,
) -> Result<Tensor<B, 2>, DenseOperands<B>> {
    let ([rows, inputs], [w_inputs, outputs], [b_outputs]) = (x.dims(), weight.dims(), bias.dims());
    let f32_operands = all_f32(&[x.dtype(), weight.dtype(), bias.dtype()]);
    if rows == 0
        || inputs == 0
        || outputs == 0
        || w_inputs != inputs
        || b_outputs != outputs
        || !f32_operands
    {
        return Err((x, weight, bias));
    }
    return_on_host_backend!(ndarray only: B, |K|
        tracked: back_to(tracked_dense::<K>(back_to(x), back_to(weight), back_to(bias), relu)),
        plain: back_to(plain_dense::<K>(back_to(x), back_to(weight), back_to(bias), relu)),
    );
    Err((x, weight, bias))
}

/// The layer's state and output on the host, from the inner primitives.
fn dense_on_host<K: Backend>(
    [x, weight, bias]: [burn::tensor::ops::FloatTensor<K>; 3],
    relu: bool,
) -> (DenseState, burn::tensor::ops::FloatTensor<K>) {
    let (x, [rows, inputs], device) = to_host::<K, 2>(x);
    let (weight, [_, outputs], _) = to_host::<K, 2>(weight);
    let (bias, _, _) = to_host::<K, 1>(bias);
    let mut state = DenseState {
        x,
        weight,
        dims: [rows, inputs, outputs],
        passed: None,
    };
    let out = forward(&mut state, &bias, relu);
    (state, from_host::<K, 2>(out, [rows, outputs], &device))
}

fn tracked_dense<K: Backend>(
    x: Tensor<Autodiff<K>, 2>,
    weight: Tensor<Autodiff<K>, 2>,
    bias: Tensor<Autodiff<K>, 1>,
    relu: bool,
) -> Tensor<Autodiff<K>, 2> {
    let parents = [
        x.into_primitive().tensor(),
        weight.into_primitive().tensor(),
        bias.into_primitive().tensor(),
    ];
    float_tensor(tracked_op(HostDense, parents, |inner| {
        dense_on_host::<K>(inner, relu)
    }))
}

fn plain_dense<K: Backend>(
    x: Tensor<K, 2>,
    weight: Tensor<K, 2>,
    bias: Tensor<K, 1>,
    relu: bool,
) -> Tensor<K, 2> {
    let operands = [
        x.into_primitive().tensor(),
        weight.into_primitive().tensor(),
        bias.into_primitive().tensor(),
    ];
    float_tensor(dense_on_host::<K>(operands, relu).1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bias_and_relu_apply_in_the_product_pass_and_mask_the_gradient() {
        // x = [[1, 2]], W = [[1, -1], [1, -1]], b = [0.5, 0.5]: x·W + b = [3.5, -2.5].
        let mut state = DenseState {
            x: vec![1.0, 2.0],
            weight: vec![1.0, -1.0, 1.0, -1.0],
            dims: [1, 2, 2],
            passed: None,
        };
        assert_eq!(forward(&mut state, &[0.5, 0.5], true), vec![3.5, 0.0]);
        let mut g = vec![1.0, 1.0];
        state.mask(&mut g);
        assert_eq!(g, vec![1.0, 0.0]);
        // G · Wᵀ = [1, 1]; xᵀ · G = [[1, 0], [2, 0]]; Σ rows G = [1, 0].
        assert_eq!(state.input_gradient(&g), vec![1.0, 1.0]);
        assert_eq!(state.weight_gradient(&g), vec![1.0, 0.0, 2.0, 0.0]);
        assert_eq!(state.bias_gradient(&g), vec![1.0, 0.0]);
    }
}
