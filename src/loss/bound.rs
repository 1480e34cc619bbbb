//! The InfoNCE lower bound on mutual information.

/// The InfoNCE bound `I(x; c) ≥ log N − J` (van den Oord et al. 2018, eq. 5; Poole et al.
/// 2019, eq. 12), in nats.
///
/// `loss` is the InfoNCE value `J` (natural log), `num_candidates` the number `N` of
/// candidates each context chose among (the positive included). The result never exceeds
/// `ln N`; with `N < 1` there is no bound and the result is `NaN`-free `-inf`.
///
/// ```
/// let bound = infonce::loss::mi_lower_bound(0.5, 128);
/// assert!((bound - ((128f64).ln() - 0.5)).abs() < 1e-12);
/// ```
pub fn mi_lower_bound(loss: f64, num_candidates: usize) -> f64 {
    if num_candidates == 0 {
        return f64::NEG_INFINITY;
    }
    (num_candidates as f64).ln() - loss
}
