//! Walks a module's float parameters with their dotted paths: the shape inventory stored in
//! checkpoints (the finiteness check of gradients is in `pending`).

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// Dotted path (`encoder.blocks.0.conv1.weight`) and shape of every float parameter, in the
/// module's visiting order.
pub(crate) type ParamShapes = Vec<(String, Vec<usize>)>;

/// The dotted path of the module being visited.
#[derive(Default)]
pub(crate) struct ParamPath(Vec<String>);

impl ParamPath {
    pub fn enter(&mut self, name: &str) {
        self.0.push(name.to_string());
    }
    pub fn exit(&mut self) {
        self.0.pop();
    }
    pub fn dotted(&self) -> String {
        self.0.join(".")
    }
}

struct ShapeCollector {
    path: ParamPath,
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
        path: ParamPath::default(),
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
                ));
            }
            Some((_, s)) if s != shape => {
                return Some(format!(
                    "parameter `{name}` is {s:?} in the checkpoint but {shape:?} in the model"
                ));
            }
            Some(_) => {}
        }
    }
    stored
        .iter()
        .find(|(n, _)| !model.iter().any(|(m, _)| m == n))
        .map(|(name, _)| format!("the checkpoint has parameter `{name}`, the model does not"))
}
