//! The one way the host operations enter Burn's autodiff graph.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::ops::{Backward, OpsKind};
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;

/// Runs `compute` on the inner tensors of `parents` and records its output as the result of
/// `op`: the state it returns is kept for `op`'s backward pass when any parent is tracked,
/// and dropped otherwise.
pub(crate) fn tracked_op<K: Backend, O: Backward<K, N>, const N: usize>(
    op: O,
    parents: [FloatTensor<Autodiff<K>>; N],
    compute: impl FnOnce([FloatTensor<K>; N]) -> (O::State, FloatTensor<K>),
) -> FloatTensor<Autodiff<K>> {
    let nodes = parents.each_ref().map(|parent| parent.node.clone());
    let (state, output) = compute(parents.map(|parent| parent.primitive));
    match op
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(state, output),
        OpsKind::UnTracked(prep) => prep.finish(output),
    }
}
