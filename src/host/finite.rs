//! Whether a host tensor holds a NaN or an infinity, in one pass over its values where they
//! are (burn-ndarray), instead of Burn's `is_nan().any()` and `is_inf().any()`: two boolean
//! tensors built and two more passes to reduce them. The trainer runs this on the loss and
//! every gradient of every step.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// Values per block of the scan: each block's flags fold into the result once.
const BLOCK: usize = 256;

/// `(holds a NaN, holds an infinity)` of the values, in blocks the compiler vectorises (no
/// early exit inside a block).
fn scan_non_finite(values: &[f32]) -> (bool, bool) {
    let (mut nan, mut inf) = (false, false);
    for block in values.chunks(BLOCK) {
        let (block_nan, block_inf) = block.iter().fold((false, false), |(n, i), v| {
            (n | v.is_nan(), i | (v.abs() == f32::INFINITY))
        });
        nan |= block_nan;
        inf |= block_inf;
    }
    (nan, inf)
}

/// `(holds a NaN, holds an infinity)` when `x` is on a host backend: read in place on
/// burn-ndarray, from one copy on burn-flex. `x` back otherwise, for Burn's own reductions
/// on the device.
pub(crate) fn host_non_finite<B: Backend, const D: usize>(
    x: Tensor<B, D>,
) -> Result<(bool, bool), Tensor<B, D>> {
    #[cfg(feature = "ndarray")]
    let x = match ndarray_non_finite(x) {
        Ok(flags) => return Ok(flags),
        Err(x) => x,
    };
    #[cfg(feature = "flex")]
    if std::any::TypeId::of::<B>() == std::any::TypeId::of::<burn::backend::Flex>() {
        let (values, _, _) = super::tensor::to_host::<B, D>(x.into_primitive().tensor());
        return Ok(scan_non_finite(&values));
    }
    Err(x)
}

/// The flags of a burn-ndarray `f32` tensor, read where its values are (a strided view
/// element by element); `x` back for any other tensor.
#[cfg(feature = "ndarray")]
fn ndarray_non_finite<B: Backend, const D: usize>(
    x: Tensor<B, D>,
) -> Result<(bool, bool), Tensor<B, D>> {
    use burn::backend::ndarray::NdArrayTensor;

    use super::tensor::float_tensor;
    use crate::loss::type_match::{back_to, same_type};

    let tensor: NdArrayTensor = match same_type(x.into_primitive().tensor()) {
        Ok(tensor) => tensor,
        Err(primitive) => return Err(float_tensor(primitive)),
    };
    match &tensor {
        NdArrayTensor::F32(storage) => {
            let view = storage.view();
            Ok(match view.as_slice() {
                Some(values) => scan_non_finite(values),
                None => view.iter().fold((false, false), |(n, i), v| {
                    (n | v.is_nan(), i | v.is_infinite())
                }),
            })
        }
        _ => Err(float_tensor(back_to(tensor))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slice_scan_finds_each_kind_in_any_block() {
        for at in [0, 5, BLOCK - 1, BLOCK, 3 * BLOCK + 7] {
            let mut values = vec![1.5f32; 4 * BLOCK];
            assert_eq!(scan_non_finite(&values), (false, false));
            values[at] = f32::NEG_INFINITY;
            assert_eq!(scan_non_finite(&values), (false, true));
            values[at] = f32::NAN;
            assert_eq!(scan_non_finite(&values), (true, false));
            values[4 * BLOCK - 1 - at] = f32::INFINITY;
            assert_eq!(scan_non_finite(&values), (true, true));
        }
        assert_eq!(scan_non_finite(&[f32::MAX, -f32::MAX]), (false, false));
    }
}
