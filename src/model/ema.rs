//! Momentum (exponential moving average) copies of a module: the key encoder of MoCo
//! (He et al. 2020) and the target network of BYOL (Grill et al. 2020).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::trainer::param_walk::{param_shapes, shape_difference};
use crate::{Error, Result};

/// A copy of `module` that shares nothing with it, made by loading `module`'s values into
/// `fresh`, a second instance of the same architecture (its own values are overwritten),
/// and giving every parameter a new id.
///
/// `Clone` is not enough for a copy that must evolve on its own: Burn 0.21's batch-norm
/// running statistics (`RunningState`) clone as a shared `Arc<Mutex<..>>`, so a clone's
/// statistics follow the original, and a clone's parameters keep the original's ids (which
/// the optimiser's state is keyed by).
///
/// # Errors
/// [`Error::ShapeMismatch`] when `fresh` is not the same architecture as `module`.
pub fn independent_copy<B: Backend, M: Module<B>>(module: &M, fresh: M) -> Result<M> {
    let (want, got) = (param_shapes::<B, M>(module), param_shapes::<B, M>(&fresh));
    if let Some(difference) = shape_difference(&want, &got) {
        return Err(Error::shape(
            "independent copy: the fresh module's parameters",
            "those of the module copied",
            difference,
        ));
    }
    Ok(fresh
        .load_record(module.clone().into_record())
        .map(&mut NewIds))
}

/// Gives every float parameter a new [`ParamId`], keeping values and gradient flags.
struct NewIds;

impl<B: Backend> ModuleMapper<B> for NewIds {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (_, value, mapper) = param.consume();
        Param::from_mapped_value(ParamId::new(), value, mapper)
    }
}

/// `target ← m·target + (1 − m)·online` for every parameter that trains in `online` (MoCo's
/// key-encoder update, He et al. 2020, eq. 2), the two modules walked in the same order.
///
/// Float state of `online` that does not require a gradient is left as it is in `target`:
/// batch-norm running statistics (as in MoCo's code, which averages `parameters()` and not
/// buffers, the copy's statistics come from its own forward passes) and frozen parameters.
/// `target`'s gradient flags are kept (a `no_grad()` copy stays without gradient).
///
/// # Errors
/// [`Error::InvalidConfig`] for `momentum` outside `[0, 1]`; [`Error::ShapeMismatch`] when
/// the modules differ in architecture.
pub fn ema_update<B: Backend, M: Module<B>>(target: M, online: &M, momentum: f64) -> Result<M> {
    if !(0.0..=1.0).contains(&momentum) {
        return Err(Error::config(
            "momentum",
            format!("must lie in [0, 1], got {momentum}"),
        ));
    }
    let (want, got) = (param_shapes::<B, M>(online), param_shapes::<B, M>(&target));
    if let Some(difference) = shape_difference(&want, &got) {
        return Err(Error::shape(
            "EMA: the target's parameters",
            "those of the online module",
            difference,
        ));
    }
    let mut collect = TrainedFloats(Vec::new());
    online.visit(&mut collect);
    Ok(target.map(&mut Average {
        online: collect.0,
        next: 0,
        momentum,
    }))
}

/// Every float of a module in visiting order, flattened and detached; `None` where the
/// float does not require a gradient.
struct TrainedFloats<B: Backend>(Vec<Option<Tensor<B, 1>>>);

impl<B: Backend> ModuleVisitor<B> for TrainedFloats<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        let trained = value.is_require_grad();
        self.0
            .push(trained.then(|| value.detach().flatten::<1>(0, D - 1)));
    }
}

/// The averaging mapper of [`ema_update`].
struct Average<B: Backend> {
    online: Vec<Option<Tensor<B, 1>>>,
    next: usize,
    momentum: f64,
}

impl<B: Backend> ModuleMapper<B> for Average<B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let online = self.online.get(self.next).cloned().flatten();
        self.next += 1;
        let Some(online) = online else {
            return param;
        };
        let m = self.momentum;
        let (id, old, mapper) = param.consume();
        let require_grad = old.is_require_grad();
        let shape = old.shape();
        let new = old.detach().mul_scalar(m) + online.reshape(shape).mul_scalar(1.0 - m);
        Param::from_mapped_value(id, new.set_require_grad(require_grad), mapper)
    }
}
