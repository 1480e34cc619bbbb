//! 3×3 convolution as one matrix multiply over shifted copies of the input.

use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{backend::Backend, Tensor};

/// A 3×3, stride-1, zero-padded convolution on channels-last images, computed as
/// `[b·h·w, 9·c_in] × [9·c_in, c_out]`: the nine shifted copies of the padded input are
/// concatenated along channels (im2col with slices) and multiplied by the kernel.
///
/// Equivalent to `Conv2d` with padding 1 and no bias, but its backward pass is a matrix
/// multiply and slice additions, which every backend runs fast (burn-ndarray's
/// transposed convolution, used for `Conv2d`'s input gradient, is a scalar loop that
/// dominated training time on the CPU).
///
/// # Shapes
/// - input: `[batch, height, width, c_in]` → `[batch, height, width, c_out]`
#[derive(Module, Debug)]
pub struct ShiftedConv3x3<B: Backend> {
    /// `[9·c_in, c_out]`, row `(dy·3 + dx)·c_in + c` for tap `(dy, dx)` and input channel `c`.
    pub weight: Param<Tensor<B, 2>>,
    c_in: usize,
    c_out: usize,
}

impl<B: Backend> ShiftedConv3x3<B> {
    /// Kaiming-uniform initialised (fan-in `9·c_in`), like `Conv2d`'s default.
    pub fn new(c_in: usize, c_out: usize, device: &B::Device) -> Self {
        let weight = Initializer::KaimingUniform {
            gain: 1.0 / 3f64.sqrt(),
            fan_out_only: false,
        }
        .init_with([9 * c_in, c_out], Some(9 * c_in), Some(c_out), device);
        Self {
            weight,
            c_in,
            c_out,
        }
    }

    /// Applies the convolution.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [b, h, w, c] = x.dims();
        debug_assert_eq!(c, self.c_in);
        let device = x.device();
        let rows = Tensor::zeros([b, 1, w, c], &device);
        let x = Tensor::cat(vec![rows.clone(), x, rows], 1);
        let cols = Tensor::zeros([b, h + 2, 1, c], &device);
        let padded = Tensor::cat(vec![cols.clone(), x, cols], 2);
        let mut taps = Vec::with_capacity(9);
        for dy in 0..3 {
            for dx in 0..3 {
                taps.push(padded.clone().narrow(1, dy, h).narrow(2, dx, w));
            }
        }
        let patches = Tensor::cat(taps, 3).reshape([b * h * w, 9 * c]);
        patches
            .matmul(self.weight.val())
            .reshape([b, h, w, self.c_out])
    }
}
