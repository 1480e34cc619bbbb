//! `PrebuiltWgpu`, the wgpu backend whose operations are compiled inside the library: the
//! operations whose results are not plain tensors (a transaction's read-back, max pooling's
//! indices and its backward pass) move between it and Burn's `Wgpu` intact, and both types
//! take the fused loss kernel. Every other wgpu test runs on it too (`WgpuAutodiff`).
//! `PrebuiltNdArray`, its CPU counterpart, is recognised by the fused loss like Burn's
//! `NdArray`; every other ndarray test runs on it (`NdArrayAutodiff`).

#[cfg(feature = "wgpu")]
mod on_wgpu {
    use burn::backend::{Autodiff, Wgpu};
    use burn::tensor::module::max_pool2d_with_indices;
    use burn::tensor::{Bool, Int, Tensor, TensorData, Transaction};
    use infonce::backend::{NdArrayAutodiff, PrebuiltWgpu, WgpuAutodiff};
    use infonce::loss::has_fused_kernel;

    use crate::common::*;

    #[test]
    fn a_transaction_reads_back_every_tensor_in_registration_order() {
        let device = wgpu_device();
        let a = Tensor::<WgpuAutodiff, 1>::from_floats([1.0, 2.0], &device);
        let i = Tensor::<WgpuAutodiff, 1, Int>::from_ints([7, 8, 9], &device);
        let b = Tensor::<WgpuAutodiff, 2>::from_floats([[3.0], [4.0]], &device);
        let m =
            Tensor::<WgpuAutodiff, 1, Bool>::from_bool(TensorData::from([true, false]), &device);
        let read = Transaction::default()
            .register(a.clone())
            .register(i.clone())
            .register(b.clone())
            .register(m.clone())
            .execute();
        let expected = [a.into_data(), i.into_data(), b.into_data(), m.into_data()];
        assert_eq!(read.len(), expected.len());
        for (got, want) in read.iter().zip(&expected) {
            assert_eq!(got, want);
        }
    }

    /// Max pooling's output, indices and the gradient through them, on backend `B`.
    fn max_pool_and_gradient<B: burn::tensor::backend::AutodiffBackend>(
        device: &B::Device,
    ) -> (Vec<f64>, Vec<i64>, Vec<f64>) {
        let values = random_vec(2 * 3 * 4 * 4, 1.0, 61);
        let x = Tensor::<B, 1>::from_floats(
            values
                .iter()
                .map(|&v| v as f32)
                .collect::<Vec<_>>()
                .as_slice(),
            device,
        )
        .reshape([2, 3, 4, 4])
        .require_grad();
        let (output, indices) =
            max_pool2d_with_indices(x.clone(), [2, 2], [2, 2], [0, 0], [1, 1], false);
        let weights = Tensor::<B, 1>::from_floats(
            random_vec(output.shape().num_elements(), 1.0, 62)
                .iter()
                .map(|&v| v as f32)
                .collect::<Vec<_>>()
                .as_slice(),
            device,
        )
        .reshape(output.shape());
        let grads = (output.clone() * weights).sum().backward();
        let grad = x.grad(&grads).expect("the input is tracked");
        let indices = indices.into_data().convert::<i64>().to_vec().unwrap();
        (
            output.into_data().convert::<f64>().to_vec().unwrap(),
            indices,
            grad.into_data().convert::<f64>().to_vec().unwrap(),
        )
    }

    #[test]
    fn max_pooling_with_indices_and_its_backward_match_ndarray() {
        let (cpu_out, cpu_idx, cpu_grad) =
            max_pool_and_gradient::<NdArrayAutodiff>(&Default::default());
        let (gpu_out, gpu_idx, gpu_grad) = max_pool_and_gradient::<WgpuAutodiff>(&wgpu_device());
        assert_close(&gpu_out, &cpu_out, 1e-6, 1e-6, "pooled values");
        assert_eq!(gpu_idx, cpu_idx, "argmax indices");
        assert_close(&gpu_grad, &cpu_grad, 1e-6, 1e-6, "input gradient");
    }

    #[test]
    fn both_wgpu_types_take_the_fused_loss_kernel() {
        assert!(has_fused_kernel::<WgpuAutodiff>());
        assert!(has_fused_kernel::<PrebuiltWgpu>());
        assert!(has_fused_kernel::<Autodiff<Wgpu>>());
        assert!(has_fused_kernel::<Wgpu>());
    }
}

/// `PrebuiltNdArray`, the ndarray backend compiled inside the library (under
/// `NdArrayAutodiff`), and Burn's own `NdArray`, which users may name: both take the crate's
/// CPU kernels (the similarity product, the fused loss). That they give the same numbers is
/// a unit test of the loss's dispatch (`src/loss/fused/burn_ndarray_test.rs`): here it
/// would compile the whole loss, and Burn's ndarray operations, for a third backend type.
#[cfg(feature = "ndarray")]
mod on_ndarray {
    use burn::backend::{Autodiff, NdArray};
    use infonce::backend::{NdArrayAutodiff, PrebuiltNdArray};
    use infonce::loss::has_fused_kernel;

    #[test]
    fn both_ndarray_types_take_the_fused_loss_kernel() {
        assert!(has_fused_kernel::<NdArrayAutodiff>());
        assert!(has_fused_kernel::<PrebuiltNdArray>());
        assert!(has_fused_kernel::<Autodiff<NdArray>>());
        assert!(has_fused_kernel::<NdArray>());
    }
}
