//! Backend choice: type aliases and a run-time selector for examples and tools.
//!
//! Library code is generic over `B: Backend`; an application picks one type. The aliases
//! below are the ones the crate is tested with. [`BackendKind`] parses `--backend` flags,
//! and [`with_backend!`](crate::with_backend) calls a generic function with the matching
//! type.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// CPU backend (`burn-ndarray`), with autodiff: [`PrebuiltNdArray`], Burn's `NdArray`
/// with its operations compiled inside this crate. Feature `ndarray` (default).
#[cfg(feature = "ndarray")]
pub type NdArrayAutodiff = burn::backend::Autodiff<PrebuiltNdArray>;

#[cfg(feature = "ndarray")]
pub use crate::backend_compiled::PrebuiltNdArray;

/// GPU backend (`burn-wgpu`: Vulkan, Metal, DX12; lavapipe on CPU-only machines), with
/// autodiff: [`PrebuiltWgpu`], Burn's `Wgpu` with its operations compiled inside this
/// crate. Feature `wgpu`.
#[cfg(feature = "wgpu")]
pub type WgpuAutodiff = burn::backend::Autodiff<PrebuiltWgpu>;

#[cfg(feature = "wgpu")]
pub use crate::backend_compiled::PrebuiltWgpu;

/// Burn's `flex` CPU backend, with autodiff. Feature `flex`.
#[cfg(feature = "flex")]
pub type FlexAutodiff = burn::backend::Autodiff<burn::backend::Flex>;

/// NVIDIA GPU backend (`burn-cuda`, CUDA driver loaded at run time), with autodiff.
/// Feature `cuda`.
#[cfg(feature = "cuda")]
pub type CudaAutodiff = burn::backend::Autodiff<burn::backend::Cuda>;

/// A backend named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// `ndarray`
    NdArray,
    /// `wgpu`
    Wgpu,
    /// `flex`
    Flex,
    /// `cuda`
    Cuda,
}

impl BackendKind {
    /// The backends compiled into this build.
    pub fn available() -> Vec<BackendKind> {
        let mut v = Vec::new();
        if cfg!(feature = "ndarray") {
            v.push(BackendKind::NdArray);
        }
        if cfg!(feature = "wgpu") {
            v.push(BackendKind::Wgpu);
        }
        if cfg!(feature = "flex") {
            v.push(BackendKind::Flex);
        }
        if cfg!(feature = "cuda") {
            v.push(BackendKind::Cuda);
        }
        v
    }

    /// The cargo feature that enables this backend.
    pub fn feature(self) -> &'static str {
        match self {
            BackendKind::NdArray => "ndarray",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Flex => "flex",
            BackendKind::Cuda => "cuda",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.feature())
    }
}

impl FromStr for BackendKind {
    type Err = Error;

    /// Parses `ndarray`, `wgpu`, `flex` or `cuda`, and refuses one this build lacks.
    fn from_str(s: &str) -> Result<Self> {
        let kind = match s.to_ascii_lowercase().as_str() {
            "ndarray" | "cpu" => BackendKind::NdArray,
            "wgpu" | "gpu" => BackendKind::Wgpu,
            "flex" => BackendKind::Flex,
            "cuda" => BackendKind::Cuda,
            other => {
                return Err(Error::config(
                    "backend",
                    format!("unknown backend `{other}`; expected ndarray, wgpu, flex or cuda"),
                ));
            }
        };
        if !Self::available().contains(&kind) {
            return Err(Error::BackendUnavailable(format!(
                "`{kind}` is not compiled in; rebuild with `--features {}`",
                kind.feature()
            )));
        }
        Ok(kind)
    }
}

/// The exit code of an example or tool: success; or the error on one line of stderr (no
/// panic, no backtrace) and status 2 for a usage error ([`Error::is_usage`]: a setting
/// out of range, a resume with other settings) or 1 for a run-time failure.
pub fn exit_code(result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.to_string().replace('\n', " "));
            std::process::ExitCode::from(if e.is_usage() { 2 } else { 1 })
        }
    }
}

/// Checks that a wgpu adapter exists by running one tiny operation on the default device.
///
/// Burn panics when no adapter is found; this turns that into
/// [`Error::BackendUnavailable`] with a hint (on a machine without GPU, install Mesa's
/// software Vulkan: `apt-get install mesa-vulkan-drivers`).
#[cfg(feature = "wgpu")]
pub fn probe_wgpu() -> Result<burn::backend::wgpu::WgpuDevice> {
    use std::sync::OnceLock;
    // Probed once per process: adapter discovery is not safe to race.
    static PROBE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    let device = burn::backend::wgpu::WgpuDevice::default();
    PROBE
        .get_or_init(|| tiny_operation::<PrebuiltWgpu>(&device))
        .clone()
        .map(|()| device)
        .map_err(|msg| {
            Error::BackendUnavailable(format!(
                "no wgpu adapter ({msg}); on a machine without a GPU install Mesa's software \
                 Vulkan (apt-get install mesa-vulkan-drivers)"
            ))
        })
}

/// Checks that a CUDA device and driver exist by running one tiny operation on the
/// default device; [`Error::BackendUnavailable`] otherwise (burn-cuda panics).
#[cfg(feature = "cuda")]
pub fn probe_cuda() -> Result<burn::backend::cuda::CudaDevice> {
    use std::sync::OnceLock;
    static PROBE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    let device = burn::backend::cuda::CudaDevice::default();
    PROBE
        .get_or_init(|| tiny_operation::<burn::backend::Cuda>(&device))
        .clone()
        .map(|()| device)
        .map_err(|msg| {
            Error::BackendUnavailable(format!(
                "no CUDA device ({msg}); the cuda backend needs an NVIDIA GPU and its driver"
            ))
        })
}

/// Runs one tiny operation on `device`; a panic (no adapter, no driver) comes back as its
/// message. Swaps the process-wide panic hook while it runs, so call it once per backend.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn tiny_operation<Bk: burn::tensor::backend::Backend>(
    device: &Bk::Device,
) -> std::result::Result<(), String> {
    use burn::tensor::Tensor;
    let probe = device.clone();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    // The device handle is only read inside; a panic leaves nothing half-updated behind.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let t = Tensor::<Bk, 1>::from_floats([1.0, 2.0], &probe);
        t.sum().into_data()
    }));
    std::panic::set_hook(hook);
    result.map(|_| ()).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into())
    })
}

/// Calls `$run::<B>(device, args…)` with the autodiff backend type named by a
/// [`BackendKind`], returning its result (which must be a `Result` whose error converts
/// from [`Error`]). Arms for backends not compiled in are left out (their kinds are
/// refused when parsed).
///
/// ```
/// use burn::tensor::backend::AutodiffBackend;
/// use infonce::backend::BackendKind;
///
/// fn run<B: AutodiffBackend>(device: B::Device) -> infonce::Result<usize> {
///     let t = burn::tensor::Tensor::<B, 1>::zeros([3], &device);
///     Ok(t.dims()[0])
/// }
///
/// let kind: BackendKind = "ndarray".parse().unwrap();
/// let n = infonce::with_backend!(kind, run).unwrap();
/// assert_eq!(n, 3);
/// ```
#[macro_export]
macro_rules! with_backend {
    ($kind:expr, $run:ident $(, $arg:expr)* $(,)?) => {{
        match $kind {
            #[cfg(feature = "ndarray")]
            $crate::backend::BackendKind::NdArray => {
                $run::<$crate::backend::NdArrayAutodiff>(::core::default::Default::default() $(, $arg)*)
            }
            #[cfg(feature = "wgpu")]
            $crate::backend::BackendKind::Wgpu => match $crate::backend::probe_wgpu() {
                Ok(device) => $run::<$crate::backend::WgpuAutodiff>(device $(, $arg)*),
                Err(e) => Err(e.into()),
            },
            #[cfg(feature = "flex")]
            $crate::backend::BackendKind::Flex => {
                $run::<$crate::backend::FlexAutodiff>(::core::default::Default::default() $(, $arg)*)
            }
            #[cfg(feature = "cuda")]
            $crate::backend::BackendKind::Cuda => match $crate::backend::probe_cuda() {
                Ok(device) => $run::<$crate::backend::CudaAutodiff>(device $(, $arg)*),
                Err(e) => Err(e.into()),
            },
            #[allow(unreachable_patterns)]
            other => Err($crate::Error::BackendUnavailable(format!("`{other}` is not compiled in")).into()),
        }
    }};
}
