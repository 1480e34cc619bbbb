//! Host-side argument checks shared by the losses (shapes and scalars only: nothing here
//! reads tensor data back from the device).

use crate::{Error, Result};

/// Checks a score matrix of `rows × cols` for a loss named `what`: at least one row and at
/// least two candidates.
pub(crate) fn check_scores(what: &str, dims: [usize; 2]) -> Result<()> {
    let [rows, cols] = dims;
    if rows == 0 {
        return Err(Error::EmptyBatch { what: what.into() });
    }
    if cols < 2 {
        return Err(Error::TooFewCandidates {
            what: what.into(),
            got: cols,
        });
    }
    Ok(())
}

/// A temperature must be finite and strictly positive.
pub(crate) fn check_temperature(temperature: f64) -> Result<()> {
    if temperature.is_finite() && temperature > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidTemperature(temperature))
    }
}
