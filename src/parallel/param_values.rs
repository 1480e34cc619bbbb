//! Every float parameter of a module on the host, by dotted path (to compare models).

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::trainer::param_walk::ParamPath;

/// Dotted path and values of every float parameter, in visiting order.
pub(crate) type ParamValues = Vec<(String, Vec<f32>)>;

struct ValueCollector {
    path: ParamPath,
    values: ParamValues,
}

impl<B: Backend> ModuleVisitor<B> for ValueCollector {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.enter(name);
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let data = param.val().into_data().convert::<f32>();
        let values = data.to_vec::<f32>().unwrap_or_default();
        self.values.push((self.path.dotted(), values));
    }
}

/// The parameters of `module` on the host.
pub(crate) fn param_values<B: Backend, M: Module<B>>(module: &M) -> ParamValues {
    let mut collector = ValueCollector {
        path: ParamPath::default(),
        values: Vec::new(),
    };
    module.visit(&mut collector);
    collector.values
}
