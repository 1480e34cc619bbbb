//! The reference CNN of the benchmark workloads (`infonce::bench`, `simclr_step_*`).

use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{Tensor, backend::Backend};

use super::{Conv3x3, ConvPath, Encoder, Mlp, MlpConfig, bias_relu_nhwc, max_pool2_nhwc};

/// conv3×3(3→32) → ReLU → max-pool 2 → conv3×3(32→64) → ReLU → max-pool 2 →
/// conv3×3(64→128) → ReLU → global average pool → Linear(128,128) → ReLU → Linear(128,64).
/// No batch norm, so it benchmarks the same graph as the PyTorch reference. The
/// convolutions are [`Conv3x3`] (the backend's fastest path) plus a bias, computed
/// channels-last; the input is channels-first `[batch, channels, height, width]`.
#[derive(Module, Debug)]
pub struct ReferenceCnn<B: Backend> {
    convs: Vec<Conv3x3<B>>,
    biases: Vec<Param<Tensor<B, 1>>>,
    head: Mlp<B>,
}

impl<B: Backend> ReferenceCnn<B> {
    /// Builds the network for `in_channels` input channels; weights and biases are
    /// initialised as PyTorch's `Conv2d` does (uniform in ±1/√fan-in).
    pub fn new(in_channels: usize, device: &B::Device) -> Self {
        let widths = [(in_channels, 32), (32, 64), (64, 128)];
        let bias = |cin: usize, cout: usize| {
            Initializer::KaimingUniform {
                gain: 1.0 / 3f64.sqrt(),
                fan_out_only: false,
            }
            .init_with([cout], Some(9 * cin), Some(cout), device)
        };
        Self {
            convs: widths
                .iter()
                .map(|&(cin, cout)| Conv3x3::new(cin, cout, device))
                .collect(),
            biases: widths.iter().map(|&(cin, cout)| bias(cin, cout)).collect(),
            head: MlpConfig::new(128, vec![128], 64)
                .init(device)
                .expect("fixed sizes"),
        }
    }

    /// The same network with every convolution computed along `path`.
    pub fn with_conv_path(mut self, path: ConvPath) -> Self {
        self.convs = self.convs.into_iter().map(|c| c.with_path(path)).collect();
        self
    }

    /// Convolution `i`, its bias and ReLU, channels-last.
    fn conv_relu(&self, i: usize, x: Tensor<B, 4>) -> Tensor<B, 4> {
        bias_relu_nhwc(self.convs[i].forward(x), self.biases[i].val())
    }
}

impl<B: Backend> Encoder<B> for ReferenceCnn<B> {
    type Input = Tensor<B, 4>;

    fn encode(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let h = x.permute([0, 2, 3, 1]);
        let h = max_pool2_nhwc(self.conv_relu(0, h));
        let h = max_pool2_nhwc(self.conv_relu(1, h));
        let h = self.conv_relu(2, h);
        let [b, _, _, c] = h.dims();
        self.head.forward(h.mean_dim(1).mean_dim(2).reshape([b, c]))
    }
}
