//! The random-initialisation baseline is independent of the network that trains: its
//! features are the same before and after training, batch-norm statistics included.

use burn::module::AutodiffModule;
use burn::tensor::{Distribution, Tensor};
use infonce::encoder::ResNetEncoder;
use infonce::model::{PairBatch, independent_copy};
use infonce::recipes::{SimclrConfig, image_backbone, simclr_model};
use infonce::sampler::TwoViewSampler;
use infonce::trainer::{Trainer, TrainerConfig, materialize_parameters};

type B = infonce::backend::NdArrayAutodiff;

/// Backbone features of `images` in evaluation mode (running statistics).
fn features(backbone: &ResNetEncoder<B>, images: &Tensor<B, 4>) -> Vec<f32> {
    let eval = backbone.valid();
    let x = images.clone().inner();
    eval.forward(x).into_data().to_vec().unwrap()
}

/// The SimCLR network of the tests' small runs (`--width 4 --stages 1`).
pub(super) fn small_simclr_config() -> SimclrConfig {
    SimclrConfig {
        width: 4,
        stages: 1,
        ..SimclrConfig::default()
    }
}

#[test]
fn the_baseline_copy_keeps_its_batch_norm_statistics_while_the_original_trains() {
    let device = Default::default();
    let config = small_simclr_config();
    let model = simclr_model::<B>(&config, 3, &device).unwrap();
    materialize_parameters::<B, _>(&model);
    let fresh = image_backbone::<B>(&config, 3, &device).unwrap();
    let copy = independent_copy(&model.encoder.backbone, fresh).unwrap();
    let clone = model.encoder.backbone.clone();
    let probe = Tensor::<B, 4>::random([6, 3, 8, 8], Distribution::Default, &device);
    let (copy_before, clone_before) = (features(&copy, &probe), features(&clone, &probe));
    assert_eq!(
        copy_before, clone_before,
        "the copy starts as the network itself"
    );

    let mut trainer = Trainer::new(
        TrainerConfig::new().with_progress(false),
        model,
        TwoViewSampler,
        device,
    )
    .unwrap();
    for _ in 0..3 {
        let view = || Tensor::<B, 4>::random([8, 3, 8, 8], Distribution::Normal(2.0, 3.0), &device);
        trainer
            .train_step(PairBatch::new(view(), view()), 1e-2)
            .unwrap();
    }
    assert_eq!(
        features(&copy, &probe),
        copy_before,
        "the baseline is the untrained network"
    );
    // Why a record copy is needed: a plain clone shares the running statistics.
    assert_ne!(
        features(&clone, &probe),
        clone_before,
        "Burn's clone shares batch-norm statistics with the trained network"
    );
}
