//! `loss::scaled_product` (`scale · a · bᵀ`): the CPU backends' own operation against the
//! composed product (values and gradients to 1e-5), against hand values and finite
//! differences of an f64 reference, with one operand, both, or the same tensor twice
//! tracked; bad shapes and scales are typed errors. On wgpu it is the composed path, held
//! to the same checks.

use burn::tensor::{Tensor, backend::AutodiffBackend};
use infonce::Error;
use infonce::loss::scaled_product;

use crate::common::*;

/// `Σ_ij w_ij s_ij` of the scores through `scaled_product` (or the composed product), its
/// value and its gradients with respect to `a` and `b`; the weights make the upstream
/// gradient something other than ones.
fn weighted_sum<B: AutodiffBackend>(
    operands: (&[f64], &[f64], [usize; 3]),
    scale: f64,
    weights: &[f64],
    composed: bool,
    device: &B::Device,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (a, b, [n, m, d]) = operands;
    let a = tensor2::<B>(a, n, d, device).require_grad();
    let b = tensor2::<B>(b, m, d, device).require_grad();
    let scores = if composed {
        a.clone().mul_scalar(scale).matmul(b.clone().transpose())
    } else {
        scaled_product(a.clone(), b.clone(), scale).unwrap()
    };
    let w = tensor2::<B>(weights, n, m, device);
    let grads = (scores.clone() * w).sum().backward();
    let (ga, gb) = (a.grad(&grads).unwrap(), b.grad(&grads).unwrap());
    (values(scores), values(ga), values(gb))
}

fn equals_the_composed_product<B: AutodiffBackend>(device: &B::Device) {
    // Odd sizes around the kernels' register blocks, and one large enough for threads.
    for (n, m, d, seed) in [
        (1, 2, 1, 1),
        (3, 5, 7, 2),
        (17, 9, 33, 3),
        (300, 1000, 64, 4),
    ] {
        let (a, b) = (
            random_vec(n * d, 1.0, seed),
            random_vec(m * d, 1.0, seed + 10),
        );
        let w = random_vec(n * m, 1.0, seed + 20);
        let fast = weighted_sum::<B>((&a, &b, [n, m, d]), 1.0 / 0.07, &w, false, device);
        let slow = weighted_sum::<B>((&a, &b, [n, m, d]), 1.0 / 0.07, &w, true, device);
        let what = format!("{n}×{m}×{d}");
        close_to_largest(&fast.0, &slow.0, &format!("{what}: scores"));
        close_to_largest(&fast.1, &slow.1, &format!("{what}: d/da"));
        close_to_largest(&fast.2, &slow.2, &format!("{what}: d/db"));
    }
}

/// Within 1e-5 of the largest magnitude: the entries reach ~100 (scores) and ~500
/// (gradients) at these sizes, and both sides round sums of hundreds of f32 terms.
fn close_to_largest(got: &[f64], want: &[f64], what: &str) {
    let largest = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    assert_close(got, want, 1e-5 * largest, 0.0, what);
}

/// `s_ij = scale · Σ_k a_ik b_jk` in f64.
fn reference_scores(a: &[f64], b: &[f64], [n, m, d]: [usize; 3], scale: f64) -> Vec<f64> {
    let dot = |i: usize, j: usize| (0..d).map(|k| a[i * d + k] * b[j * d + k]).sum::<f64>();
    (0..n * m).map(|ij| scale * dot(ij / m, ij % m)).collect()
}

fn has_the_hand_values_and_finite_difference_gradients<B: AutodiffBackend>(device: &B::Device) {
    // a = [[1, 2], [0, −1]], b = [[3, 1], [−2, 4], [1, 1]], scale 0.5:
    // a·bᵀ = [[5, 6, 3], [−1, −4, −1]].
    let (a, b) = ([1.0, 2.0, 0.0, -1.0], [3.0, 1.0, -2.0, 4.0, 1.0, 1.0]);
    let dims = [2, 3, 2];
    let w = random_vec(6, 1.0, 5);
    let (scores, ga, gb) = weighted_sum::<B>((&a, &b, dims), 0.5, &w, false, device);
    assert_close(
        &scores,
        &[2.5, 3.0, 1.5, -0.5, -2.0, -0.5],
        1e-6,
        0.0,
        "scores",
    );
    let objective = |a: &[f64], b: &[f64]| {
        let s = reference_scores(a, b, dims, 0.5);
        s.iter().zip(&w).map(|(s, w)| s * w).sum::<f64>()
    };
    let fd_a = finite_difference(|x| objective(x, &b), &a, 1e-4);
    let fd_b = finite_difference(|x| objective(&a, x), &b, 1e-4);
    assert_close(&ga, &fd_a, 1e-5, 1e-5, "d/da");
    assert_close(&gb, &fd_b, 1e-5, 1e-5, "d/db");
}

/// `z · zᵀ` (the NT-Xent and SupCon Gram matrix) passes the tensor twice: both gradients
/// reach it, `scale · (W + Wᵀ) · z`.
fn the_same_tensor_twice_gets_both_gradients<B: AutodiffBackend>(device: &B::Device) {
    let (n, d, scale) = (6, 4, 2.0);
    let z = random_vec(n * d, 1.0, 6);
    let w = random_vec(n * n, 1.0, 7);
    let t = tensor2::<B>(&z, n, d, device).require_grad();
    let scores = scaled_product(t.clone(), t.clone(), scale).unwrap();
    let grads = (scores * tensor2::<B>(&w, n, n, device)).sum().backward();
    let want: Vec<f64> = (0..n * d)
        .map(|ik| {
            let (i, k) = (ik / d, ik % d);
            let row = (0..n).map(|j| (w[i * n + j] + w[j * n + i]) * z[j * d + k]);
            scale * row.sum::<f64>()
        })
        .collect();
    assert_close(&values(t.grad(&grads).unwrap()), &want, 1e-5, 1e-5, "d/dz");
}

/// With one operand tracked the other gets no gradient, and the tracked one the right one.
fn one_tracked_operand<B: AutodiffBackend>(device: &B::Device) {
    let (a, b) = (random_vec(3 * 2, 1.0, 8), random_vec(4 * 2, 1.0, 9));
    let ta = tensor2::<B>(&a, 3, 2, device).require_grad();
    let tb = tensor2::<B>(&b, 4, 2, device);
    let grads = scaled_product(ta.clone(), tb.clone(), 3.0)
        .unwrap()
        .sum()
        .backward();
    assert!(
        tb.grad(&grads).is_none(),
        "an untracked operand has no gradient"
    );
    // d/da_ik of Σ_ij 3 a_i·b_j = 3 Σ_j b_jk.
    let column_sums: Vec<f64> = (0..2).map(|k| (0..4).map(|j| b[j * 2 + k]).sum()).collect();
    let want: Vec<f64> = (0..6).map(|ik| 3.0 * column_sums[ik % 2]).collect();
    assert_close(&values(ta.grad(&grads).unwrap()), &want, 1e-5, 0.0, "d/da");
    // Untracked throughout (evaluation), on the inner backend too.
    let plain = scaled_product(tensor2::<B>(&a, 3, 2, device), tb, 3.0).unwrap();
    let inner = scaled_product(
        tensor2::<B::InnerBackend>(&a, 3, 2, device),
        tensor2::<B::InnerBackend>(&b, 4, 2, device),
        3.0,
    )
    .unwrap();
    let want = reference_scores(&a, &b, [3, 4, 2], 3.0);
    assert_close(&values(plain), &want, 1e-5, 0.0, "untracked");
    assert_close(&values(inner), &want, 1e-5, 0.0, "inner backend");
}

fn refuses_bad_shapes_and_scales<B: AutodiffBackend>(device: &B::Device) {
    let a = Tensor::<B, 2>::ones([3, 4], device);
    let narrow = Tensor::<B, 2>::ones([5, 3], device);
    let empty = Tensor::<B, 2>::ones([0, 4], device);
    assert!(matches!(
        scaled_product(a.clone(), narrow, 1.0),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        scaled_product(a.clone(), empty, 1.0),
        Err(Error::EmptyBatch { .. })
    ));
    for scale in [f64::NAN, f64::INFINITY] {
        let got = scaled_product(a.clone(), a.clone(), scale);
        assert!(matches!(got, Err(Error::InvalidConfig { .. })), "{scale}");
    }
}

backend_tests!(
    equals_the_composed_product,
    has_the_hand_values_and_finite_difference_gradients,
    the_same_tensor_twice_gets_both_gradients,
    one_tracked_operand,
    refuses_bad_shapes_and_scales,
);

#[cfg(feature = "flex")]
mod flex_backend {
    use infonce::backend::FlexAutodiff;

    #[test]
    fn equals_the_composed_product() {
        super::equals_the_composed_product::<FlexAutodiff>(&Default::default());
    }

    #[test]
    fn has_the_hand_values_and_finite_difference_gradients() {
        super::has_the_hand_values_and_finite_difference_gradients::<FlexAutodiff>(
            &Default::default(),
        );
    }

    #[test]
    fn the_same_tensor_twice_gets_both_gradients() {
        super::the_same_tensor_twice_gets_both_gradients::<FlexAutodiff>(&Default::default());
    }

    #[test]
    fn one_tracked_operand() {
        super::one_tracked_operand::<FlexAutodiff>(&Default::default());
    }
}
