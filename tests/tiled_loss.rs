//! The tiled losses against the composed ones (values and gradients to 1e-5, for tiles from
//! one column to wider than the matrix) and against finite differences of the f64
//! reference; bad settings are typed errors.

use burn::tensor::{Int, Tensor, backend::AutodiffBackend};
use infonce::Error;
use infonce::loss;

use crate::common::*;

const TOL: f64 = 1e-5;

/// Contexts `[n, d]` and candidates `[m, d]`, with gradients.
fn embeddings<B: AutodiffBackend>(
    n: usize,
    m: usize,
    d: usize,
    device: &B::Device,
) -> (Tensor<B, 2>, Tensor<B, 2>) {
    let c = tensor2::<B>(&random_vec(n * d, 1.0, 21), n, d, device).require_grad();
    let x = tensor2::<B>(&random_vec(m * d, 1.0, 22), m, d, device).require_grad();
    (c, x)
}

/// Value and both gradients of a loss of two embedding matrices.
fn value_and_gradients<B: AutodiffBackend>(
    loss: Tensor<B, 1>,
    a: &Tensor<B, 2>,
    b: &Tensor<B, 2>,
) -> (f64, Vec<f64>, Vec<f64>) {
    let value = scalar(loss.clone());
    let grads = loss.backward();
    let ga = values(a.grad(&grads).unwrap());
    let gb = values(b.grad(&grads).unwrap());
    (value, ga, gb)
}

fn tiled_info_nce_equals_the_composed_loss<B: AutodiffBackend>(device: &B::Device) {
    // m > n: the last candidates are negatives for every row.
    let (n, m, d, tau) = (6, 9, 5, 0.3);
    let (c, x) = embeddings::<B>(n, m, d, device);
    let logits = c.clone().matmul(x.clone().transpose()).div_scalar(tau);
    let positives = Tensor::<B, 1, Int>::arange(0..n as i64, device);
    let plain = loss::info_nce(logits, positives).unwrap();
    let (want, want_c, want_x) = value_and_gradients(plain, &c, &x);
    for tile in [1, 2, 4, 9, 64] {
        let tiled = loss::tiled_info_nce(c.clone(), x.clone(), tau, tile).unwrap();
        let (got, got_c, got_x) = value_and_gradients(tiled, &c, &x);
        assert!((got - want).abs() < TOL, "tile {tile}: {got} vs {want}");
        assert_close(
            &got_c,
            &want_c,
            TOL,
            0.0,
            &format!("dJ/dcontexts, tile {tile}"),
        );
        assert_close(
            &got_x,
            &want_x,
            TOL,
            0.0,
            &format!("dJ/dcandidates, tile {tile}"),
        );
    }
}

fn tiled_nt_xent_equals_the_composed_loss<B: AutodiffBackend>(device: &B::Device) {
    let (b, d, tau) = (5, 4, 0.2);
    let (z1, z2) = embeddings::<B>(b, b, d, device);
    let plain = loss::nt_xent(z1.clone(), z2.clone(), tau).unwrap();
    let (want, want_1, want_2) = value_and_gradients(plain, &z1, &z2);
    for tile in [1, 3, 5, 10, 32] {
        let tiled = loss::tiled_nt_xent(z1.clone(), z2.clone(), tau, tile).unwrap();
        let (got, got_1, got_2) = value_and_gradients(tiled, &z1, &z2);
        assert!((got - want).abs() < TOL, "tile {tile}: {got} vs {want}");
        assert_close(&got_1, &want_1, TOL, 0.0, &format!("dJ/dz1, tile {tile}"));
        assert_close(&got_2, &want_2, TOL, 0.0, &format!("dJ/dz2, tile {tile}"));
    }
}

fn tiled_nt_xent_matches_finite_differences<B: AutodiffBackend>(device: &B::Device) {
    let (b, d, tau) = (3, 4, 0.5);
    let (v1, v2) = (random_vec(b * d, 1.0, 31), random_vec(b * d, 1.0, 32));
    let z1 = tensor2::<B>(&v1, b, d, device).require_grad();
    let z2 = tensor2::<B>(&v2, b, d, device).require_grad();
    let tiled = loss::tiled_nt_xent(z1.clone(), z2.clone(), tau, 2).unwrap();
    let (value, g1, g2) = value_and_gradients(tiled, &z1, &z2);
    assert!((value - reference_nt_xent(&v1, &v2, b, d, tau)).abs() < TOL);
    let fd1 = finite_difference(|x| reference_nt_xent(x, &v2, b, d, tau), &v1, 1e-5);
    let fd2 = finite_difference(|x| reference_nt_xent(&v1, x, b, d, tau), &v2, 1e-5);
    assert_close(&g1, &fd1, 2e-5, 2e-3, "tiled dNT-Xent/dz1");
    assert_close(&g2, &fd2, 2e-5, 2e-3, "tiled dNT-Xent/dz2");
}

fn the_gradient_scales_with_the_upstream_gradient<B: AutodiffBackend>(device: &B::Device) {
    // The precomputed gradient is multiplied by whatever flows back: 3·J gives 3·∂J.
    let (c, x) = embeddings::<B>(4, 4, 3, device);
    let once = loss::tiled_info_nce(c.clone(), x.clone(), 0.5, 3).unwrap();
    let (_, g_once, _) = value_and_gradients(once, &c, &x);
    let thrice = loss::tiled_info_nce(c.clone(), x.clone(), 0.5, 3)
        .unwrap()
        .mul_scalar(3.0);
    let (_, g_thrice, _) = value_and_gradients(thrice, &c, &x);
    let tripled: Vec<f64> = g_once.iter().map(|g| 3.0 * g).collect();
    assert_close(&g_thrice, &tripled, TOL, 0.0, "d(3J)/dcontexts");
}

backend_tests!(
    tiled_info_nce_equals_the_composed_loss,
    tiled_nt_xent_equals_the_composed_loss,
    tiled_nt_xent_matches_finite_differences,
    the_gradient_scales_with_the_upstream_gradient,
);

type B = infonce::backend::NdArrayAutodiff;

#[test]
fn bad_settings_are_typed_errors() {
    let device = Default::default();
    let (c, x) = embeddings::<B>(4, 4, 3, &device);
    let tiled = |c: Tensor<B, 2>, x: Tensor<B, 2>, tau, tile| loss::tiled_info_nce(c, x, tau, tile);
    assert!(matches!(
        tiled(c.clone(), x.clone(), 0.5, 0),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        tiled(c.clone(), x.clone(), 0.0, 2),
        Err(Error::InvalidTemperature(_))
    ));
    let (_, fewer) = embeddings::<B>(4, 3, 3, &device);
    assert!(matches!(
        tiled(c.clone(), fewer, 0.5, 2),
        Err(Error::ShapeMismatch { .. })
    ));
    let (one, _) = embeddings::<B>(1, 1, 3, &device);
    assert!(matches!(
        loss::tiled_nt_xent(one.clone(), one, 0.5, 2),
        Err(Error::TooFewCandidates { .. })
    ));
    let (_, narrow) = embeddings::<B>(4, 4, 2, &device);
    assert!(matches!(
        loss::tiled_nt_xent(c, narrow, 0.5, 2),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn the_tile_for_a_memory_budget_fits_it() {
    assert_eq!(loss::tile_for_memory(1024, 1024 * 16 * 8), 8);
    assert_eq!(loss::tile_for_memory(1 << 20, 1), 1);
    assert_eq!(loss::tile_for_memory(0, 64), 4);
}
