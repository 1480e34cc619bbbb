//! The fused InfoNCE kernel against the composed path (values, statistics and gradients to
//! 1e-5) and against finite differences of the f64 reference, on every backend that has it
//! (ndarray, flex, wgpu, cuda, those compiled in); the candidate sets it does not cover fall
//! back; bad positives are typed errors on the CPU and an infinite loss on the GPU.

use burn::tensor::{Int, Tensor, backend::AutodiffBackend};
use infonce::Error;
use infonce::loss::{self, LossKernel, Mask, has_fused_kernel, info_nce_with_masks_using};

use crate::common::*;

const TOL: f64 = 1e-5;

/// Value, accuracy, `ln N` and the gradient with respect to the scores, through `kernel`.
fn run<B: AutodiffBackend>(
    s: &[f64],
    dims: [usize; 2],
    positives: &Mask<B>,
    valid: Option<&Mask<B>>,
    kernel: LossKernel,
    device: &B::Device,
) -> (f64, f64, f64, Vec<f64>) {
    let scores = tensor2::<B>(s, dims[0], dims[1], device).require_grad();
    let out = info_nce_with_masks_using(scores.clone(), positives, valid, kernel).unwrap();
    let stats = out.stats();
    // A factor on the loss checks that the backward pass uses the incoming gradient.
    let grads = out.loss.mul_scalar(3.0).backward();
    let g = values(scores.grad(&grads).unwrap());
    (stats.loss, stats.accuracy, stats.log_n, g)
}

fn assert_same<B: AutodiffBackend>(
    what: &str,
    s: &[f64],
    dims: [usize; 2],
    positives: Mask<B>,
    valid: Option<Mask<B>>,
    device: &B::Device,
) {
    let fused = run(
        s,
        dims,
        &positives,
        valid.as_ref(),
        LossKernel::Auto,
        device,
    );
    let composed = run(
        s,
        dims,
        &positives,
        valid.as_ref(),
        LossKernel::Composed,
        device,
    );
    assert!(
        (fused.0 - composed.0).abs() < TOL,
        "{what}: loss {} vs {}",
        fused.0,
        composed.0
    );
    assert_eq!(fused.1, composed.1, "{what}: accuracy");
    // Relative: flex's composed logarithm is itself off by ~2e-6 of ln 999.
    assert!(
        (fused.2 - composed.2).abs() < TOL * composed.2.abs().max(1.0),
        "{what}: ln N {} vs {}",
        fused.2,
        composed.2
    );
    assert_close(&fused.3, &composed.3, TOL, 0.0, &format!("{what}: dJ/ds"));
}

fn fused_equals_composed_for_every_structure_it_covers<B: AutodiffBackend>(device: &B::Device) {
    assert!(
        has_fused_kernel::<B>(),
        "this test is about the fused kernel"
    );
    // Widths around the kernel's 8 lanes, and enough rows to split over threads.
    for (n, m, seed) in [(3, 5, 1), (8, 8, 2), (16, 17, 3), (300, 1000, 4)] {
        let s = random_vec(n * m, 4.0, seed);
        let columns: Vec<i64> = (0..n).map(|i| ((i * 7 + 3) % m) as i64).collect();
        let index = || Mask::Index {
            column: Tensor::<B, 1, Int>::from_ints(columns.as_slice(), device),
        };
        let not_self = || Some(Mask::Diagonal { offset: 0 }.not());
        let d = [n, m];
        assert_same::<B>(&format!("index {n}x{m}"), &s, d, index(), None, device);
        assert_same::<B>(
            &format!("diagonal {n}x{m}"),
            &s,
            d,
            Mask::Diagonal { offset: 0 },
            None,
            device,
        );
        // Some positives fall on the excluded diagonal: they stay candidates.
        assert_same::<B>(
            &format!("index, no self {n}x{m}"),
            &s,
            d,
            index(),
            not_self(),
            device,
        );
        let shifted = Some(Mask::Diagonal { offset: 1 }.not());
        assert_same::<B>(
            &format!("index, no i+1 {n}x{m}"),
            &s,
            d,
            index(),
            shifted,
            device,
        );
    }
    for batch in [2, 5, 64] {
        let s = random_vec(4 * batch * batch, 10.0, 5);
        let (d, not_self) = (
            [2 * batch, 2 * batch],
            Some(Mask::Diagonal { offset: 0 }.not()),
        );
        assert_same::<B>(
            &format!("two views, B={batch}"),
            &s,
            d,
            Mask::TwoView { batch },
            not_self,
            device,
        );
    }
}

fn fused_nt_xent_matches_finite_differences<B: AutodiffBackend>(device: &B::Device) {
    let (b, d, tau) = (4, 3, 0.1);
    let (z1, z2) = (random_vec(b * d, 1.0, 6), random_vec(b * d, 1.0, 7));
    let t1 = tensor2::<B>(&z1, b, d, device).require_grad();
    let t2 = tensor2::<B>(&z2, b, d, device).require_grad();
    let out = loss::nt_xent(t1.clone(), t2.clone(), tau).unwrap();
    let value = scalar(out.clone());
    assert!((value - reference_nt_xent(&z1, &z2, b, d, tau)).abs() < 1e-5);
    let grads = out.backward();
    let fd1 = finite_difference(|x| reference_nt_xent(x, &z2, b, d, tau), &z1, 1e-5);
    let fd2 = finite_difference(|x| reference_nt_xent(&z1, x, b, d, tau), &z2, 1e-5);
    assert_close(
        &values(t1.grad(&grads).unwrap()),
        &fd1,
        2e-5,
        2e-3,
        "dNT-Xent/dz1",
    );
    assert_close(
        &values(t2.grad(&grads).unwrap()),
        &fd2,
        2e-5,
        2e-3,
        "dNT-Xent/dz2",
    );
}

fn fused_loss_has_the_hand_derived_values<B: AutodiffBackend>(device: &B::Device) {
    // Equal scores: J = ln m over all columns, ln(m − 1) without the self-pair.
    let zeros = Tensor::<B, 2>::zeros([6, 6], device);
    let diag = Mask::Diagonal { offset: 0 };
    let all = loss::info_nce_with_masks(zeros.clone(), &diag, None)
        .unwrap()
        .stats();
    assert!((all.loss - 6f64.ln()).abs() < 1e-6, "{}", all.loss);
    let views = Mask::TwoView { batch: 3 };
    let no_self = Some(diag.clone().not());
    let ntx = loss::info_nce_with_masks(zeros, &views, no_self.as_ref())
        .unwrap()
        .stats();
    assert!((ntx.loss - 5f64.ln()).abs() < 1e-6, "{}", ntx.loss);
    assert!((ntx.log_n - 5f64.ln()).abs() < 1e-6);
    // One decisive row, one tied: accuracy 1/2 (a tie goes to the first column, as argmax).
    let s = Tensor::<B, 2>::from_floats([[9.0, 0.0, 0.0], [1.0, 1.0, 0.0]], device);
    let cols = Tensor::<B, 1, Int>::from_ints([0, 1], device);
    let out = loss::info_nce_with_stats(s, cols).unwrap().stats();
    assert_eq!(out.accuracy, 0.5);
    let row0 = (9f64.exp() + 2.0).ln() - 9.0;
    let row1 = (2.0 * 1f64.exp() + 1.0).ln() - 1.0;
    assert!(
        (out.loss - (row0 + row1) / 2.0).abs() < 1e-6,
        "{}",
        out.loss
    );
}

fn fused_loss_refuses_a_positive_outside_the_candidates<B: AutodiffBackend>(device: &B::Device) {
    let s = Tensor::<B, 2>::zeros([2, 3], device);
    for bad in [3, -1] {
        let cols = Tensor::<B, 1, Int>::from_ints([0, bad], device);
        match loss::info_nce(s.clone(), cols) {
            Err(Error::InvalidConfig { name, reason }) => {
                assert_eq!(name, "positives");
                assert!(reason.contains(&bad.to_string()), "{reason}");
            }
            other => panic!("positive {bad}: expected InvalidConfig, got {other:?}"),
        }
    }
}

/// On wgpu and cuda nothing is read back: the row's loss is infinite, so the mean is too
/// (the trainer stops on it), and the other rows' gradients stay finite.
fn device_fused_loss_makes_a_positive_outside_the_candidates_infinite<B: AutodiffBackend>(
    device: &B::Device,
) {
    let s = Tensor::<B, 2>::zeros([2, 3], device);
    for bad in [3, -1] {
        let cols = Tensor::<B, 1, Int>::from_ints([0, bad], device);
        let value = scalar(loss::info_nce(s.clone(), cols).unwrap());
        assert!(
            value.is_infinite() && value > 0.0,
            "positive {bad}: {value}"
        );
    }
}

fn fused_loss_propagates_nan_instead_of_hiding_it<B: AutodiffBackend>(device: &B::Device) {
    let s = Tensor::<B, 2>::from_floats([[0.0, f32::NAN, 1.0], [0.0, 1.0, 2.0]], device);
    let cols = Tensor::<B, 1, Int>::from_ints([0, 2], device);
    let value = scalar(loss::info_nce(s, cols).unwrap());
    assert!(value.is_nan(), "{value}");
}

fn inner_backend_takes_the_fused_kernel_too<B: AutodiffBackend>(device: &B::Device) {
    let s = random_vec(5 * 7, 3.0, 8);
    let scores = tensor2::<B::InnerBackend>(&s, 5, 7, device);
    let cols = Tensor::<B::InnerBackend, 1, Int>::from_ints([1, 2, 3, 4, 5], device);
    let got = scalar(loss::info_nce(scores, cols).unwrap());
    let want = reference_masked_info_nce(&s, 5, 7, |i, j| j == i + 1, |_, _| true);
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    assert!(has_fused_kernel::<B::InnerBackend>());
}

/// Candidate sets the kernel does not cover take the composed path and agree with the
/// reference (a validity mask other than one excluded diagonal; several positives).
fn uncovered_candidate_sets_fall_back<B: AutodiffBackend>(device: &B::Device) {
    let (n, m) = (4, 6);
    let s = random_vec(n * m, 2.0, 9);
    let scores = tensor2::<B>(&s, n, m, device);
    let valid = Mask::Columns { start: 0, end: 5 };
    let out =
        loss::info_nce_with_masks(scores.clone(), &Mask::Diagonal { offset: 0 }, Some(&valid));
    let want = reference_masked_info_nce(&s, n, m, |i, j| i == j, |_, j| j < 5);
    assert!((out.unwrap().stats().loss - want).abs() < 1e-5);
    let both = Mask::Diagonal { offset: 0 }.or(Mask::Diagonal { offset: 1 });
    let out = loss::info_nce_with_masks(scores, &both, None)
        .unwrap()
        .stats();
    let want = reference_masked_info_nce(&s, n, m, |i, j| j == i || j == i + 1, |_, _| true);
    assert!((out.loss - want).abs() < 1e-5);
}

/// The suite above, instantiated for one backend with the kernel.
macro_rules! fused_kernel_tests {
    ($module:ident, $backend:ty, $device:expr, $($extra:ident),* $(,)?) => {
        mod $module {
            fused_kernel_tests!(@each $backend, $device,
                fused_equals_composed_for_every_structure_it_covers,
                fused_nt_xent_matches_finite_differences,
                fused_loss_has_the_hand_derived_values,
                fused_loss_propagates_nan_instead_of_hiding_it,
                inner_backend_takes_the_fused_kernel_too,
                uncovered_candidate_sets_fall_back,
                $($extra,)*
            );
        }
    };
    (@each $backend:ty, $device:expr, $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                super::$name::<$backend>(&$device);
            }
        )*
    };
}

fused_kernel_tests!(
    ndarray_backend,
    infonce::backend::NdArrayAutodiff,
    Default::default(),
    fused_loss_refuses_a_positive_outside_the_candidates,
);
#[cfg(feature = "flex")]
fused_kernel_tests!(
    flex_backend,
    infonce::backend::FlexAutodiff,
    Default::default(),
    fused_loss_refuses_a_positive_outside_the_candidates,
);
#[cfg(feature = "wgpu")]
fused_kernel_tests!(
    wgpu_backend,
    infonce::backend::WgpuAutodiff,
    crate::common::wgpu_device(),
    device_fused_loss_makes_a_positive_outside_the_candidates_infinite,
);
#[cfg(feature = "cuda")]
fused_kernel_tests!(
    cuda_backend,
    infonce::backend::CudaAutodiff,
    infonce::backend::probe_cuda().expect("cuda tests need a GPU"),
    device_fused_loss_makes_a_positive_outside_the_candidates_infinite,
);
