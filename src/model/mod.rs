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
