//! What is drawn on the plot once its axes stand, in drawing order: the highlighted category,
//! confidence bands, bars with whiskers, target lines, line series, target labels. Values that
//! are not finite are skipped here.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    BAND_OPACITY, BAR_SLOT, Chart, FONT, Frame, HIGHLIGHT, INK, MAX_MARKED_POINTS, Plot, TARGET,
    TICK_PX, colour, fail, font, runs, text_width,
};

/// The finite value of category `i`, if any.
fn value_at(values: &[f64], i: usize) -> Option<f64> {
    values.get(i).copied().filter(|v| v.is_finite())
}

/// The finite band of category `i`, if any.
fn band_at(band: &[(f64, f64)], i: usize) -> Option<(f64, f64)> {
    band.get(i)
        .copied()
        .filter(|(l, h)| l.is_finite() && h.is_finite())
}

/// The highlighted category shaded, its label at the top.
pub(super) fn draw_highlight(ctx: &mut Plot, chart: &Chart, frame: Frame) -> Result<(), String> {
    let Some((i, label)) = &chart.highlight else {
        return Ok(());
    };
    if *i >= frame.count {
        return Ok(());
    }
    let (x, low, high) = (*i as f64, frame.low, frame.high);
    let shade = HIGHLIGHT.mix(0.14).filled();
    ctx.draw_series(std::iter::once(Rectangle::new(
        [(x - 0.5, low), (x + 0.5, high)],
        shade,
    )))
    .map_err(fail)?;
    let style = (FONT, TICK_PX * 1.24, FontStyle::Bold)
        .into_font()
        .color(&HIGHLIGHT)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let text = EmptyElement::at((x, high)) + Text::new(label.clone(), (0, 4), style);
    ctx.draw_series(std::iter::once(text)).map_err(fail)?;
    Ok(())
}

/// The confidence bands of line series: a shaded area over each run of finite bounds, a thin
/// bar where a run is one category long.
pub(super) fn draw_bands(ctx: &mut Plot, chart: &Chart, frame: Frame) -> Result<(), String> {
    for (k, series) in chart.series.iter().enumerate() {
        let (false, Some(band)) = (series.bars, &series.band) else {
            continue;
        };
        let shade = colour(k).mix(BAND_OPACITY).filled();
        for run in runs(frame.count, |i| band_at(band, i).is_some()) {
            let upper = run
                .clone()
                .filter_map(|i| band_at(band, i).map(|(_, h)| (i, h)));
            let lower = run
                .clone()
                .rev()
                .filter_map(|i| band_at(band, i).map(|(l, _)| (i, l)));
            let outline: Vec<(f64, f64)> = upper
                .chain(lower)
                .map(|(i, v)| (i as f64, frame.clamp(v)))
                .collect();
            if run.len() == 1 {
                let i = run.start as f64;
                let (first, last) = (outline.first().copied(), outline.last().copied());
                if let (Some((_, h)), Some((_, l))) = (first, last) {
                    let bar = [(i - 0.08, l), (i + 0.08, h)];
                    ctx.draw_series(std::iter::once(Rectangle::new(bar, shade)))
                        .map_err(fail)?;
                }
                continue;
            }
            ctx.draw_series(std::iter::once(Polygon::new(outline, shade)))
                .map_err(fail)?;
        }
    }
    Ok(())
}

/// The bar series side by side in each category slot, with whiskers for their bands.
pub(super) fn draw_bars(ctx: &mut Plot, chart: &Chart, frame: Frame) -> Result<(), String> {
    let bar_series: Vec<usize> = chart
        .series
        .iter()
        .enumerate()
        .filter(|(_, s)| s.bars)
        .map(|(k, _)| k)
        .collect();
    let bar_width = BAR_SLOT / bar_series.len().max(1) as f64;
    let base = frame.clamp(0.0);
    for (slot, &k) in bar_series.iter().enumerate() {
        let Some(series) = chart.series.get(k) else {
            continue;
        };
        let fill = colour(k).filled();
        let offset = -BAR_SLOT / 2.0 + slot as f64 * bar_width;
        let bars = (0..frame.count).filter_map(|i| {
            let v = value_at(&series.values, i)?;
            let left = i as f64 + offset + bar_width * 0.06;
            let right = i as f64 + offset + bar_width * 0.94;
            Some(Rectangle::new(
                [(left, base), (right, frame.clamp(v))],
                fill,
            ))
        });
        ctx.draw_series(bars).map_err(fail)?;
        let Some(band) = &series.band else { continue };
        let whisker = INK.mix(0.8).stroke_width(1);
        for i in 0..frame.count {
            let Some((l, h)) = band_at(band, i) else {
                continue;
            };
            let centre = i as f64 + offset + bar_width / 2.0;
            let cap = bar_width * 0.2;
            let (l, h) = (frame.clamp(l), frame.clamp(h));
            let lines = [
                vec![(centre, l), (centre, h)],
                vec![(centre - cap, l), (centre + cap, l)],
                vec![(centre - cap, h), (centre + cap, h)],
            ];
            ctx.draw_series(lines.into_iter().map(|p| PathElement::new(p, whisker)))
                .map_err(fail)?;
        }
    }
    Ok(())
}

/// A dashed line across the plot at each finite target.
pub(super) fn draw_target_lines(ctx: &mut Plot, chart: &Chart, frame: Frame) -> Result<(), String> {
    for (_, value) in &chart.targets {
        if !value.is_finite() {
            continue;
        }
        let y = frame.clamp(*value);
        let ends = [(-0.5, y), (frame.count as f64 - 0.5, y)];
        let dashed = DashedLineSeries::new(ends, 8, 5, TARGET.stroke_width(2));
        ctx.draw_series(dashed).map_err(fail)?;
    }
    Ok(())
}

/// The line series: a line over each run of finite values, with markers unless the categories
/// are many (a lone point always has one).
pub(super) fn draw_lines(ctx: &mut Plot, chart: &Chart, frame: Frame) -> Result<(), String> {
    for (k, series) in chart.series.iter().enumerate() {
        if series.bars {
            continue;
        }
        let line = colour(k).stroke_width(2);
        for run in runs(frame.count, |i| value_at(&series.values, i).is_some()) {
            let points: Vec<(f64, f64)> = run
                .filter_map(|i| value_at(&series.values, i).map(|v| (i as f64, frame.clamp(v))))
                .collect();
            if points.len() > 1 {
                ctx.draw_series(std::iter::once(PathElement::new(points.clone(), line)))
                    .map_err(fail)?;
            }
            if frame.count <= MAX_MARKED_POINTS || points.len() == 1 {
                let dots = points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, colour(k).filled()));
                ctx.draw_series(dots).map_err(fail)?;
            }
        }
    }
    Ok(())
}

/// Each finite target's label at the right end of its line, on a light backing.
pub(super) fn draw_target_labels(
    ctx: &mut Plot,
    chart: &Chart,
    frame: Frame,
) -> Result<(), String> {
    for (label, value) in &chart.targets {
        if !value.is_finite() {
            continue;
        }
        let width = text_width(label, TICK_PX).ceil() as i32;
        let backing = WHITE.mix(0.85).filled();
        let style = font(TICK_PX)
            .color(&TARGET)
            .pos(Pos::new(HPos::Right, VPos::Bottom));
        let text = EmptyElement::at((frame.count as f64 - 0.5, frame.clamp(*value)))
            + Rectangle::new([(-width - 8, -18), (-2, -3)], backing)
            + Text::new(label.clone(), (-5, -4), style);
        ctx.draw_series(std::iter::once(text)).map_err(fail)?;
    }
    Ok(())
}
