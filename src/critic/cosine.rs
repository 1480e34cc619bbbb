//! The cosine critic with a fixed or learnable temperature.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{backend::Backend, Tensor};

use super::Critic;
use crate::loss::{check_temperature, l2_normalize};
use crate::Error;

/// Configuration of a [`CosineCritic`].
#[derive(Config, Debug)]
pub struct CosineCriticConfig {
    /// The temperature τ (the initial one when learnable). SimCLR uses 0.1–0.5; CLIP starts
    /// at 0.07.
    #[config(default = 0.1)]
    pub temperature: f64,
    /// Learn `t = log(1/τ)` with the model, as CLIP does.
    #[config(default = false)]
    pub learnable: bool,
    /// Upper bound on the scale `1/τ` when learnable; CLIP clamps at 100.
    #[config(default = 100.0)]
    pub max_scale: f64,
}

impl CosineCriticConfig {
    /// Builds the critic.
    ///
    /// # Errors
    /// [`Error::InvalidTemperature`] for τ ≤ 0 or non-finite; [`Error::InvalidConfig`] when
    /// `max_scale` is not above `1/τ`'s floor of 1e-8 or is non-finite.
    pub fn init<B: Backend>(&self, device: &B::Device) -> crate::Result<CosineCritic<B>> {
        check_temperature(self.temperature)?;
        if !(self.max_scale.is_finite() && self.max_scale > 0.0) {
            return Err(Error::config(
                "max_scale",
                format!("must be finite and > 0, got {}", self.max_scale),
            ));
        }
        let log_scale = (1.0 / self.temperature).ln();
        Ok(CosineCritic {
            log_scale: self
                .learnable
                .then(|| Param::from_tensor(Tensor::from_floats([log_scale as f32], device))),
            fixed_scale: 1.0 / self.temperature,
            max_log_scale: self.max_scale.ln(),
        })
    }
}

/// `log f(x, c) = cos(c, x) / τ` (SimCLR, Chen et al. 2020), or with a learnable
/// log-scale `t`: `exp(min(t, ln max_scale)) · cos(c, x)` (CLIP, Radford et al. 2021).
///
/// Rows are L2-normalised with the norm clamped at 1e-6, so a zero embedding scores 0
/// against everything instead of producing NaN.
///
/// # Shapes
/// - `context`: `[n, d]`, `candidates`: `[m, d]` → `[n, m]`
#[derive(Module, Debug)]
pub struct CosineCritic<B: Backend> {
    log_scale: Option<Param<Tensor<B, 1>>>,
    fixed_scale: f64,
    max_log_scale: f64,
}

impl<B: Backend> CosineCritic<B> {
    /// The current temperature τ = 1 / scale.
    pub fn temperature(&self) -> f64 {
        use burn::tensor::ElementConversion;
        match &self.log_scale {
            Some(t) => {
                let t = t.val().into_scalar().elem::<f64>().min(self.max_log_scale);
                (-t).exp()
            }
            None => 1.0 / self.fixed_scale,
        }
    }
}

impl<B: Backend> Critic<B> for CosineCritic<B> {
    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Tensor<B, 2> {
        let cos = l2_normalize(context).matmul(l2_normalize(candidates).transpose());
        match &self.log_scale {
            Some(t) => {
                let scale = t
                    .val()
                    .clamp_max(self.max_log_scale)
                    .exp()
                    .unsqueeze_dim::<2>(0);
                cos * scale
            }
            None => cos.mul_scalar(self.fixed_scale),
        }
    }

    fn requires_equal_dims(&self) -> bool {
        true
    }
}
