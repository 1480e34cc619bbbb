//! Objectives against independent f64 implementations of the papers' formulas (as the
//! authors' code computes them), on hand-built and random cases: values and central
//! finite-difference gradients; the reductions between them; the objectives in training.

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor, TensorData};
use infonce::NegativeSampler;
use infonce::loss::{
    self, BoundKind, Mask, NegativeCorrection, debiased_with_masks, decoupled_with_masks,
};
use infonce::objective::{Objective, ObjectiveKind};
use infonce::sampler::{Embeddings, InBatchSampler, Rows, TwoViewSampler};
use infonce::trainer::{Trainer, TrainerConfig};

use crate::common::*;

/// Per row: `(positive column, valid columns other than the positive)`.
type Layout = Vec<(usize, Vec<usize>)>;

/// The two-view layout of `b` pairs: positive `k ± b`, every other non-self column a negative.
fn two_view_layout(b: usize) -> Layout {
    let n = 2 * b;
    (0..n)
        .map(|i| {
            let p = (i + b) % n;
            (p, (0..n).filter(|&j| j != i && j != p).collect())
        })
        .collect()
}

/// Decoupled (Yeh et al. 2022): `−s⁺ + log Σ_neg e^{s⁻}`, mean over rows.
fn ref_decoupled(s: &[f64], m: usize, layout: &Layout) -> f64 {
    let rows = layout.iter().enumerate().map(|(i, (p, negs))| {
        let neg: Vec<f64> = negs.iter().map(|&j| s[i * m + j]).collect();
        logsumexp(&neg) - s[i * m + p]
    });
    rows.sum::<f64>() / layout.len() as f64
}

/// Debiased / hard-negative, as chingyaoc/DCL and joshr17/HCL compute it, in f64.
fn ref_debiased(s: &[f64], m: usize, layout: &Layout, c: NegativeCorrection) -> f64 {
    let rows = layout.iter().enumerate().map(|(i, (p, negs))| {
        let pos = s[i * m + p].exp();
        let neg: Vec<f64> = negs.iter().map(|&j| s[i * m + j].exp()).collect();
        let n = neg.len() as f64;
        let reweighted = if c.beta == 0.0 {
            neg.iter().sum::<f64>()
        } else {
            let imp: Vec<f64> = neg.iter().map(|v| (c.beta * v.ln()).exp()).collect();
            let mean_imp = imp.iter().sum::<f64>() / n;
            imp.iter().zip(&neg).map(|(a, b)| a * b).sum::<f64>() / mean_imp
        };
        let mut ng = (-c.tau_plus * n * pos + reweighted) / (1.0 - c.tau_plus);
        if let Some(floor) = c.floor_log_score {
            ng = ng.max(n * floor.exp());
        }
        -(pos / (pos + ng)).ln()
    });
    rows.sum::<f64>() / layout.len() as f64
}

/// Cosine similarities over `tau` of `cat(z1, z2)` (`b × d` each), row-major `2b × 2b`.
fn host_two_view_scores(z: &[f64], b: usize, d: usize, tau: f64) -> Vec<f64> {
    let rows: Vec<Vec<f64>> = z
        .chunks(d)
        .map(|r| {
            let norm = r.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-6);
            r.iter().map(|x| x / norm).collect()
        })
        .collect();
    let n = 2 * b;
    let mut s = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            s[i * n + j] = rows[i]
                .iter()
                .zip(&rows[j])
                .map(|(a, c)| a * c)
                .sum::<f64>()
                / tau;
        }
    }
    s
}

/// The masks of the two-view layout, as the samplers give them.
fn two_view_masks<B: AutodiffBackend>(b: usize) -> (Mask<B>, Mask<B>) {
    (
        Mask::TwoView { batch: b },
        Mask::Diagonal { offset: 0 }.not(),
    )
}

/// Checks `f(scores)` (a device loss) against `reference` in value and in its gradient with
/// respect to the scores, by central finite differences of the f64 reference.
fn check_on_scores<B: AutodiffBackend>(
    scores: &[f64],
    n: usize,
    m: usize,
    f: impl Fn(Tensor<B, 2>) -> Tensor<B, 1>,
    reference: impl Fn(&[f64]) -> f64,
    device: &B::Device,
    what: &str,
) {
    let x = tensor2::<B>(scores, n, m, device).require_grad();
    let loss = f(x.clone());
    assert_close(
        &[scalar(loss.clone())],
        &[reference(scores)],
        1e-5,
        1e-5,
        what,
    );
    let grad = values(x.grad(&loss.backward()).unwrap());
    let want = finite_difference(&reference, scores, 1e-5);
    assert_close(&grad, &want, 1e-4, 1e-3, &format!("{what}: gradient"));
}

fn decoupled_matches_the_paper<B: AutodiffBackend>(device: &B::Device) {
    let b = 3;
    let n = 2 * b;
    let layout = two_view_layout(b);
    let scores = random_vec(n * n, 2.0, 71);
    let (pos, valid) = two_view_masks::<B>(b);
    check_on_scores::<B>(
        &scores,
        n,
        n,
        |s| decoupled_with_masks(s, &pos, Some(&valid)).unwrap().loss,
        |s| ref_decoupled(s, n, &layout),
        device,
        "decoupled on scores",
    );
    // Hand-built: z1 = z2 = [e1, e2], τ = 0.5: −1/τ + ln 2 (two negatives of cosine 0).
    let z = tensor2::<B>(&[1.0, 0.0, 0.0, 1.0], 2, 2, device);
    let got = scalar(loss::decoupled_nt_xent(z.clone(), z, 0.5).unwrap());
    assert_close(
        &[got],
        &[-2.0 + 2f64.ln()],
        1e-5,
        0.0,
        "decoupled hand-built",
    );
    // Through z, with gradients.
    let (bz, d, tau) = (3, 4, 0.5);
    let zs = random_vec(2 * bz * d, 1.0, 72);
    check_on_z::<B>(
        &zs,
        bz,
        d,
        tau,
        device,
        "decoupled_nt_xent",
        |z1, z2| loss::decoupled_nt_xent(z1, z2, tau).unwrap(),
        |s| ref_decoupled(s, 2 * bz, &two_view_layout(bz)),
    );
}

/// Value and gradient of a two-view loss with respect to `z = cat(z1, z2)`.
#[allow(clippy::too_many_arguments)]
fn check_on_z<B: AutodiffBackend>(
    zs: &[f64],
    b: usize,
    d: usize,
    tau: f64,
    device: &B::Device,
    what: &str,
    f: impl Fn(Tensor<B, 2>, Tensor<B, 2>) -> Tensor<B, 1>,
    reference_on_scores: impl Fn(&[f64]) -> f64,
) {
    let reference = |z: &[f64]| reference_on_scores(&host_two_view_scores(z, b, d, tau));
    let z = tensor2::<B>(zs, 2 * b, d, device).require_grad();
    let loss = f(z.clone().narrow(0, 0, b), z.clone().narrow(0, b, b));
    assert_close(&[scalar(loss.clone())], &[reference(zs)], 1e-5, 1e-5, what);
    let grad = values(z.grad(&loss.backward()).unwrap());
    let want = finite_difference(reference, zs, 1e-5);
    assert_close(&grad, &want, 1e-3, 1e-3, &format!("{what}: gradient"));
}

fn debiased_and_hard_negative_match_the_authors_code<B: AutodiffBackend>(device: &B::Device) {
    let b = 3;
    let n = 2 * b;
    let layout = two_view_layout(b);
    let scores = random_vec(n * n, 1.5, 73);
    let (pos, valid) = two_view_masks::<B>(b);
    for (tau_plus, beta, floor) in [
        (0.1, 0.0, Some(-2.0)),
        (0.1, 1.0, None),
        (0.05, 0.5, Some(-1.0)),
    ] {
        let c = NegativeCorrection {
            tau_plus,
            beta,
            floor_log_score: floor,
        };
        check_on_scores::<B>(
            &scores,
            n,
            n,
            |s| debiased_with_masks(s, &pos, Some(&valid), c).unwrap().loss,
            |s| ref_debiased(s, n, &layout, c),
            device,
            &format!("debiased τ⁺ {tau_plus} β {beta} floor {floor:?}"),
        );
    }
    let (bz, d, tau) = (3, 4, 0.5);
    let zs = random_vec(2 * bz * d, 1.0, 74);
    let c = |tau_plus, beta| NegativeCorrection {
        tau_plus,
        beta,
        floor_log_score: Some(-1.0 / tau),
    };
    check_on_z::<B>(
        &zs,
        bz,
        d,
        tau,
        device,
        "debiased_nt_xent",
        |z1, z2| loss::debiased_nt_xent(z1, z2, tau, 0.1).unwrap(),
        |s| ref_debiased(s, 2 * bz, &two_view_layout(bz), c(0.1, 0.0)),
    );
    check_on_z::<B>(
        &zs,
        bz,
        d,
        tau,
        device,
        "hard_negative_nt_xent",
        |z1, z2| loss::hard_negative_nt_xent(z1, z2, tau, 1.0, 0.1).unwrap(),
        |s| ref_debiased(s, 2 * bz, &two_view_layout(bz), c(0.1, 1.0)),
    );
}

/// β = 0 gives the debiased loss, τ⁺ = 0 gives NT-Xent, all-distinct labels give NT-Xent,
/// and DCL is InfoNCE with the positive removed from the denominator.
fn reductions_hold<B: AutodiffBackend>(device: &B::Device) {
    let (b, d, tau) = (4, 5, 0.5);
    let z1 = || tensor2::<B>(&random_vec(b * d, 1.0, 75), b, d, device);
    let z2 = || tensor2::<B>(&random_vec(b * d, 1.0, 76), b, d, device);
    let nt = scalar(loss::nt_xent(z1(), z2(), tau).unwrap());
    let debiased = scalar(loss::debiased_nt_xent(z1(), z2(), tau, 0.1).unwrap());
    let hard0 = scalar(loss::hard_negative_nt_xent(z1(), z2(), tau, 0.0, 0.1).unwrap());
    assert_close(&[hard0], &[debiased], 1e-6, 1e-6, "β = 0 is debiased");
    let plain = scalar(loss::debiased_nt_xent(z1(), z2(), tau, 0.0).unwrap());
    assert_close(&[plain], &[nt], 1e-6, 1e-6, "τ⁺ = 0 is NT-Xent");
    let plain = scalar(loss::hard_negative_nt_xent(z1(), z2(), tau, 0.0, 0.0).unwrap());
    assert_close(&[plain], &[nt], 1e-6, 1e-6, "β = 0, τ⁺ = 0 is NT-Xent");
    // SupCon with labels 0..b on both views: one positive per row, the other view.
    let labels: Vec<i64> = (0..b as i64).chain(0..b as i64).collect();
    let labels = Tensor::<B, 1, Int>::from_data(TensorData::new(labels, [2 * b]), device);
    let z = Tensor::cat(vec![z1(), z2()], 0);
    let supcon = scalar(loss::supervised_contrastive(z, labels, tau).unwrap());
    assert_close(&[supcon], &[nt], 1e-6, 1e-6, "distinct labels give NT-Xent");
    // DCL = InfoNCE over the set without the positive in the denominator.
    let n = 2 * b;
    let s = random_vec(n * n, 2.0, 77);
    let (pos, valid) = two_view_masks::<B>(b);
    let dcl = decoupled_with_masks(tensor2::<B>(&s, n, n, device), &pos, Some(&valid)).unwrap();
    let positive: Vec<f64> = (0..n).map(|i| s[i * n + (i + b) % n]).collect();
    let infonce_without_positive: f64 = (0..n)
        .map(|i| {
            let row: Vec<f64> = (0..n)
                .filter(|&j| j != i && j != (i + b) % n)
                .map(|j| s[i * n + j])
                .collect();
            logsumexp(&row) - positive[i]
        })
        .sum::<f64>()
        / n as f64;
    assert_close(
        &[dcl.stats().loss],
        &[infonce_without_positive],
        1e-5,
        1e-5,
        "DCL",
    );
    assert_eq!(dcl.bound, BoundKind::Decoupled);
}

fn supervised_contrastive_matches_l_out<B: AutodiffBackend>(device: &B::Device) {
    let (n, d, tau) = (6, 3, 0.3);
    let labels = [0i64, 1, 0, 2, 1, 0]; // label 2 appears once: that row is skipped
    let zs = random_vec(n * d, 1.0, 78);
    let reference = |z: &[f64]| {
        let rows: Vec<Vec<f64>> = z
            .chunks(d)
            .map(|r| {
                let norm = r.iter().map(|x| x * x).sum::<f64>().sqrt();
                r.iter().map(|x| x / norm).collect()
            })
            .collect();
        let mut total = 0.0;
        let mut anchors = 0;
        for i in 0..n {
            let s: Vec<f64> = (0..n)
                .map(|j| {
                    rows[i]
                        .iter()
                        .zip(&rows[j])
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                        / tau
                })
                .collect();
            let others: Vec<f64> = (0..n).filter(|&j| j != i).map(|j| s[j]).collect();
            let lse = logsumexp(&others);
            let pos: Vec<f64> = (0..n)
                .filter(|&j| j != i && labels[j] == labels[i])
                .map(|j| s[j] - lse)
                .collect();
            if !pos.is_empty() {
                total -= pos.iter().sum::<f64>() / pos.len() as f64;
                anchors += 1;
            }
        }
        total / anchors as f64
    };
    let z = tensor2::<B>(&zs, n, d, device).require_grad();
    let l = Tensor::<B, 1, Int>::from_data(TensorData::new(labels.to_vec(), [n]), device);
    let loss = loss::supervised_contrastive(z.clone(), l, tau).unwrap();
    assert_close(
        &[scalar(loss.clone())],
        &[reference(&zs)],
        1e-5,
        1e-5,
        "SupCon",
    );
    let grad = values(z.grad(&loss.backward()).unwrap());
    let want = finite_difference(reference, &zs, 1e-5);
    assert_close(&grad, &want, 1e-3, 1e-3, "SupCon gradient");
}

/// The enum dispatches to the functions, SupCon reads labels from the rows, the symmetric
/// objective equals `symmetric_info_nce`, and bounds are reported honestly.
fn objective_kinds_on_candidate_sets<B: AutodiffBackend>(device: &B::Device) {
    let (n, d) = (4, 3);
    let c = tensor2::<B>(&random_vec(n * d, 1.0, 79), n, d, device);
    let x = tensor2::<B>(&random_vec(n * d, 1.0, 80), n, d, device);
    let labels = Tensor::<B, 1, Int>::from_data(TensorData::new(vec![0i64, 1, 0, 1], [n]), device);
    let rows = Rows {
        label: Some(labels),
        ..Rows::none()
    };
    let e = Embeddings::new(c, x).with_rows(rows);
    let set = NegativeSampler::<B>::candidates(&mut InBatchSampler, e.clone()).unwrap();
    let s = random_vec(n * n, 1.0, 81);
    let scores = || tensor2::<B>(&s, n, n, device);
    let info = ObjectiveKind::InfoNce.loss(scores(), &set).unwrap();
    assert_eq!(info.bound, BoundKind::Bound);
    let sym = ObjectiveKind::Symmetric.loss(scores(), &set).unwrap();
    let want = scalar(loss::symmetric_info_nce(scores()).unwrap());
    assert_close(
        &[sym.stats().loss],
        &[want],
        1e-6,
        1e-6,
        "symmetric objective",
    );
    let sup = ObjectiveKind::SupervisedContrastive
        .loss(scores(), &set)
        .unwrap();
    assert_eq!(sup.bound, BoundKind::SeveralPositives);
    let want = reference_masked_info_nce(&s, n, n, |i, j| i % 2 == j % 2, |_, _| true);
    assert_close(&[sup.stats().loss], &[want], 1e-5, 1e-5, "SupCon objective");
    let no_labels = NegativeSampler::<B>::candidates(
        &mut InBatchSampler,
        Embeddings::new(e.context.clone(), e.samples.clone()),
    )
    .unwrap();
    assert!(matches!(
        ObjectiveKind::SupervisedContrastive.loss(scores(), &no_labels),
        Err(infonce::Error::InvalidConfig { .. })
    ));
    let hard = ObjectiveKind::HardNegative {
        beta: 1.0,
        tau_plus: 0.1,
        floor_log_score: None,
    };
    assert_eq!(
        hard.loss(scores(), &set).unwrap().bound,
        BoundKind::Reweighted
    );
}

/// Every built-in objective trains a two-view model for a few steps with finite values, and
/// reports whether its number is a bound.
fn every_objective_trains<B: AutodiffBackend>(device: &B::Device) {
    let kinds = [
        ObjectiveKind::InfoNce,
        ObjectiveKind::Symmetric,
        ObjectiveKind::Decoupled,
        ObjectiveKind::Debiased {
            tau_plus: 0.1,
            floor_log_score: None,
        },
        ObjectiveKind::HardNegative {
            beta: 1.0,
            tau_plus: 0.1,
            floor_log_score: None,
        },
    ];
    for kind in kinds {
        let config = TrainerConfig::new()
            .with_epochs(1)
            .with_objective(kind)
            .with_progress(false);
        let model = crate::trainer::model::<B>(device);
        let mut trainer = Trainer::new(config, model, TwoViewSampler, device.clone()).unwrap();
        let summary = trainer.fit(&crate::trainer::data()).unwrap();
        let last = summary.history.last().unwrap();
        assert!(
            last.loss.is_finite() && last.accuracy.is_finite(),
            "{kind:?}"
        );
        assert_eq!(
            last.bound.is_bound(),
            kind == ObjectiveKind::InfoNce || kind == ObjectiveKind::Symmetric,
            "{kind:?}"
        );
    }
}

backend_tests!(
    decoupled_matches_the_paper,
    debiased_and_hard_negative_match_the_authors_code,
    reductions_hold,
    supervised_contrastive_matches_l_out,
    objective_kinds_on_candidate_sets,
    every_objective_trains,
);
