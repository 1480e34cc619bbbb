//! The statistics and non-finite flags of the steps since the last read-back, kept on the
//! device, and the state to roll back to if one of those steps turns out non-finite.

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Bool, Tensor};

use super::param_walk::ParamPath;
use crate::loss::{BoundKind, LossStats};

/// Values per step before the flags: loss, accuracy, `log N`.
const STATS: usize = 3;

/// `[2]` booleans: whether `x` holds a NaN, whether it holds an infinity. Built from
/// `is_nan` / `is_inf` reductions, so a large finite value never trips it (a sum would
/// overflow); on burn-ndarray, one pass over the values in place instead. A step's flags
/// are concatenated and converted to floats once.
pub(crate) fn non_finite_flags<B: Backend, const D: usize>(
    x: Tensor<B, D>,
) -> [Tensor<B, 1, Bool>; 2] {
    #[cfg(any(feature = "ndarray", feature = "flex"))]
    let x = {
        let device = x.device();
        match crate::host::host_non_finite(x) {
            Ok((nan, inf)) => return [nan, inf].map(|flag| Tensor::from_data([flag], &device)),
            Err(x) => x,
        }
    };
    [x.clone().is_nan().any(), x.is_inf().any()]
}

/// The value to report for a `(nan, inf)` flag pair, `None` when both are clear.
fn flagged_value(nan: f64, inf: f64) -> Option<f64> {
    if nan != 0.0 {
        Some(f64::NAN)
    } else if inf != 0.0 {
        Some(f64::INFINITY)
    } else {
        None
    }
}

struct GradientFlags<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    path: ParamPath,
    names: Vec<String>,
    flags: Vec<Tensor<B::InnerBackend, 1, Bool>>,
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
            self.flags.extend(non_finite_flags(grad));
        }
    }
}

/// The path of every parameter with a gradient and its non-finite flag, on the device.
pub(crate) fn gradient_flags<B: AutodiffBackend, M: AutodiffModule<B>>(
    model: &M,
    grads: &GradientsParams,
) -> (Vec<String>, Vec<Tensor<B::InnerBackend, 1, Bool>>) {
    let mut walker = GradientFlags::<B> {
        grads,
        path: ParamPath::default(),
        names: Vec::new(),
        flags: Vec::new(),
    };
    model.visit(&mut walker);
    (walker.names, walker.flags)
}

/// One step's device values: `[loss, accuracy, log N]` then a `(NaN, infinity)` flag pair
/// for the loss and for each gradient.
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
                let width = STATS + 2 * (1 + s.gradient_names.len());
                let v = &values[offset..offset + width];
                offset += width;
                decode(v, s)
            })
            .collect();
        (self.snapshot, outcomes)
    }
}

fn decode<B: Backend>(v: &[f64], step: &StepValues<B>) -> StepOutcome {
    let flags = v[STATS..].chunks(2).map(|f| flagged_value(f[0], f[1]));
    if let Some((i, value)) = flags.enumerate().find_map(|(i, f)| f.map(|v| (i, v))) {
        let tensor = match i {
            0 => "loss".to_string(),
            i => format!("gradient of `{}`", step.gradient_names[i - 1]),
        };
        return StepOutcome::NonFinite { tensor, value };
    }
    StepOutcome::Finite(LossStats::from_values(&v[..STATS], step.bound))
}
