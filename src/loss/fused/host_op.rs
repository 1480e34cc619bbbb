//! The fused cross-entropy as an autodiff operation with its own backward, for a backend
//! whose tensors live in host memory (ndarray, flex): the forward pass leaves the
//! exponentials, and the backward pass turns them into the gradient in the same buffer.
//! The positives are read to the host (cheap on these backends) and checked.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{ElementConversion, Int, Tensor};

use super::Fused;
use super::row_kernel::{ForwardSummary, RowTargets, backward_in_place, forward_in_place};
use crate::host::tensor::{float_tensor, from_host, to_host};
use crate::{Error, Result};

/// What the backward pass needs: the exponentials, `1 / Σ` per row, and the targets.
#[derive(Clone, Debug)]
struct State<K: Backend> {
    exps: FloatTensor<K>,
    inverse_sums: Vec<f32>,
    targets: RowTargets,
}

#[derive(Debug)]
struct FusedCrossEntropy;

impl<K: Backend> Backward<K, 1> for FusedCrossEntropy {
    type State = State<K>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<K>(&ops.node);
        let [parent] = ops.parents;
        let Some(parent) = parent else { return };
        let scale = float_tensor::<K, 1>(upstream).into_scalar().elem::<f32>();
        let State {
            exps,
            inverse_sums,
            targets,
        } = ops.state;
        let (mut buffer, dims, device) = to_host::<K, 2>(exps);
        backward_in_place(&mut buffer, dims[1], &targets, &inverse_sums, scale);
        grads.register::<K>(parent.id, from_host::<K, 2>(buffer, dims, &device));
    }
}

/// The mean cross-entropy of `scores` (`[n, m]`) against one positive column per row (the
/// column `i + excluded_offset` left out of row `i`'s candidates when given), tracked by
/// autodiff when `scores` is; with the batch's statistics.
///
/// # Errors
/// [`Error::InvalidConfig`] when a positive column is outside `0..m`.
pub(super) fn autodiff_cross_entropy<K: Backend, C: CheckpointStrategy, P: Backend>(
    scores: Tensor<Autodiff<K, C>, 2>,
    positives: Tensor<P, 1, Int>,
    excluded_offset: Option<i64>,
) -> Result<Fused<Autodiff<K, C>>> {
    let targets = row_targets(positives, scores.dims()[1], excluded_offset)?;
    let scores = scores.into_primitive().tensor();
    let node = scores.node.clone();
    let (exps, mut summary, device) = host_forward::<K>(scores.primitive, &targets);
    let loss = scalar_tensor::<K>(summary.mean_loss, &device);
    let output = match FusedCrossEntropy
        .prepare::<C>([node])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let state = State {
                exps,
                inverse_sums: std::mem::take(&mut summary.inverse_sums),
                targets,
            };
            prep.finish(state, loss)
        }
        OpsKind::UnTracked(prep) => prep.finish(loss),
    };
    Ok(fused(float_tensor(output), &summary, &device))
}

/// The same without autodiff (evaluation on the inner backend).
pub(super) fn plain_cross_entropy<K: Backend, P: Backend>(
    scores: Tensor<K, 2>,
    positives: Tensor<P, 1, Int>,
    excluded_offset: Option<i64>,
) -> Result<Fused<K>> {
    let targets = row_targets(positives, scores.dims()[1], excluded_offset)?;
    let (_, summary, device) = host_forward::<K>(scores.into_primitive().tensor(), &targets);
    let loss = scalar_tensor::<K>(summary.mean_loss, &device);
    Ok(fused(float_tensor(loss), &summary, &device))
}

fn fused<B: Backend>(loss: Tensor<B, 1>, summary: &ForwardSummary, device: &B::Device) -> Fused<B> {
    let scalar = |value: f64| Tensor::<B, 1>::from_floats([value as f32], device);
    Fused {
        loss,
        accuracy: scalar(summary.accuracy),
        log_num_candidates: scalar(summary.mean_log_candidates),
    }
}

fn row_targets<P: Backend>(
    positives: Tensor<P, 1, Int>,
    m: usize,
    excluded_offset: Option<i64>,
) -> Result<RowTargets> {
    Ok(RowTargets {
        positive: positive_columns(positives, m)?,
        excluded_offset,
    })
}

/// The positive column of each row, read to the host, checked against `m`.
fn positive_columns<P: Backend>(column: Tensor<P, 1, Int>, m: usize) -> Result<Vec<usize>> {
    let values = column.into_data().convert::<i64>().to_vec::<i64>();
    let values = values.map_err(|e| Error::config("positives", format!("{e:?}")))?;
    values
        .into_iter()
        .map(|j| {
            usize::try_from(j).ok().filter(|&j| j < m).ok_or_else(|| {
                Error::config(
                    "positives",
                    format!("positive column {j} is outside the {m} candidates"),
                )
            })
        })
        .collect()
}

/// Runs the forward kernel over the scores' buffer (taken without a copy when the tensor is
/// contiguous and not shared), returning the exponentials as a tensor again.
fn host_forward<K: Backend>(
    scores: FloatTensor<K>,
    targets: &RowTargets,
) -> (FloatTensor<K>, ForwardSummary, K::Device) {
    let (mut buffer, dims, device) = to_host::<K, 2>(scores);
    let summary = forward_in_place(&mut buffer, dims[1], targets);
    (from_host::<K, 2>(buffer, dims, &device), summary, device)
}

fn scalar_tensor<K: Backend>(value: f64, device: &K::Device) -> FloatTensor<K> {
    Tensor::<K, 1>::from_floats([value as f32], device)
        .into_primitive()
        .tensor()
}
