//! The same inputs on ndarray and wgpu agree to 1e-4 (losses and their gradients).

#[cfg(feature = "wgpu")]
mod on_wgpu {
    use burn::tensor::Int;
    use burn::tensor::Tensor;
    use burn::tensor::backend::AutodiffBackend;
    use infonce::backend::{NdArrayAutodiff, WgpuAutodiff};
    use infonce::loss;

    use crate::common::*;

    /// Loss value and gradients of every loss on backend `B`.
    fn all_losses<B: AutodiffBackend>(device: &B::Device) -> Vec<f64> {
        let (n, m, d) = (6, 6, 8);
        let s = random_vec(n * m, 3.0, 51);
        let z1 = random_vec(n * d, 1.0, 52);
        let z2 = random_vec(n * d, 1.0, 53);
        let mut out = Vec::new();

        let scores = tensor2::<B>(&s, n, m, device).require_grad();
        let idx = Tensor::<B, 1, Int>::from_ints([0, 1, 2, 3, 4, 5], device);
        let l = loss::info_nce(scores.clone(), idx).unwrap();
        out.push(scalar(l.clone()));
        out.extend(values(scores.grad(&l.backward()).unwrap()));

        let scores = tensor2::<B>(&s, n, m, device).require_grad();
        let l = loss::symmetric_info_nce(scores.clone()).unwrap();
        out.push(scalar(l.clone()));
        out.extend(values(scores.grad(&l.backward()).unwrap()));

        let a = tensor2::<B>(&z1, n, d, device).require_grad();
        let b = tensor2::<B>(&z2, n, d, device).require_grad();
        let l = loss::nt_xent(a.clone(), b.clone(), 0.1).unwrap();
        out.push(scalar(l.clone()));
        let g = l.backward();
        out.extend(values(a.grad(&g).unwrap()));
        out.extend(values(b.grad(&g).unwrap()));
        out
    }

    #[test]
    fn losses_and_gradients_agree_across_backends() {
        let cpu = all_losses::<NdArrayAutodiff>(&Default::default());
        let gpu = all_losses::<WgpuAutodiff>(&wgpu_device());
        assert_close(&gpu, &cpu, 1e-4, 1e-4, "wgpu vs ndarray");
    }
}
