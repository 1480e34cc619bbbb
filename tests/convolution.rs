//! `Conv3x3` (the ResNet's and the reference CNN's 3×3 convolution) along both of its
//! paths, shifted rows and the backend's `conv2d`, against a direct f64 convolution:
//! outputs, and input and weight gradients against central finite differences of the
//! reference.

use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use infonce::Encoder;
use infonce::encoder::{Conv3x3, ConvPath, ReferenceCnn};
use infonce::trainer::materialize_parameters;

use super::common::{assert_close, finite_difference, random_vec, values};

/// Zero-padded 3×3 convolution of channels-last `x` `[b, h, w, ci]` with `weight`
/// `[9·ci, co]` (row `(dy·3 + dx)·ci + c`), in f64.
#[allow(clippy::too_many_arguments)]
fn reference(
    x: &[f64],
    weight: &[f64],
    b: usize,
    h: usize,
    w: usize,
    ci: usize,
    co: usize,
) -> Vec<f64> {
    let mut out = vec![0.0; b * h * w * co];
    for n in 0..b {
        for y in 0..h {
            for xx in 0..w {
                for dy in 0..3 {
                    for dx in 0..3 {
                        let (sy, sx) = (y + dy, xx + dx);
                        if sy == 0 || sx == 0 || sy > h || sx > w {
                            continue;
                        }
                        let (sy, sx) = (sy - 1, sx - 1);
                        for c in 0..ci {
                            let v = x[((n * h + sy) * w + sx) * ci + c];
                            for o in 0..co {
                                out[((n * h + y) * w + xx) * co + o] +=
                                    v * weight[((dy * 3 + dx) * ci + c) * co + o];
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

fn conv3x3_matches_direct_convolution<B: AutodiffBackend>(device: &B::Device) {
    for path in [ConvPath::Shifted, ConvPath::Native] {
        conv_matches_along::<B>(path, device);
    }
}

fn conv_matches_along<B: AutodiffBackend>(path: ConvPath, device: &B::Device) {
    for (b, h, w, ci, co) in [(2, 5, 4, 3, 2), (1, 1, 1, 2, 3), (3, 3, 6, 1, 4)] {
        let conv = Conv3x3::<B>::new(ci, co, device).with_path(path);
        let weight = values(conv.weight.val());
        let x = random_vec(b * h * w * ci, 1.0, 17 + h as u64);
        let r = random_vec(b * h * w * co, 1.0, 29 + w as u64);
        let what = format!("{path:?} [{b},{h},{w},{ci}]→{co}");

        let input = Tensor::<B, 4>::from_data(
            TensorData::new(x.iter().map(|&v| v as f32).collect(), [b, h, w, ci]),
            device,
        )
        .require_grad();
        let weights = Tensor::<B, 4>::from_data(
            TensorData::new(r.iter().map(|&v| v as f32).collect(), [b, h, w, co]),
            device,
        );
        let out = conv.forward(input.clone());
        assert_eq!(out.dims(), [b, h, w, co]);
        assert_close(
            &values(out.clone()),
            &reference(&x, &weight, b, h, w, ci, co),
            1e-5,
            1e-5,
            &format!("output {what}"),
        );

        // L = Σ out ⊙ r: its gradients against finite differences of the reference.
        let loss = |x: &[f64], wt: &[f64]| -> f64 {
            reference(x, wt, b, h, w, ci, co)
                .iter()
                .zip(&r)
                .map(|(o, r)| o * r)
                .sum()
        };
        let grads = (out * weights).sum().backward();
        let gx = values(input.grad(&grads).unwrap());
        let gw = values(conv.weight.val().grad(&grads).unwrap());
        let fx = finite_difference(|v| loss(v, &weight), &x, 1e-4);
        let fw = finite_difference(|v| loss(&x, v), &weight, 1e-4);
        assert_close(&gx, &fx, 1e-4, 1e-4, &format!("input gradient {what}"));
        assert_close(&gw, &fw, 1e-4, 1e-4, &format!("weight gradient {what}"));
    }
}

/// The CPU backends take the shifted path, the others the backend's own convolution; a
/// checkpoint does not record the path.
fn conv3x3_takes_the_backends_fastest_path<B: AutodiffBackend>(device: &B::Device) {
    let name = B::name(device);
    let expected = if name.contains("ndarray") || name.contains("flex") {
        ConvPath::Shifted
    } else {
        ConvPath::Native
    };
    let conv = Conv3x3::<B>::new(2, 3, device);
    materialize_parameters::<B, _>(&conv);
    assert_eq!(conv.path(), expected, "{name}");
    assert_eq!(ConvPath::fastest_for::<B>(device), expected);
    let other = Conv3x3::<B>::new(2, 3, device).with_path(ConvPath::Native);
    let loaded = other.load_record(conv.clone().into_record());
    assert_eq!(loaded.path(), ConvPath::Native);
    assert_eq!(values(loaded.weight.val()), values(conv.weight.val()));
}

/// The benchmark CNN: both paths give the same embeddings and parameter gradients.
fn reference_cnn_is_the_same_on_both_paths<B: AutodiffBackend>(device: &B::Device) {
    let cnn = ReferenceCnn::<B>::new(3, device);
    // Parameters are drawn lazily: draw them before cloning, or each clone draws its own.
    materialize_parameters::<B, _>(&cnn);
    let x = random_vec(2 * 3 * 9 * 10, 1.0, 5);
    let input = || {
        Tensor::<B, 4>::from_data(
            TensorData::new(x.iter().map(|&v| v as f32).collect(), [2, 3, 9, 10]),
            device,
        )
        .require_grad()
    };
    let (xa, xb) = (input(), input());
    let shifted = cnn.clone().with_conv_path(ConvPath::Shifted);
    let native = cnn.with_conv_path(ConvPath::Native);
    let (a, b) = (shifted.encode(xa.clone()), native.encode(xb.clone()));
    assert_eq!(a.dims(), [2, 64]);
    assert_close(
        &values(a.clone()),
        &values(b.clone()),
        1e-5,
        1e-5,
        "embeddings",
    );
    let ga = xa.grad(&a.powf_scalar(2.0).sum().backward()).unwrap();
    let gb = xb.grad(&b.powf_scalar(2.0).sum().backward()).unwrap();
    assert_close(&values(ga), &values(gb), 1e-4, 1e-4, "input gradient");
}

backend_tests!(
    conv3x3_matches_direct_convolution,
    conv3x3_takes_the_backends_fastest_path,
    reference_cnn_is_the_same_on_both_paths,
);
