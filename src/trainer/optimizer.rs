//! The three optimisers behind one type, with their state as bytes for checkpoints.

use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, GradientsParams, Optimizer, Sgd, SgdConfig,
};
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::backend::AutodiffBackend;

use super::{OptimizerKind, TrainerConfig};
use crate::{Error, Result};

/// Adam, AdamW or SGD with momentum, chosen at run time.
pub(crate) enum AnyOptimizer<M: AutodiffModule<B>, B: AutodiffBackend> {
    Adam(OptimizerAdaptor<Adam, M, B>),
    AdamW(OptimizerAdaptor<AdamW, M, B>),
    Sgd(OptimizerAdaptor<Sgd<B::InnerBackend>, M, B>),
}

type Bytes = NamedMpkBytesRecorder<FullPrecisionSettings>;

impl<M: AutodiffModule<B>, B: AutodiffBackend> AnyOptimizer<M, B> {
    pub fn from_config(config: &TrainerConfig) -> Self {
        let clip = config
            .grad_clip_norm
            .map(|c| GradientClippingConfig::Norm(c as f32));
        let decay =
            (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay as f32));
        match config.optimizer {
            OptimizerKind::Adam => Self::Adam(
                AdamConfig::new()
                    .with_weight_decay(decay)
                    .with_grad_clipping(clip)
                    .init(),
            ),
            OptimizerKind::AdamW => Self::AdamW(
                AdamWConfig::new()
                    .with_weight_decay(config.weight_decay as f32)
                    .with_grad_clipping(clip)
                    .init(),
            ),
            OptimizerKind::Sgd => Self::Sgd(
                SgdConfig::new()
                    .with_weight_decay(decay)
                    .with_momentum(Some(MomentumConfig::new().with_momentum(config.momentum)))
                    .with_gradient_clipping(clip)
                    .init(),
            ),
        }
    }

    pub fn step(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        match self {
            Self::Adam(o) => o.step(lr, module, grads),
            Self::AdamW(o) => o.step(lr, module, grads),
            Self::Sgd(o) => o.step(lr, module, grads),
        }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let recorder = Bytes::default();
        let out = match self {
            Self::Adam(o) => Recorder::<B>::record(&recorder, o.to_record(), ()),
            Self::AdamW(o) => Recorder::<B>::record(&recorder, o.to_record(), ()),
            Self::Sgd(o) => Recorder::<B>::record(&recorder, o.to_record(), ()),
        };
        out.map_err(|e| Error::config("optimizer state", format!("cannot serialise: {e}")))
    }

    pub fn load_bytes(
        self,
        bytes: Vec<u8>,
        device: &B::Device,
    ) -> std::result::Result<Self, String> {
        let recorder = Bytes::default();
        Ok(match self {
            Self::Adam(o) => Self::Adam(o.load_record(
                Recorder::<B>::load(&recorder, bytes, device).map_err(|e| e.to_string())?,
            )),
            Self::AdamW(o) => Self::AdamW(o.load_record(
                Recorder::<B>::load(&recorder, bytes, device).map_err(|e| e.to_string())?,
            )),
            Self::Sgd(o) => Self::Sgd(o.load_record(
                Recorder::<B>::load(&recorder, bytes, device).map_err(|e| e.to_string())?,
            )),
        })
    }
}
