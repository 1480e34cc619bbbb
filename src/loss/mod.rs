//! The InfoNCE loss family.
//!
//! Every loss here is the same cross-entropy "which candidate is the positive?" computed by
//! one numerically stable core, [`masked_info_nce`]: masked candidates enter the log-sum-exp
//! as −∞, the maximum of each row is subtracted before exponentiating (Burn's
//! `log_softmax`), and rows with several positives average `−log softmax` over them
//! (SupCon's `L_out`, Khosla et al. 2020). The public functions of the API contract,
//! [`info_nce`], [`nt_xent`], [`symmetric_info_nce`] and [`mi_lower_bound`], are thin
//! layers over it; each has a `*_with_stats` twin returning a [`LossOutput`] with the top-1
//! accuracy and the mutual-information bound `log N − J`.
//!
//! Conventions (see `FORMULAS.md`): `scores[i][j] = log f(x_j, c_i)`; losses are means over
//! rows; a temperature divides the scores before the loss.

mod bound;
mod info_nce;
mod mask;
mod masked;
mod nt_xent;
mod output;
mod symmetric;
mod validate;

pub use bound::mi_lower_bound;
pub use info_nce::{info_nce, info_nce_with_stats};
pub use mask::PairMask;
pub use masked::masked_info_nce;
pub use nt_xent::{l2_normalize, nt_xent, nt_xent_with_stats, two_view_masks};
pub use output::{LossOutput, LossStats};
pub use symmetric::{symmetric_info_nce, symmetric_info_nce_with_stats};
pub(crate) use validate::{check_scores, check_temperature};
