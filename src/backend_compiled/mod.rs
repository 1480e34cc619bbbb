//! Backends whose operations are compiled once, in this crate.
//!
//! Burn's backends are generic (`CubeBackend<R, F, I, BT>` for wgpu), and Rust compiles a
//! generic function again in every crate that uses it at `opt-level = 3`. A program that
//! runs the crate's generic trainer on `Autodiff<burn::backend::Wgpu>` therefore compiles
//! the wgpu backend's kernels (CubeCL's matrix products, reductions, quantised views) for
//! itself, minutes on two cores. [`PrebuiltWgpu`] is a unit type whose every backend
//! operation is an ordinary, non-generic method that calls `burn::backend::Wgpu`'s: those
//! methods and the kernels under them are compiled here, in the library, and programs link
//! them. Its tensors, devices and numbers are Wgpu's own; only the type's name differs.
//!
//! The methods are written by `generate.py` (in this folder) from burn-backend's trait
//! definitions, into `forward.rs`.

mod forward;
mod recast;

pub(crate) use recast::recast;

use burn_backend::BackendTypes;

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
