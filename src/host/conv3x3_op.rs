//! The host 3×3 convolution ([`super::conv3x3`]) as an autodiff operation with its own
//! backward: the input and weight are read to buffers once and kept for the backward pass.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;

use super::conv3x3::{Images, forward, input_gradient, weight_gradient};
use super::tensor::{float_tensor, from_host, to_host};
use super::{all_f32, return_on_host_backend, tracked_op};
use crate::loss::type_match::back_to;

/// The input `[b, h, w, c_in]` and weight `[9·c_in, c_out]`, as host buffers.
#[derive(Clone, Debug)]
struct Operands {
    x: Vec<f32>,
    dims: [usize; 4],
    weight: Vec<f32>,
    c_out: usize,
}

impl Operands {
    fn read<K: Backend>(x: FloatTensor<K>, weight: FloatTensor<K>) -> (Self, K::Device) {
        let (x, dims, device) = to_host::<K, 4>(x);
        let (weight, [_, c_out], _) = to_host::<K, 2>(weight);
        let operands = Operands {
            x,
            dims,
            weight,
            c_out,
        };
        (operands, device)
    }

    fn images(&self) -> Images<'_> {
        Images::new(&self.x, self.dims)
    }

    fn out_dims(&self) -> [usize; 4] {
        let [b, h, w, _] = self.dims;
        [b, h, w, self.c_out]
    }

    fn output<K: Backend>(&self, device: &K::Device) -> FloatTensor<K> {
        let out = forward(self.images(), &self.weight, self.c_out);
        from_host::<K, 4>(out, self.out_dims(), device)
    }
}

#[derive(Debug)]
struct HostConv3x3;

impl<K: Backend> Backward<K, 2> for HostConv3x3 {
    type State = Operands;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<K>(&ops.node);
        let (g, _, device) = to_host::<K, 4>(upstream);
        let operands = ops.state;
        let [parent_x, parent_weight] = ops.parents;
        if let Some(parent) = parent_weight {
            let grad = weight_gradient(operands.images(), &g, operands.c_out);
            let dims = [operands.weight.len() / operands.c_out, operands.c_out];
            grads.register::<K>(parent.id, from_host::<K, 2>(grad, dims, &device));
        }
        if let Some(parent) = parent_x {
            let upstream = Images::new(&g, operands.out_dims());
            let grad = input_gradient(upstream, &operands.weight, operands.dims[3]);
            grads.register::<K>(parent.id, from_host::<K, 4>(grad, operands.dims, &device));
        }
    }
}

/// The convolution on the host kernel when `B` is a host backend (ndarray, flex, with or
/// without autodiff); the operands back otherwise. The caller checked the shapes: `x`
/// `[b, h, w, c_in]`, `weight` `[9·c_in, c_out]`.
pub(crate) fn try_host_conv3x3<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 2>,
) -> Result<Tensor<B, 4>, (Tensor<B, 4>, Tensor<B, 2>)> {
    if !all_f32(&[x.dtype(), weight.dtype()]) {
        return Err((x, weight));
    }
    return_on_host_backend!(B, |K|
        tracked: back_to(tracked_conv::<K>(back_to(x), back_to(weight))),
        plain: back_to(plain_conv::<K>(back_to(x), back_to(weight))),
    );
    Err((x, weight))
}

/// The convolution, tracked: the operands' buffers stay for the backward pass.
fn tracked_conv<K: Backend>(
    x: Tensor<Autodiff<K>, 4>,
    weight: Tensor<Autodiff<K>, 2>,
) -> Tensor<Autodiff<K>, 4> {
    let parents = [
        x.into_primitive().tensor(),
        weight.into_primitive().tensor(),
    ];
    let output = tracked_op(HostConv3x3, parents, |[x, weight]| {
        let (operands, device) = Operands::read::<K>(x, weight);
        let out = operands.output::<K>(&device);
        (operands, out)
    });
    float_tensor(output)
}

/// The convolution without autodiff (evaluation on the inner backend).
fn plain_conv<K: Backend>(x: Tensor<K, 4>, weight: Tensor<K, 2>) -> Tensor<K, 4> {
    let (x, weight) = (
        x.into_primitive().tensor(),
        weight.into_primitive().tensor(),
    );
    let (operands, device) = Operands::read::<K>(x, weight);
    float_tensor(operands.output::<K>(&device))
}
