//! The InfoNCE loss family.
//!
//! Every loss here is a cross-entropy "which candidate is the positive?" (or a variant of its
//! negative term) computed by one numerically stable core: candidates outside a row's
//! validity mask enter the log-sum-exp at [`MASKED_LOG_SCORE`], the maximum of each row is
//! subtracted before exponentiating, and rows with several positives average `−log softmax`
//! over them (SupCon's `L_out`, Khosla et al. 2020).
//!
//! Masks are [`Mask`] descriptions ("the diagonal", "the other view", "same instance id")
//! built on the device where needed; [`PairMask`] is the host bitmap a custom sampler may
//! still use. The `*_with_masks` functions take a candidate set's masks and are what the
//! [`crate::objective`]s call; the functions of the API contract ([`info_nce`], [`nt_xent`],
//! [`symmetric_info_nce`], [`decoupled_nt_xent`], [`debiased_nt_xent`],
//! [`hard_negative_nt_xent`], [`supervised_contrastive`], [`mi_lower_bound`]) are thin
//! layers over them. [`tiled_info_nce`] and [`tiled_nt_xent`] compute the same losses over
//! dot-product scores a tile of columns at a time, never holding the `n × m` matrix.
//!
//! On ndarray, flex, wgpu and cuda, the single-positive case (one positive per row by
//! structure; every column a candidate, or every column but one diagonal) runs as one
//! fused operation with its own backward: three passes over the scores instead of about
//! twenty ([`LossKernel`], [`has_fused_kernel`], [`info_nce_with_masks_using`]); a CPU
//! kernel on rayon's threads, and CubeCL kernels with a cube of threads per row on the GPU.
//! It gives the composed path's values and gradients to 1e-5; other backends and candidate
//! sets take the composed path.
//!
//! Conventions: `scores[i][j] = log f(x_j, c_i)`; losses are means over rows (anchors); a
//! temperature divides the scores before the loss; `nt_xent` and its variants are the mean
//! over the 2B anchors (the SimCLR paper's `1/2N Σ`; google-research/simclr's TF2 code
//! returns twice that).

mod bound;
mod core;
mod debiased;
mod decoupled;
mod device_mask;
mod fused;
mod info_nce;
mod mask;
mod mask_rows;
mod masked;
mod nt_xent;
mod output;
mod product;
mod supervised;
mod symmetric;
mod tiled;
mod tiled_core;
#[cfg(any(
    feature = "ndarray",
    feature = "flex",
    feature = "wgpu",
    feature = "cuda"
))]
pub(crate) mod type_match;
mod validate;

pub(crate) use self::core::exp_of_shifted;
pub use self::core::{MASKED_LOG_SCORE, info_nce_with_masks, info_nce_with_masks_using};
pub use bound::mi_lower_bound;
pub use debiased::{
    NegativeCorrection, debiased_nt_xent, debiased_with_masks, hard_negative_nt_xent,
};
pub use decoupled::{decoupled_nt_xent, decoupled_with_masks};
pub use device_mask::Mask;
pub use fused::{LossKernel, has_fused_kernel};
pub use info_nce::{info_nce, info_nce_with_stats};
pub use mask::PairMask;
pub use masked::masked_info_nce;
pub use nt_xent::{l2_normalize, nt_xent, nt_xent_with_stats, two_view_masks};
pub(crate) use nt_xent::{nt_xent_using, scaled_gram};
pub use output::{BoundKind, LossOutput, LossStats};
pub use product::scaled_product;
pub(crate) use product::scaled_product_unchecked;
pub use supervised::supervised_contrastive;
pub use symmetric::{symmetric_info_nce, symmetric_info_nce_with_stats, symmetric_with_masks};
pub use tiled::{tile_for_memory, tiled_info_nce, tiled_nt_xent};
pub(crate) use validate::{check_scores, check_temperature};
