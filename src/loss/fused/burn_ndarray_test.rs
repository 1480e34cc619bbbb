//! Burn's own `NdArray`, which users may name, and the crate's `PrebuiltNdArray` (under
//! `NdArrayAutodiff`) are both recognised by the fused loss's dispatch and run the same CPU
//! kernel: identical values and gradients, equal to the loss computed by hand.
//!
//! A unit test of the dispatch, not an integration test: through the public losses it
//! would compile the whole composed loss, and Burn's ndarray operations under it, for a
//! third backend type (about a quarter of the test crate's compile time).

use burn::backend::{Autodiff, NdArray};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};

use super::try_fused;
use crate::backend::NdArrayAutodiff;
use crate::loss::Mask;

const ROWS: usize = 5;
const COLUMNS: usize = 7;

/// Fixed scores in [−2, 2]; row `i`'s positive is column `i + 1`.
fn scores() -> Vec<f32> {
    (0..ROWS * COLUMNS)
        .map(|k| ((k * 37 % 11) as f32 - 5.0) * 0.4)
        .collect()
}

/// The fused loss, its top-1 accuracy, then the loss's gradient for every score, on `B`.
fn fused_loss_and_gradient<B: AutodiffBackend>() -> Vec<f32> {
    let device = Default::default();
    let data = TensorData::new(scores(), [ROWS, COLUMNS]);
    let scores = Tensor::<B, 2>::from_data(data, &device).require_grad();
    let Ok(Ok(fused)) = try_fused(scores.clone(), &Mask::Diagonal { offset: 1 }, None) else {
        panic!("f32 scores with one positive per row take the kernel on ndarray");
    };
    let grads = fused.loss.backward();
    let gradient = scores.grad(&grads).expect("the scores are tracked");
    [fused.loss.inner(), fused.accuracy.inner()]
        .into_iter()
        .chain([gradient.reshape([ROWS * COLUMNS])])
        .flat_map(|t| t.into_data().to_vec::<f32>().unwrap())
        .collect()
}

/// `mean_i (log Σ_j exp s_ij − s_i,i+1)` in f64 (van den Oord et al. 2018, eq. 4).
fn loss_by_hand() -> f64 {
    let s = scores();
    let total: f64 = (0..ROWS)
        .map(|i| {
            let row = &s[i * COLUMNS..(i + 1) * COLUMNS];
            let log_sum = row.iter().map(|&v| f64::from(v).exp()).sum::<f64>().ln();
            log_sum - f64::from(row[i + 1])
        })
        .sum();
    total / ROWS as f64
}

#[test]
fn burn_ndarray_and_the_prebuilt_type_run_the_same_kernel() {
    let ours = fused_loss_and_gradient::<NdArrayAutodiff>();
    let burns = fused_loss_and_gradient::<Autodiff<NdArray>>();
    assert_eq!(ours, burns, "the same kernel, the same numbers");
    let want = loss_by_hand();
    assert!(
        (f64::from(ours[0]) - want).abs() < 1e-5,
        "{} vs {want}",
        ours[0]
    );
    let row_sums: Vec<f32> = ours[2..].chunks(COLUMNS).map(|r| r.iter().sum()).collect();
    assert!(row_sums.iter().all(|s| s.abs() < 1e-6), "{row_sums:?}");
}
