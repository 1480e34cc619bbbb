//! The parameter gradients summed over peers with one collective call per step.

use burn::module::{AutodiffModule, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use super::Peer;
use super::collective_ops::all_reduce_sum;
use crate::Result;

/// The sum over peers of every parameter's gradient, on every peer: the parameters that
/// have a gradient are flattened into one vector, all-reduced once, and cut apart again.
/// Peers hold the same model, so they agree on which parameters have one.
///
/// # Errors
/// [`crate::Error::Collective`] when the peers' gradient vectors differ in length (models
/// that differ) or a peer is missing.
pub fn all_reduce_gradients<B: AutodiffBackend, M: AutodiffModule<B>>(
    peer: &Peer,
    model: &M,
    mut grads: GradientsParams,
) -> Result<GradientsParams> {
    let mut collector = Collect::<B> {
        grads: &mut grads,
        taken: Vec::new(),
    };
    model.visit(&mut collector);
    let taken = collector.taken;
    if taken.is_empty() {
        return Ok(grads);
    }
    let flat = Tensor::cat(taken.iter().map(|t| t.flat.clone()).collect(), 0);
    let summed = all_reduce_sum(peer, "gradient all-reduce", flat)?;
    let mut at = 0;
    for t in taken {
        let len = t.flat.dims()[0];
        let part = summed.clone().narrow(0, at, len);
        at += len;
        t.register(&mut grads, part);
    }
    Ok(grads)
}

/// One parameter's gradient, flattened, with what it takes to put it back.
struct Taken<B: AutodiffBackend> {
    id: ParamId,
    shape: Vec<usize>,
    flat: Tensor<B::InnerBackend, 1>,
}

impl<B: AutodiffBackend> Taken<B> {
    fn register(&self, grads: &mut GradientsParams, flat: Tensor<B::InnerBackend, 1>) {
        macro_rules! put {
            ($($d:literal),*) => {
                match self.shape.len() {
                    $($d => grads.register::<B::InnerBackend, $d>(
                        self.id,
                        flat.reshape::<$d, _>(<[usize; $d]>::try_from(self.shape.as_slice())
                            .expect("the shape's rank was matched")),
                    ),)*
                    rank => unreachable!("parameters of rank {rank} are not collected"),
                }
            };
        }
        put!(1, 2, 3, 4, 5, 6);
    }
}

/// Takes every float parameter's gradient out of `grads`, in the module's visit order.
struct Collect<'a, B: AutodiffBackend> {
    grads: &'a mut GradientsParams,
    taken: Vec<Taken<B>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Collect<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if !(1..=6).contains(&D) {
            return;
        }
        if let Some(g) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            self.taken.push(Taken {
                id: param.id,
                shape: g.dims().to_vec(),
                flat: g.flatten::<1>(0, D - 1),
            });
        }
    }
}
