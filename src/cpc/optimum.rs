//! The best InfoNCE any critic can reach on [`super::MarkovSequences`], in closed form.

use crate::{Error, Result};

/// The optimum of one prediction step `k` with `N` candidates per context.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MarkovOptimum {
    /// Steps ahead.
    pub k: usize,
    /// Candidates per context `N` (the positive and `N − 1` negatives).
    pub candidates: usize,
    /// The lowest expected loss `J*` in nats.
    pub loss: f64,
    /// `log N − J*`: the highest expected InfoNCE bound.
    pub bound: f64,
    /// The top-1 accuracy of the optimal critic, ties broken uniformly at random.
    pub top1: f64,
    /// `1 / N`, the top-1 of a critic that knows nothing.
    pub chance_top1: f64,
    /// The true `I(x_{t+k}; c_t)`, which the bound approaches as `N → ∞`.
    pub mutual_information: f64,
}

/// `I(s_{t+k}; s_t)` of the lazy cycle in nats (FORMULAS: `log S + a·log a + (S−1)·b·log b`,
/// `a = λᵏ + (1 − λᵏ)/S`, `b = (1 − λᵏ)/S`).
pub fn markov_mutual_information(states: usize, lambda: f64, k: usize) -> f64 {
    let (a, b) = transition_probabilities(states, lambda, k);
    (states as f64).ln() + x_log_x(a) + (states - 1) as f64 * x_log_x(b)
}

/// The InfoNCE optimum of step `k` with `candidates` candidates drawn, besides the
/// positive, from other sequences at the same step (noise-free emissions, one direction).
///
/// The critic that minimises InfoNCE is the density ratio `f*(x, c) = p(x|c)/p(x)` (van den
/// Oord et al. 2018, §2.2). Here the context knows `s_t` exactly and nothing older helps (the
/// chain is Markov), so `f*` is `S·a` on the predicted state `ŝ = s_t + k` and `S·b` on every
/// other state, with `a` and `b` as in [`markov_mutual_information`]. The positive lands on
/// `ŝ` with probability `a`; each of the `N − 1` negatives is an independent uniform state,
/// so `M ~ Binomial(N − 1, 1/S)` of them sit on `ŝ`. Summing over `M`:
///
/// `J* = −E_M[ a·log(a / ((1+M)·a + (N−1−M)·b)) + (1−a)·log(b / (M·a + (N−M)·b)) ]`
///
/// and, ties broken at random, `top1* = [a·S·(1 − qᴺ) + (1 − a)·qᴺ⁻¹] / N`, `q = 1 − 1/S`
/// (the positive on `ŝ` wins one tie among `1 + M`; off `ŝ` it can only win when no
/// negative is on `ŝ`, and then all `N` candidates tie).
///
/// # Errors
/// [`Error::InvalidConfig`] for `states < 2`, `λ ∉ [0, 1]`, `k = 0` or `candidates < 2`.
///
/// # Example
/// ```
/// use infonce::cpc::markov_optimum;
///
/// // λ = 0: the future is independent of the past, so nothing beats chance.
/// let o = markov_optimum(8, 0.0, 1, 32).unwrap();
/// assert!(o.bound.abs() < 1e-12 && (o.top1 - 1.0 / 32.0).abs() < 1e-12);
/// // λ = 0.8: the bound lies below both log N and the true mutual information.
/// let o = markov_optimum(8, 0.8, 1, 32).unwrap();
/// assert!(o.bound > 0.5 && o.bound < o.mutual_information && o.bound < 32f64.ln());
/// ```
pub fn markov_optimum(
    states: usize,
    lambda: f64,
    k: usize,
    candidates: usize,
) -> Result<MarkovOptimum> {
    if states < 2 || !(0.0..=1.0).contains(&lambda) || k == 0 || candidates < 2 {
        return Err(Error::config(
            "markov_optimum",
            format!(
                "need states ≥ 2, λ in [0, 1], k ≥ 1 and ≥ 2 candidates; got S = {states}, \
                 λ = {lambda}, k = {k}, N = {candidates}"
            ),
        ));
    }
    let (a, b) = transition_probabilities(states, lambda, k);
    let n = candidates;
    let loss = binomial_pmf(n - 1, 1.0 / states as f64)
        .enumerate()
        .map(|(m, pmf)| pmf * loss_given_matches(a, b, n, m))
        .sum::<f64>();
    let q = 1.0 - 1.0 / states as f64;
    let top1 = (a * states as f64 * (1.0 - q.powi(n as i32)) + (1.0 - a) * q.powi(n as i32 - 1))
        / n as f64;
    Ok(MarkovOptimum {
        k,
        candidates: n,
        loss,
        bound: (n as f64).ln() - loss,
        top1,
        chance_top1: 1.0 / n as f64,
        mutual_information: markov_mutual_information(states, lambda, k),
    })
}

/// `(a, b)`: the `k`-step probability of the predicted state and of each other state.
fn transition_probabilities(states: usize, lambda: f64, k: usize) -> (f64, f64) {
    let lk = lambda.powi(k as i32);
    let b = (1.0 - lk) / states as f64;
    (lk + b, b)
}

/// The optimal critic's expected loss when `m` of the `n − 1` negatives sit on `ŝ`.
fn loss_given_matches(a: f64, b: f64, n: usize, m: usize) -> f64 {
    let (n, m) = (n as f64, m as f64);
    let on_prediction = -a * (a / ((1.0 + m) * a + (n - 1.0 - m) * b)).ln();
    // With b = 0 the positive is never off ŝ: that term has probability 0.
    let off_prediction = if b > 0.0 {
        -(1.0 - a) * (b / (m * a + (n - m) * b)).ln()
    } else {
        0.0
    };
    on_prediction + off_prediction
}

/// `P(M = m)` for `m = 0..=trials`, `M ~ Binomial(trials, p)`, computed in log space so
/// large `trials` neither overflow nor underflow.
fn binomial_pmf(trials: usize, p: f64) -> impl Iterator<Item = f64> {
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    (0..=trials).scan(trials as f64 * lq, move |log_pmf, m| {
        let value = log_pmf.exp();
        *log_pmf += ((trials - m) as f64).ln() - ((m + 1) as f64).ln() + lp - lq;
        Some(value)
    })
}

/// `x·ln x` with `0·ln 0 = 0`.
fn x_log_x(x: f64) -> f64 {
    if x > 0.0 { x * x.ln() } else { 0.0 }
}
