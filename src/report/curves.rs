//! Training curves as an SVG file.

use std::path::Path;

use plotters::prelude::*;

use crate::io::write_atomic;
use crate::trainer::EpochRecord;
use crate::{Error, Result};

/// A panel: its title and its lines of `(epoch, value)` points.
type Panel = (String, Vec<Vec<(f64, f64)>>);

/// Plots loss, MI bound (with its cap `log N`) and every metric of the history (kNN
/// accuracy...) against the epoch, one panel each, into an SVG written atomically.
///
/// # Errors
/// [`Error::EmptyBatch`] for an empty history; [`Error::Io`] when the file cannot be written.
pub fn plot_training_curves(history: &[EpochRecord], path: &Path) -> Result<()> {
    if history.is_empty() {
        return Err(Error::EmptyBatch {
            what: "training curves (no completed epoch)".into(),
        });
    }
    let mut panels: Vec<Panel> = vec![
        (
            "InfoNCE loss".into(),
            vec![history.iter().map(|r| (r.epoch as f64, r.loss)).collect()],
        ),
        (
            "MI bound log N − J (nats) and its cap log N".into(),
            vec![
                history
                    .iter()
                    .map(|r| (r.epoch as f64, r.mi_bound))
                    .collect(),
                history.iter().map(|r| (r.epoch as f64, r.log_n)).collect(),
            ],
        ),
    ];
    let mut metric_names: Vec<&String> = history.iter().flat_map(|r| r.metrics.keys()).collect();
    metric_names.sort();
    metric_names.dedup();
    for name in metric_names {
        let points: Vec<(f64, f64)> = history
            .iter()
            .filter_map(|r| r.metrics.get(name).map(|v| (r.epoch as f64, *v)))
            .collect();
        panels.push((name.clone(), vec![points]));
    }
    let mut svg = String::new();
    {
        let width = 420 * panels.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (width, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let areas = root.split_evenly((1, panels.len()));
        for ((title, series), area) in panels.iter().zip(areas.iter()) {
            let xs = series.iter().flatten().map(|p| p.0);
            let ys: Vec<f64> = series
                .iter()
                .flatten()
                .map(|p| p.1)
                .filter(|v| v.is_finite())
                .collect();
            let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
            let (y0, y1) = ys
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
                    (a.min(y), b.max(y))
                });
            let pad = ((y1 - y0) * 0.08).max(1e-3);
            let mut chart = ChartBuilder::on(area)
                .caption(title, ("sans-serif", 16))
                .margin(12)
                .x_label_area_size(30)
                .y_label_area_size(46)
                .build_cartesian_2d(x0.min(x1 - 1.0)..x1.max(x0 + 1.0), (y0 - pad)..(y1 + pad))
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .draw()
                .map_err(plot_error)?;
            for (k, s) in series.iter().enumerate() {
                let colour = if k == 0 { BLUE } else { RED };
                chart
                    .draw_series(LineSeries::new(s.iter().copied(), colour.stroke_width(2)))
                    .map_err(plot_error)?;
            }
        }
        root.present().map_err(plot_error)?;
    }
    write_atomic(path, svg.as_bytes())
}

fn plot_error<E: std::fmt::Display>(e: E) -> Error {
    Error::config("plot", e.to_string())
}
