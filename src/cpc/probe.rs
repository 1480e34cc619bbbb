//! A linear probe on the contexts: how well `c_t` encodes a sequence's latent class.

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use super::{CpcModel, SequenceBatch};
use crate::eval::{LinearProbeConfig, linear_probe};
use crate::readback::read_back;
use crate::trainer::{BatchSource, StepContext};
use crate::{Encoder, Error, Result};

/// Sizes and seeds of a [`context_probe`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeSplit {
    /// Batches whose contexts train the probe.
    pub train_batches: usize,
    /// Batches it is tested on.
    pub test_batches: usize,
    /// Seed of the training batches; the test batches use `seed + 1`.
    pub seed: u64,
}

/// What a [`context_probe`] found.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeResult {
    /// Test top-1 accuracy.
    pub top1: f64,
    /// The share of the test set's most common class: what always guessing it scores.
    pub chance: f64,
    /// Classes seen.
    pub classes: usize,
}

/// Test top-1 of a linear probe that reads each sequence's latent class (its
/// `SequenceBatch::labels`) from its last context `c_{L−1}`, trained on fresh batches of
/// `data` and tested on others: the linear evaluation of CPC (van den Oord et al. 2018,
/// §3).
///
/// # Errors
/// [`Error::InvalidConfig`] when batches carry no labels, when fewer than two classes
/// occur, or for zero batches; any error of the model or data.
pub fn context_probe<B, E, D>(
    model: &CpcModel<B, E>,
    data: &D,
    split: ProbeSplit,
    device: &B::Device,
) -> Result<ProbeResult>
where
    B: AutodiffBackend,
    E: Encoder<B, Input = Tensor<B, 2>>,
    D: BatchSource<B, Batch = SequenceBatch<B>>,
{
    if split.train_batches == 0 || split.test_batches == 0 {
        return Err(Error::config(
            "probe",
            "needs ≥ 1 training and ≥ 1 test batch",
        ));
    }
    let (train, train_labels, dim) =
        last_contexts(model, data, split.train_batches, split.seed, device)?;
    let (test, test_labels, _) =
        last_contexts(model, data, split.test_batches, split.seed + 1, device)?;
    let classes = train_labels
        .iter()
        .chain(&test_labels)
        .max()
        .map_or(0, |m| m + 1);
    if classes < 2 {
        return Err(Error::config(
            "probe",
            "the sequences carry fewer than two classes",
        ));
    }
    let config = LinearProbeConfig::default();
    let top1 = linear_probe::<B>(
        &train,
        &train_labels,
        &test,
        &test_labels,
        dim,
        classes,
        config,
        device,
    )?;
    let most_common = (0..classes)
        .map(|c| test_labels.iter().filter(|&&l| l == c).count())
        .max()
        .unwrap_or(0);
    Ok(ProbeResult {
        top1,
        chance: most_common as f64 / test_labels.len() as f64,
        classes,
    })
}

/// The last context of every sequence in `batches` batches, row-major, with the labels and
/// the context width.
fn last_contexts<B, E, D>(
    model: &CpcModel<B, E>,
    data: &D,
    batches: usize,
    seed: u64,
    device: &B::Device,
) -> Result<(Vec<f32>, Vec<usize>, usize)>
where
    B: AutodiffBackend,
    E: Encoder<B, Input = Tensor<B, 2>>,
    D: BatchSource<B, Batch = SequenceBatch<B>>,
{
    let model = crate::model::without_graph(model);
    let (mut features, mut labels, mut dim) = (Vec::new(), Vec::new(), 0);
    for step in 0..batches as u64 {
        let ctx = StepContext::fresh(seed, step);
        let batch = data.batch(&ctx, device)?;
        let Some(batch_labels) = batch.labels.clone() else {
            return Err(Error::config("probe", "the batches carry no labels"));
        };
        let c = model.contexts(&batch)?.detach();
        let [b, l, d] = c.dims();
        let last = c.slice([0..b, l - 1..l]).reshape([b, d]);
        features.extend(read_back(last).into_iter().map(|v| v as f32));
        labels.extend(batch_labels);
        dim = d;
    }
    Ok((features, labels, dim))
}
