//! What every example shares on its command line: one-line errors with the flag's name and
//! the accepted range, exit status 2 for a usage error and 1 for a run-time failure, and the
//! value checks (ranges) for its flags, applied while the command line is parsed.

#![allow(dead_code)]

use std::process::ExitCode;

use clap::Parser;

/// Parses the command line. `--help` and `--version` print and exit 0; a bad flag prints
/// one line (`error: invalid value '0' for '--batch-size <N>': must be an integer ≥ 2`) and
/// the caller exits with status 2.
///
/// It also keeps freed memory in the process for reuse
/// (`infonce::allocator::retain_freed_memory`) unless `INFONCE_SYSTEM_MALLOC` is set, which
/// keeps the C library's defaults (to measure the difference).
pub fn parse<T: Parser>() -> Result<T, ExitCode> {
    if std::env::var_os("INFONCE_SYSTEM_MALLOC").is_none() {
        infonce::allocator::retain_freed_memory();
    }
    T::try_parse().map_err(|e| {
        if !e.use_stderr() {
            e.exit();
        }
        let text = e.to_string();
        let line = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("error");
        eprintln!("{}", line.trim_end());
        ExitCode::from(2)
    })
}

/// The exit status of a run: 0; or one line on stderr and 2 for a usage error (a setting
/// out of range found after parsing, named by its flag through `flags`, which maps the
/// library's field names to this example's flags) or 1 for a run-time failure.
pub fn finish(result: infonce::Result<()>, flags: &[(&str, &str)]) -> ExitCode {
    match result {
        Err(infonce::Error::InvalidConfig { name, reason }) => {
            let flag = flags.iter().find(|(field, _)| *field == name).map_or_else(
                || format!("--{}", name.replace('_', "-")),
                |(_, f)| f.to_string(),
            );
            eprintln!("error: invalid value for {flag}: {reason}");
            ExitCode::from(2)
        }
        Err(infonce::Error::InvalidTemperature(t)) => {
            eprintln!("error: invalid value for --temperature: must be finite and > 0, got {t}");
            ExitCode::from(2)
        }
        other => infonce::backend::exit_code(other),
    }
}

/// An integer flag of at least `MIN`.
pub fn at_least<const MIN: usize>(s: &str) -> Result<usize, String> {
    number_in(s, |v| *v >= MIN, &format!("must be an integer ≥ {MIN}"))
}

/// An integer flag in `MIN..=MAX`.
pub fn between<const MIN: usize, const MAX: usize>(s: &str) -> Result<usize, String> {
    number_in(
        s,
        |v| (MIN..=MAX).contains(v),
        &format!("must be an integer in {MIN}..={MAX}"),
    )
}

/// A number parsed from `s` that `accept` admits, or `range` as the message.
fn number_in<T: std::str::FromStr>(
    s: &str,
    accept: impl Fn(&T) -> bool,
    range: &str,
) -> Result<T, String> {
    s.parse()
        .ok()
        .filter(|v| accept(v))
        .ok_or_else(|| range.to_string())
}

/// A finite number above zero (a temperature, a learning rate).
pub fn positive(s: &str) -> Result<f64, String> {
    number_in(
        s,
        |v: &f64| v.is_finite() && *v > 0.0,
        "must be a finite number > 0",
    )
}

/// A fraction in (0, 1] (a crop scale).
pub fn fraction(s: &str) -> Result<f32, String> {
    number_in(
        s,
        |v: &f32| *v > 0.0 && *v <= 1.0,
        "must be a number in (0, 1]",
    )
}

/// A probability in [0, 1].
pub fn probability(s: &str) -> Result<f32, String> {
    number_in(
        s,
        |v: &f32| (0.0..=1.0).contains(v),
        "must be a number in [0, 1]",
    )
}

/// A probability in [0, 1], kept in double precision (a parameter of a formula).
pub fn probability64(s: &str) -> Result<f64, String> {
    number_in(
        s,
        |v: &f64| (0.0..=1.0).contains(v),
        "must be a number in [0, 1]",
    )
}

/// A finite number ≥ 0 (a noise level).
pub fn non_negative(s: &str) -> Result<f64, String> {
    number_in(
        s,
        |v: &f64| v.is_finite() && *v >= 0.0,
        "must be a finite number ≥ 0",
    )
}
