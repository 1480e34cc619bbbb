//! `exp` for the row kernels, written so the compiler vectorises a loop over it.
//!
//! The standard library's `f32::exp` calls libm one value at a time; the loss kernels take
//! one exponential per score, so that call would dominate them. This is the usual range
//! reduction `e^x = 2^k · e^r`, `k = round(x / ln 2)`, `|r| ≤ ln 2 / 2`, with `e^r` from its
//! degree-7 Taylor polynomial (truncation below 6e-9 relative on that interval, under one
//! f32 ulp) and `2^k` assembled in the exponent bits. Only plain arithmetic and integer
//! shifts, so SSE2 (x86-64's baseline) vectorises it.

/// 1.5 · 2²³: adding it to a float of magnitude below 2²² rounds it to an integer held in
/// the low mantissa bits.
const ROUNDING_MAGIC: f32 = 12_582_912.0;
const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two so `k · LN2_HI` is exact for the `k` that occur (Cody and Waite).
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// Below this, `e^x` is under f32's smallest normal number; the result is 0.
const UNDERFLOW: f32 = -87.0;

/// `e^x` for `x ≤ 0` (the kernels only exponentiate max-subtracted scores), within 2 ulp of
/// the exact value above −87, and 0 below (where `e^x < 1.7e-38`). `−∞` gives 0 and NaN
/// gives NaN.
#[inline(always)]
pub(super) fn exp_nonpositive(x: f32) -> f32 {
    // Selects, not `f32::max`: they compile to vector compares and keep NaN (every
    // comparison with NaN is false, so it flows through the arithmetic).
    let clamped = if x < UNDERFLOW { UNDERFLOW } else { x };
    let shifted = clamped * LOG2_E + ROUNDING_MAGIC;
    let k = shifted - ROUNDING_MAGIC;
    let r = (clamped - k * LN2_HI) - k * LN2_LO;
    let k_int = shifted.to_bits().wrapping_sub(ROUNDING_MAGIC.to_bits()) as i32;
    let scale = f32::from_bits((k_int.wrapping_add(127) << 23) as u32);
    let value = taylor7(r) * scale;
    if x < UNDERFLOW { 0.0 } else { value }
}

/// `Σ_{i≤7} r^i / i!` by Horner's rule.
#[inline(always)]
fn taylor7(r: f32) -> f32 {
    const C: [f32; 8] = [
        1.0,
        1.0,
        0.5,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5040.0,
    ];
    let mut acc = C[7];
    for c in C[..7].iter().rev() {
        acc = acc * r + c;
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::exp_nonpositive;

    #[test]
    fn matches_libm_to_two_ulp_over_the_range_used() {
        let mut worst = 0.0f64;
        for i in 0..=870_000 {
            let x = -(i as f32) * 1e-4;
            let exact = (x as f64).exp();
            let got = exp_nonpositive(x) as f64;
            worst = worst.max(((got - exact) / exact).abs());
        }
        assert!(worst < 2.5e-7, "worst relative error {worst}");
    }

    #[test]
    fn edge_values() {
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_nonpositive(-1e30), 0.0);
        assert_eq!(exp_nonpositive(-88.0), 0.0);
        assert!(exp_nonpositive(f32::NAN).is_nan());
    }
}
