//! Models: one Burn module that owns every learnable part (encoders and critic).
//!
//! Burn's optimisers update one module, so the encoders and the critic live in one struct.
//! [`ContrastiveModel`] is what the trainer drives; [`SharedEncoderModel`] (SimCLR, one
//! encoder for both sides) and [`TwoTowerModel`] (CPC, CLIP: one encoder per side)
//! implement it without copying code; [`MomentumEncoderModel`] (MoCo) pairs an online
//! encoder with a momentum copy that [`ema_update`] moves after every step.

mod batch;
mod ema;
mod momentum;
mod shared;
mod split;
mod traits;
mod two_tower;

pub use batch::{NegativeLayout, PairBatch};
pub use ema::{ema_update, independent_copy};
pub use momentum::{MomentumEncoderModel, MomentumSchedule};
pub use shared::SharedEncoderModel;
pub use split::SplitBatch;
pub use traits::ContrastiveModel;
pub use two_tower::TwoTowerModel;

/// A copy of `model` that records no autodiff graph, for forward passes that no backward
/// pass follows (evaluation). Burn 0.21 keeps the graph of such a pass in its process-wide
/// autodiff state, and every later backward pass walks that state and frees only one
/// layer of the orphaned nodes: on a CPC run, the per-epoch evaluation and the context
/// probe of the tracked model made every later backward pass several times slower.
pub(crate) fn without_graph<B: burn::tensor::backend::Backend, M: burn::module::Module<B>>(
    model: &M,
) -> M {
    model.clone().no_grad()
}
