//! Batches of (image, caption) pairs with caption dropout.

use std::sync::Arc;

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
use rand::RngExt;
use rand::seq::SliceRandom;

use crate::data::{CAPTION_SLOTS, CaptionedImages, PAD, SHAPE_SLOT};
use crate::model::PairBatch;
use crate::sampler::RowIds;
use crate::trainer::{BatchSource, StepContext};
use crate::{Error, Result};

const SHUFFLE_STREAM: u64 = 0xC11F;
const DROPOUT_STREAM: u64 = 0xD40F;

/// The image–caption batch type: images `[b, c, h, w]`, captions `[b, slots]`.
pub type ClipBatch<B> = PairBatch<Tensor<B, 4>, Tensor<B, 2, Int>>;

/// Each epoch a new permutation of the pairs; every caption slot but the shape's is
/// blanked with probability `caption_dropout`, so the model sees captions of every level
/// of detail, the bare shape name (a zero-shot prompt) among them. Rows carry the image
/// index as instance id and the shape as label.
#[derive(Debug, Clone)]
pub struct CaptionPairs {
    data: Arc<CaptionedImages>,
    batch_size: usize,
    caption_dropout: f64,
}

impl CaptionPairs {
    /// Batches of `batch_size` pairs of `data`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `batch_size` is below 2 or above the number of pairs,
    /// or `caption_dropout` lies outside `[0, 1]`.
    pub fn new(
        data: Arc<CaptionedImages>,
        batch_size: usize,
        caption_dropout: f64,
    ) -> Result<Self> {
        if batch_size < 2 || batch_size > data.images.len() {
            return Err(Error::config(
                "batch_size",
                format!(
                    "must lie in 2..={} (the pairs available), got {batch_size}",
                    data.images.len()
                ),
            ));
        }
        if !(0.0..=1.0).contains(&caption_dropout) {
            return Err(Error::config(
                "caption_dropout",
                format!("must lie in [0, 1], got {caption_dropout}"),
            ));
        }
        Ok(Self {
            data,
            batch_size,
            caption_dropout,
        })
    }

    fn indices(&self, ctx: &StepContext) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.data.images.len()).collect();
        order.shuffle(&mut ctx.epoch_rng(SHUFFLE_STREAM));
        let start = ctx.index_in_epoch as usize * self.batch_size;
        order[start..start + self.batch_size].to_vec()
    }
}

impl<B: Backend> BatchSource<B> for CaptionPairs {
    type Batch = ClipBatch<B>;

    fn steps_per_epoch(&self) -> usize {
        self.data.images.len() / self.batch_size
    }

    fn batch(&self, ctx: &StepContext, device: &B::Device) -> Result<Self::Batch> {
        let indices = self.indices(ctx);
        let mut rng = ctx.rng(DROPOUT_STREAM);
        let mut tokens = Vec::with_capacity(indices.len() * CAPTION_SLOTS);
        for &i in &indices {
            for (slot, &t) in self.data.captions[i].iter().enumerate() {
                let drop = slot != SHAPE_SLOT && rng.random_bool(self.caption_dropout);
                tokens.push(if drop { PAD } else { t } as i64);
            }
        }
        let images = &self.data.images;
        let pixels: Vec<f32> = indices
            .iter()
            .flat_map(|&i| images.image(i).iter().copied())
            .collect();
        let b = indices.len();
        let shape = [b, images.channels, images.height, images.width];
        let ids = RowIds::default()
            .with_instance(indices.iter().map(|&i| i as i64).collect())
            .with_label(indices.iter().map(|&i| images.labels[i] as i64).collect());
        Ok(PairBatch::new(
            Tensor::from_data(TensorData::new(pixels, shape), device),
            Tensor::from_data(TensorData::new(tokens, [b, CAPTION_SLOTS]), device),
        )
        .with_ids(ids))
    }
}
