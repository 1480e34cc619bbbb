//! The statistics and non-finite flags of the steps since the last read-back, kept on the
//! device, and the state to roll back to if one of those steps turns out non-finite.

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;

use super::param_walk::ParamPath;
use crate::loss::{BoundKind, LossStats};

/// Values per step before the flags: loss, accuracy, `log N`.
const STATS: usize = 3;

/// `[1]`: 0 when `x` is all finite, +1 if it holds a NaN, +2 if it holds an infinity.
/// Built from `is_nan` / `is_inf` reductions, so a large finite value never trips it (a sum
/// would overflow).
pub(crate) fn non_finite_flag<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, 1> {
    let nan = x.clone().is_nan().any().float();
    let inf = x.is_inf().any().float().mul_scalar(2.0);
    nan + inf
}

/// What a flag means, as the value to report.
fn flagged_value(flag: f64) -> f64 {
    if flag as u32 & 1 == 1 {
        f64::NAN
    } else {
        f64::INFINITY
    }
}

struct GradientFlags<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    path: ParamPath,
    names: Vec<String>,
    flags: Vec<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for GradientFlags<'_, B> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.enter(name);
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.get::<B::InnerBackend, D>(param.id) {
            self.names.push(self.path.dotted());
            self.flags.push(non_finite_flag(grad));
        }
    }
}

/// The path of every parameter with a gradient and its non-finite flag, on the device.
pub(crate) fn gradient_flags<B: AutodiffBackend, M: AutodiffModule<B>>(
    model: &M,
    grads: &GradientsParams,
) -> (Vec<String>, Vec<Tensor<B::InnerBackend, 1>>) {
    let mut walker = GradientFlags::<B> {
        grads,
        path: ParamPath::default(),
        names: Vec::new(),
        flags: Vec::new(),
    };
    model.visit(&mut walker);
    (walker.names, walker.flags)
}

/// One step's device values: `[loss, accuracy, log N, loss flag, gradient flags...]`.
pub(crate) struct StepValues<B: Backend> {
    pub values: Tensor<B, 1>,
    pub gradient_names: Vec<String>,
    pub bound: BoundKind,
}

/// A step's outcome once read back.
pub(crate) enum StepOutcome {
    Finite(LossStats),
    NonFinite { tensor: String, value: f64 },
}

/// The steps since the last read-back, and the model and optimiser before the first.
pub(crate) struct Window<B: Backend, S> {
    pub first_step: u64,
    pub snapshot: S,
    steps: Vec<StepValues<B>>,
}

impl<B: Backend, S> Window<B, S> {
    pub fn new(first_step: u64, snapshot: S) -> Self {
        Self {
            first_step,
            snapshot,
            steps: Vec::new(),
        }
    }

    pub fn push(&mut self, step: StepValues<B>) {
        self.steps.push(step);
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Reads every step's values back in one transfer and decodes them in order.
    pub fn read_back(self) -> (S, Vec<StepOutcome>) {
        if self.steps.is_empty() {
            return (self.snapshot, Vec::new());
        }
        let all = Tensor::cat(self.steps.iter().map(|s| s.values.clone()).collect(), 0);
        let values = crate::readback::read_back(all);
        let mut offset = 0;
        let outcomes = self
            .steps
            .iter()
            .map(|s| {
                let width = STATS + 1 + s.gradient_names.len();
                let v = &values[offset..offset + width];
                offset += width;
                decode(v, s)
            })
            .collect();
        (self.snapshot, outcomes)
    }
}

fn decode<B: Backend>(v: &[f64], step: &StepValues<B>) -> StepOutcome {
    if v[STATS] != 0.0 {
        return StepOutcome::NonFinite {
            tensor: "loss".into(),
            value: flagged_value(v[STATS]),
        };
    }
    let flags = &v[STATS + 1..];
    if let Some(i) = flags.iter().position(|&f| f != 0.0) {
        return StepOutcome::NonFinite {
            tensor: format!("gradient of `{}`", step.gradient_names[i]),
            value: flagged_value(flags[i]),
        };
    }
    StepOutcome::Finite(LossStats::from_values(&v[..STATS], step.bound))
}
