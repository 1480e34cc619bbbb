//! Walks a module's float parameters with their dotted paths: the shape inventory stored in
//! checkpoints, and the finiteness check of a step's gradients.

use burn::module::{AutodiffModule, Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};

/// Dotted path (`encoder.blocks.0.conv1.weight`) and shape of every float parameter, in the
/// module's visiting order.
pub(crate) type ParamShapes = Vec<(String, Vec<usize>)>;

#[derive(Default)]
struct Path(Vec<String>);

impl Path {
    fn enter(&mut self, name: &str) {
        self.0.push(name.to_string());
    }
    fn exit(&mut self) {
        self.0.pop();
    }
    fn dotted(&self) -> String {
        self.0.join(".")
    }
}

struct ShapeCollector {
    path: Path,
    shapes: ParamShapes,
}

impl<B: Backend> ModuleVisitor<B> for ShapeCollector {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.enter(name);
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.shapes
            .push((self.path.dotted(), param.val().dims().to_vec()));
    }
}

/// The shape inventory of `module`.
pub(crate) fn param_shapes<B: Backend, M: Module<B>>(module: &M) -> ParamShapes {
    let mut collector = ShapeCollector {
        path: Path::default(),
        shapes: Vec::new(),
    };
    module.visit(&mut collector);
    collector.shapes
}

/// Draws every lazily initialised parameter of `module` now, so that clones of it share
/// its values (a clone of a parameter not yet drawn draws its own).
pub fn materialize_parameters<B: Backend, M: Module<B>>(module: &M) {
    let _ = param_shapes::<B, M>(module);
}

/// The first difference between a checkpoint's inventory and the model's, in words.
pub(crate) fn shape_difference(stored: &ParamShapes, model: &ParamShapes) -> Option<String> {
    for (name, shape) in model {
        match stored.iter().find(|(n, _)| n == name) {
            None => {
                return Some(format!(
                    "the model has parameter `{name}`, the checkpoint does not"
                ))
            }
            Some((_, s)) if s != shape => {
                return Some(format!(
                    "parameter `{name}` is {s:?} in the checkpoint but {shape:?} in the model"
                ))
            }
            Some(_) => {}
        }
    }
    stored
        .iter()
        .find(|(n, _)| !model.iter().any(|(m, _)| m == n))
        .map(|(name, _)| format!("the checkpoint has parameter `{name}`, the model does not"))
}

struct GradientSums<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    path: Path,
    names: Vec<String>,
    sums: Vec<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for GradientSums<'_, B> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.enter(name);
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.get::<B::InnerBackend, D>(param.id) {
            self.names.push(self.path.dotted());
            self.sums.push(grad.sum());
        }
    }
}

/// The path of the first parameter whose gradient holds a NaN or an infinity, with that
/// gradient's sum. Costs one reduction per parameter and a single read-back: a NaN or an
/// infinity makes the sum non-finite (so does a sum past f32's range, and such a gradient
/// is not one to apply either).
pub(crate) fn first_non_finite_gradient<B, M>(
    model: &M,
    grads: &GradientsParams,
) -> Option<(String, f64)>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
{
    let mut walker = GradientSums::<B> {
        grads,
        path: Path::default(),
        names: Vec::new(),
        sums: Vec::new(),
    };
    model.visit(&mut walker);
    if walker.sums.is_empty() {
        return None;
    }
    let total = Tensor::cat(walker.sums, 0);
    let values = total.into_data();
    let values: Vec<f64> = values.iter::<f32>().map(|v: f32| v.elem::<f64>()).collect();
    values
        .iter()
        .position(|v| !v.is_finite())
        .map(|i| (walker.names[i].clone(), values[i]))
}
