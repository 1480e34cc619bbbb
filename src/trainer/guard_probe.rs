//! Does this backend see NaN and infinity? Shader compilers may assume floats are finite
//! and fold `is_nan` / `is_inf` away; the trainer's non-finite guard relies on them.

use std::collections::BTreeSet;
use std::sync::Mutex;

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::pending::non_finite_flags;

/// Whether the non-finite checks the trainer runs on the device flag a NaN, an infinity
/// uploaded from the host, one produced on the device by overflow (`3·10³⁸ squared`) and
/// one in a transposed matrix, and leave finite values alone. Four tiny read-backs.
pub fn non_finite_detection_works<B: Backend>(device: &B::Device) -> bool {
    let flags = |x: Tensor<B, 1>| {
        let [nan, inf] = non_finite_flags(x);
        crate::readback::read_back(Tensor::cat(vec![nan.float(), inf.float()], 0))
    };
    let big = Tensor::<B, 1>::from_floats([1.0, 3e38], device);
    let overflow = flags(big.clone() * big);
    let uploaded = flags(Tensor::from_floats([1.0, f32::NAN, f32::INFINITY], device));
    let finite = flags(Tensor::from_floats([1.0, -2.5, 3e38], device));
    // A transposed matrix: a strided view on the host backends, read element by element.
    let [nan, inf] = non_finite_flags(
        Tensor::<B, 2>::from_floats([[1.0, 2.0, 3.0], [4.0, f32::NEG_INFINITY, 6.0]], device)
            .transpose(),
    );
    let strided = crate::readback::read_back(Tensor::cat(vec![nan.float(), inf.float()], 0));
    overflow == [0.0, 1.0]
        && uploaded == [1.0, 1.0]
        && finite == [0.0, 0.0]
        && strided == [0.0, 1.0]
}

/// Runs [`non_finite_detection_works`] once per backend and device in this process and
/// says so on stderr when it fails: the guard cannot stop a diverging run there.
pub(super) fn warn_if_blind<B: Backend>(device: &B::Device) {
    static PROBED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let key = format!("{} {device:?}", B::name(device));
    let first = PROBED
        .lock()
        .map(|mut seen| seen.insert(key.clone()))
        .unwrap_or(false);
    if first && !non_finite_detection_works::<B>(device) {
        eprintln!(
            "warning: {key} does not report NaN or infinity on the device; the trainer's \
             non-finite guard cannot stop a diverging run on this backend"
        );
    }
}
