//! Numerical guard rails: low temperatures train without NaN, a NaN gradient is caught and
//! named before it reaches the parameters.

use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use infonce::critic::{CosineCriticConfig, SeparableCriticConfig};
use infonce::data::CorrelatedGaussian;
use infonce::encoder::MlpConfig;
use infonce::model::{PairBatch, SharedEncoderModel};
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

fn sqrt_model<B: Backend>(
    device: &B::Device,
) -> SharedEncoderModel<B, SqrtEncoder<B>, infonce::critic::SeparableCritic<B>> {
    let encoder = SqrtEncoder {
        weight: Initializer::Normal {
            mean: 0.0,
            std: 0.5,
        }
        .init([4, 4], device),
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

backend_tests!(temperature_of_one_hundredth_trains_without_nan);
