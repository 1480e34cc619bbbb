//! The differentiable all-gather, as a custom autodiff operation whose forward and backward
//! both call burn-collective.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Tensor, TensorPrimitive};

use super::collective_ops::{all_reduce_sum, gather_detached};
use super::gather_rows::{pack_embeddings, unpack_embeddings};
use super::{GatherFault, Peer};
use crate::Result;
use crate::sampler::Embeddings;

/// Backends on which [`all_gather`] is differentiable: every `Autodiff<B, C>`, whatever
/// the inner backend (ndarray, flex, wgpu, cuda). The forward and backward run on the
/// inner backend through burn-collective.
pub trait GatherBackend: AutodiffBackend {
    /// Every peer's `[n, d]` rows stacked in rank order, `[world·n, d]`.
    ///
    /// # Errors
    /// [`crate::Error::Collective`] when the peers' shapes differ or a peer is missing.
    fn all_gather_primitive(peer: &Peer, rows: FloatTensor<Self>) -> Result<FloatTensor<Self>>;
}

/// Every peer's rows `[n, d]`, stacked in rank order into `[world·n, d]`, differentiable:
/// the gradient that reaches the result on every peer is summed over peers, and each peer's
/// `rows` receive that sum's rows `rank·n .. (rank+1)·n`. All peers must call it, in the
/// same order, with the same `n` and `d`.
///
/// # Errors
/// [`crate::Error::Collective`] when the peers' shapes differ or a peer is missing.
pub fn all_gather<B: GatherBackend>(peer: &Peer, rows: Tensor<B, 2>) -> Result<Tensor<B, 2>> {
    let primitive = rows.into_primitive().tensor();
    let gathered = B::all_gather_primitive(peer, primitive)?;
    Ok(Tensor::from_primitive(TensorPrimitive::Float(gathered)))
}

/// A step's embeddings gathered from every peer with one collective call: contexts,
/// samples and explicit negatives concatenated in rank order (peer `p`'s rows at
/// `p·n .. (p+1)·n`), row ids gathered alongside, and [`crate::sampler::Rows::owner`] set
/// to each row's peer.
///
/// # Errors
/// Those of [`Embeddings::check`]; [`crate::Error::Collective`] when the peers' shapes
/// differ (unequal shards, ids present on some peers only).
pub fn gather_embeddings<B: GatherBackend>(
    peer: &Peer,
    embeddings: Embeddings<B>,
) -> Result<Embeddings<B>> {
    let n = embeddings.check()?;
    let (flat, layout) = pack_embeddings(embeddings);
    let gathered = all_gather(peer, flat)?;
    unpack_embeddings(peer, gathered, layout, n)
}

/// Where a peer's rows sit in the gathered tensor, kept for the backward pass.
#[derive(Debug, Clone)]
struct Slot {
    peer: Peer,
    start: usize,
    rows: usize,
    cols: usize,
}

#[derive(Debug)]
struct AllGatherOp;

impl<B: Backend> Backward<B, 1> for AllGatherOp {
    type State = Slot;

    fn backward(self, ops: Ops<Slot, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let slot = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            let grad = Tensor::<B, 2>::from_primitive(TensorPrimitive::Float(grad));
            let summed = match slot.peer.fault() {
                GatherFault::NoSum => grad,
                _ => all_reduce_sum(&slot.peer, "all-gather backward", grad)
                    // Burn's backward cannot return an error: a peer that vanished between
                    // the forward and the backward pass ends the step here.
                    .unwrap_or_else(|e| panic!("{e}")),
            };
            let end = slot.start + slot.rows;
            summed
                .slice([slot.start..end, 0..slot.cols])
                .into_primitive()
                .tensor()
        });
    }
}

impl<B: Backend, C: CheckpointStrategy> GatherBackend for Autodiff<B, C> {
    fn all_gather_primitive(peer: &Peer, rows: FloatTensor<Self>) -> Result<FloatTensor<Self>> {
        let inner = Tensor::<B, 2>::from_primitive(TensorPrimitive::Float(rows.primitive.clone()));
        let [n, d] = inner.dims();
        let gathered = gather_detached(peer, "all-gather", inner)?;
        if peer.fault() == GatherFault::NoGradient {
            return Ok(local_copy_only::<B, C>(peer, rows, gathered));
        }
        let slot = Slot {
            peer: peer.clone(),
            start: peer.rank() * n,
            rows: n,
            cols: d,
        };
        let gathered = gathered.into_primitive().tensor();
        Ok(
            match AllGatherOp
                .prepare::<C>([rows.node.clone()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(prep) => prep.finish(slot, gathered),
                OpsKind::UnTracked(prep) => prep.finish(gathered),
            },
        )
    }
}

/// The bug of open_clip #1047: the gathered tensor is a constant except for the peer's own
/// slot, which is its local (differentiable) copy; other peers' losses never reach it.
fn local_copy_only<B: Backend, C: CheckpointStrategy>(
    peer: &Peer,
    rows: FloatTensor<Autodiff<B, C>>,
    gathered: Tensor<B, 2>,
) -> FloatTensor<Autodiff<B, C>> {
    let rows = Tensor::<Autodiff<B, C>, 2>::from_primitive(TensorPrimitive::Float(rows));
    let [n, d] = rows.dims();
    let start = peer.rank() * n;
    let constant = Tensor::<Autodiff<B, C>, 2>::from_inner(gathered);
    constant
        .slice_assign([start..start + n, 0..d], rows)
        .into_primitive()
        .tensor()
}
