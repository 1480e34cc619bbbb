//! Helpers shared by the behaviour tests: backend instantiation, host tensors, f64
//! reference formulas and central finite differences.

#![allow(dead_code)]

pub mod small_models;

use burn::tensor::{ElementConversion, Tensor, TensorData, backend::Backend};
use rand::{RngExt, SeedableRng};

/// Instantiates each generic test `fn name<B: AutodiffBackend>(device: &B::Device)` once
/// per backend.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod ndarray_backend {
            $(
                #[test]
                fn $name() {
                    super::$name::<infonce::backend::NdArrayAutodiff>(&Default::default());
                }
            )*
        }
        #[cfg(feature = "wgpu")]
        mod wgpu_backend {
            $(
                #[test]
                fn $name() {
                    let device = $crate::common::wgpu_device();
                    super::$name::<infonce::backend::WgpuAutodiff>(&device);
                }
            )*
        }
        #[cfg(feature = "cuda")]
        mod cuda_backend {
            $(
                #[test]
                fn $name() {
                    let device = infonce::backend::probe_cuda().expect("cuda tests need a GPU");
                    super::$name::<infonce::backend::CudaAutodiff>(&device);
                }
            )*
        }
    };
}

/// Instantiates each test `fn name(backend: BackendKind)` once per backend, for tests of
/// the entry points in `infonce::launch` (compiled in the library, not in this crate).
macro_rules! backend_kind_tests {
    ($($name:ident),* $(,)?) => {
        mod ndarray_backend {
            $(
                #[test]
                fn $name() {
                    super::$name(infonce::backend::BackendKind::NdArray);
                }
            )*
        }
        #[cfg(feature = "wgpu")]
        mod wgpu_backend {
            $(
                #[test]
                fn $name() {
                    let _ = $crate::common::wgpu_device();
                    super::$name(infonce::backend::BackendKind::Wgpu);
                }
            )*
        }
        #[cfg(feature = "cuda")]
        mod cuda_backend {
            $(
                #[test]
                fn $name() {
                    infonce::backend::probe_cuda().expect("cuda tests need a GPU");
                    super::$name(infonce::backend::BackendKind::Cuda);
                }
            )*
        }
    };
}

/// The wgpu device, or a loud failure: with the `wgpu` feature on, a machine without an
/// adapter must not pass these tests silently.
#[cfg(feature = "wgpu")]
pub fn wgpu_device() -> burn::backend::wgpu::WgpuDevice {
    match infonce::backend::probe_wgpu() {
        Ok(d) => d,
        Err(e) => panic!(
            "\n\n*** wgpu tests enabled but NO ADAPTER FOUND: {e}\n*** install mesa-vulkan-drivers \
             (lavapipe) or run without `--features wgpu`\n"
        ),
    }
}

/// Deterministic uniform numbers in `[-scale, scale)`.
pub fn random_vec(len: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-scale..scale)).collect()
}

/// A `[rows, cols]` tensor from f64 values (converted to the backend's float type).
pub fn tensor2<B: Backend>(
    values: &[f64],
    rows: usize,
    cols: usize,
    device: &B::Device,
) -> Tensor<B, 2> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(v, [rows, cols]), device)
}

/// All values of a tensor as f64.
pub fn values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .to_vec::<f64>()
        .expect("float data")
}

/// A one-element tensor as f64.
pub fn scalar<B: Backend>(t: Tensor<B, 1>) -> f64 {
    t.into_scalar().elem::<f64>()
}

/// Central finite differences of `f` at `x`, step `h`, in f64.
pub fn finite_difference(f: impl Fn(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    let mut x = x.to_vec();
    (0..x.len())
        .map(|i| {
            let orig = x[i];
            x[i] = orig + h;
            let up = f(&x);
            x[i] = orig - h;
            let down = f(&x);
            x[i] = orig;
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// Asserts `|a − b| ≤ atol + rtol·|b|` element-wise, naming the first offender.
pub fn assert_close(got: &[f64], want: &[f64], atol: f64, rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.is_finite() && (g - w).abs() <= atol + rtol * w.abs(),
            "{what}[{i}]: got {g}, want {w} (atol {atol}, rtol {rtol})"
        );
    }
}

/// `log Σ exp` of a slice, stably, in f64.
pub fn logsumexp(v: &[f64]) -> f64 {
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Reference InfoNCE: rows of `scores` (`n × m`, row-major), one positive per row, only the
/// columns in `valid(i, j)` taking part; multi-positive rows average over `positive(i, j)`.
pub fn reference_masked_info_nce(
    scores: &[f64],
    n: usize,
    m: usize,
    positive: impl Fn(usize, usize) -> bool,
    valid: impl Fn(usize, usize) -> bool,
) -> f64 {
    let mut total = 0.0;
    for i in 0..n {
        let row: Vec<f64> = (0..m)
            .filter(|&j| valid(i, j) || positive(i, j))
            .map(|j| scores[i * m + j])
            .collect();
        let lse = logsumexp(&row);
        let pos: Vec<f64> = (0..m)
            .filter(|&j| positive(i, j))
            .map(|j| scores[i * m + j] - lse)
            .collect();
        total += -pos.iter().sum::<f64>() / pos.len() as f64;
    }
    total / n as f64
}

/// Reference NT-Xent on host vectors `z1`, `z2` (`b × d` each), mean over the 2b rows.
pub fn reference_nt_xent(z1: &[f64], z2: &[f64], b: usize, d: usize, tau: f64) -> f64 {
    let mut z: Vec<Vec<f64>> = z1
        .chunks(d)
        .chain(z2.chunks(d))
        .map(|r| r.to_vec())
        .collect();
    for r in &mut z {
        let norm = r.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-6);
        r.iter_mut().for_each(|x| *x /= norm);
    }
    let n = 2 * b;
    let mut s = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            s[i * n + j] = z[i].iter().zip(&z[j]).map(|(a, c)| a * c).sum::<f64>() / tau;
        }
    }
    reference_masked_info_nce(&s, n, n, |i, j| j == (i + b) % n, |i, j| i != j)
}
