//! The CPC model: a frame encoder, an autoregressive context model and per-step critics.

use burn::module::Module;
use burn::nn::gru::{Gru, GruConfig};
use burn::tensor::{Tensor, backend::Backend};

use super::{SequenceBatch, StepCritics, StepCriticsConfig};
use crate::encoder::{Mlp, MlpConfig};
use crate::sampler::{Embeddings, RowIds};
use crate::{ContrastiveModel, Critic, Encoder, Error, Result};

/// Sizes of the built-in [`CpcModel`]: an MLP frame encoder and a GRU context model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CpcModelConfig {
    /// Width of one frame `x_t`.
    pub d_input: usize,
    /// Hidden widths of the frame encoder's MLP.
    pub hidden: Vec<usize>,
    /// Width of the frame embeddings `z_t`.
    pub d_embedding: usize,
    /// Width of the contexts `c_t` (the GRU's state).
    pub d_context: usize,
    /// Prediction steps `K`.
    pub steps_ahead: usize,
}

impl Default for CpcModelConfig {
    fn default() -> Self {
        Self {
            d_input: 8,
            hidden: vec![64],
            d_embedding: 32,
            d_context: 32,
            steps_ahead: 3,
        }
    }
}

impl CpcModelConfig {
    /// Builds the model on `device`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero width or zero steps.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<CpcModel<B, Mlp<B>>> {
        if self.d_input == 0 || self.d_embedding == 0 || self.d_context == 0 {
            return Err(Error::config("CpcModelConfig", "widths must be ≥ 1"));
        }
        let encoder =
            MlpConfig::new(self.d_input, self.hidden.clone(), self.d_embedding).init(device)?;
        let context = GruConfig::new(self.d_embedding, self.d_context, true).init(device);
        let critics = StepCriticsConfig::new(self.steps_ahead, self.d_context, self.d_embedding)
            .init(device)?;
        Ok(CpcModel::new(encoder, self.d_input, context, critics))
    }
}

/// Contrastive Predictive Coding (van den Oord et al. 2018, §2): `z_t = g_enc(x_t)` per
/// frame, `c_t = g_ar(z_≤t)` by a GRU, and for each step `k = 1..K` the critic
/// `f_k(x_{t+k}, c_t) = exp(z_{t+k}ᵀ W_k c_t)`. The frame encoder embeds the candidates; the
/// context path is the same encoder followed by the GRU, so both are trained jointly.
///
/// [`ContrastiveModel::embed`] lays a batch of `b` sequences of length `L` out as `K`
/// blocks, one per step `k`, of `r = b·(L − K)` rows each, row `(seq, t)` pairing `c_t`
/// with its positive `z_{t+k}`, for every `t < L − K` (the same positions for every `k`,
/// so the mean loss weighs the steps equally). Rows carry `sequence` (the batch's sequence
/// id) and `position` (`t + k`, the time of the positive), which
/// [`super::SequenceSampler`] turns into negatives.
#[derive(Module, Debug)]
pub struct CpcModel<B: Backend, E: Module<B>> {
    /// `g_enc`, applied to each frame: `[rows, d_input] → [rows, d_z]`.
    pub frame_encoder: E,
    /// `g_ar`: `[b, L, d_z] → [b, L, d_c]`.
    pub context_model: Gru<B>,
    /// `W_1 … W_K`.
    pub critics: StepCritics<B>,
    d_input: usize,
}

impl<B: Backend, E: Encoder<B, Input = Tensor<B, 2>>> CpcModel<B, E> {
    /// Assembles a model from its parts; frames must be `d_input` wide.
    pub fn new(
        frame_encoder: E,
        d_input: usize,
        context_model: Gru<B>,
        critics: StepCritics<B>,
    ) -> Self {
        Self {
            frame_encoder,
            context_model,
            critics,
            d_input,
        }
    }

    /// The number of prediction steps `K`.
    pub fn steps_ahead(&self) -> usize {
        self.critics.len()
    }

    /// `z_t` for every frame: `[b, L, d_input] → [b, L, d_z]`.
    pub fn encode_frames(&self, frames: Tensor<B, 3>) -> Tensor<B, 3> {
        let [b, l, d] = frames.dims();
        let z = self.frame_encoder.encode(frames.reshape([b * l, d]));
        let d_z = z.dims()[1];
        z.reshape([b, l, d_z])
    }

    /// `c_t` for every step: `[b, L, d_input] → [b, L, d_c]`.
    ///
    /// # Errors
    /// As [`SequenceBatch::check`], and [`Error::ShapeMismatch`] for frames of another width.
    pub fn contexts(&self, batch: &SequenceBatch<B>) -> Result<Tensor<B, 3>> {
        self.check_frames(batch)?;
        let z = self.encode_frames(batch.frames.clone());
        Ok(self.context_model.forward(z, None))
    }

    fn check_frames(&self, batch: &SequenceBatch<B>) -> Result<[usize; 3]> {
        let dims = batch.check()?;
        if dims[2] != self.d_input {
            return Err(Error::shape(
                "frame width",
                self.d_input.to_string(),
                dims[2].to_string(),
            ));
        }
        Ok(dims)
    }
}

impl<B, E> ContrastiveModel<B> for CpcModel<B, E>
where
    B: Backend,
    E: Encoder<B, Input = Tensor<B, 2>>,
{
    type Batch = SequenceBatch<B>;

    fn embed(&self, batch: SequenceBatch<B>) -> Result<Embeddings<B>> {
        let [b, l, _] = self.check_frames(&batch)?;
        let k = self.steps_ahead();
        if l <= k {
            return Err(Error::shape(
                "sequence length (more steps than predicted ahead)",
                format!("> K = {k}"),
                l.to_string(),
            ));
        }
        let z = self.encode_frames(batch.frames);
        let c = self.context_model.forward(z.clone(), None);
        let p = l - k;
        let [_, _, d_c] = c.dims();
        let [_, _, d_z] = z.dims();
        let context = c.slice([0..b, 0..p]).reshape([b * p, d_c]);
        let samples = (1..=k)
            .map(|j| z.clone().slice([0..b, j..j + p]).reshape([b * p, d_z]))
            .collect();
        let ids = prediction_row_ids(&batch.sequence_ids, p, k);
        let rows = ids.to_device(&context.device());
        Ok(
            Embeddings::new(Tensor::cat(vec![context; k], 0), Tensor::cat(samples, 0))
                .with_rows(rows),
        )
    }

    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Result<Tensor<B, 2>> {
        self.critics.try_log_scores(context, candidates)
    }
}

/// Sequence and positive position of each row, in the layout of [`CpcModel`]: for `k` in
/// `1..=K`, for each sequence, for `t < positions`: `(sequence, t + k)`.
fn prediction_row_ids(sequences: &[i64], positions: usize, steps: usize) -> RowIds {
    let mut sequence = Vec::with_capacity(steps * sequences.len() * positions);
    let mut position = Vec::with_capacity(sequence.capacity());
    for k in 1..=steps {
        for &s in sequences {
            for t in 0..positions {
                sequence.push(s);
                position.push((t + k) as i64);
            }
        }
    }
    RowIds::default().with_sequence_position(sequence, position)
}
