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
//! [`PrebuiltNdArray`] does the same for `burn::backend::NdArray` (f32), whose operations
//! dispatch on each tensor's type at run time and so compile ndarray's loops for every
//! element type wherever they are instantiated.
//!
//! The methods are written by `generate.py` (in this folder) from burn-backend's trait
//! definitions, into `forward.rs`.

mod forward;
mod prebuilt;
mod recast;

#[cfg(feature = "ndarray")]
pub use prebuilt::PrebuiltNdArray;
#[cfg(feature = "wgpu")]
pub use prebuilt::PrebuiltWgpu;
pub(crate) use recast::recast;

use std::future::Future;
use std::pin::Pin;

/// `future` behind a trait object. The forwarding methods that return a future (reading a
/// tensor back, a transaction) return this, so that polling it calls code compiled here:
/// a concrete future type would be polled, and its generic body compiled, in every program
/// that reads a tensor (for wgpu, CubeCL's copy and dequantisation kernels, an eighth of
/// the test crate's code).
pub(crate) fn boxed_future<'a, T>(
    future: impl Future<Output = T> + Send + 'a,
) -> Pin<Box<dyn Future<Output = T> + Send + 'a>> {
    Box::pin(future)
}
