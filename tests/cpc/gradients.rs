//! Finite differences through the whole CPC path: frames → MLP → GRU → per-step bilinear
//! critics → sequence negatives → InfoNCE, in f64 on ndarray, for the frames and every
//! parameter (frame encoder, GRU gates, each `W_k`); and the same loss and gradients on
//! wgpu as on ndarray.
//!
//! f64 is the CPU device's default float type, set in a process of its own, on the
//! crate's ndarray backend: every tensor is f64, and the crate's host kernels (which
//! compute in f32) must leave them to Burn's operations, or the tolerances below fail.
//!
//! Burn 0.21 evaluates `sigmoid` (the GRU's gates) in f32 even on an f64 backend (the
//! default `ActivationOps::sigmoid` casts to F32), so the path is checked twice: with
//! tanh gates at f64 precision (step 1e-6, tolerance 1e-8), and as built, with sigmoid
//! gates, at a step of 1e-3 where f32 rounding costs about 1e-5.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::nn::activation::ActivationConfig;
use burn::nn::gru::GruConfig;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{FloatDType, IntDType, Tensor, TensorData};
use infonce::cpc::{CpcModel, CpcModelConfig, SequenceBatch, SequenceNegatives, SequenceSampler};
use infonce::encoder::Mlp;
use infonce::loss::info_nce_with_masks;
use infonce::{ContrastiveModel, NegativeSampler};

use crate::common::{assert_close, finite_difference, random_vec, values};

type F64 = infonce::backend::NdArrayAutodiff;
type Model = CpcModel<F64, Mlp<F64>>;

const B: usize = 3;
const L: usize = 5;
const D_IN: usize = 3;

fn loss<Bk: Backend>(model: &CpcModel<Bk, Mlp<Bk>>, frames: Tensor<Bk, 3>) -> Tensor<Bk, 1> {
    let mut sampler = SequenceSampler::new(model.steps_ahead(), SequenceNegatives::Both);
    let set = sampler
        .candidates(model.embed(SequenceBatch::new(frames)).unwrap())
        .unwrap();
    let scores = model
        .log_scores(set.context.clone(), set.candidates.clone())
        .unwrap();
    info_nce_with_masks(scores, &set.positives, set.valid.as_ref())
        .unwrap()
        .loss
}

fn frames(v: &[f64]) -> Tensor<F64, 3> {
    float_tensor(v.to_vec(), [B, L, D_IN], &Default::default())
}

/// A tensor in the device's default float type (f64 data would otherwise be stored as given).
fn float_tensor<Bk: Backend, const D: usize>(
    v: Vec<f64>,
    shape: [usize; D],
    device: &Bk::Device,
) -> Tensor<Bk, D> {
    let dtype = burn::tensor::get_device_settings::<Bk>(device)
        .float_dtype
        .into();
    Tensor::from_data(
        TensorData::new(v, shape).convert_dtype(dtype),
        (device, dtype),
    )
}

/// Adds `h` to element `index` of the `target`-th float parameter.
struct Nudge {
    target: usize,
    index: usize,
    h: f64,
    seen: usize,
}

impl<Bk: Backend> ModuleMapper<Bk> for Nudge {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<Bk, D>>) -> Param<Tensor<Bk, D>> {
        let mine = self.seen == self.target;
        self.seen += 1;
        if !mine {
            return param;
        }
        let (index, h) = (self.index, self.h);
        param.map(|t| {
            let shape = t.shape();
            let mut v = values(t.clone());
            v[index] += h;
            let len = v.len();
            float_tensor::<Bk, 1>(v, [len], &t.device()).reshape(shape)
        })
    }
}

/// Every float parameter's values and autodiff gradient, in visit order.
struct Grads<'a, Bk: AutodiffBackend>(Vec<(Vec<f64>, Vec<f64>)>, &'a Bk::Gradients);

impl<Bk: AutodiffBackend> ModuleVisitor<Bk> for Grads<'_, Bk> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<Bk, D>>) {
        let g = param
            .val()
            .grad(self.1)
            .map(values)
            .expect("every parameter gets a gradient");
        self.0.push((values(param.val()), g));
    }
}

fn small_config() -> CpcModelConfig {
    CpcModelConfig {
        d_input: D_IN,
        hidden: vec![4],
        d_embedding: 3,
        d_context: 4,
        steps_ahead: 2,
    }
}

/// Autodiff against central differences of step `h`, for the frames and every parameter.
fn check_against_finite_differences(model: &Model, h: f64, atol: f64, rtol: f64) {
    let x = random_vec(B * L * D_IN, 1.0, 8);
    let input = frames(&x).require_grad();
    let grads = loss(model, input.clone()).backward();
    let fd = finite_difference(|v| values(loss(model, frames(v)))[0], &x, h);
    assert_close(
        &values(input.grad(&grads).unwrap()),
        &fd,
        atol,
        rtol,
        "dJ/dframes",
    );

    let mut collected = Grads::<F64>(Vec::new(), &grads);
    model.visit(&mut collected);
    // MLP (2 layers × weight, bias), GRU (3 gates × input and hidden weights and biases), 2 × W_k.
    assert_eq!(collected.0.len(), 2 * 2 + 3 * 4 + 2, "parameters");
    for (target, (params, got)) in collected.0.iter().enumerate() {
        let nudged = |index: usize, step: f64| {
            let m = model.clone().map(&mut Nudge {
                target,
                index,
                h: step,
                seen: 0,
            });
            values(loss(&m, frames(&x)))[0]
        };
        let want: Vec<f64> = (0..params.len())
            .map(|i| (nudged(i, h) - nudged(i, -h)) / (2.0 * h))
            .collect();
        assert_close(got, &want, atol, rtol, &format!("dJ/dparam{target}"));
    }
}

/// Makes f64 the CPU device's default float type in this process, before any tensor.
fn f64_by_default() {
    burn::tensor::set_default_dtypes::<F64>(&Default::default(), FloatDType::F64, IntDType::I64)
        .expect("the first tensor of this process comes after");
}

fn fixed_model() -> Model {
    small_config()
        .init(&Default::default())
        .unwrap()
        .map(&mut Overwrite(0))
}

/// Runs the ignored test `name` of this binary in a process of its own and asserts it
/// passed. Burn 0.21 keys a device's default float type by the device alone, set once per
/// process: the f64 checks set it before any tensor exists, and the f32 tests beside them
/// keep theirs.
fn in_own_process(name: &str) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--ignored", "--test-threads=1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cpc_gradients_match_finite_differences_in_f64() {
    in_own_process("cpc::gradients::f64_with_tanh_gates");
    in_own_process("cpc::gradients::f64_with_sigmoid_gates");
}

#[test]
#[ignore = "run in a process of its own by cpc_gradients_match_finite_differences_in_f64"]
fn f64_with_tanh_gates() {
    // The same path with f64-exact gates (tanh for sigmoid): every operation of the frame
    // encoder, the GRU's recurrence, the slicing into step blocks, the critics, the masks
    // and the loss is checked at f64 precision.
    f64_by_default();
    let mut model = fixed_model();
    model.context_model = GruConfig::new(3, 4, true)
        .with_gate_activation(ActivationConfig::Tanh)
        .init(&Default::default())
        .map(&mut Overwrite(100));
    check_against_finite_differences(&model, 1e-6, 1e-8, 1e-6);
}

#[test]
#[ignore = "run in a process of its own by cpc_gradients_match_finite_differences_in_f64"]
fn f64_with_sigmoid_gates() {
    // Burn's sigmoid rounds to f32: a step of 1e-3 keeps the rounding near 1e-5.
    f64_by_default();
    check_against_finite_differences(&fixed_model(), 1e-3, 1e-4, 1e-3);
}

/// Sets every float parameter to fixed pseudo-random values, the same on every backend.
struct Overwrite(u64);

impl<Bk: Backend> ModuleMapper<Bk> for Overwrite {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<Bk, D>>) -> Param<Tensor<Bk, D>> {
        self.0 += 1;
        let seed = self.0;
        param
            .map(|t| {
                let shape = t.shape();
                let v = random_vec(shape.num_elements(), 0.6, seed);
                let len = v.len();
                float_tensor::<Bk, 1>(v, [len], &t.device()).reshape(shape)
            })
            .set_require_grad(true)
    }
}

/// The loss, its gradient for the frames and for every parameter, on backend `Bk`.
fn loss_and_gradients<Bk: AutodiffBackend>(device: &Bk::Device) -> Vec<f64> {
    let model = small_config()
        .init::<Bk>(device)
        .unwrap()
        .map(&mut Overwrite(0));
    let x: Vec<f32> = random_vec(B * L * D_IN, 1.0, 8)
        .iter()
        .map(|&v| v as f32)
        .collect();
    let input = Tensor::<Bk, 3>::from_data(TensorData::new(x, [B, L, D_IN]), device).require_grad();
    let l = loss(&model, input.clone());
    let grads = l.backward();
    let mut out = values(l);
    out.extend(values(input.grad(&grads).unwrap()));
    let mut collected = Grads::<Bk>(Vec::new(), &grads);
    model.visit(&mut collected);
    out.extend(collected.0.into_iter().flat_map(|(_, g)| g));
    out
}

#[cfg(feature = "wgpu")]
#[test]
fn cpc_loss_and_gradients_agree_on_wgpu_and_ndarray() {
    let cpu = loss_and_gradients::<infonce::backend::NdArrayAutodiff>(&Default::default());
    let gpu = loss_and_gradients::<infonce::backend::WgpuAutodiff>(&crate::common::wgpu_device());
    assert!(cpu.len() > 150, "{} values compared", cpu.len());
    assert_close(&gpu, &cpu, 1e-4, 1e-4, "wgpu vs ndarray");
}

#[test]
fn fixed_parameters_make_the_loss_reproducible() {
    let device = Default::default();
    let a = loss_and_gradients::<infonce::backend::NdArrayAutodiff>(&device);
    let b = loss_and_gradients::<infonce::backend::NdArrayAutodiff>(&device);
    assert_eq!(a, b);
    assert!(a.iter().skip(1).any(|g| g.abs() > 1e-3), "gradients flow");
}
