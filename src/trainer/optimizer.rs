//! The three optimisers behind one type, with their state as bytes for checkpoints.

use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, GradientsParams, Optimizer, Sgd, SgdConfig,
};
use burn::record::Recorder;
use burn::tensor::backend::AutodiffBackend;

use super::weight_decay::{DecayScope, add_l2_to_gradients, decay_parameters};
use super::{OptimizerKind, TrainerConfig};
use crate::io::RecordBytes;
use crate::{Error, Result};

/// Adam, AdamW or SGD with momentum, chosen at run time, with the trainer's own weight
/// decay ([`super::weight_decay`]): Burn's optimisers are built without decay.
#[derive(Clone)]
pub(crate) struct AnyOptimizer<M: AutodiffModule<B>, B: AutodiffBackend> {
    inner: Inner<M, B>,
    weight_decay: f64,
    scope: DecayScope,
}

#[derive(Clone)]
enum Inner<M: AutodiffModule<B>, B: AutodiffBackend> {
    Adam(OptimizerAdaptor<Adam, M, B>),
    AdamW(OptimizerAdaptor<AdamW, M, B>),
    Sgd(OptimizerAdaptor<Sgd<B::InnerBackend>, M, B>),
}

impl<M: AutodiffModule<B>, B: AutodiffBackend> AnyOptimizer<M, B> {
    pub fn from_config(config: &TrainerConfig) -> Self {
        let clip = config
            .grad_clip_norm
            .map(|c| GradientClippingConfig::Norm(c as f32));
        let inner = match config.optimizer {
            OptimizerKind::Adam => Inner::Adam(AdamConfig::new().with_grad_clipping(clip).init()),
            OptimizerKind::AdamW => Inner::AdamW(
                AdamWConfig::new()
                    .with_weight_decay(0.0)
                    .with_grad_clipping(clip)
                    .init(),
            ),
            OptimizerKind::Sgd => Inner::Sgd(
                SgdConfig::new()
                    .with_momentum(Some(MomentumConfig::new().with_momentum(config.momentum)))
                    .with_gradient_clipping(clip)
                    .init(),
            ),
        };
        Self {
            inner,
            weight_decay: config.weight_decay,
            scope: config.weight_decay_scope,
        }
    }

    /// One update: weight decay on the parameters in scope (L2 into the gradient for Adam
    /// and SGD, decoupled for AdamW), then the optimiser's step.
    pub fn step(&mut self, lr: f64, module: M, mut grads: GradientsParams) -> M {
        let (rate, scope) = (self.weight_decay, self.scope);
        match &mut self.inner {
            Inner::Adam(o) => {
                add_l2_to_gradients::<B, M>(&module, &mut grads, rate, scope);
                o.step(lr, module, grads)
            }
            Inner::AdamW(o) => {
                let module = decay_parameters::<B, M>(module, &grads, lr, rate, scope);
                o.step(lr, module, grads)
            }
            Inner::Sgd(o) => {
                add_l2_to_gradients::<B, M>(&module, &mut grads, rate, scope);
                o.step(lr, module, grads)
            }
        }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let recorder = RecordBytes;
        let out = match &self.inner {
            Inner::Adam(o) => Recorder::<B>::record(&recorder, o.to_record(), ()),
            Inner::AdamW(o) => Recorder::<B>::record(&recorder, o.to_record(), ()),
            Inner::Sgd(o) => Recorder::<B>::record(&recorder, o.to_record(), ()),
        };
        out.map_err(|e| Error::config("optimizer state", format!("cannot serialise: {e}")))
    }

    pub fn load_bytes(
        self,
        bytes: Vec<u8>,
        device: &B::Device,
    ) -> std::result::Result<Self, String> {
        let recorder = RecordBytes;
        let inner = match self.inner {
            Inner::Adam(o) => Inner::Adam(o.load_record(
                Recorder::<B>::load(&recorder, bytes, device).map_err(|e| e.to_string())?,
            )),
            Inner::AdamW(o) => Inner::AdamW(o.load_record(
                Recorder::<B>::load(&recorder, bytes, device).map_err(|e| e.to_string())?,
            )),
            Inner::Sgd(o) => Inner::Sgd(o.load_record(
                Recorder::<B>::load(&recorder, bytes, device).map_err(|e| e.to_string())?,
            )),
        };
        Ok(Self { inner, ..self })
    }
}
