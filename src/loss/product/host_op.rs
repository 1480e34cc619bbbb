//! `scale · A · Bᵀ` as an autodiff operation with its own backward on the host-memory
//! backends (ndarray, flex): the operands are read to buffers once, kept for the backward
//! pass, and every product goes to [`product`](crate::host::sgemm::product).

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::host::sgemm::{View, product};
use crate::host::tensor::{float_tensor, from_host, to_host};
use crate::host::{all_f32, return_on_host_backend, tracked_op};
use crate::loss::type_match::back_to;

/// The operands `[n, d]` and `[m, d]` of a product, as host buffers.
#[derive(Clone, Debug)]
struct Operands {
    a: Vec<f32>,
    b: Vec<f32>,
    n: usize,
    m: usize,
    d: usize,
    scale: f32,
}

impl Operands {
    fn scores(&self) -> Vec<f32> {
        let b = View::row_major(&self.b, self.m, self.d);
        product(
            View::row_major(&self.a, self.n, self.d),
            b.transposed(),
            self.scale,
        )
    }

    /// `scale · G · B`: the gradient with respect to `A` of the upstream gradient `G`.
    fn gradient_a(&self, upstream: &[f32]) -> Vec<f32> {
        let g = View::row_major(upstream, self.n, self.m);
        product(g, View::row_major(&self.b, self.m, self.d), self.scale)
    }

    /// `scale · Gᵀ · A`: the gradient with respect to `B`.
    fn gradient_b(&self, upstream: &[f32]) -> Vec<f32> {
        let g = View::row_major(upstream, self.n, self.m);
        let a = View::row_major(&self.a, self.n, self.d);
        product(g.transposed(), a, self.scale)
    }
}

#[derive(Debug)]
struct ScaledProduct;

impl<K: Backend> Backward<K, 2> for ScaledProduct {
    type State = Operands;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<K>(&ops.node);
        let (g, _, device) = to_host::<K, 2>(upstream);
        let operands = ops.state;
        let [parent_a, parent_b] = ops.parents;
        if let Some(parent) = parent_a {
            let grad = operands.gradient_a(&g);
            let dims = [operands.n, operands.d];
            grads.register::<K>(parent.id, from_host::<K, 2>(grad, dims, &device));
        }
        if let Some(parent) = parent_b {
            let grad = operands.gradient_b(&g);
            let dims = [operands.m, operands.d];
            grads.register::<K>(parent.id, from_host::<K, 2>(grad, dims, &device));
        }
    }
}

/// The product on the host kernel when `B` is one of the host backends and the operands
/// fit it (non-empty, equal widths); the operands back otherwise.
pub(super) fn try_host_product<B: Backend>(
    a: Tensor<B, 2>,
    b: Tensor<B, 2>,
    scale: f64,
) -> Result<Tensor<B, 2>, (Tensor<B, 2>, Tensor<B, 2>)> {
    let ([n, d], [m, e]) = (a.dims(), b.dims());
    if n == 0 || m == 0 || d == 0 || d != e || !all_f32(&[a.dtype(), b.dtype()]) {
        return Err((a, b));
    }
    let scale = scale as f32;
    return_on_host_backend!(B, |K|
        tracked: back_to(autodiff_product::<K>(back_to(a), back_to(b), scale)),
        plain: back_to(plain_product::<K>(back_to(a), back_to(b), scale)),
    );
    Err((a, b))
}

/// The product, tracked: the operands' buffers stay for the backward pass.
fn autodiff_product<K: Backend>(
    a: Tensor<Autodiff<K>, 2>,
    b: Tensor<Autodiff<K>, 2>,
    scale: f32,
) -> Tensor<Autodiff<K>, 2> {
    let parents = [a.into_primitive().tensor(), b.into_primitive().tensor()];
    let output = tracked_op(ScaledProduct, parents, |[a, b]| {
        let (operands, device) = host_operands::<K>(a, b, scale);
        let scores = from_host::<K, 2>(operands.scores(), [operands.n, operands.m], &device);
        (operands, scores)
    });
    float_tensor(output)
}

/// The product without autodiff (evaluation on the inner backend).
fn plain_product<K: Backend>(a: Tensor<K, 2>, b: Tensor<K, 2>, scale: f32) -> Tensor<K, 2> {
    let (a, b) = (a.into_primitive().tensor(), b.into_primitive().tensor());
    let (operands, device) = host_operands::<K>(a, b, scale);
    let scores = operands.scores();
    float_tensor(from_host::<K, 2>(scores, [operands.n, operands.m], &device))
}

fn host_operands<K: Backend>(
    a: burn::tensor::ops::FloatTensor<K>,
    b: burn::tensor::ops::FloatTensor<K>,
    scale: f32,
) -> (Operands, K::Device) {
    let (a, [n, d], device) = to_host::<K, 2>(a);
    let (b, [m, _], _) = to_host::<K, 2>(b);
    let operands = Operands {
        a,
        b,
        n,
        m,
        d,
        scale,
    };
    (operands, device)
}
