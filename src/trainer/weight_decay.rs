//! Weight decay applied by the trainer, so that it can skip biases, normalisation
//! parameters and the temperature.
//!
//! Burn's optimisers decay every parameter alike. SimCLR (Chen et al. 2020, LARS excludes
//! biases and batch-norm parameters) and open_clip (no decay on gains, biases and the logit
//! scale) decay only weight matrices and kernels, so the trainer sets the optimiser's own
//! decay to zero and applies it here: added to the gradient (L2, Adam and SGD) or
//! multiplied into the parameter before the step (decoupled, AdamW, the same arithmetic as
//! Burn's). Parameters without a gradient (frozen, a momentum copy) are never decayed.

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

/// Which parameters weight decay applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecayScope {
    /// Parameters of rank ≥ 2 only (weight matrices, convolution kernels): biases,
    /// normalisation gains and shifts and the temperature (all rank 1) are skipped.
    #[default]
    MatricesOnly,
    /// Every parameter with a gradient.
    All,
}

impl DecayScope {
    fn applies(self, rank: usize) -> bool {
        self == DecayScope::All || rank >= 2
    }
}

struct CoupledDecay<'a, B: AutodiffBackend> {
    grads: &'a mut GradientsParams,
    rate: f64,
    scope: DecayScope,
    backend: core::marker::PhantomData<B>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for CoupledDecay<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if !self.scope.applies(D) {
            return;
        }
        if let Some(g) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            let decayed = g + param.val().inner().mul_scalar(self.rate);
            self.grads.register(param.id, decayed);
        }
    }
}

/// Adds `rate · θ` to the gradient of every parameter in `scope` that has one (L2 decay).
pub(crate) fn add_l2_to_gradients<B: AutodiffBackend, M: AutodiffModule<B>>(
    model: &M,
    grads: &mut GradientsParams,
    rate: f64,
    scope: DecayScope,
) {
    if rate > 0.0 {
        model.visit(&mut CoupledDecay::<B> {
            grads,
            rate,
            scope,
            backend: core::marker::PhantomData,
        });
    }
}

struct DecoupledDecay<'a> {
    grads: &'a GradientsParams,
    factor: f64,
    scope: DecayScope,
}

impl<B: AutodiffBackend> ModuleMapper<B> for DecoupledDecay<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let has_grad = self.grads.get::<B::InnerBackend, D>(param.id).is_some();
        if !(has_grad && self.scope.applies(D)) {
            return param;
        }
        let (id, value, mapper) = param.consume();
        let require_grad = value.is_require_grad();
        // An untracked leaf first: arithmetic on a tensor that requires a gradient would
        // give a graph node, which cannot become a parameter again.
        let decayed = value
            .set_require_grad(false)
            .mul_scalar(self.factor)
            .set_require_grad(require_grad);
        Param::from_mapped_value(id, decayed, mapper)
    }
}

/// Multiplies every parameter in `scope` that has a gradient by `1 − lr · rate` (AdamW's
/// decoupled decay, Loshchilov & Hutter 2019).
pub(crate) fn decay_parameters<B: AutodiffBackend, M: AutodiffModule<B>>(
    model: M,
    grads: &GradientsParams,
    lr: f64,
    rate: f64,
    scope: DecayScope,
) -> M {
    if rate <= 0.0 {
        return model;
    }
    model.map(&mut DecoupledDecay {
        grads,
        factor: 1.0 - lr * rate,
        scope,
    })
}
