//! A small ResNet-style convolutional encoder.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::{Tensor, activation::relu, backend::Backend};

use super::{Conv3x3, Encoder, batch_norm_nhwc};
use crate::Error;

/// Configuration of a [`ResNetEncoder`]: a 3×3 stem, then `stages` stages of
/// `blocks_per_stage` basic residual blocks (He et al. 2016); every stage after the first
/// halves the resolution (2×2 average pooling) and doubles the width; then global average
/// pooling. Feature width: `width · 2^(stages − 1)`.
#[derive(Config, Debug)]
pub struct ResNetEncoderConfig {
    /// Input channels (1 for grayscale, 3 for RGB).
    #[config(default = 3)]
    pub in_channels: usize,
    /// Channels of the stem and the first stage.
    #[config(default = 32)]
    pub width: usize,
    /// Number of stages.
    #[config(default = 3)]
    pub stages: usize,
    /// Residual blocks per stage.
    #[config(default = 1)]
    pub blocks_per_stage: usize,
}

impl ResNetEncoderConfig {
    /// Builds the network.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a size is zero.
    pub fn init<B: Backend>(&self, device: &B::Device) -> crate::Result<ResNetEncoder<B>> {
        if self.in_channels == 0
            || self.width == 0
            || self.stages == 0
            || self.blocks_per_stage == 0
        {
            return Err(Error::config(
                "ResNetEncoderConfig",
                format!("every size must be ≥ 1: {self:?}"),
            ));
        }
        let mut blocks = Vec::new();
        let mut channels = self.width;
        for stage in 0..self.stages {
            let out = self.width << stage;
            for b in 0..self.blocks_per_stage {
                blocks.push(BasicBlock::new(channels, out, stage > 0 && b == 0, device));
                channels = out;
            }
        }
        Ok(ResNetEncoder {
            stem: Conv3x3::new(self.in_channels, self.width, device),
            stem_norm: BatchNormConfig::new(self.width).init(device),
            blocks,
            features: channels,
        })
    }
}

/// 2×2 average pooling of a channels-last tensor (odd edges dropped).
fn avg_pool2_nhwc<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [b, h, w, c] = x.dims();
    let (h2, w2) = (h / 2, w / 2);
    let x = x.narrow(1, 0, 2 * h2).narrow(2, 0, 2 * w2);
    x.reshape([b, h2, 2, w2, 2 * c])
        .mean_dim(2)
        .reshape([b, h2, w2, 2, c])
        .mean_dim(3)
        .reshape([b, h2, w2, c])
}

/// Two 3×3 convolutions with batch norm, plus the identity (or a 1×1 projection when the
/// width changes); a downsampling block first halves the resolution.
#[derive(Module, Debug)]
pub struct BasicBlock<B: Backend> {
    conv1: Conv3x3<B>,
    norm1: BatchNorm<B>,
    conv2: Conv3x3<B>,
    norm2: BatchNorm<B>,
    projection: Option<Linear<B>>,
    downsample: bool,
}

impl<B: Backend> BasicBlock<B> {
    fn new(cin: usize, cout: usize, downsample: bool, device: &B::Device) -> Self {
        Self {
            conv1: Conv3x3::new(cin, cout, device),
            norm1: BatchNormConfig::new(cout).init(device),
            conv2: Conv3x3::new(cout, cout, device),
            norm2: BatchNormConfig::new(cout).init(device),
            projection: (cin != cout)
                .then(|| LinearConfig::new(cin, cout).with_bias(false).init(device)),
            downsample,
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let x = if self.downsample {
            avg_pool2_nhwc(x)
        } else {
            x
        };
        let h = relu(batch_norm_nhwc(&self.norm1, self.conv1.forward(x.clone())));
        let h = batch_norm_nhwc(&self.norm2, self.conv2.forward(h));
        let skip = match &self.projection {
            Some(p) => p.forward(x),
            None => x,
        };
        relu(h + skip)
    }
}

/// A small ResNet for 16–64 pixel images; see [`ResNetEncoderConfig`].
///
/// Works channels-last internally with [`Conv3x3`] convolutions. Batch norm uses
/// batch statistics under an autodiff backend (training) and running statistics otherwise;
/// evaluate through `model.valid()`.
///
/// # Shapes
/// - input: `[batch, in_channels, height, width]`
/// - output: `[batch, features]`
#[derive(Module, Debug)]
pub struct ResNetEncoder<B: Backend> {
    stem: Conv3x3<B>,
    stem_norm: BatchNorm<B>,
    blocks: Vec<BasicBlock<B>>,
    features: usize,
}

impl<B: Backend> ResNetEncoder<B> {
    /// Width of the output features.
    pub fn features(&self) -> usize {
        self.features
    }

    /// Features of a batch of images.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = images.permute([0, 2, 3, 1]);
        let mut h = relu(batch_norm_nhwc(&self.stem_norm, self.stem.forward(x)));
        for block in &self.blocks {
            h = block.forward(h);
        }
        let [b, _, _, c] = h.dims();
        h.mean_dim(1).mean_dim(2).reshape([b, c])
    }
}

impl<B: Backend> Encoder<B> for ResNetEncoder<B> {
    type Input = Tensor<B, 4>;

    fn encode(&self, input: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(input)
    }
}
