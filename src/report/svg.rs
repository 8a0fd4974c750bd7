//! Charts of a [`Chart`] drawn as inline SVG with plotters' SVG backend, for the HTML report.
//!
//! Text needs no font files: without plotters' `ttf` feature its layout estimates a text's
//! width from its length, and the SVG backend writes `<text>` elements that the browser sets in
//! its own fonts. The layout below therefore leaves room for that estimate's error (legend
//! spacing, thinned x labels) instead of measuring glyphs.
//!
//! Points whose value is not finite are skipped: a line breaks there and a band ends there.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Chart;

mod gantt;
mod marks;

use self::marks::{
    draw_bands, draw_bars, draw_highlight, draw_lines, draw_target_labels, draw_target_lines,
};

/// Width of every chart, pixels (the page scales it down on narrow screens).
const WIDTH: u32 = 900;
/// Height of the plot with its axes, below the title and legend, pixels.
const PLOT_HEIGHT: u32 = 280;
/// Height of the title strip, pixels.
const TITLE_HEIGHT: u32 = 30;
/// Height of one legend row, pixels.
const LEGEND_ROW: u32 = 20;
/// Left edge of the title and the legend, pixels.
const LEFT: i32 = 12;
/// Font family of all chart text.
const FONT: &str = "sans-serif";
/// Width of the y-axis label area, pixels.
const Y_AREA: u32 = 64;
/// Right margin of the plot, pixels.
const RIGHT_MARGIN: u32 = 20;
/// Share of a category slot covered by bars.
const BAR_SLOT: f64 = 0.8;
/// Opacity of a confidence band.
const BAND_OPACITY: f64 = 0.18;
/// Percent line charts whose lowest point is at least this share do not start at zero.
const HIGH_SHARE: f64 = 0.5;
/// Size of tick labels, CSS pixels.
const TICK_PX: f64 = 12.0;
/// Size of legend and axis labels, CSS pixels.
const LABEL_PX: f64 = 13.0;
/// Markers are drawn on lines with at most this many categories.
const MAX_MARKED_POINTS: usize = 60;

/// Series colours: the Tableau 10 palette, distinct and readable on white.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0xba, 0xb0, 0xac),
];
/// Colour of text and axes.
const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// Colour of target lines.
const TARGET: RGBColor = RGBColor(0x55, 0x55, 0x55);
/// Shade and label of a highlighted category (the recommended choice).
const HIGHLIGHT: RGBColor = RGBColor(0x2e, 0x7d, 0x32);
/// Colour of grid lines.
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);

/// A chart that could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The drawing backend reported an error.
    #[error("chart \"{title}\" could not be drawn: {message}")]
    Draw {
        /// Title of the chart.
        title: String,
        /// What the backend said.
        message: String,
    },
}

/// A text style of `px` CSS pixels (the SVG backend divides sizes by 1.24).
fn font(px: f64) -> TextStyle<'static> {
    (FONT, px * 1.24).into_font().color(&INK)
}

/// Colour of the `index`-th series.
fn colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Rough width of `text` in pixels at `px` CSS pixels, for layout (sans-serif averages about
/// 0.6 em per character).
fn text_width(text: &str, px: f64) -> f64 {
    text.chars().count() as f64 * px * 0.6
}

/// Category x axis: category `i` sits at the centre of slot `i` of `count`, spanning
/// `-0.5..count - 0.5`; ticks and labels every `step` categories.
struct CategoryAxis {
    count: usize,
    step: usize,
}

impl Ranged for CategoryAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = (value + 0.5) / self.count.max(1) as f64;
        limit.0 + (share * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        (0..self.count)
            .step_by(self.step.max(1))
            .map(|i| i as f64)
            .collect()
    }

    fn range(&self) -> Range<f64> {
        -0.5..self.count as f64 - 0.5
    }
}

/// Labels every `step` categories so that labels of `widest` characters do not collide over
/// `plot_width` pixels; steps are 1, 2, 4, 6, 8, 12 or multiples of 12, so that labels of
/// quarter-hour and half-hour intervals fall on full hours.
fn label_step(count: usize, widest: usize, plot_width: f64) -> usize {
    let per_label = text_width(&"0".repeat(widest.max(1)), TICK_PX) + 14.0;
    let fitting = (plot_width / per_label).floor().max(1.0) as usize;
    let needed = count.div_ceil(fitting).max(1);
    [1, 2, 4, 6, 8, 12]
        .into_iter()
        .find(|&s| s >= needed)
        .unwrap_or_else(|| needed.div_ceil(12) * 12)
}

/// The y-axis range: the fixed one, or one from zero (lower if values go below it) that holds
/// every finite value, target and band high, with a little headroom. A percent axis stops at
/// 100% unless values go beyond it, so bands of shares near 100% do not stretch it; a percent
/// line chart of high shares starts just below its lowest point instead of at zero.
fn y_range(chart: &Chart) -> (f64, f64) {
    if let Some((low, high)) = chart.y_range
        && low.is_finite()
        && high.is_finite()
        && low < high
    {
        return (low, high);
    }
    let finite = |v: &f64| v.is_finite();
    let values = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(finite);
    let targets = chart.targets.iter().map(|(_, v)| *v).filter(finite);
    let points: Vec<f64> = values.chain(targets).collect();
    let band_highs = chart
        .series
        .iter()
        .filter_map(|s| s.band.as_ref())
        .flat_map(|band| band.iter().map(|(_, high)| *high))
        .filter(finite);
    let low = points.iter().copied().fold(0.0, f64::min);
    let top = points.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let reach = band_highs.fold(top, f64::max);
    if !reach.is_finite() || reach <= low {
        return (low, low + 1.0);
    }
    let high = low + (reach - low) * 1.08;
    if !chart.percent || top > 1.0 {
        return (low, high);
    }
    // Line charts of high shares (service levels) start at a round 10% below their lowest point
    // so that differences of a few points stay visible; bars always start at zero.
    let band_lows = chart
        .series
        .iter()
        .filter_map(|s| s.band.as_ref())
        .flat_map(|band| band.iter().map(|(band_low, _)| *band_low))
        .filter(finite);
    let bottom = band_lows.fold(points.iter().copied().fold(1.0, f64::min), f64::min);
    let floor = if chart.series.iter().all(|s| !s.bars) && bottom >= HIGH_SHARE {
        ((bottom - 0.02) * 10.0).floor() / 10.0
    } else {
        low
    };
    (floor, high.min(1.0))
}

/// Decimals for tick labels on an axis spanning `span` (about six ticks).
fn tick_decimals(span: f64) -> usize {
    match span {
        s if s >= 5.0 => 0,
        s if s >= 0.5 => 1,
        s if s >= 0.05 => 2,
        _ => 3,
    }
}

/// Tick label of `v` on a percent axis or a plain axis spanning `span`.
fn tick_label(v: f64, percent: bool, span: f64) -> String {
    if percent {
        let d = tick_decimals(span * 100.0);
        format!("{:.d$}%", v * 100.0)
    } else {
        let d = tick_decimals(span);
        format!("{v:.d$}")
    }
}

/// What a legend entry shows beside its label.
enum Swatch {
    Line(RGBColor),
    Bar(RGBColor),
    Band,
    Whisker,
}

/// Legend entries of a chart: each series, then the band and whisker marks if any.
fn legend(chart: &Chart) -> Vec<(Swatch, String)> {
    let mut entries: Vec<(Swatch, String)> = chart
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let swatch = if s.bars {
                Swatch::Bar(colour(i))
            } else {
                Swatch::Line(colour(i))
            };
            (swatch, s.name.clone())
        })
        .collect();
    let band = chart.band_label.as_deref().unwrap_or("confidence interval");
    if chart.series.iter().any(|s| !s.bars && s.band.is_some()) {
        entries.push((Swatch::Band, band.into()));
    }
    if chart.series.iter().any(|s| s.bars && s.band.is_some()) {
        entries.push((Swatch::Whisker, band.into()));
    }
    entries
}

/// Legend entries placed in rows that fit the chart width: (row, x offset, entry index).
fn legend_layout(entries: &[(Swatch, String)]) -> Vec<(u32, i32, usize)> {
    let mut placed = Vec::with_capacity(entries.len());
    let (mut row, mut x) = (0u32, LEFT);
    for (i, (_, label)) in entries.iter().enumerate() {
        let width = 26 + text_width(label, LABEL_PX).ceil() as i32 + 18;
        if x > LEFT && x + width > WIDTH as i32 - LEFT {
            row += 1;
            x = LEFT;
        }
        placed.push((row, x, i));
        x += width;
    }
    placed
}

/// Runs of consecutive indices in `0..count` for which `ok` holds.
fn runs(count: usize, ok: impl Fn(usize) -> bool) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for i in 0..=count {
        match (i < count && ok(i), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Renders `chart` as one standalone `<svg>` element (a String starting with `<svg`).
pub fn render_chart(chart: &Chart) -> Result<String, ChartError> {
    let mut buf = String::new();
    let drawn = match &chart.gantt {
        Some(gantt) => gantt::draw(&chart.title, gantt, &mut buf),
        None => draw(chart, &mut buf),
    };
    drawn.map_err(|message| ChartError::Draw {
        title: chart.title.clone(),
        message,
    })?;
    Ok(buf)
}

/// The whole SVG drawing area.
type Root<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// The plot: categories across, values up.
type Plot<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<CategoryAxis, RangedCoordf64>>;

/// A backend error as the message [`ChartError::Draw`] carries.
fn fail(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The plot's extent: `count` categories, values from `low` to `high`.
#[derive(Clone, Copy)]
struct Frame {
    count: usize,
    low: f64,
    high: f64,
}

impl Frame {
    /// `v` held within the value axis.
    fn clamp(self, v: f64) -> f64 {
        v.clamp(self.low, self.high)
    }
}

fn draw(chart: &Chart, buf: &mut String) -> Result<(), String> {
    let entries = legend(chart);
    let layout = legend_layout(&entries);
    let legend_rows = layout.last().map_or(0, |&(row, _, _)| row + 1);
    let top = TITLE_HEIGHT + legend_rows * LEGEND_ROW + 4;
    let height = top + PLOT_HEIGHT;
    let root = SVGBackend::with_string(buf, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(fail)?;
    draw_header(&root, chart, &entries, &layout)?;
    let (_, area) = root.split_vertically(top);
    let count = chart.x.len().max(
        chart
            .series
            .iter()
            .map(|s| s.values.len())
            .max()
            .unwrap_or(0),
    );
    let has_data = chart
        .series
        .iter()
        .any(|s| s.values.iter().any(|v| v.is_finite()));
    if count == 0 || !has_data {
        let note = font(13.0).pos(Pos::new(HPos::Center, VPos::Center));
        let centre = ((WIDTH / 2) as i32, (PLOT_HEIGHT / 2) as i32);
        area.draw(&Text::new("no data to plot", centre, note))
            .map_err(fail)?;
        return root.present().map_err(fail);
    }
    let (low, high) = y_range(chart);
    let frame = Frame { count, low, high };
    let mut ctx = plot(chart, &area, frame)?;
    draw_highlight(&mut ctx, chart, frame)?;
    // Bands first, so that bars and lines stay on top of them.
    draw_bands(&mut ctx, chart, frame)?;
    draw_bars(&mut ctx, chart, frame)?;
    draw_target_lines(&mut ctx, chart, frame)?;
    draw_lines(&mut ctx, chart, frame)?;
    // Target labels last, on a light backing so that lines crossing them keep them legible.
    draw_target_labels(&mut ctx, chart, frame)?;
    root.present().map_err(fail)
}

/// The title, then the legend entries where `layout` places them.
fn draw_header(
    root: &Root,
    chart: &Chart,
    entries: &[(Swatch, String)],
    layout: &[(u32, i32, usize)],
) -> Result<(), String> {
    let title_style = (FONT, 16.0 * 1.24, FontStyle::Bold)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Top));
    root.draw(&Text::new(chart.title.clone(), (LEFT, 8), title_style))
        .map_err(fail)?;
    for &(row, x, i) in layout {
        let Some((swatch, label)) = entries.get(i) else {
            continue;
        };
        let y = (TITLE_HEIGHT + row * LEGEND_ROW) as i32 + LEGEND_ROW as i32 / 2;
        draw_swatch(root, swatch, x, y)?;
        let label_style = font(LABEL_PX).pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(label.clone(), (x + 26, y), label_style))
            .map_err(fail)?;
    }
    Ok(())
}

/// A legend entry's mark, 20 pixels wide from `x`, centred on `y`.
fn draw_swatch(root: &Root, swatch: &Swatch, x: i32, y: i32) -> Result<(), String> {
    match swatch {
        Swatch::Line(c) => {
            root.draw(&PathElement::new(
                vec![(x, y), (x + 20, y)],
                c.stroke_width(2),
            ))
            .map_err(fail)?;
            root.draw(&Circle::new((x + 10, y), 3, c.filled()))
                .map_err(fail)?;
        }
        Swatch::Bar(c) => {
            root.draw(&Rectangle::new(
                [(x + 3, y - 6), (x + 17, y + 6)],
                c.filled(),
            ))
            .map_err(fail)?;
        }
        Swatch::Band => {
            let shade = INK.mix(BAND_OPACITY).filled();
            root.draw(&Rectangle::new([(x, y - 6), (x + 20, y + 6)], shade))
                .map_err(fail)?;
        }
        Swatch::Whisker => {
            let style = INK.stroke_width(1);
            root.draw(&PathElement::new(
                vec![(x + 10, y - 7), (x + 10, y + 7)],
                style,
            ))
            .map_err(fail)?;
            for cap in [y - 7, y + 7] {
                root.draw(&PathElement::new(vec![(x + 6, cap), (x + 14, cap)], style))
                    .map_err(fail)?;
            }
        }
    }
    Ok(())
}

/// The plot on `area` with its axes, grid, tick labels and axis descriptions drawn.
fn plot<'a, 'b>(chart: &Chart, area: &'a Root<'b>, frame: Frame) -> Result<Plot<'a, 'b>, String> {
    let Frame { count, low, high } = frame;
    let plot_width = f64::from(WIDTH - Y_AREA - RIGHT_MARGIN);
    let widest = chart.x.iter().map(|l| l.chars().count()).max().unwrap_or(1);
    let axis = CategoryAxis {
        count,
        step: label_step(count, widest, plot_width),
    };
    let x_area = if chart.x_label.is_empty() { 28 } else { 48 };
    let mut ctx = ChartBuilder::on(area)
        .margin_right(RIGHT_MARGIN)
        .margin_top(6)
        .x_label_area_size(x_area)
        .y_label_area_size(Y_AREA)
        .build_cartesian_2d(axis, low..high)
        .map_err(fail)?;
    let category = |v: &f64| {
        let i = v.round();
        if i >= 0.0 {
            chart.x.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    let span = high - low;
    let y_tick = |v: &f64| tick_label(*v, chart.percent, span);
    ctx.configure_mesh()
        .disable_x_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID.stroke_width(1))
        .axis_style(INK.mix(0.6).stroke_width(1))
        .y_labels(6)
        .x_label_formatter(&category)
        .y_label_formatter(&y_tick)
        .label_style(font(TICK_PX))
        .axis_desc_style(font(LABEL_PX))
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .draw()
        .map_err(fail)?;
    Ok(ctx)
}
