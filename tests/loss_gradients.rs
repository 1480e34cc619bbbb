//! Every loss's autodiff gradient against central finite differences of an f64 reference
//! implementation written here, from the formulas in the functions' docs.

use burn::tensor::{Int, Tensor, backend::AutodiffBackend};
use infonce::loss::{self, PairMask};

use crate::common::*;

const H: f64 = 1e-5;
const ATOL: f64 = 2e-5;
const RTOL: f64 = 2e-3;

fn info_nce_gradient<B: AutodiffBackend>(device: &B::Device) {
    let (n, m) = (3, 5);
    let s = random_vec(n * m, 2.0, 11);
    let pos = [4usize, 0, 2];
    let scores = tensor2::<B>(&s, n, m, device).require_grad();
    let idx = Tensor::<B, 1, Int>::from_ints([4, 0, 2], device);
    let l = loss::info_nce(scores.clone(), idx).unwrap();
    let got = values(scores.grad(&l.backward()).unwrap());
    let f = |x: &[f64]| reference_masked_info_nce(x, n, m, |i, j| j == pos[i], |_, _| true);
    assert_close(
        &got,
        &finite_difference(f, &s, H),
        ATOL,
        RTOL,
        "dInfoNCE/ds",
    );
}

fn nt_xent_gradient<B: AutodiffBackend>(device: &B::Device) {
    let (b, d, tau) = (3, 4, 0.2);
    let z1 = random_vec(b * d, 1.0, 12);
    let z2 = random_vec(b * d, 1.0, 13);
    let t1 = tensor2::<B>(&z1, b, d, device).require_grad();
    let t2 = tensor2::<B>(&z2, b, d, device).require_grad();
    let grads = loss::nt_xent(t1.clone(), t2.clone(), tau)
        .unwrap()
        .backward();
    let g1 = values(t1.grad(&grads).unwrap());
    let g2 = values(t2.grad(&grads).unwrap());
    let fd1 = finite_difference(|x| reference_nt_xent(x, &z2, b, d, tau), &z1, H);
    let fd2 = finite_difference(|x| reference_nt_xent(&z1, x, b, d, tau), &z2, H);
    assert_close(&g1, &fd1, ATOL, RTOL, "dNT-Xent/dz1");
    assert_close(&g2, &fd2, ATOL, RTOL, "dNT-Xent/dz2");
}

fn symmetric_gradient<B: AutodiffBackend>(device: &B::Device) {
    let n = 4;
    let s = random_vec(n * n, 2.0, 14);
    let scores = tensor2::<B>(&s, n, n, device).require_grad();
    let got = values(
        scores
            .grad(&loss::symmetric_info_nce(scores.clone()).unwrap().backward())
            .unwrap(),
    );
    let f = |x: &[f64]| {
        let t: Vec<f64> = (0..n * n).map(|k| x[(k % n) * n + k / n]).collect();
        (reference_masked_info_nce(x, n, n, |i, j| i == j, |_, _| true)
            + reference_masked_info_nce(&t, n, n, |i, j| i == j, |_, _| true))
            / 2.0
    };
    assert_close(
        &got,
        &finite_difference(f, &s, H),
        ATOL,
        RTOL,
        "dSymmetric/ds",
    );
}

fn masked_multi_positive_gradient<B: AutodiffBackend>(device: &B::Device) {
    let (n, m) = (3, 7);
    let s = random_vec(n * m, 2.0, 15);
    let positive = |i: usize, j: usize| j == i || j == 6 - i;
    let valid = |i: usize, j: usize| (i + j) % 4 != 1;
    let scores = tensor2::<B>(&s, n, m, device).require_grad();
    let out = loss::masked_info_nce(
        scores.clone(),
        &PairMask::from_fn(n, m, positive),
        Some(&PairMask::from_fn(n, m, valid)),
    )
    .unwrap();
    let got = values(scores.grad(&out.loss.backward()).unwrap());
    let f = |x: &[f64]| reference_masked_info_nce(x, n, m, positive, valid);
    assert_close(&got, &finite_difference(f, &s, H), ATOL, RTOL, "dMasked/ds");
}

backend_tests!(
    info_nce_gradient,
    nt_xent_gradient,
    symmetric_gradient,
    masked_multi_positive_gradient,
);
