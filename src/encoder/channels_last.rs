//! Layers of channels-last images `[batch, height, width, channels]` with a CPU operation of
//! their own on the host backends (ndarray, flex) and Burn's operations elsewhere.

use burn::nn::BatchNorm;
use burn::tensor::{Tensor, activation::relu, backend::Backend};

/// Burn's [`BatchNorm`] over the channels of channels-last `x` `[batch, height, width,
/// channels]` (Ioffe and Szegedy 2015): while training (an autodiff backend), the batch's
/// statistics normalise and the running statistics move towards them by the module's
/// momentum; otherwise the running statistics normalise. Same values, gradients and
/// running statistics as `norm.forward` on the rows `[batch·height·width, channels]`.
///
/// On the host backends (ndarray, flex) the training forward is one CPU operation with its
/// own backward (two passes over the rows each way) in place of Burn's dozen broadcast
/// operations and their backward steps.
///
/// # Example
/// ```
/// use infonce::backend::NdArrayAutodiff;
/// use burn::nn::BatchNormConfig;
/// use burn::tensor::Tensor;
/// use infonce::encoder::batch_norm_nhwc;
///
/// let device = Default::default();
/// let norm = BatchNormConfig::new(1).init::<NdArrayAutodiff>(&device);
/// let x = Tensor::<NdArrayAutodiff, 4>::from_floats([[[[1.0], [3.0]]]], &device);
/// // Training: mean 2, variance 1, so ±1 (up to ε); γ = 1, β = 0 at initialisation.
/// let y: Vec<f32> = batch_norm_nhwc(&norm, x).into_data().to_vec().unwrap();
/// assert!((y[0] + 1.0).abs() < 1e-4 && (y[1] - 1.0).abs() < 1e-4);
/// ```
pub fn batch_norm_nhwc<B: Backend>(norm: &BatchNorm<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [b, h, w, c] = x.dims();
    let rows = x.reshape([b * h * w, c]);
    #[cfg(any(feature = "ndarray", feature = "flex"))]
    let rows = match B::ad_enabled(&rows.device()) {
        true => match host_batch_norm_train(norm, rows) {
            Ok(normalized) => return normalized.reshape([b, h, w, c]),
            Err(rows) => rows,
        },
        false => rows,
    };
    norm.forward(rows).reshape([b, h, w, c])
}

/// The training forward on the host kernel, with Burn's update of the running statistics
/// (`running · (1 − momentum) + batch · momentum`); the rows back where it does not apply.
#[cfg(any(feature = "ndarray", feature = "flex"))]
fn host_batch_norm_train<B: Backend>(
    norm: &BatchNorm<B>,
    rows: Tensor<B, 2>,
) -> Result<Tensor<B, 2>, Tensor<B, 2>> {
    use burn::tensor::TensorData;

    let (gamma, beta) = (norm.gamma.val(), norm.beta.val());
    let (normalized, stats) = crate::host::try_host_batch_norm(rows, gamma, beta, norm.epsilon)
        .map_err(|(rows, _, _)| rows)?;
    let device = normalized.device();
    let momentum = norm.momentum;
    let moved = |running: Tensor<B, 1>, batch: Vec<f32>| {
        let batch =
            Tensor::<B, 1>::from_data(TensorData::new(batch.clone(), [batch.len()]), &device);
        let running = running.to_device(&device).mul_scalar(1.0 - momentum);
        running.add(batch.mul_scalar(momentum)).detach()
    };
    let crate::host::BatchStats { mean, var } = stats;
    norm.running_mean
        .update(moved(norm.running_mean.value_sync(), mean));
    norm.running_var
        .update(moved(norm.running_var.value_sync(), var));
    Ok(normalized)
}

/// `relu(x + bias)` of channels-last `x` `[batch, height, width, channels]` with one bias
/// value per channel, as after a convolution. A NaN stays NaN, as with Burn's `relu`.
///
/// On the host backends (ndarray, flex) this is one CPU operation with its own backward:
/// one pass forward, keeping which outputs were positive, and one pass back. On the others
/// it is Burn's addition and ReLU.
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::Tensor;
/// use infonce::encoder::bias_relu_nhwc;
///
/// let device = Default::default();
/// let x = Tensor::<PrebuiltNdArray, 4>::from_floats([[[[1.0, -1.0], [-3.0, 0.5]]]], &device);
/// let bias = Tensor::<PrebuiltNdArray, 1>::from_floats([1.0, 0.0], &device);
/// let y = bias_relu_nhwc(x, bias);
/// assert_eq!(y.into_data().to_vec::<f32>().unwrap(), vec![2.0, 0.0, 0.0, 0.5]);
/// ```
///
/// # Panics
/// When `bias` does not hold one value per channel (as Burn's broadcast addition).
pub fn bias_relu_nhwc<B: Backend>(x: Tensor<B, 4>, bias: Tensor<B, 1>) -> Tensor<B, 4> {
    #[cfg(any(feature = "ndarray", feature = "flex"))]
    let (x, bias) = match crate::host::try_host_bias_relu(x, bias) {
        Ok(activated) => return activated,
        Err(operands) => operands,
    };
    relu(x + bias.unsqueeze::<4>())
}

/// 2×2 max pooling with stride 2 of channels-last `x` `[batch, height, width, channels]`,
/// odd edges dropped (as PyTorch's `MaxPool2d(2)`): `[batch, height/2, width/2, channels]`.
/// The gradient of each output goes to the input that won its window (the first of equal
/// ones, in row-major order).
///
/// On the host backends (ndarray, flex) this is one CPU operation with its own backward,
/// which records the winners in the forward pass; on the others it is composed of Burn's
/// `max_dim`, whose gradient on burn-ndarray goes through a gather and a scatter.
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::Tensor;
/// use infonce::encoder::max_pool2_nhwc;
///
/// let device = Default::default();
/// // One 2×3 image with one channel: the odd last column is dropped.
/// let x = Tensor::<PrebuiltNdArray, 4>::from_floats([[[[1.0], [5.0], [9.0]], [[3.0], [2.0], [0.0]]]], &device);
/// let pooled = max_pool2_nhwc(x);
/// assert_eq!(pooled.dims(), [1, 1, 1, 1]);
/// assert_eq!(pooled.into_data().to_vec::<f32>().unwrap(), vec![5.0]);
/// ```
pub fn max_pool2_nhwc<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    #[cfg(any(feature = "ndarray", feature = "flex"))]
    let x = match crate::host::try_host_max_pool2(x) {
        Ok(pooled) => return pooled,
        Err(x) => x,
    };
    let [b, h, w, c] = x.dims();
    let (h2, w2) = (h / 2, w / 2);
    x.narrow(1, 0, 2 * h2)
        .narrow(2, 0, 2 * w2)
        .reshape([b, h2, 2, w2, 2 * c])
        .max_dim(2)
        .reshape([b, h2, w2, 2, c])
        .max_dim(3)
        .reshape([b, h2, w2, c])
}
