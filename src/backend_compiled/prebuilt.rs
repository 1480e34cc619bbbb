//! The prebuilt backend types: Burn's backends, each under a name of this crate's whose
//! operations are the forwarding methods of `forward.rs`.

use burn_backend::BackendTypes;

use super::forward;

/// Declares a unit type that is `$inner` with its operations compiled in this crate.
macro_rules! prebuilt_backend {
    ($(#[$doc:meta])* $name:ident, $inner:ty) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;

        impl BackendTypes for $name {
            type Device = <$inner as BackendTypes>::Device;
            type FloatTensorPrimitive = <$inner as BackendTypes>::FloatTensorPrimitive;
            type FloatElem = <$inner as BackendTypes>::FloatElem;
            type IntTensorPrimitive = <$inner as BackendTypes>::IntTensorPrimitive;
            type IntElem = <$inner as BackendTypes>::IntElem;
            type BoolTensorPrimitive = <$inner as BackendTypes>::BoolTensorPrimitive;
            type BoolElem = <$inner as BackendTypes>::BoolElem;
            type QuantizedTensorPrimitive = <$inner as BackendTypes>::QuantizedTensorPrimitive;
        }

        forward::forward_backend!($name, $inner);
    };
}

#[cfg(feature = "wgpu")]
prebuilt_backend!(
    /// Burn's wgpu backend (`burn::backend::Wgpu`: Vulkan, Metal, DX12, WebGPU) with its
    /// operations compiled once, inside this crate, so that programs using it link them
    /// instead of compiling the GPU kernels again. Same tensors, devices
    /// (`burn::backend::wgpu::WgpuDevice`) and results as `Wgpu`.
    PrebuiltWgpu,
    burn::backend::Wgpu
);

#[cfg(feature = "ndarray")]
prebuilt_backend!(
    /// Burn's ndarray backend (`burn::backend::NdArray`, f32) with its operations compiled
    /// once, inside this crate, so that programs using it link them instead of compiling
    /// the CPU kernels again. Same tensors, devices
    /// (`burn::backend::ndarray::NdArrayDevice`) and results as `NdArray`.
    PrebuiltNdArray,
    burn::backend::NdArray
);
