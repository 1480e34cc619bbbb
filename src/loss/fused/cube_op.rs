//! The fused cross-entropy on a CubeCL backend (wgpu, cuda): launches of the kernels in
//! [`super::cube_kernel`], and an autodiff operation whose backward turns the forward
//! pass's exponentials into the gradient in place. Nothing is read back to the host: the
//! loss and the statistics are means over the kernel's per-row outputs, on the device.

use std::marker::PhantomData;

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Shape, Tensor, TensorMetadata, TensorPrimitive};
use burn_cubecl::CubeRuntime;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::{CubeCount, CubeDim};

use super::Fused;
use super::cube_kernel::{
    ROW_FIELDS, ROW_HIT, ROW_LOG_CANDIDATES, ROW_LOSS, cross_entropy_backward,
    cross_entropy_forward,
};

/// Threads per row at most (a power of two: the reductions halve it).
const MAX_BLOCK: u32 = 256;
/// Cubes along one grid dimension at most (WebGPU's limit).
const MAX_CUBES_PER_DIM: u32 = 65_535;

/// A backend whose float and int tensors are CubeCL's (`CubeBackend<R, ..>`, and this
/// crate's `PrebuiltWgpu`, which has its types).
pub(super) trait CubeTensors<R: CubeRuntime>:
    Backend<FloatTensorPrimitive = CubeTensor<R>, IntTensorPrimitive = CubeTensor<R>>
{
}

impl<R: CubeRuntime, K> CubeTensors<R> for K where
    K: Backend<FloatTensorPrimitive = CubeTensor<R>, IntTensorPrimitive = CubeTensor<R>>
{
}

/// The forward kernel's outputs.
#[derive(Clone, Debug)]
struct Forward<R: CubeRuntime> {
    exps: CubeTensor<R>,
    rows: CubeTensor<R>,
}

/// What the backward pass needs.
#[derive(Clone, Debug)]
struct State<R: CubeRuntime> {
    forward: Forward<R>,
    positives: CubeTensor<R>,
}

/// The operation on runtime `R`'s tensors.
#[derive(Debug)]
struct CubeCrossEntropy<R>(PhantomData<R>);

impl<R: CubeRuntime, K: CubeTensors<R>> Backward<K, 1> for CubeCrossEntropy<R> {
    type State = State<R>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<K>(&ops.node);
        let [parent] = ops.parents;
        let Some(parent) = parent else { return };
        let State { forward, positives } = ops.state;
        let grad = launch_backward(forward, positives, upstream);
        grads.register::<K>(parent.id, grad);
    }
}

/// The mean cross-entropy of `scores` (`[n, m]`, `n ≥ 1`) against one positive column per
/// row, tracked by autodiff when `scores` is; with the batch's statistics.
pub(super) fn autodiff_cross_entropy<R, K, C>(
    scores: Tensor<Autodiff<K, C>, 2>,
    positives: Tensor<Autodiff<K, C>, 1, Int>,
    excluded_offset: Option<i64>,
) -> Fused<Autodiff<K, C>>
where
    R: CubeRuntime,
    K: CubeTensors<R>,
    C: CheckpointStrategy,
{
    let scores = scores.into_primitive().tensor();
    let positives: CubeTensor<R> = positives.inner().into_primitive();
    let node = scores.node.clone();
    let forward = launch_forward(scores.primitive, positives.clone(), excluded_offset);
    let means = row_means::<K>(forward.rows.clone());
    let loss = column(&means, ROW_LOSS).into_primitive().tensor();
    let loss = match CubeCrossEntropy::<R>(PhantomData)
        .prepare::<C>([node])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(State { forward, positives }, loss),
        OpsKind::UnTracked(prep) => prep.finish(loss),
    };
    Fused {
        loss: Tensor::from_primitive(TensorPrimitive::Float(loss)),
        accuracy: Tensor::from_inner(column(&means, ROW_HIT)),
        log_num_candidates: Tensor::from_inner(column(&means, ROW_LOG_CANDIDATES)),
    }
}

/// The same without autodiff (evaluation on the inner backend).
pub(super) fn plain_cross_entropy<R: CubeRuntime, K: CubeTensors<R>>(
    scores: Tensor<K, 2>,
    positives: Tensor<K, 1, Int>,
    excluded_offset: Option<i64>,
) -> Fused<K> {
    let scores = scores.into_primitive().tensor();
    let forward = launch_forward(scores, positives.into_primitive(), excluded_offset);
    let means = row_means::<K>(forward.rows);
    Fused {
        loss: column(&means, ROW_LOSS),
        accuracy: column(&means, ROW_HIT),
        log_num_candidates: column(&means, ROW_LOG_CANDIDATES),
    }
}

/// Means over rows of the per-row outputs, `[ROW_FIELDS]`.
fn row_means<K: Backend>(rows: burn::tensor::ops::FloatTensor<K>) -> Tensor<K, 1> {
    Tensor::<K, 2>::from_primitive(TensorPrimitive::Float(rows))
        .mean_dim(0)
        .reshape([ROW_FIELDS])
}

fn column<K: Backend>(means: &Tensor<K, 1>, field: usize) -> Tensor<K, 1> {
    means.clone().slice(field..field + 1)
}

fn launch_forward<R: CubeRuntime>(
    scores: CubeTensor<R>,
    positives: CubeTensor<R>,
    excluded_offset: Option<i64>,
) -> Forward<R> {
    let scores = into_contiguous(scores);
    let positives = into_contiguous(positives);
    let [n, m] = scores.shape().dims::<2>();
    let (client, device, dtype) = (scores.client.clone(), scores.device.clone(), scores.dtype);
    let exps = empty_device_dtype::<R>(client.clone(), device.clone(), Shape::new([n, m]), dtype);
    let rows = empty_device_dtype::<R>(client.clone(), device, Shape::new([n, ROW_FIELDS]), dtype);
    // The excluded column is i + shift − n, kept unsigned; an offset below −n excludes none.
    let shift = excluded_offset.and_then(|k| u32::try_from(k + n as i64).ok());
    let block = block_size(&scores, m);
    let index_dtype = positives.dtype;
    cross_entropy_forward::launch::<R>(
        &client,
        cube_count(n),
        CubeDim::new_1d(block),
        scores.into_tensor_arg(),
        positives.into_tensor_arg(),
        exps.clone().into_tensor_arg(),
        rows.clone().into_tensor_arg(),
        shift.unwrap_or(0),
        u32::from(shift.is_some()),
        (m as f64).ln() as f32,
        ((m as f64) - 1.0).ln() as f32,
        block,
        [dtype.into(), index_dtype.into()],
    );
    Forward { exps, rows }
}

fn launch_backward<R: CubeRuntime>(
    forward: Forward<R>,
    positives: CubeTensor<R>,
    upstream: CubeTensor<R>,
) -> CubeTensor<R> {
    let Forward { exps, rows } = forward;
    let [n, m] = exps.shape().dims::<2>();
    let upstream = into_contiguous(upstream);
    let (client, dtypes) = (
        exps.client.clone(),
        [exps.dtype.into(), positives.dtype.into()],
    );
    cross_entropy_backward::launch::<R>(
        &client,
        cube_count(n),
        CubeDim::new_1d(block_size(&exps, m)),
        exps.clone().into_tensor_arg(),
        rows.into_tensor_arg(),
        positives.into_tensor_arg(),
        upstream.into_tensor_arg(),
        dtypes,
    );
    exps
}

/// Threads per row: a power of two up to [`MAX_BLOCK`], the device's limit and the row's
/// width rounded up.
fn block_size<R: CubeRuntime>(tensor: &CubeTensor<R>, m: usize) -> u32 {
    let hardware = tensor.client.properties().hardware.max_cube_dim.0;
    let wanted = (m as u32).next_power_of_two().clamp(1, MAX_BLOCK);
    let limit = 1 << (31 - hardware.max(1).leading_zeros());
    wanted.min(limit)
}

/// One cube per row, over x and then y.
fn cube_count(n: usize) -> CubeCount {
    let n = n as u32;
    let x = n.clamp(1, MAX_CUBES_PER_DIM);
    CubeCount::Static(x, n.div_ceil(x), 1)
}
