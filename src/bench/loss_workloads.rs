//! The matrix-product and loss workloads: forward, backward, and a read-back of the
//! gradients (which waits for an asynchronous device).

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, ElementConversion, Tensor};

use super::timing::{Timing, WorkloadOptions, time_iterations};
use crate::Result;
use crate::loss::{self, Mask};

/// Embedding width of the loss workloads.
const DIM: usize = 128;

/// `n × n` times `n × n` (uniform entries), summed and read back: `2n³` flops.
pub(super) fn sgemm<B: AutodiffBackend>(
    n: usize,
    options: &WorkloadOptions,
    device: &B::Device,
) -> Result<Timing> {
    let uniform = || Tensor::<B::InnerBackend, 2>::random([n, n], Distribution::Default, device);
    let (a, b) = (uniform(), uniform());
    let flops = 2.0 * (n as f64).powi(3);
    time_iterations(options, Some(flops), || {
        let _ = a
            .clone()
            .matmul(b.clone())
            .sum()
            .into_scalar()
            .elem::<f32>();
        Ok(())
    })
}

/// Tile memory of the tiled workloads.
const TILE_BUDGET_BYTES: usize = 1 << 30;

/// InfoNCE over the cosine logits of two `n × 128` Gaussian batches at τ = 0.1, the
/// positives on the diagonal: composed, or through [`loss::tiled_info_nce`] with tiles of at
/// most 1 GiB when `tiled`. Flops: the logits' product and its two gradient products (the
/// tiled loss recomputes the scores, 8/6 of that, but is counted the same).
pub(super) fn info_nce<B: AutodiffBackend>(
    n: usize,
    tiled: bool,
    options: &WorkloadOptions,
    device: &B::Device,
) -> Result<Timing> {
    let (z1, z2) = (normal::<B>(n, device), normal::<B>(n, device));
    let flops = 6.0 * (n * n * DIM) as f64;
    let tile = tiled.then(|| loss::tile_for_memory(n, TILE_BUDGET_BYTES));
    time_iterations(options, Some(flops), || {
        let (a, b) = (z1.clone().require_grad(), z2.clone().require_grad());
        let (qa, qb) = (loss::l2_normalize(a.clone()), loss::l2_normalize(b.clone()));
        let loss = match tile {
            Some(tile) => loss::tiled_info_nce(qa, qb, 0.1, tile)?,
            None => {
                let logits = loss::scaled_product(qa, qb, 1.0 / 0.1)?;
                let diagonal = Mask::Diagonal { offset: 0 };
                loss::info_nce_with_masks_using(logits, &diagonal, None, options.loss_kernel)?.loss
            }
        };
        read_back_gradients(loss, &a, &b)
    })
}

/// NT-Xent at τ = 0.5 over two views of `n` rows (a `2n × 2n` score matrix).
pub(super) fn nt_xent<B: AutodiffBackend>(
    n: usize,
    options: &WorkloadOptions,
    device: &B::Device,
) -> Result<Timing> {
    let (z1, z2) = (normal::<B>(n, device), normal::<B>(n, device));
    let flops = 6.0 * (4 * n * n * DIM) as f64;
    time_iterations(options, Some(flops), || {
        let (a, b) = (z1.clone().require_grad(), z2.clone().require_grad());
        let loss = loss::nt_xent_using(a.clone(), b.clone(), 0.5, options.loss_kernel)?.loss;
        read_back_gradients(loss, &a, &b)
    })
}

/// An `n × 128` standard normal batch, without gradient.
fn normal<B: AutodiffBackend>(n: usize, device: &B::Device) -> Tensor<B, 2> {
    Tensor::from_inner(Tensor::random(
        [n, DIM],
        Distribution::Normal(0.0, 1.0),
        device,
    ))
}

/// Backward from `loss`, then reads back the sum of both inputs' gradients.
fn read_back_gradients<B: AutodiffBackend>(
    loss: Tensor<B, 1>,
    a: &Tensor<B, 2>,
    b: &Tensor<B, 2>,
) -> Result<()> {
    let grads = loss.backward();
    let (ga, gb) = (a.grad(&grads), b.grad(&grads));
    if let (Some(ga), Some(gb)) = (ga, gb) {
        let _ = (ga.sum() + gb.sum()).into_scalar().elem::<f32>();
    }
    Ok(())
}
