//! Peer 0's parameters sent to every peer, so that all peers start from the same model.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use super::Peer;
use super::collective_ops::all_reduce_sum;
use crate::Result;

/// `model` with every float parameter (and running statistic) replaced by peer 0's, in one
/// all-reduce. Peers built from different seeds would otherwise train different models.
///
/// # Errors
/// [`crate::Error::Collective`] when the all-reduce fails, for instance because the peers' models
/// differ in size.
pub(crate) fn broadcast_parameters<B: AutodiffBackend, M: Module<B>>(
    peer: &Peer,
    model: M,
) -> Result<M> {
    let mut flat = Flatten::<B>(Vec::new());
    model.visit(&mut flat);
    if flat.0.is_empty() {
        return Ok(model);
    }
    let ours = Tensor::cat(flat.0, 0);
    // A sum with zeros from every other peer: burn-collective 0.21 has no broadcast across
    // nodes, and x + 0 = x exactly.
    let sent = match peer.is_leader() {
        true => ours,
        false => ours.zeros_like(),
    };
    let root = all_reduce_sum(peer, "parameter broadcast", sent)?;
    Ok(model.map(&mut Unflatten { root, at: 0 }))
}

struct Flatten<B: AutodiffBackend>(Vec<Tensor<B::InnerBackend, 1>>);

impl<B: AutodiffBackend> ModuleVisitor<B> for Flatten<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.push(param.val().inner().flatten::<1>(0, D - 1));
    }
}

struct Unflatten<B: AutodiffBackend> {
    root: Tensor<B::InnerBackend, 1>,
    at: usize,
}

impl<B: AutodiffBackend> ModuleMapper<B> for Unflatten<B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, old, mapper) = param.consume();
        let (shape, require_grad) = (old.shape(), old.is_require_grad());
        let len = shape.num_elements();
        let value = self.root.clone().narrow(0, self.at, len).reshape(shape);
        self.at += len;
        let value = Tensor::from_inner(value).set_require_grad(require_grad);
        Param::from_mapped_value(id, value, mapper)
    }
}
