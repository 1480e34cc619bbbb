//! Closed-form identities of the InfoNCE family, each derivable by hand.

use burn::tensor::{Int, Tensor, backend::AutodiffBackend};
use infonce::loss::{self, Mask, PairMask};

use crate::common::*;

fn indices<B: AutodiffBackend>(v: &[i64], device: &B::Device) -> Tensor<B, 1, Int> {
    Tensor::from_ints(v, device)
}

/// Equal scores: J = ln N and dJ/ds = (1/N − onehot)/B.
fn constant_scores_give_log_n_and_uniform_gradient<B: AutodiffBackend>(device: &B::Device) {
    let (b, n) = (3, 5);
    let scores = tensor2::<B>(&vec![0.7; b * n], b, n, device).require_grad();
    let pos = [0i64, 2, 4];
    let loss = loss::info_nce(scores.clone(), indices::<B>(&pos, device)).unwrap();
    assert_close(&[scalar(loss.clone())], &[(n as f64).ln()], 1e-6, 0.0, "J");
    let grads = loss.backward();
    let g = values(scores.grad(&grads).unwrap());
    let want: Vec<f64> = (0..b * n)
        .map(|k| {
            (1.0 / n as f64
                - if (k % n) as i64 == pos[k / n] {
                    1.0
                } else {
                    0.0
                })
                / b as f64
        })
        .collect();
    assert_close(&g, &want, 1e-6, 0.0, "dJ/ds");
}

/// dJ/ds = (softmax(s) − onehot)/B on random scores; each row of it sums to 0.
fn gradient_is_softmax_minus_onehot<B: AutodiffBackend>(device: &B::Device) {
    let (b, n) = (4, 6);
    let s = random_vec(b * n, 3.0, 1);
    let pos = [5i64, 0, 3, 3];
    let scores = tensor2::<B>(&s, b, n, device).require_grad();
    let loss = loss::info_nce(scores.clone(), indices::<B>(&pos, device)).unwrap();
    let g = values(scores.grad(&loss.backward()).unwrap());
    for i in 0..b {
        let row = &s[i * n..(i + 1) * n];
        let lse = logsumexp(row);
        for j in 0..n {
            let onehot = if pos[i] == j as i64 { 1.0 } else { 0.0 };
            let want = ((row[j] - lse).exp() - onehot) / b as f64;
            assert_close(&[g[i * n + j]], &[want], 1e-6, 1e-5, "gradient");
        }
        let row_sum: f64 = g[i * n..(i + 1) * n].iter().sum();
        assert!(
            row_sum.abs() < 1e-6,
            "row {i} of the gradient sums to {row_sum}"
        );
    }
}

/// Adding a constant to a row changes nothing.
fn row_shift_invariance<B: AutodiffBackend>(device: &B::Device) {
    let (b, n) = (3, 4);
    let s = random_vec(b * n, 2.0, 2);
    let shifted: Vec<f64> = s
        .iter()
        .enumerate()
        .map(|(k, x)| x + 10.0 * (k / n) as f64 - 7.0)
        .collect();
    let pos = [1i64, 3, 0];
    let a =
        scalar(loss::info_nce(tensor2::<B>(&s, b, n, device), indices::<B>(&pos, device)).unwrap());
    let c = scalar(
        loss::info_nce(
            tensor2::<B>(&shifted, b, n, device),
            indices::<B>(&pos, device),
        )
        .unwrap(),
    );
    assert_close(&[c], &[a], 1e-5, 1e-5, "shifted loss");
}

/// Unique row maximum at the positive: J → 0 as τ → 0 and J → ln N as τ → ∞.
fn temperature_limits<B: AutodiffBackend>(device: &B::Device) {
    let (b, n) = (2, 8);
    let mut s = random_vec(b * n, 0.5, 3);
    s[3] = 1.5; // row 0, positive at 3
    s[n + 6] = 1.5; // row 1, positive at 6
    let pos = [3i64, 6];
    let at = |tau: f64| {
        let scaled: Vec<f64> = s.iter().map(|x| x / tau).collect();
        scalar(
            loss::info_nce(
                tensor2::<B>(&scaled, b, n, device),
                indices::<B>(&pos, device),
            )
            .unwrap(),
        )
    };
    let cold = at(0.01);
    let hot = at(1e4);
    assert!(
        (0.0..1e-6).contains(&cold),
        "J at τ = 0.01 is {cold}, expected → 0"
    );
    assert_close(&[hot], &[(n as f64).ln()], 1e-3, 0.0, "J at τ = 1e4");
    let bound = loss::mi_lower_bound(cold, n);
    assert!(bound <= (n as f64).ln() + 1e-12);
    assert_close(&[bound], &[(n as f64).ln()], 1e-6, 0.0, "bound at J ≈ 0");
}

/// The stats report accuracy and the bound consistently.
fn stats_report_accuracy_and_bound<B: AutodiffBackend>(device: &B::Device) {
    // Row 0's argmax (col 1) is its positive; row 1's argmax (col 0) is not.
    let s = [0.0, 2.0, 1.0, 3.0, 0.0, 1.0];
    let out = loss::info_nce_with_stats(
        tensor2::<B>(&s, 2, 3, device),
        indices::<B>(&[1, 2], device),
    )
    .unwrap();
    let stats = out.stats();
    assert_close(&[stats.accuracy], &[0.5], 1e-9, 0.0, "accuracy");
    let want = reference_masked_info_nce(&s, 2, 3, |i, j| j == [1, 2][i], |_, _| true);
    assert_close(&[stats.loss], &[want], 1e-6, 1e-6, "loss");
    assert_close(&[stats.mi_bound], &[3f64.ln() - want], 1e-6, 1e-6, "bound");
    assert!(stats.mi_bound <= stats.log_n);
}

/// NT-Xent closed form: z1 = z2 = [e1, e2] gives log(e^{1/τ} + 2) − 1/τ.
fn nt_xent_closed_form<B: AutodiffBackend>(device: &B::Device) {
    let z = tensor2::<B>(&[1.0, 0.0, 0.0, 1.0], 2, 2, device);
    for tau in [0.1, 0.5, 1.0, 2.0] {
        let got = scalar(loss::nt_xent(z.clone(), z.clone(), tau).unwrap());
        let want = ((1.0 / tau).exp() + 2.0).ln() - 1.0 / tau;
        assert_close(
            &[got],
            &[want],
            1e-5,
            1e-5,
            &format!("NT-Xent at τ = {tau}"),
        );
    }
}

/// NT-Xent equals InfoNCE on the 2B × 2B cosine matrix with the self column removed, and its
/// cap is ln(2B − 1).
fn nt_xent_is_info_nce_without_self_column<B: AutodiffBackend>(device: &B::Device) {
    let (b, d, tau) = (4, 5, 0.3);
    let z1 = random_vec(b * d, 1.0, 4);
    let z2 = random_vec(b * d, 1.0, 5);
    let out = loss::nt_xent_with_stats(
        tensor2::<B>(&z1, b, d, device),
        tensor2::<B>(&z2, b, d, device),
        tau,
    )
    .unwrap();
    let stats = out.stats();
    assert_close(
        &[stats.loss],
        &[reference_nt_xent(&z1, &z2, b, d, tau)],
        1e-5,
        1e-5,
        "NT-Xent",
    );
    assert_close(
        &[stats.log_n],
        &[((2 * b - 1) as f64).ln()],
        1e-6,
        0.0,
        "log N of NT-Xent",
    );
    // Scale invariance of the cosine: multiplying a view by 3 changes nothing.
    let z1x3: Vec<f64> = z1.iter().map(|x| 3.0 * x).collect();
    let scaled = scalar(
        loss::nt_xent(
            tensor2::<B>(&z1x3, b, d, device),
            tensor2::<B>(&z2, b, d, device),
            tau,
        )
        .unwrap(),
    );
    assert_close(
        &[scaled],
        &[stats.loss],
        1e-5,
        1e-5,
        "NT-Xent of rescaled view",
    );
}

/// CLIP: (CE over rows + CE over columns) / 2.
fn symmetric_is_mean_of_both_directions<B: AutodiffBackend>(device: &B::Device) {
    let n = 5;
    let s = random_vec(n * n, 2.0, 6);
    let rows = reference_masked_info_nce(&s, n, n, |i, j| i == j, |_, _| true);
    let t: Vec<f64> = (0..n * n).map(|k| s[(k % n) * n + k / n]).collect();
    let cols = reference_masked_info_nce(&t, n, n, |i, j| i == j, |_, _| true);
    let got = scalar(loss::symmetric_info_nce(tensor2::<B>(&s, n, n, device)).unwrap());
    assert_close(
        &[got],
        &[(rows + cols) / 2.0],
        1e-5,
        1e-5,
        "symmetric InfoNCE",
    );
}

/// Multi-positive rows average −log softmax over their positives (SupCon L_out).
fn multi_positive_matches_supcon_out<B: AutodiffBackend>(device: &B::Device) {
    let (n, m) = (3, 6);
    let s = random_vec(n * m, 2.0, 7);
    let positive = |i: usize, j: usize| j == i || j == i + 3;
    let valid = |i: usize, j: usize| j != (i + 1) % m;
    let pm = PairMask::from_fn(n, m, positive);
    let vm = PairMask::from_fn(n, m, valid);
    let got = loss::masked_info_nce(tensor2::<B>(&s, n, m, device), &pm, Some(&vm))
        .unwrap()
        .stats();
    let want = reference_masked_info_nce(&s, n, m, positive, valid);
    assert_close(&[got.loss], &[want], 1e-5, 1e-5, "multi-positive loss");
    assert_close(
        &[got.log_n],
        &[5f64.ln()],
        1e-6,
        0.0,
        "log N with one masked column per row",
    );
}

/// Masked candidates are excluded exactly, even with huge scores and a tiny temperature.
fn masked_candidates_never_leak<B: AutodiffBackend>(device: &B::Device) {
    let (n, m) = (2, 4);
    let mut s = random_vec(n * m, 1.0, 8);
    s[3] = 1e30; // masked for row 0
    s[m + 1] = 1e30; // masked for row 1
    let scaled: Vec<f64> = s.iter().map(|x| x / 0.01).collect();
    let vm = PairMask::from_fn(n, m, |i, j| !(i == 0 && j == 3 || i == 1 && j == 1));
    let pm = PairMask::from_indices(m, &[0, 2]).unwrap();
    let scores = tensor2::<B>(&scaled, n, m, device).require_grad();
    let out = loss::masked_info_nce(scores.clone(), &pm, Some(&vm)).unwrap();
    let want = reference_masked_info_nce(
        &scaled
            .iter()
            .map(|&x| if x > 1e20 { 0.0 } else { x })
            .collect::<Vec<_>>(),
        n,
        m,
        |i, j| j == [0, 2][i],
        |i, j| !(i == 0 && j == 3 || i == 1 && j == 1),
    );
    assert_close(
        &[out.stats().loss],
        &[want],
        1e-4,
        1e-5,
        "masked loss at τ = 0.01",
    );
    let g = values(scores.grad(&out.loss.backward()).unwrap());
    assert!(
        g.iter().all(|x| x.is_finite()),
        "gradient has non-finite entries: {g:?}"
    );
    assert_eq!(g[3], 0.0, "masked entry received gradient");
    assert_eq!(g[m + 1], 0.0, "masked entry received gradient");
}

/// Rows that mask most of their candidates (CPC's same-step sets keep one block of
/// columns per row) give the loss and gradient of their block alone: the masked two
/// thirds of each row add nothing to its log-sum-exp and receive no gradient.
fn mostly_masked_rows_reduce_to_their_blocks<B: AutodiffBackend>(device: &B::Device) {
    let (blocks, size) = (3, 6);
    let n = blocks * size;
    let s = random_vec(n * n, 4.0, 21);
    let ids: Vec<i64> = (0..n).map(|i| (i / size) as i64).collect();
    let same = |i: usize, j: usize| ids[i] == ids[j];
    let valid = Mask::Equal {
        rows: indices::<B>(&ids, device),
        cols: indices::<B>(&ids, device),
    };
    let scores = tensor2::<B>(&s, n, n, device).require_grad();
    let out =
        loss::info_nce_with_masks(scores.clone(), &Mask::Diagonal { offset: 0 }, Some(&valid))
            .unwrap();
    let want = reference_masked_info_nce(&s, n, n, |i, j| i == j, same);
    assert_close(
        &[out.stats().loss],
        &[want],
        1e-6,
        1e-6,
        "loss of the blocks",
    );
    // ∂J/∂s_ij = (softmax over row i's block − [i = j]) / n inside the block, 0 outside.
    let mut want_grad = vec![0.0; n * n];
    for i in 0..n {
        let block: Vec<usize> = (0..n).filter(|&j| same(i, j)).collect();
        let lse = logsumexp(&block.iter().map(|&j| s[i * n + j]).collect::<Vec<_>>());
        for j in block {
            let onehot = if i == j { 1.0 } else { 0.0 };
            want_grad[i * n + j] = ((s[i * n + j] - lse).exp() - onehot) / n as f64;
        }
    }
    let g = values(scores.grad(&out.loss.backward()).unwrap());
    assert_close(&g, &want_grad, 1e-7, 1e-4, "gradient of the blocks");
    for (k, &x) in g.iter().enumerate() {
        assert!(
            same(k / n, k % n) || x == 0.0,
            "masked entry {k} got gradient {x}"
        );
    }
}

backend_tests!(
    mostly_masked_rows_reduce_to_their_blocks,
    constant_scores_give_log_n_and_uniform_gradient,
    gradient_is_softmax_minus_onehot,
    row_shift_invariance,
    temperature_limits,
    stats_report_accuracy_and_bound,
    nt_xent_closed_form,
    nt_xent_is_info_nce_without_self_column,
    symmetric_is_mean_of_both_directions,
    multi_positive_matches_supcon_out,
    masked_candidates_never_leak,
);

/// A NaN score among a row's negatives makes the loss NaN, on the floored path too (a
/// mostly-masked candidate set): the floor must not clip a NaN into a finite score. On
/// ndarray only, plain and with autodiff: WGSL lets shaders assume there are no NaNs.
#[test]
fn a_nan_negative_is_never_floored_away() {
    fn loss_with_a_nan<B: burn::tensor::backend::Backend>() -> f64 {
        let device = Default::default();
        let (n, size) = (8, 4);
        let mut s = random_vec(n * n, 1.0, 5);
        s[1] = f64::NAN; // row 0's negative in its own block
        let ids: Vec<i64> = (0..n).map(|i| (i / size) as i64).collect();
        let id_tensor = || Tensor::<B, 1, Int>::from_ints(ids.as_slice(), &device);
        let valid = Mask::Equal {
            rows: id_tensor(),
            cols: id_tensor(),
        };
        let scores = tensor2::<B>(&s, n, n, &device);
        let out = loss::info_nce_with_masks(scores, &Mask::Diagonal { offset: 0 }, Some(&valid));
        out.unwrap().stats().loss
    }
    type Plain = infonce::backend::PrebuiltNdArray;
    assert!(loss_with_a_nan::<Plain>().is_nan(), "plain ndarray");
    assert!(
        loss_with_a_nan::<burn::backend::Autodiff<Plain>>().is_nan(),
        "autodiff"
    );
}
