//! burn-collective's calls on Burn tensors, with its errors as [`crate::Error`].

use burn::collective::{self, CollectiveError, ReduceOperation};
use burn::tensor::{Tensor, TensorPrimitive, backend::Backend};

use super::Peer;
use crate::{Error, Result};

/// burn-collective's error as [`Error::Collective`].
pub(crate) fn collective_error(operation: &str, peer: usize, e: CollectiveError) -> Error {
    Error::Collective {
        operation: operation.into(),
        peer,
        detail: format!("{e:?}"),
    }
}

/// The element-wise sum of `tensor` over all peers, on every peer.
pub(crate) fn all_reduce_sum<B: Backend, const D: usize>(
    peer: &Peer,
    operation: &str,
    tensor: Tensor<B, D>,
) -> Result<Tensor<B, D>> {
    let reduced = collective::all_reduce::<B>(
        peer.id(),
        tensor.into_primitive().tensor(),
        ReduceOperation::Sum,
    )
    .map_err(|e| collective_error(operation, peer.rank(), e))?;
    Ok(Tensor::from_primitive(TensorPrimitive::Float(reduced)))
}

/// `[world·n, d]` with `rows` in slot `rank` and zeros elsewhere.
pub(crate) fn place_in_slot<B: Backend>(peer: &Peer, rows: Tensor<B, 2>) -> Tensor<B, 2> {
    let [n, d] = rows.dims();
    let start = peer.rank() * n;
    Tensor::zeros([peer.world() * n, d], &rows.device())
        .slice_assign([start..start + n, 0..d], rows)
}

/// Every peer's `[n, d]` rows, stacked in rank order (no gradient).
pub(crate) fn gather_detached<B: Backend>(
    peer: &Peer,
    operation: &str,
    rows: Tensor<B, 2>,
) -> Result<Tensor<B, 2>> {
    all_reduce_sum(peer, operation, place_in_slot(peer, rows))
}
