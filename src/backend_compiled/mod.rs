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
mod prebuilt;
mod recast;

#[cfg(feature = "wgpu")]
pub use prebuilt::PrebuiltWgpu;
pub(crate) use recast::recast;
