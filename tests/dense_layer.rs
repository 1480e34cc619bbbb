//! `encoder::linear` and `encoder::linear_relu`: Burn's `Linear` (and ReLU) as one CPU
//! operation on the host backends, Burn's layer elsewhere. Checked against an f64
//! reference in value and gradient, against finite differences, and against Burn's own
//! layer at a size whose products split over threads.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use infonce::encoder::{linear, linear_relu};

use super::common::{assert_close, finite_difference, random_vec, tensor2, values};

/// A `[inputs, outputs]` layer with the given weight and bias.
fn layer<B: AutodiffBackend>(
    weight: &[f64],
    bias: &[f64],
    inputs: usize,
    outputs: usize,
    device: &B::Device,
) -> Linear<B> {
    let mut layer = LinearConfig::new(inputs, outputs).init::<B>(device);
    layer.weight = Param::from_tensor(tensor2::<B>(weight, inputs, outputs, device));
    let bias: Vec<f32> = bias.iter().map(|&v| v as f32).collect();
    let bias = Tensor::<B, 1>::from_data(TensorData::new(bias, [outputs]), device);
    layer.bias = Some(Param::from_tensor(bias));
    layer
}

/// `x · W + b` and, with `relu`, `max(·, 0)`, in f64; also the sums before the ReLU.
fn reference(x: &[f64], w: &[f64], b: &[f64], dims: [usize; 3], relu: bool) -> Vec<f64> {
    let [rows, inputs, outputs] = dims;
    let mut out = vec![0.0; rows * outputs];
    for r in 0..rows {
        for o in 0..outputs {
            let s: f64 = (0..inputs)
                .map(|i| x[r * inputs + i] * w[i * outputs + o])
                .sum();
            let s = s + b[o];
            out[r * outputs + o] = if relu { s.max(0.0) } else { s };
        }
    }
    out
}

/// Values, and the gradients of `Σ r ⊙ y` for `x`, `W` and `b`, against the f64 reference
/// and its finite differences (the inputs keep every sum away from the ReLU's kink).
fn dense_layer_matches_the_reference_and_finite_differences<B: AutodiffBackend>(
    device: &B::Device,
) {
    let dims @ [rows, inputs, outputs] = [6, 5, 4];
    let (x, w, b) = (
        random_vec(rows * inputs, 1.0, 3),
        random_vec(inputs * outputs, 1.0, 5),
        random_vec(outputs, 0.5, 7),
    );
    let r = random_vec(rows * outputs, 1.0, 11);
    for with_relu in [false, true] {
        let model = layer::<B>(&w, &b, inputs, outputs, device);
        let input = tensor2::<B>(&x, rows, inputs, device).require_grad();
        let out = match with_relu {
            true => linear_relu(&model, input.clone()),
            false => linear(&model, input.clone()),
        };
        let what = |part: &str| format!("{part} (relu: {with_relu})");
        let expected = reference(&x, &w, &b, dims, with_relu);
        assert_close(&values(out.clone()), &expected, 1e-5, 1e-5, &what("values"));
        let weights = tensor2::<B>(&r, rows, outputs, device);
        let grads = (out * weights).sum().backward();
        let objective = |x: &[f64], w: &[f64], b: &[f64]| -> f64 {
            let y = reference(x, w, b, dims, with_relu);
            y.iter().zip(&r).map(|(y, r)| y * r).sum()
        };
        let fd_x = finite_difference(|v| objective(v, &w, &b), &x, 1e-6);
        let fd_w = finite_difference(|v| objective(&x, v, &b), &w, 1e-6);
        let fd_b = finite_difference(|v| objective(&x, &w, v), &b, 1e-6);
        let gx = values(input.grad(&grads).unwrap());
        let gw = values(model.weight.val().grad(&grads).unwrap());
        let gb = values(model.bias.as_ref().unwrap().val().grad(&grads).unwrap());
        assert_close(&gx, &fd_x, 1e-4, 1e-4, &what("input gradient"));
        assert_close(&gw, &fd_w, 1e-4, 1e-4, &what("weight gradient"));
        assert_close(&gb, &fd_b, 1e-4, 1e-4, &what("bias gradient"));
    }
}

/// Burn's own layer and ReLU at 300 × 200 → 100 (the products split over threads):
/// same values and gradients to 1e-5 of the largest entry.
fn dense_layer_equals_burns_layer_at_a_threaded_size<B: AutodiffBackend>(device: &B::Device) {
    let [rows, inputs, outputs] = [300, 200, 100];
    let model = LinearConfig::new(inputs, outputs).init::<B>(device);
    let x = random_vec(rows * inputs, 1.0, 13);
    let r = tensor2::<B>(&random_vec(rows * outputs, 1.0, 17), rows, outputs, device);
    let run = |ours: bool| {
        let input = tensor2::<B>(&x, rows, inputs, device).require_grad();
        let out = match ours {
            true => linear_relu(&model, input.clone()),
            false => relu(model.forward(input.clone())),
        };
        let grads = (out.clone() * r.clone()).sum().backward();
        let bias = model.bias.as_ref().unwrap().val();
        [
            values(out),
            values(input.grad(&grads).unwrap()),
            values(model.weight.val().grad(&grads).unwrap()),
            values(bias.grad(&grads).unwrap()),
        ]
    };
    let (ours, burns) = (run(true), run(false));
    for (part, (got, want)) in ["values", "input", "weight", "bias"]
        .iter()
        .zip(ours.iter().zip(&burns))
    {
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert_close(got, want, 1e-5 * scale, 0.0, part);
    }
}

/// A NaN input makes its row's outputs NaN and passes the ReLU, as with Burn's `relu`; a
/// layer without a bias takes Burn's layer and gives its result.
fn nan_passes_and_a_layer_without_bias_is_burns<B: AutodiffBackend>(device: &B::Device) {
    let model = layer::<B>(&[1.0, -1.0], &[0.0, 0.0], 1, 2, device);
    let x = Tensor::<B, 2>::from_floats([[f32::NAN], [2.0]], device);
    let y = values(linear_relu(&model, x));
    assert!(y[0].is_nan() && y[1].is_nan(), "{y:?}");
    assert_eq!(&y[2..], &[2.0, 0.0]);

    let plain = LinearConfig::new(3, 2).with_bias(false).init::<B>(device);
    let x = tensor2::<B>(&random_vec(12, 1.0, 19), 4, 3, device);
    assert_eq!(values(linear(&plain, x.clone())), values(plain.forward(x)));
}

backend_tests!(
    dense_layer_matches_the_reference_and_finite_differences,
    dense_layer_equals_burns_layer_at_a_threaded_size,
    nan_passes_and_a_layer_without_bias_is_burns,
);
