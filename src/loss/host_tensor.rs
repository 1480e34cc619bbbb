//! Tensors of the host-memory backends (ndarray, flex) as plain `f32` buffers and back, for
//! the crate's CPU kernels. On ndarray a contiguous tensor that nothing else shares moves
//! out without a copy, and a buffer moves back in without one.

use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Tensor, TensorData, TensorPrimitive};

/// The tensor's values in row-major order, its shape and its device.
pub(crate) fn to_host<K: Backend, const D: usize>(
    tensor: FloatTensor<K>,
) -> (Vec<f32>, [usize; D], K::Device) {
    let tensor = float_tensor::<K, D>(tensor);
    let (dims, device) = (tensor.dims(), tensor.device());
    let data = tensor.into_data().convert::<f32>();
    let buffer = data.into_vec::<f32>().expect("converted to f32 just above");
    (buffer, dims, device)
}

/// A row-major buffer as a tensor of shape `dims`.
pub(crate) fn from_host<K: Backend, const D: usize>(
    buffer: Vec<f32>,
    dims: [usize; D],
    device: &K::Device,
) -> FloatTensor<K> {
    Tensor::<K, D>::from_data(TensorData::new(buffer, dims), device)
        .into_primitive()
        .tensor()
}

/// A primitive wrapped as a float tensor of rank `D`.
pub(crate) fn float_tensor<K: Backend, const D: usize>(primitive: FloatTensor<K>) -> Tensor<K, D> {
    Tensor::from_primitive(TensorPrimitive::Float(primitive))
}
