//! A Gantt-like drawing of shifts: one band per day, one thin bar per kind of shift from its
//! start to its end (hours after the day's midnight, past 24 when it runs into the next day),
//! its breaks (every placement its shifts take) lighter, its count at its end; colours by
//! agent group.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::Gantt;
use super::{GRID, INK, LABEL_PX, LEFT, TICK_PX, TITLE_HEIGHT, WIDTH, colour, fail, font};

/// Height of one shift's bar, pixels.
const BAR: i32 = 6;
/// Space between bars, pixels.
const GAP: i32 = 2;
/// Space above each day band (its label) and below it, pixels.
const DAY_PAD: i32 = 18;
/// Width kept left of the time axis for day labels, pixels.
const LABEL_AREA: i32 = 70;
/// Height of the hour labels above the bands, pixels.
const AXIS: i32 = 22;

/// Draws `gantt` titled `title` into `buf`.
pub(super) fn draw(title: &str, gantt: &Gantt, buf: &mut String) -> Result<(), String> {
    let bands: i32 = gantt
        .rows
        .iter()
        .map(|r| DAY_PAD + r.bars.len().max(1) as i32 * (BAR + GAP))
        .sum();
    let legend = 20;
    let height = TITLE_HEIGHT as i32 + legend + AXIS + bands + 10;
    let root = SVGBackend::with_string(buf, (WIDTH, height as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(fail)?;
    let title_style = font(16.0).pos(Pos::new(HPos::Left, VPos::Top));
    root.draw(&Text::new(title.to_string(), (LEFT, 8), title_style))
        .map_err(fail)?;
    let mut x = LEFT;
    for (g, name) in gantt.groups.iter().enumerate() {
        let y = TITLE_HEIGHT as i32 + 8;
        root.draw(&Rectangle::new(
            [(x, y - 5), (x + 16, y + 5)],
            colour(g).filled(),
        ))
        .map_err(fail)?;
        let style = font(LABEL_PX).pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(name.clone(), (x + 22, y), style))
            .map_err(fail)?;
        x += 40 + 8 * name.chars().count() as i32;
    }
    let top = TITLE_HEIGHT as i32 + legend + AXIS;
    let hours = gantt.hours.max(1.0);
    let plot = (LABEL_AREA, WIDTH as i32 - 40);
    let at = |h: f64| plot.0 + ((h / hours) * f64::from(plot.1 - plot.0)).round() as i32;
    draw_hours(&root, hours, top, height, &at)?;
    let mut y = top;
    for row in &gantt.rows {
        let style = font(LABEL_PX).pos(Pos::new(HPos::Left, VPos::Top));
        root.draw(&Text::new(row.label.clone(), (LEFT, y + 4), style))
            .map_err(fail)?;
        y += DAY_PAD;
        for bar in &row.bars {
            let fill = colour(bar.group);
            root.draw(&Rectangle::new(
                [(at(bar.from), y), (at(bar.to), y + BAR)],
                fill.filled(),
            ))
            .map_err(fail)?;
            for &(from, to) in &bar.breaks {
                let light = WHITE.mix(0.55).filled();
                root.draw(&Rectangle::new([(at(from), y), (at(to), y + BAR)], light))
                    .map_err(fail)?;
            }
            let count = font(9.0).pos(Pos::new(HPos::Left, VPos::Center));
            let label = format!("×{}", bar.count);
            root.draw(&Text::new(label, (at(bar.to) + 3, y + BAR / 2), count))
                .map_err(fail)?;
            y += BAR + GAP;
        }
        if row.bars.is_empty() {
            y += BAR + GAP;
        }
    }
    root.present().map_err(fail)
}

/// Vertical grid lines and labels every two hours.
fn draw_hours(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    hours: f64,
    top: i32,
    bottom: i32,
    at: &dyn Fn(f64) -> i32,
) -> Result<(), String> {
    let mut h = 0.0;
    while h <= hours + 1e-9 {
        let x = at(h);
        root.draw(&PathElement::new(
            vec![(x, top), (x, bottom - 10)],
            GRID.stroke_width(1),
        ))
        .map_err(fail)?;
        let label = format!("{:02}:00", (h as u32) % 24);
        let style = font(TICK_PX).pos(Pos::new(HPos::Center, VPos::Bottom));
        root.draw(&Text::new(label, (x, top - 4), style))
            .map_err(fail)?;
        h += 2.0;
    }
    root.draw(&PathElement::new(
        vec![(at(0.0), top), (at(hours), top)],
        INK.stroke_width(1),
    ))
    .map_err(fail)
}
