//! The reference CNN of the benchmark workloads (`BENCHMARKS.md`).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::{activation::relu, backend::Backend, Tensor};

use super::{Encoder, Mlp, MlpConfig};

/// conv3×3(3→32) → ReLU → max-pool 2 → conv3×3(32→64) → ReLU → max-pool 2 →
/// conv3×3(64→128) → ReLU → global average pool → Linear(128,128) → ReLU → Linear(128,64).
/// No batch norm, so it benchmarks the same graph as the PyTorch reference.
#[derive(Module, Debug)]
pub struct ReferenceCnn<B: Backend> {
    convs: Vec<Conv2d<B>>,
    pool: MaxPool2d,
    head: Mlp<B>,
}

impl<B: Backend> ReferenceCnn<B> {
    /// Builds the network for `in_channels` input channels.
    pub fn new(in_channels: usize, device: &B::Device) -> Self {
        let conv = |cin, cout| {
            Conv2dConfig::new([cin, cout], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        Self {
            convs: vec![conv(in_channels, 32), conv(32, 64), conv(64, 128)],
            pool: MaxPool2dConfig::new([2, 2]).init(),
            head: MlpConfig::new(128, vec![128], 64)
                .init(device)
                .expect("fixed sizes"),
        }
    }
}

impl<B: Backend> Encoder<B> for ReferenceCnn<B> {
    type Input = Tensor<B, 4>;

    fn encode(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let h = self.pool.forward(relu(self.convs[0].forward(x)));
        let h = self.pool.forward(relu(self.convs[1].forward(h)));
        let h = relu(self.convs[2].forward(h));
        let [b, c, _, _] = h.dims();
        self.head.forward(h.mean_dim(3).mean_dim(2).reshape([b, c]))
    }
}
