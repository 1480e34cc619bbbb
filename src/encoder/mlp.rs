//! A multi-layer perceptron with ReLU activations.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Tensor, backend::Backend};

use super::{Encoder, linear, linear_relu};
use crate::Error;

/// Configuration of an [`Mlp`]: `d_input → hidden[0] → … → d_output`, ReLU between layers,
/// none after the last.
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Width of the input.
    pub d_input: usize,
    /// Widths of the hidden layers (may be empty: a single linear map).
    pub hidden: Vec<usize>,
    /// Width of the output.
    pub d_output: usize,
}

impl MlpConfig {
    /// Builds the network on `device`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when any width is zero.
    pub fn init<B: Backend>(&self, device: &B::Device) -> crate::Result<Mlp<B>> {
        let widths: Vec<usize> = std::iter::once(self.d_input)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(self.d_output))
            .collect();
        if widths.contains(&0) {
            return Err(Error::config(
                "MlpConfig",
                format!("every layer width must be ≥ 1, got {widths:?}"),
            ));
        }
        let layers = widths
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Ok(Mlp {
            layers,
            d_input: self.d_input,
            d_output: self.d_output,
        })
    }
}

/// A ReLU multi-layer perceptron; see [`MlpConfig`].
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    layers: Vec<Linear<B>>,
    d_input: usize,
    d_output: usize,
}

impl<B: Backend> Mlp<B> {
    /// Applies the network.
    ///
    /// # Shapes
    /// - `x`: `[batch, d_input]` → `[batch, d_output]`
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            if i < last {
                linear_relu(layer, h)
            } else {
                linear(layer, h)
            }
        })
    }

    /// Width of the input.
    pub fn d_input(&self) -> usize {
        self.d_input
    }

    /// Width of the output.
    pub fn d_output(&self) -> usize {
        self.d_output
    }
}

impl<B: Backend> Encoder<B> for Mlp<B> {
    type Input = Tensor<B, 2>;

    fn encode(&self, input: Tensor<B, 2>) -> Tensor<B, 2> {
        self.forward(input)
    }
}
