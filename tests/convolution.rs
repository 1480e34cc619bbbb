//! `Conv3x3` (the ResNet's and the reference CNN's 3×3 convolution) along each of its
//! paths (the host im2col operation, shifted rows, the backend's `conv2d`) against a direct
//! f64 convolution: outputs, and input and weight gradients against central finite
//! differences of the reference; 2×2 max pooling and the bias + ReLU layer against their
//! definitions; channels-last batch norm against Burn's `BatchNorm`.

use burn::module::Module;
use burn::module::Param;
use burn::nn::{BatchNorm, BatchNormConfig};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use infonce::Encoder;
use infonce::encoder::{
    Conv3x3, ConvPath, ReferenceCnn, batch_norm_nhwc, bias_relu_nhwc, max_pool2_nhwc,
};
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
    for path in [ConvPath::Im2col, ConvPath::Shifted, ConvPath::Native] {
        conv_matches_along::<B>(path, device);
    }
}

fn conv_matches_along<B: AutodiffBackend>(path: ConvPath, device: &B::Device) {
    // The last shape has 612 pixels: the im2col path's three blocks of 256, the last partial.
    let shapes = [
        (2, 5, 4, 3, 2),
        (1, 1, 1, 2, 3),
        (3, 3, 6, 1, 4),
        (3, 17, 12, 4, 5),
    ];
    for (b, h, w, ci, co) in shapes {
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

/// The CPU backends take the im2col path, the others the backend's own convolution; a
/// checkpoint does not record the path.
fn conv3x3_takes_the_backends_fastest_path<B: AutodiffBackend>(device: &B::Device) {
    let name = B::name(device);
    let expected = if name.contains("ndarray") || name.contains("flex") {
        ConvPath::Im2col
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

/// The benchmark CNN: all three paths give the same embeddings and parameter gradients.
fn reference_cnn_is_the_same_on_all_paths<B: AutodiffBackend>(device: &B::Device) {
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
    let xb = input();
    let native = cnn.clone().with_conv_path(ConvPath::Native);
    let b = native.encode(xb.clone());
    let gb = values(
        xb.grad(&b.clone().powf_scalar(2.0).sum().backward())
            .unwrap(),
    );
    for path in [ConvPath::Im2col, ConvPath::Shifted] {
        let xa = input();
        let a = cnn.clone().with_conv_path(path).encode(xa.clone());
        assert_eq!(a.dims(), [2, 64]);
        let what = format!("{path:?} against Native");
        assert_close(&values(a.clone()), &values(b.clone()), 1e-5, 1e-5, &what);
        let ga = xa.grad(&a.powf_scalar(2.0).sum().backward()).unwrap();
        assert_close(
            &values(ga),
            &gb,
            1e-4,
            1e-4,
            &format!("input gradient, {what}"),
        );
    }
}

/// 2×2 max pooling: each output is the largest of its window (odd edges dropped), and the
/// gradient of `Σ r ⊙ pooled` is `r` at each window's largest input, zero elsewhere.
fn max_pool_takes_each_windows_largest<B: AutodiffBackend>(device: &B::Device) {
    let (b, h, w, c) = (2, 7, 6, 3);
    // Distinct values, so every window has one largest input.
    let mut x: Vec<f64> = (0..b * h * w * c)
        .map(|i| ((i * 37) % 251) as f64 / 25.0)
        .collect();
    x[0] = -1.0;
    let (h2, w2) = (h / 2, w / 2);
    let r = random_vec(b * h2 * w2 * c, 1.0, 3);
    let input = Tensor::<B, 4>::from_data(
        TensorData::new(x.iter().map(|&v| v as f32).collect(), [b, h, w, c]),
        device,
    )
    .require_grad();
    let pooled = max_pool2_nhwc(input.clone());
    assert_eq!(pooled.dims(), [b, h2, w2, c]);
    let mut expected = vec![0.0; b * h2 * w2 * c];
    let mut expected_grad = vec![0.0; x.len()];
    for (o, value) in expected.iter_mut().enumerate() {
        let (n, i, j, ch) = (o / (h2 * w2 * c), o / (w2 * c) % h2, o / c % w2, o % c);
        let at = |dy: usize, dx: usize| ((n * h + 2 * i + dy) * w + 2 * j + dx) * c + ch;
        let best = [at(0, 0), at(0, 1), at(1, 0), at(1, 1)]
            .into_iter()
            .max_by(|&p, &q| x[p].total_cmp(&x[q]))
            .unwrap();
        *value = x[best];
        expected_grad[best] = r[o];
    }
    assert_close(
        &values(pooled.clone()),
        &expected,
        1e-6,
        1e-6,
        "pooled values",
    );
    let weights = Tensor::<B, 4>::from_data(
        TensorData::new(r.iter().map(|&v| v as f32).collect(), [b, h2, w2, c]),
        device,
    );
    let grads = (pooled * weights).sum().backward();
    let grad = values(input.grad(&grads).unwrap());
    assert_close(&grad, &expected_grad, 1e-6, 1e-6, "input gradient");
}

/// `relu(x + bias)` per channel: values, and the gradients of `Σ r ⊙ y`, which are `r`
/// where `x + bias > 0` for `x` and its sum over the pixels for the bias.
fn bias_relu_passes_the_positive_sums<B: AutodiffBackend>(device: &B::Device) {
    let (b, h, w, c) = (2, 3, 5, 4);
    let x = random_vec(b * h * w * c, 1.0, 41);
    let bias = [0.3, -0.2, 0.05, -0.6];
    let r = random_vec(x.len(), 1.0, 43);
    let input = Tensor::<B, 4>::from_data(
        TensorData::new(x.iter().map(|&v| v as f32).collect(), [b, h, w, c]),
        device,
    )
    .require_grad();
    let bias_tensor = Tensor::<B, 1>::from_data(
        TensorData::new(bias.map(|v| v as f32).to_vec(), [c]),
        device,
    )
    .require_grad();
    let out = bias_relu_nhwc(input.clone(), bias_tensor.clone());
    let sums: Vec<f64> = x.iter().enumerate().map(|(i, v)| v + bias[i % c]).collect();
    let expected: Vec<f64> = sums.iter().map(|s| s.max(0.0)).collect();
    assert_close(&values(out.clone()), &expected, 1e-6, 1e-6, "values");
    let weights = Tensor::<B, 4>::from_data(
        TensorData::new(r.iter().map(|&v| v as f32).collect(), [b, h, w, c]),
        device,
    );
    let grads = (out * weights).sum().backward();
    let expected_x: Vec<f64> = (0..x.len())
        .map(|i| if sums[i] > 0.0 { r[i] } else { 0.0 })
        .collect();
    let mut expected_bias = vec![0.0; c];
    for (i, g) in expected_x.iter().enumerate() {
        expected_bias[i % c] += g;
    }
    let gx = values(input.grad(&grads).unwrap());
    let gb = values(bias_tensor.grad(&grads).unwrap());
    assert_close(&gx, &expected_x, 1e-6, 1e-6, "input gradient");
    assert_close(&gb, &expected_bias, 1e-5, 1e-5, "bias gradient");
}

/// A batch norm over `c` channels with `γ` and `β` drawn from `seed`.
fn batch_norm<B: AutodiffBackend>(c: usize, seed: u64, device: &B::Device) -> BatchNorm<B> {
    let mut norm = BatchNormConfig::new(c).with_momentum(0.3).init::<B>(device);
    let vector = |offset: f64, seed: u64| {
        let v: Vec<f32> = random_vec(c, 0.5, seed)
            .iter()
            .map(|v| (v + offset) as f32)
            .collect();
        Param::from_tensor(Tensor::<B, 1>::from_data(TensorData::new(v, [c]), device))
    };
    norm.gamma = vector(1.0, seed);
    norm.beta = vector(0.0, seed + 1);
    norm
}

/// `batch_norm_nhwc` equals Burn's `BatchNorm::forward` on the rows: values, the gradients of
/// `Σ r ⊙ y` for the input, `γ` and `β`, and the running statistics after two steps.
fn batch_norm_nhwc_equals_burns_batch_norm<B: AutodiffBackend>(device: &B::Device) {
    // 3 · 20 · 20 = 1 200 rows: several units of the row sums.
    let (b, h, w, c) = (3, 20, 20, 5);
    let x = random_vec(b * h * w * c, 2.0, 51);
    let r = random_vec(x.len(), 1.0, 53);
    let tensor = |v: &[f64]| {
        Tensor::<B, 4>::from_data(
            TensorData::new(v.iter().map(|&v| v as f32).collect(), [b, h, w, c]),
            device,
        )
    };
    let (ours, burns) = (batch_norm::<B>(c, 7, device), batch_norm::<B>(c, 7, device));
    let (xa, xb) = (tensor(&x).require_grad(), tensor(&x).require_grad());
    let ya = batch_norm_nhwc(&ours, xa.clone());
    let yb = burns
        .forward(xb.clone().reshape([b * h * w, c]))
        .reshape([b, h, w, c]);
    assert_close(
        &values(ya.clone()),
        &values(yb.clone()),
        1e-5,
        1e-5,
        "values",
    );
    let ga = (ya * tensor(&r)).sum().backward();
    let gb = (yb * tensor(&r)).sum().backward();
    let grad_of =
        |t: Tensor<B, 4>, g: &<B as AutodiffBackend>::Gradients| values(t.grad(g).unwrap());
    assert_close(
        &grad_of(xa, &ga),
        &grad_of(xb, &gb),
        1e-4,
        1e-4,
        "input gradient",
    );
    for (name, pa, pb) in [
        ("gamma", &ours.gamma, &burns.gamma),
        ("beta", &ours.beta, &burns.beta),
    ] {
        let (a, b) = (
            values(pa.val().grad(&ga).unwrap()),
            values(pb.val().grad(&gb).unwrap()),
        );
        assert_close(&a, &b, 1e-4, 1e-4, &format!("{name} gradient"));
    }
    // A second step moves the running statistics again.
    let _ = batch_norm_nhwc(&ours, tensor(&r));
    let _ = burns.forward(tensor(&r).reshape([b * h * w, c]));
    let mean = |n: &BatchNorm<B>| values(n.running_mean.value());
    let var = |n: &BatchNorm<B>| values(n.running_var.value());
    assert_close(&mean(&ours), &mean(&burns), 1e-5, 1e-5, "running mean");
    assert_close(&var(&ours), &var(&burns), 1e-5, 1e-5, "running variance");
}

backend_tests!(
    conv3x3_matches_direct_convolution,
    conv3x3_takes_the_backends_fastest_path,
    reference_cnn_is_the_same_on_all_paths,
    max_pool_takes_each_windows_largest,
    bias_relu_passes_the_positive_sums,
    batch_norm_nhwc_equals_burns_batch_norm,
);

#[cfg(feature = "flex")]
mod flex_backend {
    use infonce::backend::FlexAutodiff;

    #[test]
    fn conv3x3_matches_direct_convolution() {
        super::conv3x3_matches_direct_convolution::<FlexAutodiff>(&Default::default());
    }

    #[test]
    fn max_pool_takes_each_windows_largest() {
        super::max_pool_takes_each_windows_largest::<FlexAutodiff>(&Default::default());
    }

    #[test]
    fn batch_norm_nhwc_equals_burns_batch_norm() {
        super::batch_norm_nhwc_equals_burns_batch_norm::<FlexAutodiff>(&Default::default());
    }

    #[test]
    fn bias_relu_passes_the_positive_sums() {
        super::bias_relu_passes_the_positive_sums::<FlexAutodiff>(&Default::default());
    }
}
