//! Tensors of the host-memory backends (ndarray, flex) as plain `f32` buffers and back, for
//! the crate's CPU kernels. On ndarray a contiguous tensor that nothing else shares moves
//! out without a copy, a shared one is copied as one slice (burn-ndarray's own `into_data`
//! would walk it element by element), and a buffer moves back in without a copy.

use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Tensor, TensorData, TensorPrimitive};

/// The tensor's values in row-major order, its shape and its device.
pub(crate) fn to_host<K: Backend, const D: usize>(
    tensor: FloatTensor<K>,
) -> (Vec<f32>, [usize; D], K::Device) {
    let tensor = float_tensor::<K, D>(tensor);
    let (dims, device) = (tensor.dims(), tensor.device());
    #[cfg(feature = "ndarray")]
    let tensor = match shared_ndarray_values::<K>(tensor.into_primitive().tensor()) {
        Ok(values) => return (values, dims, device),
        Err(primitive) => float_tensor::<K, D>(primitive),
    };
    let data = tensor.into_data().convert::<f32>();
    let buffer = data.into_vec::<f32>().expect("converted to f32 just above");
    (buffer, dims, device)
}

/// The values of an ndarray `f32` tensor that other tensors share, in standard layout, copied
/// as one slice; the tensor back otherwise (another backend, unshared, or strided).
#[cfg(feature = "ndarray")]
fn shared_ndarray_values<K: Backend>(tensor: FloatTensor<K>) -> Result<Vec<f32>, FloatTensor<K>> {
    use burn::backend::ndarray::NdArrayTensor;

    use crate::loss::type_match::{back_to, same_type};

    let tensor: NdArrayTensor = same_type(tensor)?;
    let values = match &tensor {
        NdArrayTensor::F32(storage) if !storage.is_unique() => {
            storage.view().as_slice().map(<[f32]>::to_vec)
        }
        _ => None,
    };
    values.ok_or_else(|| back_to(tensor))
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
