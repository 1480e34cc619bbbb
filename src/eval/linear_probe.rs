//! Linear evaluation on frozen features.

use burn::module::AutodiffModule;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor, TensorData, activation::log_softmax};

use super::labelled_features::check_labelled;
use crate::{Error, Result};

/// Settings of [`linear_probe`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinearProbeConfig {
    /// Full-batch Adam steps.
    pub steps: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// L2 penalty on the weights.
    pub weight_decay: f32,
}

impl Default for LinearProbeConfig {
    fn default() -> Self {
        Self {
            steps: 300,
            learning_rate: 0.05,
            weight_decay: 1e-4,
        }
    }
}

/// Standardises columns with the training set's mean and standard deviation.
fn standardise(train: &[f32], test: &[f32], dim: usize) -> (Vec<f32>, Vec<f32>) {
    let n = (train.len() / dim).max(1) as f32;
    let mut mean = vec![0.0f32; dim];
    let mut var = vec![0.0f32; dim];
    for r in train.chunks(dim) {
        r.iter().zip(&mut mean).for_each(|(v, m)| *m += v / n);
    }
    for r in train.chunks(dim) {
        r.iter()
            .zip(&mean)
            .zip(&mut var)
            .for_each(|((v, m), s)| *s += (v - m).powi(2) / n);
    }
    let scale: Vec<f32> = var.iter().map(|v| 1.0 / v.sqrt().max(1e-6)).collect();
    let apply = |x: &[f32]| -> Vec<f32> {
        x.chunks(dim)
            .flat_map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(j, v)| (v - mean[j]) * scale[j])
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    (apply(train), apply(test))
}

/// Test top-1 accuracy of a multinomial logistic regression trained on frozen features
/// (the linear evaluation protocol of Zhang et al. 2016 and SimCLR §4): features are
/// standardised with the training statistics, then one linear layer is trained with
/// full-batch Adam on the cross-entropy.
///
/// # Errors
/// [`Error::ShapeMismatch`] when a matrix is not `labels × dim`; [`Error::EmptyBatch`] for
/// an empty set; [`Error::InvalidConfig`] for a label ≥ `num_classes` or zero steps.
#[allow(clippy::too_many_arguments)]
pub fn linear_probe<B: AutodiffBackend>(
    train: &[f32],
    train_labels: &[usize],
    test: &[f32],
    test_labels: &[usize],
    dim: usize,
    num_classes: usize,
    config: LinearProbeConfig,
    device: &B::Device,
) -> Result<f64> {
    if config.steps == 0 || dim == 0 || num_classes < 2 {
        return Err(Error::config(
            "linear probe",
            "need steps ≥ 1, dim ≥ 1 and at least 2 classes",
        ));
    }
    check_labelled(
        "linear probe",
        train,
        train_labels,
        test,
        test_labels,
        dim,
        num_classes,
    )?;
    let (train, test) = standardise(train, test, dim);
    let (n, m) = (train_labels.len(), test_labels.len());
    let x = Tensor::<B, 2>::from_data(TensorData::new(train, [n, dim]), device);
    let y = Tensor::<B, 2, Int>::from_data(
        TensorData::new(
            train_labels.iter().map(|&l| l as i64).collect::<Vec<_>>(),
            [n, 1],
        ),
        device,
    );
    let mut model: Linear<B> = LinearConfig::new(dim, num_classes).init(device);
    let mut optim = AdamConfig::new()
        .with_weight_decay(Some(burn::optim::decay::WeightDecayConfig::new(
            config.weight_decay,
        )))
        .init::<B, Linear<B>>();
    for _ in 0..config.steps {
        let loss = log_softmax(model.forward(x.clone()), 1)
            .gather(1, y.clone())
            .mean()
            .neg();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(config.learning_rate, model, grads);
    }
    let model = model.valid();
    let xt = Tensor::<B::InnerBackend, 2>::from_data(TensorData::new(test, [m, dim]), device);
    let predicted = model
        .forward(xt)
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .to_vec::<i64>()
        .expect("int predictions");
    let correct = predicted
        .iter()
        .zip(test_labels)
        .filter(|&(p, &l)| *p as usize == l)
        .count();
    Ok(correct as f64 / m as f64)
}
