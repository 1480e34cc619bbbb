//! A text tower for short fixed-slot captions: token embeddings, one per slot, concatenated
//! and passed through an MLP.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig};
use burn::tensor::{Int, Tensor, backend::Backend};

use super::{Encoder, Mlp, MlpConfig};
use crate::Error;

/// Configuration of a [`CaptionEncoder`].
#[derive(Config, Debug)]
pub struct CaptionEncoderConfig {
    /// Words in the vocabulary (token ids are `0..vocabulary`).
    pub vocabulary: usize,
    /// Tokens per caption (slots).
    pub slots: usize,
    /// Width of a token embedding.
    #[config(default = 32)]
    pub d_token: usize,
    /// Width of the MLP's hidden layer.
    #[config(default = 128)]
    pub d_hidden: usize,
    /// Width of the output embedding.
    #[config(default = 64)]
    pub d_output: usize,
}

impl CaptionEncoderConfig {
    /// Builds the encoder on `device`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a width, the vocabulary or the slot count is zero.
    pub fn init<B: Backend>(&self, device: &B::Device) -> crate::Result<CaptionEncoder<B>> {
        if self.vocabulary == 0 || self.slots == 0 || self.d_token == 0 {
            return Err(Error::config(
                "caption encoder",
                "vocabulary, slots and d_token must be ≥ 1",
            ));
        }
        let mlp = MlpConfig::new(
            self.slots * self.d_token,
            vec![self.d_hidden],
            self.d_output,
        )
        .init(device)?;
        Ok(CaptionEncoder {
            embedding: EmbeddingConfig::new(self.vocabulary, self.d_token).init(device),
            mlp,
            vocabulary: self.vocabulary,
            slots: self.slots,
        })
    }
}

/// Captions `[batch, slots]` of token ids → embeddings `[batch, d_output]`: each slot's
/// token embedded, the slots concatenated in order (so "red disk on blue" differs from
/// "blue disk on red"), then an MLP. The "pooled MLP" text tower of a small CLIP (Radford et
/// al. 2021 use a transformer; captions of a few fixed slots do not need one).
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::{Int, Tensor};
/// use infonce::encoder::{CaptionEncoderConfig, Encoder};
///
/// let device = Default::default();
/// let text = CaptionEncoderConfig::new(30, 6).init::<PrebuiltNdArray>(&device).unwrap();
/// let captions = Tensor::<PrebuiltNdArray, 2, Int>::from_ints([[1, 4, 12, 0, 0, 0]], &device);
/// assert_eq!(text.encode(captions).dims(), [1, 64]);
/// assert!(text.check_tokens(&[[1, 4, 30, 0, 0, 0]]).is_err()); // 30 is outside the vocabulary
/// ```
#[derive(Module, Debug)]
pub struct CaptionEncoder<B: Backend> {
    embedding: Embedding<B>,
    mlp: Mlp<B>,
    vocabulary: usize,
    slots: usize,
}

impl<B: Backend> CaptionEncoder<B> {
    /// Checks host-side captions before they become a tensor: `slots` tokens each, every
    /// id inside the vocabulary.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a caption of another length, [`Error::InvalidConfig`]
    /// for a token outside the vocabulary.
    pub fn check_tokens<C: AsRef<[u32]>>(&self, captions: &[C]) -> crate::Result<()> {
        for caption in captions {
            let caption = caption.as_ref();
            if caption.len() != self.slots {
                return Err(Error::shape(
                    "caption tokens",
                    self.slots.to_string(),
                    caption.len().to_string(),
                ));
            }
            if let Some(bad) = caption.iter().find(|&&t| t as usize >= self.vocabulary) {
                return Err(Error::config(
                    "caption token",
                    format!("{bad} is outside the vocabulary of {}", self.vocabulary),
                ));
            }
        }
        Ok(())
    }
}

impl<B: Backend> Encoder<B> for CaptionEncoder<B> {
    type Input = Tensor<B, 2, Int>;

    fn encode(&self, input: Tensor<B, 2, Int>) -> Tensor<B, 2> {
        let [b, slots] = input.dims();
        let tokens = self.embedding.forward(input);
        let d = tokens.dims()[2];
        self.mlp.forward(tokens.reshape([b, slots * d]))
    }
}
