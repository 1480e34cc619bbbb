//! The closed-form optimum against a simulation of the optimal critic and against the
//! mutual information computed from the transition matrix itself.

use infonce::cpc::{markov_mutual_information, markov_optimum};
use rand::{RngExt, SeedableRng};

/// `P(s_{t+k} = j | s_t = i)` by multiplying the one-step matrix `λΠ + (1 − λ)U` k times.
fn k_step_matrix(states: usize, lambda: f64, k: usize) -> Vec<Vec<f64>> {
    let one: Vec<Vec<f64>> = (0..states)
        .map(|i| {
            (0..states)
                .map(|j| {
                    (1.0 - lambda) / states as f64
                        + if j == (i + 1) % states { lambda } else { 0.0 }
                })
                .collect()
        })
        .collect();
    let mut m: Vec<Vec<f64>> = (0..states)
        .map(|i| (0..states).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for _ in 0..k {
        m = (0..states)
            .map(|i| {
                (0..states)
                    .map(|j| (0..states).map(|l| m[i][l] * one[l][j]).sum())
                    .collect()
            })
            .collect();
    }
    m
}

#[test]
fn mutual_information_matches_the_transition_matrix() {
    for (states, lambda, k) in [
        (8, 0.8, 1),
        (8, 0.8, 3),
        (5, 0.3, 2),
        (2, 1.0, 1),
        (16, 0.0, 1),
    ] {
        let t = k_step_matrix(states, lambda, k);
        let p = 1.0 / states as f64; // the chain is doubly stochastic: uniform marginals
        let direct: f64 = t
            .iter()
            .flatten()
            .filter(|&&q| q > 0.0)
            .map(|&q| p * q * (q / p).ln())
            .sum();
        let formula = markov_mutual_information(states, lambda, k);
        assert!(
            (direct - formula).abs() < 1e-12,
            "S={states} λ={lambda} k={k}: {direct} vs {formula}"
        );
    }
}

/// The optimal critic `log(S·Tᵏ(s_t, x))` played on simulated rows: mean loss and
/// tie-aware top-1 with their standard errors.
fn simulate(states: usize, lambda: f64, k: usize, n: usize, trials: usize) -> [(f64, f64); 2] {
    let t = k_step_matrix(states, lambda, k);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let (mut losses, mut hits) = (Vec::new(), Vec::new());
    for _ in 0..trials {
        let s = rng.random_range(0..states);
        let positive = if rng.random_bool(lambda.powi(k as i32)) {
            (s + k) % states
        } else {
            rng.random_range(0..states)
        };
        let candidates: Vec<usize> = std::iter::once(positive)
            .chain((1..n).map(|_| rng.random_range(0..states)))
            .collect();
        let scores: Vec<f64> = candidates
            .iter()
            .map(|&x| (states as f64 * t[s][x]).ln())
            .collect();
        let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + scores.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        losses.push(lse - scores[0]);
        let ties = scores.iter().filter(|&&v| v == max).count();
        hits.push(if scores[0] == max {
            1.0 / ties as f64
        } else {
            0.0
        });
    }
    [mean_and_error(&losses), mean_and_error(&hits)]
}

fn mean_and_error(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

#[test]
fn the_optimum_matches_a_simulation_of_the_optimal_critic() {
    for (states, lambda, k, n) in [
        (8, 0.8, 1, 16),
        (8, 0.8, 2, 16),
        (4, 0.5, 1, 7),
        (8, 1.0, 1, 32),
    ] {
        let [(loss, loss_se), (top1, top1_se)] = simulate(states, lambda, k, n, 100_000);
        let o = markov_optimum(states, lambda, k, n).unwrap();
        let case = format!("S={states} λ={lambda} k={k} N={n}");
        assert!(
            (o.loss - loss).abs() < 4.0 * loss_se + 1e-9,
            "{case}: loss {} vs simulated {loss} ± {loss_se}",
            o.loss
        );
        assert!(
            (o.top1 - top1).abs() < 4.0 * top1_se + 1e-9,
            "{case}: top-1 {} vs simulated {top1} ± {top1_se}",
            o.top1
        );
        assert!((o.bound - ((n as f64).ln() - o.loss)).abs() < 1e-12);
    }
}

#[test]
fn the_optimal_bound_grows_with_n_towards_the_mutual_information() {
    let mi = markov_mutual_information(8, 0.8, 1);
    let bounds: Vec<f64> = [2, 8, 64, 512, 100_000]
        .iter()
        .map(|&n| markov_optimum(8, 0.8, 1, n).unwrap().bound)
        .collect();
    assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{bounds:?}");
    assert!(
        bounds
            .iter()
            .zip([2f64, 8.0, 64.0, 512.0])
            .all(|(b, n)| *b < n.ln())
    );
    let last = bounds[bounds.len() - 1];
    assert!(
        last < mi && mi - last < 0.01,
        "bound {last} at N = 1e5, MI {mi}"
    );
}

#[test]
fn hand_derivable_cases() {
    // Independent future: loss log N, chance top-1.
    let o = markov_optimum(8, 0.0, 1, 10).unwrap();
    assert!((o.loss - 10f64.ln()).abs() < 1e-12 && (o.top1 - 0.1).abs() < 1e-12);
    // Deterministic future, two states, two candidates: the negative matches the positive
    // with probability 1/2, and then the row ties: J = ½·ln 2, top-1 = ½ + ½·½.
    let o = markov_optimum(2, 1.0, 1, 2).unwrap();
    assert!((o.loss - 0.5 * 2f64.ln()).abs() < 1e-12, "{o:?}");
    assert!((o.top1 - 0.75).abs() < 1e-12 && (o.mutual_information - 2f64.ln()).abs() < 1e-12);
    for bad in [
        (1, 0.5, 1, 4),
        (8, 1.5, 1, 4),
        (8, 0.5, 0, 4),
        (8, 0.5, 1, 1),
    ] {
        assert!(
            markov_optimum(bad.0, bad.1, bad.2, bad.3).is_err(),
            "{bad:?}"
        );
    }
}
