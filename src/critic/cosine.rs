//! The cosine critic with a fixed or learnable temperature.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Tensor, backend::Backend};

use super::Critic;
use crate::Error;
use crate::loss::{check_temperature, l2_normalize, scaled_product_unchecked};

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
    /// Lower bound on the scale `1/τ` when learnable (open_clip: 1, i.e. τ ≤ 1).
    #[config(default = 1.0)]
    pub min_scale: f64,
}

impl CosineCriticConfig {
    /// Builds the critic.
    ///
    /// # Errors
    /// [`Error::InvalidTemperature`] for τ ≤ 0 or non-finite; [`Error::InvalidConfig`] when
    /// the scale bounds are not finite with `0 < min_scale ≤ max_scale`, or, for a learnable
    /// temperature, when the initial scale `1/τ` lies outside them (it would be clamped at
    /// once, silently changing the start).
    pub fn init<B: Backend>(&self, device: &B::Device) -> crate::Result<CosineCritic<B>> {
        check_temperature(self.temperature)?;
        let (lo, hi) = (self.min_scale, self.max_scale);
        if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi) {
            return Err(Error::config(
                "min_scale / max_scale",
                format!("must be finite with 0 < min_scale ≤ max_scale, got {lo} and {hi}"),
            ));
        }
        let scale = 1.0 / self.temperature;
        if self.learnable && !(lo..=hi).contains(&scale) {
            return Err(Error::config(
                "temperature",
                format!(
                    "initial scale 1/τ = {scale} lies outside the clamp [{lo}, {hi}] \
                     (τ in [{}, {}])",
                    1.0 / hi,
                    1.0 / lo
                ),
            ));
        }
        let log_scale = scale.ln();
        Ok(CosineCritic {
            log_scale: self
                .learnable
                .then(|| Param::from_tensor(Tensor::from_floats([log_scale as f32], device))),
            fixed_scale: scale,
            min_log_scale: lo.ln(),
            max_log_scale: hi.ln(),
        })
    }
}

/// `log f(x, c) = cos(c, x) / τ` (SimCLR, Chen et al. 2020), or with a learnable
/// log-scale `t`: `exp(t) · cos(c, x)` (CLIP, Radford et al. 2021), `t` clamped to
/// `[ln min_scale, ln max_scale]` after every optimiser step ([`Critic::after_step`]), as
/// CLIP and open_clip do, not in the forward pass (where a clamp would zero the gradient
/// and pin `t` at the bound for good).
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
    min_log_scale: f64,
    max_log_scale: f64,
}

impl<B: Backend> CosineCritic<B> {
    /// The current temperature τ = 1 / scale.
    pub fn temperature(&self) -> f64 {
        use burn::tensor::ElementConversion;
        match &self.log_scale {
            Some(t) => {
                let t = t.val().into_scalar().elem::<f64>();
                (-t).exp()
            }
            None => 1.0 / self.fixed_scale,
        }
    }
}

impl<B: Backend> Critic<B> for CosineCritic<B> {
    fn log_scores(&self, context: Tensor<B, 2>, candidates: Tensor<B, 2>) -> Tensor<B, 2> {
        // A learnable scale multiplies the `n × d` context, a fixed one is the product's
        // factor: either way no pass over the `n × m` cosines, forward or backward.
        let (context, candidates) = (l2_normalize(context), l2_normalize(candidates));
        match &self.log_scale {
            Some(t) => {
                let context = context * t.val().exp().unsqueeze_dim::<2>(0);
                scaled_product_unchecked(context, candidates, 1.0)
            }
            None => scaled_product_unchecked(context, candidates, self.fixed_scale),
        }
    }

    fn requires_equal_dims(&self) -> bool {
        true
    }

    fn after_step(mut self, _step: u64) -> Self {
        let (lo, hi) = (self.min_log_scale, self.max_log_scale);
        self.log_scale = self.log_scale.map(|p| {
            p.map(|t| {
                // Clamp an untracked leaf, then restore the flag: the parameter stays a leaf.
                let require_grad = t.is_require_grad();
                t.set_require_grad(false)
                    .clamp(lo, hi)
                    .set_require_grad(require_grad)
            })
        });
        self
    }
}
