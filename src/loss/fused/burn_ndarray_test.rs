//! Burn's own `NdArray`, which users may name, and the crate's `PrebuiltNdArray` (under
//! `NdArrayAutodiff`) are both recognised by the fused loss's dispatch, and its CPU kernel
//! gives identical values and gradients on both, equal to the loss computed by hand.
//!
//! A unit test, of the dispatch's recognition and of the kernel: through the public losses
//! it would compile the whole composed loss, and Burn's ndarray operations under it, for a
//! third backend type (about a quarter of the test crate's compile time), and through the
//! dispatch's `run` every backend's kernel into the unit-test program.

use burn::backend::{Autodiff, NdArray};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

use super::dispatch::Kernel;
use super::host_op::autodiff_cross_entropy;
use crate::backend::{NdArrayAutodiff, PrebuiltNdArray};

const ROWS: usize = 5;
const COLUMNS: usize = 7;

/// Fixed scores in [−2, 2]; row `i`'s positive is column `i + 1`.
fn scores() -> Vec<f32> {
    (0..ROWS * COLUMNS)
        .map(|k| ((k * 37 % 11) as f32 - 5.0) * 0.4)
        .collect()
}

/// The fused loss, its top-1 accuracy, then the loss's gradient for every score, on
/// `Autodiff<K>`.
fn fused_loss_and_gradient<K: Backend>() -> Vec<f32> {
    let device = Default::default();
    let data = TensorData::new(scores(), [ROWS, COLUMNS]);
    let scores = Tensor::<Autodiff<K>, 2>::from_data(data, &device).require_grad();
    let positives = Tensor::<K, 1, Int>::arange(1..ROWS as i64 + 1, &device);
    let fused = autodiff_cross_entropy(scores.clone(), positives, None).unwrap();
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
    assert!(Kernel::covers::<NdArrayAutodiff>() && Kernel::covers::<Autodiff<NdArray>>());
    let ours = fused_loss_and_gradient::<PrebuiltNdArray>();
    let burns = fused_loss_and_gradient::<NdArray>();
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
