//! Numerical guard rails: low temperatures train without NaN; NaN and infinity in the loss
//! or a gradient are caught and named before they reach the parameters, on every backend.

use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use infonce::critic::{CosineCriticConfig, SeparableCriticConfig};
use infonce::data::CorrelatedGaussian;
use infonce::encoder::MlpConfig;
use infonce::loss::LossOutput;
use infonce::model::{PairBatch, SharedEncoderModel};
use infonce::objective::{Objective, ObjectiveKind};
use infonce::sampler::CandidateSet;
use infonce::sampler::InBatchSampler;
use infonce::trainer::{BatchSource, StepContext, Trainer, TrainerConfig};
use infonce::{Encoder, Error};

use super::trainer::{parameters, temp_dir};

/// τ = 0.01 scales cosine scores to ±100: exponentiated directly that is e^100, past f32's
/// range. The loss core subtracts the row maximum first, so training stays finite.
fn temperature_of_one_hundredth_trains_without_nan<B: AutodiffBackend>(device: &B::Device) {
    let encoder = MlpConfig::new(6, vec![32], 16).init::<B>(device).unwrap();
    let critic = CosineCriticConfig::new()
        .with_temperature(0.01)
        .init::<B>(device)
        .unwrap();
    let config = TrainerConfig::new()
        .with_epochs(3)
        .with_learning_rate(1e-3)
        .with_progress(false);
    let mut trainer = Trainer::new(
        config,
        SharedEncoderModel::new(encoder, critic),
        InBatchSampler,
        device.clone(),
    )
    .unwrap();
    let data = CorrelatedGaussian::with_mi(6, 2.0, 64, 10).unwrap();
    let summary = trainer.fit(&data).unwrap();
    for r in &summary.history {
        assert!(r.loss.is_finite() && r.loss >= 0.0, "{r:?}");
    }
    assert!(
        summary.history[2].loss < summary.history[0].loss,
        "it still learns: {:?}",
        summary.history
    );
    assert!(parameters(trainer.model()).iter().all(|p| p.is_finite()));
}

/// `|x·W|^½`: finite outputs everywhere, but an infinite derivative at zero, so a batch of
/// zeros gives a finite loss and a NaN gradient for `W`.
#[derive(Module, Debug)]
struct SqrtEncoder<B: Backend> {
    weight: Param<Tensor<B, 2>>,
}

impl<B: Backend> Encoder<B> for SqrtEncoder<B> {
    type Input = Tensor<B, 2>;
    fn encode(&self, input: Tensor<B, 2>) -> Tensor<B, 2> {
        input.matmul(self.weight.val()).abs().sqrt()
    }
}

/// A `[4, 4]` weight drawn from N(0, 0.5²).
fn normal_weight<B: Backend>(device: &B::Device) -> Param<Tensor<B, 2>> {
    Initializer::Normal {
        mean: 0.0,
        std: 0.5,
    }
    .init([4, 4], device)
}

fn sqrt_model<B: Backend>(
    device: &B::Device,
) -> SharedEncoderModel<B, SqrtEncoder<B>, infonce::critic::SeparableCritic<B>> {
    let encoder = SqrtEncoder {
        weight: normal_weight(device),
    };
    let critic = SeparableCriticConfig::new()
        .with_d_context(4)
        .with_d_candidate(4)
        .with_hidden(vec![16])
        .with_d_embedding(8)
        .init::<B>(device)
        .unwrap();
    SharedEncoderModel::new(encoder, critic)
}

/// Gaussian pairs, with an all-zero batch at one step.
struct ZerosAt(CorrelatedGaussian, u64);

impl<B: Backend> BatchSource<B> for ZerosAt {
    type Batch = PairBatch<Tensor<B, 2>, Tensor<B, 2>>;
    fn steps_per_epoch(&self) -> usize {
        BatchSource::<B>::steps_per_epoch(&self.0)
    }
    fn batch(&self, ctx: &StepContext, device: &B::Device) -> infonce::Result<Self::Batch> {
        let b: Self::Batch = self.0.batch(ctx, device)?;
        if ctx.step == self.1 {
            return Ok(PairBatch::new(
                b.context.zeros_like(),
                b.positive.zeros_like(),
            ));
        }
        Ok(b)
    }
}

/// On ndarray only: the NaN here comes from `0 · ∞` in the backward pass, and WGSL lets
/// shaders assume there are no NaNs or infinities (lavapipe's result is 0), so on wgpu the
/// gradient is finite and there is nothing to catch. The check itself is backend-generic.
#[test]
fn non_finite_gradient_stops_with_the_parameter_name() {
    type B = infonce::backend::NdArrayAutodiff;
    let device = &Default::default();
    let dir = temp_dir("nan-gradient");
    let config = TrainerConfig::new()
        .with_epochs(1)
        .with_checkpoint_every(Some(2))
        .with_out_dir(Some(dir.display().to_string()))
        .with_progress(false)
        .with_sync_every(Some(1));
    let mut trainer = Trainer::new(
        config.clone(),
        sqrt_model::<B>(device),
        InBatchSampler,
        *device,
    )
    .unwrap();
    let data = CorrelatedGaussian::with_mi(4, 1.0, 16, 8).unwrap();
    let before = parameters(trainer.model());
    match trainer.fit(&ZerosAt(data, 5)) {
        Err(Error::NonFinite {
            step,
            tensor,
            value,
            last_checkpoint,
            ..
        }) => {
            assert_eq!(step, 5);
            assert_eq!(tensor, "gradient of `encoder.weight`");
            assert!(!value.is_finite());
            let last = last_checkpoint.expect("checkpoints were written every 2 steps");
            assert!(last.ends_with("step-000000004.ckpt"), "{last:?}");
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    assert_eq!(
        trainer.step(),
        5,
        "the step with the NaN gradient is not applied"
    );
    let after = parameters(trainer.model());
    assert!(after.iter().all(|p| p.is_finite()));
    assert_ne!(before, after);

    // With the check off, the NaN reaches the parameters: the check is what stops it.
    let mut unchecked = Trainer::new(
        config.with_check_gradients(false).with_out_dir(None),
        sqrt_model::<B>(device),
        InBatchSampler,
        *device,
    )
    .unwrap();
    let _ = unchecked.fit(&ZerosAt(data, 5));
    assert!(parameters(unchecked.model()).iter().any(|p| p.is_nan()));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// InfoNCE plus a constant: NaN or +∞ in the loss itself, as a device value.
struct Poisoned(f32);

impl<B: Backend> Objective<B> for Poisoned {
    fn loss(
        &self,
        log_scores: Tensor<B, 2>,
        set: &CandidateSet<B>,
    ) -> infonce::Result<LossOutput<B>> {
        let mut out = ObjectiveKind::InfoNce.loss(log_scores, set)?;
        let poison = Tensor::<B, 1>::from_floats([self.0], &out.loss.device());
        out.loss = out.loss + poison;
        Ok(out)
    }
}

/// `x·W + (p·a)·a·x` with `p = 0` and `a = 3·10³⁸`: the forward pass adds exactly 0, the
/// gradient of `p` is `Σ(∂L/∂y ⊙ x) · a · a`, which overflows to ±∞; with `cancel` the
/// term is also subtracted, and the gradient is ∞ − ∞: NaN. Computed at run time on every backend
/// (an infinite derivative such as √p's at 0 comes out finite in wgpu's shaders).
#[derive(Module, Debug)]
struct OverflowEncoder<B: Backend> {
    weight: Param<Tensor<B, 2>>,
    p: Param<Tensor<B, 1>>,
    cancel: bool,
}

impl<B: Backend> Encoder<B> for OverflowEncoder<B> {
    type Input = Tensor<B, 2>;
    fn encode(&self, input: Tensor<B, 2>) -> Tensor<B, 2> {
        // Built anew at each use: two uses of one node would sum their gradients (to 0)
        // before the overflow.
        let term = || input.clone() * (self.p.val() * 3e38).mul_scalar(3e38).unsqueeze::<2>();
        let y = input.clone().matmul(self.weight.val()) + term();
        if self.cancel { y - term() } else { y }
    }
}

fn overflow_model<B: Backend>(
    cancel: bool,
    device: &B::Device,
) -> SharedEncoderModel<B, OverflowEncoder<B>, infonce::critic::SeparableCritic<B>> {
    let encoder = OverflowEncoder {
        weight: normal_weight(device),
        p: Initializer::Zeros.init([1], device),
        cancel,
    };
    SharedEncoderModel::new(encoder, sqrt_model::<B>(device).critic)
}

/// The step-0 error of a short run, with the parameters before and after it.
fn first_error<B: AutodiffBackend, M>(
    trainer: &mut Trainer<B, M, InBatchSampler>,
) -> (u64, String, f64)
where
    M: infonce::ContrastiveModel<B, Batch = PairBatch<Tensor<B, 2>, Tensor<B, 2>>>
        + burn::module::AutodiffModule<B>,
{
    let data = CorrelatedGaussian::with_mi(4, 1.0, 16, 4).unwrap();
    let before = parameters(trainer.model());
    match trainer.fit(&data) {
        Err(Error::NonFinite {
            step,
            tensor,
            value,
            ..
        }) => {
            assert_eq!(
                parameters(trainer.model()),
                before,
                "nothing non-finite applied"
            );
            (step, tensor, value)
        }
        other => panic!("expected NonFinite, got {:?}", other.map(|s| s.history)),
    }
}

/// The guard sees NaN and +∞ in the loss and in a gradient on every backend: on wgpu the
/// shader may assume finite values, so this is checked there too, not only on ndarray.
fn guard_catches_nan_and_infinity_in_loss_and_gradient<B: AutodiffBackend>(device: &B::Device) {
    let config = TrainerConfig::new()
        .with_epochs(1)
        .with_progress(false)
        .with_sync_every(Some(4));
    for poison in [f32::NAN, f32::INFINITY] {
        let mut trainer = Trainer::new(
            config.clone(),
            sqrt_model::<B>(device),
            InBatchSampler,
            device.clone(),
        )
        .unwrap()
        .with_objective(Poisoned(poison));
        let (step, tensor, value) = first_error(&mut trainer);
        assert_eq!((step, tensor.as_str()), (0, "loss"), "{poison}");
        assert_eq!(
            value.is_nan(),
            poison.is_nan(),
            "{poison}: read back {value}"
        );
        assert!(!value.is_finite());
    }
    for cancel in [false, true] {
        let mut trainer = Trainer::new(
            config.clone(),
            overflow_model::<B>(cancel, device),
            InBatchSampler,
            device.clone(),
        )
        .unwrap();
        let (step, tensor, value) = first_error(&mut trainer);
        assert_eq!(step, 0);
        assert_eq!(tensor, "gradient of `encoder.p`", "cancel {cancel}");
        // Whether the overflow reads back as ±∞ or NaN is the device's arithmetic (wgpu's
        // shaders may reorder `g·a·a`); either way the guard must stop the step.
        assert!(!value.is_finite(), "cancel {cancel}: {value}");
    }
}

/// The start-up probe agrees: this backend reports NaN and infinity on the device (the
/// trainer warns on stderr where it does not).
fn device_reports_nan_and_infinity<B: AutodiffBackend>(device: &B::Device) {
    assert!(infonce::trainer::non_finite_detection_works::<
        B::InnerBackend,
    >(device));
}

backend_tests!(
    device_reports_nan_and_infinity,
    temperature_of_one_hundredth_trains_without_nan,
    guard_catches_nan_and_infinity_in_loss_and_gradient,
);
