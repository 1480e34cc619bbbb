//! Critics: values and gradients against an f64 reference written here.
//!
//! Each critic's parameters are read out of the module (a `ModuleVisitor`), its formula is
//! re-implemented on the host in f64, and then
//! - the backend's scores must match the f64 scores, and
//! - the backend's autodiff gradients of `L = Σ w ⊙ log_scores(c, x)` with respect to the
//!   context, the candidates and every parameter must match central finite differences of
//!   the f64 reference.
//!
//! Adding a critic: write its f64 formula as a `HostCritic` and add one test function.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use infonce::Critic;
use infonce::cpc::StepCriticsConfig;
use infonce::critic::{
    BilinearCriticConfig, ConcatCriticConfig, CosineCriticConfig, DotProductCritic,
    SeparableCriticConfig,
};

use crate::common::*;

const N: usize = 3;
const M: usize = 4;
const D: usize = 5;

/// A parameter tensor read back to the host.
#[derive(Clone, Debug)]
struct HostParam {
    dims: Vec<usize>,
    values: Vec<f64>,
}

/// Float parameters of a module, in visiting order (field order).
fn host_params<B: Backend, K: Module<B>>(critic: &K) -> Vec<HostParam> {
    struct Collect<B: Backend>(Vec<HostParam>, core::marker::PhantomData<B>);
    impl<B: Backend> ModuleVisitor<B> for Collect<B> {
        fn visit_float<const DD: usize>(&mut self, param: &Param<Tensor<B, DD>>) {
            let t = param.val();
            self.0.push(HostParam {
                dims: t.dims().to_vec(),
                values: values(t),
            });
        }
    }
    let mut c = Collect::<B>(Vec::new(), core::marker::PhantomData);
    critic.visit(&mut c);
    c.0
}

/// Autodiff gradients of every float parameter, in visiting order.
fn param_grads<B: AutodiffBackend, K: Module<B>>(
    critic: &K,
    grads: &B::Gradients,
) -> Vec<Vec<f64>> {
    struct Collect<'a, B: AutodiffBackend>(Vec<Vec<f64>>, &'a B::Gradients);
    impl<B: AutodiffBackend> ModuleVisitor<B> for Collect<'_, B> {
        fn visit_float<const DD: usize>(&mut self, param: &Param<Tensor<B, DD>>) {
            let g = param.val().grad(self.1).map(values).unwrap_or_default();
            self.0.push(g);
        }
    }
    let mut c = Collect::<B>(Vec::new(), grads);
    critic.visit(&mut c);
    c.0
}

/// An f64 critic formula: scores `[N × M]` from c `[N × D]`, x `[M × D]` and the parameters.
type HostCritic = fn(&[f64], &[f64], &[HostParam]) -> Vec<f64>;

fn matmul_t(a: &[f64], b: &[f64], n: usize, m: usize, d: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * m];
    for i in 0..n {
        for j in 0..m {
            out[i * m + j] = (0..d).map(|k| a[i * d + k] * b[j * d + k]).sum();
        }
    }
    out
}

/// `x W + b` then ReLU between layers, for the `Linear` layers in `params` (weight
/// `[in, out]`, bias `[out]`).
fn mlp(x: &[f64], rows: usize, layers: &[HostParam]) -> Vec<f64> {
    let mut h = x.to_vec();
    let count = layers.len() / 2;
    for (l, pair) in layers.chunks(2).enumerate() {
        let (w, b) = (&pair[0], &pair[1]);
        let (din, dout) = (w.dims[0], w.dims[1]);
        let mut next = vec![0.0; rows * dout];
        for r in 0..rows {
            for o in 0..dout {
                let mut v = b.values[o];
                for i in 0..din {
                    v += h[r * din + i] * w.values[i * dout + o];
                }
                next[r * dout + o] = if l + 1 < count { v.max(0.0) } else { v };
            }
        }
        h = next;
    }
    h
}

fn host_dot(c: &[f64], x: &[f64], _: &[HostParam]) -> Vec<f64> {
    matmul_t(c, x, N, M, D)
}

fn normalise(v: &[f64]) -> Vec<f64> {
    v.chunks(D)
        .flat_map(|r| {
            let norm = r.iter().map(|a| a * a).sum::<f64>().sqrt().max(1e-6);
            r.iter().map(move |a| a / norm)
        })
        .collect()
}

fn host_cosine_fixed(c: &[f64], x: &[f64], _: &[HostParam]) -> Vec<f64> {
    matmul_t(&normalise(c), &normalise(x), N, M, D)
        .iter()
        .map(|s| s / 0.2)
        .collect()
}

fn host_cosine_learnable(c: &[f64], x: &[f64], p: &[HostParam]) -> Vec<f64> {
    let scale = p[0].values[0].min(100f64.ln()).exp();
    matmul_t(&normalise(c), &normalise(x), N, M, D)
        .iter()
        .map(|s| s * scale)
        .collect()
}

fn host_bilinear(c: &[f64], x: &[f64], p: &[HostParam]) -> Vec<f64> {
    let w = &p[0].values;
    let cw: Vec<f64> = (0..N)
        .flat_map(|i| (0..D).map(move |o| (0..D).map(|k| c[i * D + k] * w[k * D + o]).sum::<f64>()))
        .collect();
    matmul_t(&cw, x, N, M, D)
}

fn host_separable(c: &[f64], x: &[f64], p: &[HostParam]) -> Vec<f64> {
    let half = p.len() / 2;
    let (g, h) = (mlp(c, N, &p[..half]), mlp(x, M, &p[half..]));
    let e = p[half - 2].dims[1];
    let mut out = vec![0.0; N * M];
    for i in 0..N {
        for j in 0..M {
            out[i * M + j] = (0..e).map(|k| g[i * e + k] * h[j * e + k]).sum();
        }
    }
    out
}

fn host_concat(c: &[f64], x: &[f64], p: &[HostParam]) -> Vec<f64> {
    let mut pairs = Vec::with_capacity(N * M * 2 * D);
    for i in 0..N {
        for j in 0..M {
            pairs.extend_from_slice(&c[i * D..(i + 1) * D]);
            pairs.extend_from_slice(&x[j * D..(j + 1) * D]);
        }
    }
    mlp(&pairs, N * M, p)
}

/// Checks `critic` on backend `B` against `host`.
fn check_critic<B: AutodiffBackend, K: Critic<B>>(
    critic: K,
    host: HostCritic,
    device: &B::Device,
    name: &str,
) {
    let c = random_vec(N * D, 1.0, 21);
    let x = random_vec(M * D, 1.0, 22);
    let w = random_vec(N * M, 1.0, 99);
    let params = host_params::<B, K>(&critic);
    let loss = |c: &[f64], x: &[f64], p: &[HostParam]| {
        host(c, x, p)
            .iter()
            .zip(&w)
            .map(|(s, w)| s * w)
            .sum::<f64>()
    };

    let ct = tensor2::<B>(&c, N, D, device).require_grad();
    let xt = tensor2::<B>(&x, M, D, device).require_grad();
    let scores = critic.try_log_scores(ct.clone(), xt.clone()).unwrap();
    assert_eq!(scores.dims(), [N, M]);
    // Parameters were read in f32, so compare against the f64 formula at those values.
    assert_close(
        &values(scores.clone()),
        &host(&c, &x, &params),
        1e-4,
        1e-4,
        &format!("{name}: scores"),
    );
    let grads = (scores * tensor2::<B>(&w, N, M, device)).sum().backward();

    let fd_c = finite_difference(|v| loss(v, &x, &params), &c, 1e-6);
    let fd_x = finite_difference(|v| loss(&c, v, &params), &x, 1e-6);
    assert_close(
        &values(ct.grad(&grads).unwrap()),
        &fd_c,
        1e-4,
        1e-3,
        &format!("{name}: dL/dc"),
    );
    assert_close(
        &values(xt.grad(&grads).unwrap()),
        &fd_x,
        1e-4,
        1e-3,
        &format!("{name}: dL/dx"),
    );

    for (k, got) in param_grads::<B, K>(&critic, &grads).into_iter().enumerate() {
        let fd = finite_difference(
            |v| {
                let mut p = params.clone();
                p[k].values = v.to_vec();
                loss(&c, &x, &p)
            },
            &params[k].values,
            1e-6,
        );
        assert_close(
            &got,
            &fd,
            1e-4,
            1e-3,
            &format!("{name}: dL/dparam{k} {:?}", params[k].dims),
        );
    }
}

fn dot_product<B: AutodiffBackend>(device: &B::Device) {
    check_critic(DotProductCritic::<B>::new(), host_dot, device, "dot");
}

fn cosine_fixed<B: AutodiffBackend>(device: &B::Device) {
    let critic = CosineCriticConfig::new()
        .with_temperature(0.2)
        .init::<B>(device)
        .unwrap();
    check_critic(critic, host_cosine_fixed, device, "cosine τ = 0.2");
}

fn cosine_learnable<B: AutodiffBackend>(device: &B::Device) {
    let critic = CosineCriticConfig::new()
        .with_temperature(0.07)
        .with_learnable(true)
        .init::<B>(device)
        .unwrap();
    assert!((critic.temperature() - 0.07).abs() < 1e-6);
    check_critic(critic, host_cosine_learnable, device, "cosine learnable");
}

fn bilinear<B: AutodiffBackend>(device: &B::Device) {
    check_critic(
        BilinearCriticConfig::new(D, D).init::<B>(device).unwrap(),
        host_bilinear,
        device,
        "bilinear",
    );
}

/// CPC's per-step critics with `K = N`: row `i` is the one-row block of step `i + 1`,
/// scored by its own `W_{i+1}`.
fn host_step_bilinear(c: &[f64], x: &[f64], p: &[HostParam]) -> Vec<f64> {
    (0..N)
        .flat_map(|i| {
            let w = &p[i].values;
            (0..M).map(move |j| {
                (0..D)
                    .flat_map(|a| (0..D).map(move |b| (a, b)))
                    .map(|(a, b)| c[i * D + a] * w[a * D + b] * x[j * D + b])
                    .sum::<f64>()
            })
        })
        .collect()
}

fn step_bilinear<B: AutodiffBackend>(device: &B::Device) {
    let critics = StepCriticsConfig::new(N, D, D).init::<B>(device).unwrap();
    assert_eq!(critics.len(), N);
    check_critic(critics, host_step_bilinear, device, "per-step bilinear");
}

fn separable<B: AutodiffBackend>(device: &B::Device) {
    let critic = SeparableCriticConfig::new()
        .with_d_context(D)
        .with_d_candidate(D)
        .with_hidden(vec![8])
        .with_d_embedding(6)
        .init::<B>(device)
        .unwrap();
    check_critic(critic, host_separable, device, "separable");
}

fn concat<B: AutodiffBackend>(device: &B::Device) {
    let critic = ConcatCriticConfig::new()
        .with_d_context(D)
        .with_d_candidate(D)
        .with_hidden(vec![8])
        .init::<B>(device)
        .unwrap();
    check_critic(critic, host_concat, device, "concat");
}

/// Adds `delta` to every float parameter: a stand-in for an optimiser step.
struct Shift(f64);

impl<B: Backend> ModuleMapper<B> for Shift {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let delta = self.0;
        param.map(|t| t.add_scalar(delta))
    }
}

/// Learnable temperature as CLIP does it: an initial value outside the clamp is refused; at
/// the bound the forward pass still passes a gradient to the log-scale (no clamp there); the
/// clamp happens in `after_step`, at both ends; a zero embedding gives finite scores and
/// gradients.
fn cosine_clamps_scale_after_the_step_and_survives_zero_rows<B: AutodiffBackend>(
    device: &B::Device,
) {
    let refused = CosineCriticConfig::new()
        .with_temperature(0.001)
        .with_learnable(true)
        .init::<B>(device);
    assert!(
        matches!(refused, Err(infonce::Error::InvalidConfig { ref name, .. }) if name == "temperature"),
        "{refused:?}"
    );
    let critic = CosineCriticConfig::new()
        .with_temperature(0.01)
        .with_learnable(true)
        .init::<B>(device)
        .unwrap();
    let c = tensor2::<B>(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0], 2, 3, device).require_grad();
    let x = tensor2::<B>(&[1.0, 0.0, 0.0, 0.0, 0.0, 0.0], 2, 3, device).require_grad();
    let s = critic.log_scores(c.clone(), x.clone());
    assert_close(
        &values(s.clone()),
        &[0.0, 0.0, 100.0, 0.0],
        1e-3,
        1e-5,
        "scores with a zero row, scale 100",
    );
    let grads = s.sum().backward();
    assert!(
        values(c.grad(&grads).unwrap())
            .iter()
            .all(|g| g.is_finite())
    );
    assert!(
        values(x.grad(&grads).unwrap())
            .iter()
            .all(|g| g.is_finite())
    );
    let mut scale_grad = Vec::new();
    critic.visit(&mut CollectGrads {
        grads: &grads,
        out: &mut scale_grad,
    });
    assert!(
        scale_grad.iter().any(|g| (g - 100.0).abs() < 1e-2),
        "d(sum of scores)/dt = 100·cos = 100 even at the upper bound: {scale_grad:?}"
    );
    let above = critic.clone().map(&mut Shift(1.0)).after_step(1);
    assert!(
        (above.temperature() - 0.01).abs() < 1e-6,
        "τ = {}",
        above.temperature()
    );
    let below = critic.map(&mut Shift(-10.0)).after_step(2);
    assert!(
        (below.temperature() - 1.0).abs() < 1e-6,
        "τ = {}",
        below.temperature()
    );
}

/// The gradients of every float parameter, flattened.
struct CollectGrads<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    out: &'a mut Vec<f64>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for CollectGrads<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = param.val().grad(self.grads) {
            self.out.extend(values(g));
        }
    }
}

backend_tests!(
    dot_product,
    cosine_fixed,
    cosine_learnable,
    bilinear,
    step_bilinear,
    separable,
    concat,
    cosine_clamps_scale_after_the_step_and_survives_zero_rows,
);
