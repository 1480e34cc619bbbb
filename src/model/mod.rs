//! Models: one Burn module that owns every learnable part (encoders and critic).
//!
//! Burn's optimisers update one module, so the encoders and the critic live in one struct.
//! [`ContrastiveModel`] is what the trainer drives; [`SharedEncoderModel`] (SimCLR, one
//! encoder for both sides) and [`TwoTowerModel`] (CPC, CLIP: one encoder per side)
//! implement it without copying code.

mod batch;
mod shared;
mod traits;
mod two_tower;

pub use batch::{NegativeLayout, PairBatch};
pub use shared::SharedEncoderModel;
pub use traits::ContrastiveModel;
pub use two_tower::TwoTowerModel;
