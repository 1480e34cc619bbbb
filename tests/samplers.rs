//! Samplers: candidate layouts and masks, and the loss they lead to against hand-built
//! candidate lists.

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use infonce::critic::DotProductCritic;
use infonce::loss::{self, info_nce_with_masks};
use infonce::sampler::{
    CandidateSet, Embeddings, ExplicitNegativeSampler, ExplicitNegatives, InBatchSampler, Rows,
    TwoViewSampler,
};
use infonce::{Critic, NegativeSampler};

use crate::common::*;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Loss of contexts `c` against per-row candidate lists (positive first), dot critic.
fn reference_loss(c: &[Vec<f64>], rows: &[Vec<Vec<f64>>]) -> f64 {
    c.iter()
        .zip(rows)
        .map(|(ci, cands)| {
            let s: Vec<f64> = cands.iter().map(|x| dot(ci, x)).collect();
            logsumexp(&s) - s[0]
        })
        .sum::<f64>()
        / c.len() as f64
}

fn rows_of(v: &[f64], d: usize) -> Vec<Vec<f64>> {
    v.chunks(d).map(|r| r.to_vec()).collect()
}

fn loss_of<B: AutodiffBackend>(set: CandidateSet<B>) -> f64 {
    let scores = DotProductCritic::<B>::new().log_scores(set.context, set.candidates);
    info_nce_with_masks(scores, &set.positives, set.valid.as_ref())
        .unwrap()
        .stats()
        .loss
}

/// The positive column of each row, read back (`None` unless exactly one per row).
fn positive_columns<B: AutodiffBackend>(
    set: &CandidateSet<B>,
    device: &B::Device,
) -> Option<Vec<usize>> {
    let mask = set.positives.to_pair_mask(set.dims(), device).unwrap();
    mask.single_indices()
}

/// Valid candidates per row, read back.
fn valid_counts<B: AutodiffBackend>(set: &CandidateSet<B>, device: &B::Device) -> Vec<usize> {
    let valid = set.valid.as_ref().unwrap().clone();
    let valid = valid.or(set.positives.clone());
    valid.to_pair_mask(set.dims(), device).unwrap().row_counts()
}

fn in_batch_layout_and_loss<B: AutodiffBackend>(device: &B::Device) {
    let (n, d) = (4, 3);
    let c = random_vec(n * d, 1.0, 31);
    let x = random_vec(n * d, 1.0, 32);
    let e = Embeddings::new(
        tensor2::<B>(&c, n, d, device),
        tensor2::<B>(&x, n, d, device),
    );
    let set = NegativeSampler::<B>::candidates(&mut InBatchSampler, e).unwrap();
    assert_eq!(set.candidates.dims(), [n, d]);
    assert!(set.valid.is_none());
    assert_eq!(positive_columns(&set, device), Some(vec![0, 1, 2, 3]));
    let xs = rows_of(&x, d);
    let cands: Vec<Vec<Vec<f64>>> = (0..n)
        .map(|i| {
            std::iter::once(xs[i].clone())
                .chain((0..n).filter(|&j| j != i).map(|j| xs[j].clone()))
                .collect()
        })
        .collect();
    assert_close(
        &[loss_of(set)],
        &[reference_loss(&rows_of(&c, d), &cands)],
        1e-5,
        1e-5,
        "in-batch loss",
    );
}

fn two_view_with_cosine_is_nt_xent<B: AutodiffBackend>(device: &B::Device) {
    let (n, d, tau) = (3, 4, 0.5);
    let a = random_vec(n * d, 1.0, 33);
    let b = random_vec(n * d, 1.0, 34);
    let e = Embeddings::new(
        tensor2::<B>(&a, n, d, device),
        tensor2::<B>(&b, n, d, device),
    );
    let set = NegativeSampler::<B>::candidates(&mut TwoViewSampler, e).unwrap();
    assert_eq!(set.context.dims(), [2 * n, d]);
    assert_eq!(positive_columns(&set, device), Some(vec![3, 4, 5, 0, 1, 2]));
    let valid = set
        .valid
        .clone()
        .unwrap()
        .to_pair_mask(set.dims(), device)
        .unwrap();
    assert!(
        (0..2 * n).all(|i| !valid.get(i, i)),
        "self-pairs must be excluded"
    );
    assert_eq!(valid.row_counts(), vec![2 * n - 1; 2 * n]);
    let critic = infonce::critic::CosineCriticConfig::new()
        .with_temperature(tau)
        .init::<B>(device)
        .unwrap();
    let scores = critic.log_scores(set.context, set.candidates);
    let got = info_nce_with_masks(scores, &set.positives, set.valid.as_ref())
        .unwrap()
        .stats()
        .loss;
    let want = scalar(
        loss::nt_xent(
            tensor2::<B>(&a, n, d, device),
            tensor2::<B>(&b, n, d, device),
            tau,
        )
        .unwrap(),
    );
    assert_close(
        &[got],
        &[want],
        1e-6,
        1e-6,
        "two-view sampler + cosine vs nt_xent",
    );
}

fn paired_negatives_only_for_their_row<B: AutodiffBackend>(device: &B::Device) {
    let (n, k, d) = (3, 2, 3);
    let c = random_vec(n * d, 1.0, 35);
    let x = random_vec(n * d, 1.0, 36);
    let neg = random_vec(n * k * d, 1.0, 37);
    let embeddings = || Embeddings {
        context: tensor2::<B>(&c, n, d, device),
        samples: tensor2::<B>(&x, n, d, device),
        negatives: Some(ExplicitNegatives::Paired(
            tensor2::<B>(&neg, n * k, d, device).reshape([n, k, d]),
        )),
        rows: Rows::none(),
    };
    let (xs, negs, cs) = (rows_of(&x, d), rows_of(&neg, d), rows_of(&c, d));

    // Explicit only: k + 1 candidates per row.
    let set = NegativeSampler::<B>::candidates(&mut ExplicitNegativeSampler, embeddings()).unwrap();
    assert_eq!(set.candidates.dims(), [n + n * k, d]);
    assert_eq!(valid_counts(&set, device), vec![k + 1; n]);
    let only: Vec<Vec<Vec<f64>>> = (0..n)
        .map(|i| {
            std::iter::once(xs[i].clone())
                .chain(negs[i * k..(i + 1) * k].iter().cloned())
                .collect()
        })
        .collect();
    assert_close(
        &[loss_of(set)],
        &[reference_loss(&cs, &only)],
        1e-5,
        1e-5,
        "explicit paired loss",
    );

    // Combined with in-batch: n + k candidates per row.
    let set = NegativeSampler::<B>::candidates(&mut InBatchSampler, embeddings()).unwrap();
    assert_eq!(valid_counts(&set, device), vec![n + k; n]);
    let both: Vec<Vec<Vec<f64>>> = (0..n)
        .map(|i| {
            std::iter::once(xs[i].clone())
                .chain((0..n).filter(|&j| j != i).map(|j| xs[j].clone()))
                .chain(negs[i * k..(i + 1) * k].iter().cloned())
                .collect()
        })
        .collect();
    assert_close(
        &[loss_of(set)],
        &[reference_loss(&cs, &both)],
        1e-5,
        1e-5,
        "in-batch + paired loss",
    );
}

fn unpaired_negatives_shared_by_all_rows<B: AutodiffBackend>(device: &B::Device) {
    let (n, k, d) = (2, 3, 2);
    let c = random_vec(n * d, 1.0, 38);
    let x = random_vec(n * d, 1.0, 39);
    let neg = random_vec(k * d, 1.0, 40);
    let e = Embeddings {
        context: tensor2::<B>(&c, n, d, device),
        samples: tensor2::<B>(&x, n, d, device),
        negatives: Some(ExplicitNegatives::Unpaired(tensor2::<B>(
            &neg, k, d, device,
        ))),
        rows: Rows::none(),
    };
    let set = NegativeSampler::<B>::candidates(&mut ExplicitNegativeSampler, e).unwrap();
    assert_eq!(valid_counts(&set, device), vec![k + 1; n]);
    let (xs, negs) = (rows_of(&x, d), rows_of(&neg, d));
    let rows: Vec<Vec<Vec<f64>>> = (0..n)
        .map(|i| {
            std::iter::once(xs[i].clone())
                .chain(negs.iter().cloned())
                .collect()
        })
        .collect();
    assert_close(
        &[loss_of(set)],
        &[reference_loss(&rows_of(&c, d), &rows)],
        1e-5,
        1e-5,
        "unpaired loss",
    );
}

fn samplers_refuse_bad_batches<B: AutodiffBackend>(device: &B::Device) {
    let one = || {
        Embeddings::new(
            Tensor::<B, 2>::zeros([1, 4], device),
            Tensor::<B, 2>::zeros([1, 4], device),
        )
    };
    assert!(matches!(
        NegativeSampler::<B>::candidates(&mut InBatchSampler, one()),
        Err(infonce::Error::TooFewCandidates { .. })
    ));
    assert!(matches!(
        NegativeSampler::<B>::candidates(&mut TwoViewSampler, one()),
        Err(infonce::Error::TooFewCandidates { .. })
    ));
    let mismatched = Embeddings::new(
        Tensor::<B, 2>::zeros([3, 4], device),
        Tensor::<B, 2>::zeros([2, 4], device),
    );
    assert!(matches!(
        NegativeSampler::<B>::candidates(&mut InBatchSampler, mismatched),
        Err(infonce::Error::ShapeMismatch { .. })
    ));
    let no_negatives = Embeddings::new(
        Tensor::<B, 2>::zeros([3, 4], device),
        Tensor::<B, 2>::zeros([3, 4], device),
    );
    assert!(matches!(
        NegativeSampler::<B>::candidates(&mut ExplicitNegativeSampler, no_negatives),
        Err(infonce::Error::InvalidConfig { .. })
    ));
    let bad_paired = Embeddings {
        context: Tensor::<B, 2>::zeros([3, 4], device),
        samples: Tensor::<B, 2>::zeros([3, 4], device),
        negatives: Some(ExplicitNegatives::Paired(Tensor::<B, 3>::zeros(
            [2, 5, 4],
            device,
        ))),
        rows: Rows::none(),
    };
    assert!(matches!(
        NegativeSampler::<B>::candidates(&mut InBatchSampler, bad_paired),
        Err(infonce::Error::ShapeMismatch { .. })
    ));
}

backend_tests!(
    in_batch_layout_and_loss,
    two_view_with_cosine_is_nt_xent,
    paired_negatives_only_for_their_row,
    unpaired_negatives_shared_by_all_rows,
    samplers_refuse_bad_batches,
);
