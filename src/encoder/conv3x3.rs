//! 3×3 convolution that takes each backend's fastest path: one CPU operation (gathered
//! neighbourhoods and one matrix product per block of pixels) on the CPU backends, the
//! backend's own `conv2d` elsewhere.

use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, backend::Backend};

/// How [`Conv3x3`] computes: both give the same values and gradients (tested), at
/// different speeds per backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvPath {
    /// One autodiff operation with its own backward on the host-memory backends (ndarray,
    /// flex): each block of 256 output pixels gathers its 3×3 neighbourhoods into a
    /// `[256, 9·c_in]` matrix (im2col) multiplied by the weight in one `matrixmultiply`
    /// product, blocks spread over rayon's threads; the input gradient is the same
    /// operation with the weight flipped, the weight gradient a sum of `colsᵀ · G` in a
    /// fixed order (the same bits on any number of threads). Other backends, which keep
    /// their tensors off the host, take [`ConvPath::Shifted`] instead.
    Im2col,
    /// Nine `[rows, c_in] × [c_in, c_out]` products over shifted row ranges of the padded,
    /// flattened image (and nine more for the gradient). Fast where matrix products are and
    /// convolution kernels are not: burn-ndarray's transposed convolution (`Conv2d`'s input
    /// gradient) is a scalar loop, 85× slower than PyTorch on the benchmark CNN.
    Shifted,
    /// The backend's `conv2d` (its own kernels on wgpu and cuda), with the weight viewed as
    /// `[c_out, c_in, 3, 3]`.
    Native,
}

impl ConvPath {
    /// The faster path for backend `B`: [`ConvPath::Im2col`] on burn-ndarray and burn-flex
    /// (through autodiff or not), [`ConvPath::Native`] on every other backend.
    pub fn fastest_for<B: Backend>(device: &B::Device) -> Self {
        let name = B::name(device);
        if name.contains("ndarray") || name.contains("flex") {
            ConvPath::Im2col
        } else {
            ConvPath::Native
        }
    }
}

/// A 3×3, stride-1, zero-padded convolution without bias on channels-last images (He et
/// al. 2016's basic-block convolution), the one convolution of [`super::ResNetEncoder`] and
/// [`super::ReferenceCnn`]. Its [`ConvPath`] is chosen for the backend at construction
/// ([`ConvPath::fastest_for`]) and can be overridden with [`Conv3x3::with_path`]; the path
/// is not part of the record, so a checkpoint loads on any backend.
///
/// The im2col path is the fastest on the CPU (a default SimCLR step of the ResNet: see the
/// crate's README, Benchmarks). The shifted path: on the padded image flattened to `[b·(h+2)·(w+2), c_in]` rows, tap
/// `(dy, dx)` of output row `p` is input row `p + dy·(w+2) + dx`, so every tap is a
/// contiguous row range and a matrix product; forward and backward are matrix products and
/// contiguous copies (a default SimCLR step: 285 ms, against 490 ms for im2col with
/// strided slices).
///
/// # Shapes
/// - input: `[batch, height, width, c_in]` → `[batch, height, width, c_out]`
///
/// # Example
/// ```
/// use infonce::backend::PrebuiltNdArray;
/// use burn::tensor::Tensor;
/// use infonce::encoder::{Conv3x3, ConvPath};
///
/// let device = Default::default();
/// let conv = Conv3x3::<PrebuiltNdArray>::new(3, 8, &device);
/// // Parameters are drawn lazily: draw them before cloning.
/// infonce::trainer::materialize_parameters::<PrebuiltNdArray, _>(&conv);
/// assert_eq!(conv.path(), ConvPath::Im2col);
/// let x = Tensor::<PrebuiltNdArray, 4>::ones([2, 5, 5, 3], &device);
/// let shifted = conv.forward(x.clone());
/// let native = conv.clone().with_path(ConvPath::Native).forward(x);
/// assert_eq!(shifted.dims(), [2, 5, 5, 8]);
/// shifted.into_data().assert_approx_eq::<f32>(&native.into_data(), Default::default());
/// ```
#[derive(Module, Debug)]
pub struct Conv3x3<B: Backend> {
    /// `[9·c_in, c_out]`, row `(dy·3 + dx)·c_in + c` for tap `(dy, dx)` and input channel `c`.
    pub weight: Param<Tensor<B, 2>>,
    c_in: usize,
    c_out: usize,
    #[module(skip)]
    path: ConvPath,
}

impl<B: Backend> Conv3x3<B> {
    /// Kaiming-uniform initialised (fan-in `9·c_in`), like `Conv2d`'s default, on the
    /// backend's fastest path.
    pub fn new(c_in: usize, c_out: usize, device: &B::Device) -> Self {
        let weight = Initializer::KaimingUniform {
            gain: 1.0 / 3f64.sqrt(),
            fan_out_only: false,
        }
        .init_with([9 * c_in, c_out], Some(9 * c_in), Some(c_out), device);
        Self {
            weight,
            c_in,
            c_out,
            path: ConvPath::fastest_for::<B>(device),
        }
    }

    /// The same convolution computed along `path`.
    pub fn with_path(mut self, path: ConvPath) -> Self {
        self.path = path;
        self
    }

    /// The path [`Conv3x3::forward`] takes.
    pub fn path(&self) -> ConvPath {
        self.path
    }

    /// Applies the convolution along [`Conv3x3::path`].
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        debug_assert_eq!(x.dims()[3], self.c_in);
        match self.path {
            ConvPath::Im2col => self.forward_im2col(x),
            ConvPath::Shifted => self.forward_shifted(x),
            ConvPath::Native => self.forward_native(x),
        }
    }

    /// The host operation where `B` keeps its tensors in host memory, the shifted path
    /// elsewhere.
    fn forward_im2col(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        #[cfg(any(feature = "ndarray", feature = "flex"))]
        let x = match crate::host::try_host_conv3x3(x, self.weight.val()) {
            Ok(out) => return out,
            Err((x, _)) => x,
        };
        self.forward_shifted(x)
    }

    /// The backend's `conv2d` on the channels-first view of `x`; the weight's rows
    /// `(dy, dx, c_in)` become `[c_out, c_in, dy, dx]`.
    fn forward_native(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let weight = self
            .weight
            .val()
            .reshape([3, 3, self.c_in, self.c_out])
            .permute([3, 2, 0, 1]);
        let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        conv2d(x.permute([0, 3, 1, 2]), weight, None, options).permute([0, 2, 3, 1])
    }

    /// The input is zero-padded and flattened to `[b·(h+2)·(w+2), c_in]` rows; tap
    /// `(dy, dx)` of output row `p` is input row `p + dy·(w+2) + dx`, so each of the nine
    /// shifted copies is a contiguous range of rows (a cheap copy on every backend, and a
    /// cheap gradient). Rows that land on the padding are computed and dropped.
    fn forward_shifted(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [b, h, w, c] = x.dims();
        let device = x.device();
        let (hp, wp) = (h + 2, w + 2);
        let rows = Tensor::zeros([b, 1, w, c], &device);
        let x = Tensor::cat(vec![rows.clone(), x, rows], 1);
        let cols = Tensor::zeros([b, hp, 1, c], &device);
        let flat = Tensor::cat(vec![cols.clone(), x, cols], 2).reshape([b * hp * wp, c]);
        let reach = 2 * wp + 2;
        let len = b * hp * wp - reach;
        let weight = self.weight.val();
        let mut out: Option<Tensor<B, 2>> = None;
        for (k, (dy, dx)) in (0..3)
            .flat_map(|dy| (0..3).map(move |dx| (dy, dx)))
            .enumerate()
        {
            let tap = flat.clone().narrow(0, dy * wp + dx, len);
            let term = tap.matmul(weight.clone().narrow(0, k * c, c));
            out = Some(match out {
                Some(sum) => sum + term,
                None => term,
            });
        }
        let out = out.expect("nine taps");
        let tail = Tensor::zeros([reach, self.c_out], &device);
        Tensor::cat(vec![out, tail], 0)
            .reshape([b, hp, wp, self.c_out])
            .narrow(1, 0, h)
            .narrow(2, 0, w)
    }
}
