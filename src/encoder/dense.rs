//! Burn's [`Linear`] layer on rows, with a CPU operation of its own on burn-ndarray,
//! optionally fused with the ReLU that follows it.

use burn::nn::Linear;
use burn::tensor::{Tensor, activation::relu, backend::Backend};

/// `layer.forward(x)` for rows `x` `[batch, d_input]` → `[batch, d_output]`: `x · W + b`.
///
/// On burn-ndarray a layer with a bias is one CPU operation with its own backward: the
/// product on `matrixmultiply` (a large one split over rayon's threads), the bias added in
/// the same pass, and the two gradient products made with the transposes as strides, where
/// burn-ndarray's composed layer copies operands for its products. Elsewhere (flex's own
/// layer is faster than a round trip through host buffers), or without a bias, it is
/// `layer.forward`. Same values and gradients to 1e-5.
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::nn::LinearConfig;
/// use burn::tensor::Tensor;
/// use infonce::encoder::linear;
///
/// let device = Default::default();
/// let layer = LinearConfig::new(3, 2).init::<PrebuiltNdArray>(&device);
/// let x = Tensor::<PrebuiltNdArray, 2>::from_floats([[1.0, 2.0, 3.0]], &device);
/// let ours = linear(&layer, x.clone());
/// let burns = layer.forward(x);
/// let diff: f32 = (ours - burns).abs().max().into_scalar();
/// assert!(diff < 1e-5);
/// ```
pub fn linear<B: Backend>(layer: &Linear<B>, x: Tensor<B, 2>) -> Tensor<B, 2> {
    fused(layer, x, false).unwrap_or_else(|x| layer.forward(x))
}

/// `relu(layer.forward(x))` for rows `x` `[batch, d_input]`, as [`linear`] with the ReLU in
/// the same pass on burn-ndarray (which outputs passed is kept as a byte each for the
/// backward pass). A NaN stays NaN, as with Burn's `relu`.
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::nn::LinearConfig;
/// use burn::tensor::Tensor;
/// use infonce::encoder::linear_relu;
///
/// let device = Default::default();
/// let layer = LinearConfig::new(3, 4).init::<PrebuiltNdArray>(&device);
/// let x = Tensor::<PrebuiltNdArray, 2>::from_floats([[1.0, -2.0, 3.0]], &device);
/// let y: Vec<f32> = linear_relu(&layer, x).into_data().to_vec().unwrap();
/// assert!(y.iter().all(|&v| v >= 0.0));
/// ```
pub fn linear_relu<B: Backend>(layer: &Linear<B>, x: Tensor<B, 2>) -> Tensor<B, 2> {
    fused(layer, x, true).unwrap_or_else(|x| relu(layer.forward(x)))
}

/// The host operation when it applies; `x` back otherwise.
fn fused<B: Backend>(
    layer: &Linear<B>,
    x: Tensor<B, 2>,
    relu: bool,
) -> Result<Tensor<B, 2>, Tensor<B, 2>> {
    #[cfg(feature = "ndarray")]
    if let Some(bias) = &layer.bias {
        let operands = (x, layer.weight.val(), bias.val());
        return crate::host::try_host_dense(operands, relu).map_err(|(x, _, _)| x);
    }
    #[cfg(not(feature = "ndarray"))]
    let _ = (layer, relu);
    Err(x)
}
