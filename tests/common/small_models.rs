//! Tiny models on ndarray for trainer-level checks: a shared MLP encoder with a cosine
//! critic, two MLP towers with a bilinear critic, both on 5-wide pairs.

use burn::module::{AutodiffModule, Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

use infonce::ContrastiveModel;
use infonce::critic::{BilinearCriticConfig, CosineCriticConfig};
use infonce::encoder::MlpConfig;
use infonce::model::{PairBatch, SharedEncoderModel, TwoTowerModel};

pub type B = infonce::backend::NdArrayAutodiff;
pub type Batch = PairBatch<Tensor<B, 2>, Tensor<B, 2>>;
/// Width of the inputs.
pub const D_IN: usize = 5;

/// The built-in objectives, by their command-line names.
pub const OBJECTIVES: [&str; 6] = [
    "info-nce",
    "decoupled",
    "debiased:0.1",
    "hard-negative:1.0,0.1",
    "supcon",
    "symmetric",
];

/// A 5 → 7 → 4 MLP shared by both sides, cosine critic at τ 0.5.
pub fn shared_model() -> impl ContrastiveModel<B, Batch = Batch> + AutodiffModule<B> + Sync {
    let device = Default::default();
    SharedEncoderModel::new(
        MlpConfig::new(D_IN, vec![7], 4).init::<B>(&device).unwrap(),
        CosineCriticConfig::new()
            .with_temperature(0.5)
            .init::<B>(&device)
            .unwrap(),
    )
}

/// A 5 → 6 → 4 context tower, a linear 5 → 3 sample tower, a bilinear critic.
pub fn two_tower_model() -> impl ContrastiveModel<B, Batch = Batch> + AutodiffModule<B> + Sync {
    let device = Default::default();
    TwoTowerModel::new(
        MlpConfig::new(D_IN, vec![6], 4).init::<B>(&device).unwrap(),
        MlpConfig::new(D_IN, vec![], 3).init::<B>(&device).unwrap(),
        BilinearCriticConfig::new(4, 3).init::<B>(&device).unwrap(),
    )
}

/// Every float parameter of a module, flattened, in visiting order.
pub fn flat_params<M: Module<B>>(m: &M) -> Vec<f64> {
    struct Flat(Vec<f64>);
    impl ModuleVisitor<B> for Flat {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<B, D>>) {
            self.0.extend(super::values(p.val()));
        }
    }
    let mut flat = Flat(Vec::new());
    m.visit(&mut flat);
    flat.0
}
