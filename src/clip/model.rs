//! The two towers: a ResNet image encoder and a caption encoder, a learnable-temperature
//! cosine critic.

use burn::tensor::backend::Backend;

use crate::Result;
use crate::critic::{CosineCritic, CosineCriticConfig};
use crate::data::{CAPTION_SLOTS, caption_vocabulary};
use crate::encoder::{
    CaptionEncoder, CaptionEncoderConfig, EncoderWithHead, ProjectionHeadConfig, ResNetEncoder,
    ResNetEncoderConfig,
};
use crate::model::TwoTowerModel;

use super::ClipConfig;

/// The image tower: ResNet backbone + projection head.
pub type ImageTower<B> = EncoderWithHead<B, ResNetEncoder<B>>;

/// CLIP-style two towers (Radford et al. 2021): images are contexts, captions candidates.
pub type ClipModel<B> = TwoTowerModel<B, ImageTower<B>, CaptionEncoder<B>, CosineCritic<B>>;

/// A fresh model for `channels`-channel images.
///
/// # Errors
/// Those of the ResNet, head, caption encoder and critic configs.
pub fn clip_model<B: Backend>(
    config: &ClipConfig,
    channels: usize,
    device: &B::Device,
) -> Result<ClipModel<B>> {
    let backbone = ResNetEncoderConfig::new()
        .with_in_channels(channels)
        .with_width(config.width)
        .with_stages(config.stages)
        .init(device)?;
    let head = ProjectionHeadConfig::new(backbone.features())
        .with_d_hidden(backbone.features())
        .with_d_output(config.embed_dim)
        .init(device)?;
    let text = CaptionEncoderConfig::new(caption_vocabulary().len(), CAPTION_SLOTS)
        .with_d_output(config.embed_dim)
        .init(device)?;
    // CLIP's learnable logit scale exp(t), t clamped to at most ln 100 after each step.
    let critic = CosineCriticConfig::new()
        .with_temperature(config.initial_temperature)
        .with_learnable(true)
        .with_max_scale(config.max_scale)
        .with_min_scale(1.0)
        .init(device)?;
    Ok(TwoTowerModel::new(
        EncoderWithHead::new(backbone, head),
        text,
        critic,
    ))
}
