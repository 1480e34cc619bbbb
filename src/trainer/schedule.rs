//! Learning-rate schedule: linear warm-up, then cosine decay.

use super::TrainerConfig;

/// The learning rate for optimiser step `step` (0-based) of `total_steps`.
///
/// Warm-up (Goyal et al. 2017): `lr · (step + 1) / warmup` for `step < warmup`. Then cosine
/// decay (SGDR, Loshchilov & Hutter 2017, without restarts), from `lr` to `min_lr` over the
/// remaining steps: `min + (lr − min) · (1 + cos(π · t)) / 2`, `t ∈ [0, 1]`.
/// A pure function of the step, so resuming needs only the step count.
pub fn learning_rate_at(config: &TrainerConfig, step: u64, total_steps: u64) -> f64 {
    let lr = config.learning_rate;
    let warmup = config.warmup_steps;
    if step < warmup {
        return lr * (step + 1) as f64 / warmup as f64;
    }
    if !config.cosine_decay {
        return lr;
    }
    let span = total_steps.saturating_sub(warmup).max(1);
    let t = ((step - warmup) as f64 / span as f64).min(1.0);
    let min = config.min_learning_rate;
    min + (lr - min) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_is_linear_then_cosine_reaches_the_floor() {
        let c = TrainerConfig::new()
            .with_learning_rate(1.0)
            .with_warmup_steps(4)
            .with_min_learning_rate(0.1);
        assert!((learning_rate_at(&c, 0, 104) - 0.25).abs() < 1e-12);
        assert!((learning_rate_at(&c, 3, 104) - 1.0).abs() < 1e-12);
        assert!((learning_rate_at(&c, 4, 104) - 1.0).abs() < 1e-12);
        assert!((learning_rate_at(&c, 54, 104) - 0.55).abs() < 1e-12);
        assert!((learning_rate_at(&c, 104, 104) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn constant_without_cosine() {
        let c = TrainerConfig::new()
            .with_learning_rate(0.5)
            .with_cosine_decay(false);
        assert_eq!(learning_rate_at(&c, 77, 100), 0.5);
    }
}
