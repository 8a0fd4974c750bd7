//! The HTML report: well-formed markup, one inline SVG per chart, escaped text, no external
//! resources, and NaN values skipped rather than written into the drawing.
//!
//! The page is checked with a strict tag-structure parser written here: every element closes in
//! order (HTML void elements excepted), attributes are quoted, text holds no raw `<`, and every
//! `&` starts a known entity.

use chatcap::Cli;
use chatcap::report::{Cell, Chart, Document, Exporter, HtmlExporter, Output, Series, Table};
use clap::Parser;

/// One element of the page.
#[derive(Debug)]
struct Element {
    /// Tag name, lower case.
    name: String,
    /// Attributes in order, values unescaped.
    attrs: Vec<(String, String)>,
    /// Names of the enclosing elements, outermost first.
    ancestors: Vec<String>,
    /// Text directly inside the element (not in children), unescaped.
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

const VOID: [&str; 4] = ["meta", "br", "link", "img"];

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail.find(';').ok_or_else(|| format!("bare & in {s:?}"))?;
        let c = match &tail[..=end] {
            "&amp;" => '&',
            "&lt;" => '<',
            "&gt;" => '>',
            "&quot;" => '"',
            "&#39;" | "&apos;" => '\'',
            other => return Err(format!("unknown entity {other} in {s:?}")),
        };
        out.push(c);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn parse_attrs(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut attrs = Vec::new();
    let mut rest = raw.trim();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("attribute without value: {rest:?}"))?;
        let name = rest[..eq].trim().to_string();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!("bad attribute name in {raw:?}"));
        }
        let after = &rest[eq + 1..];
        let value = after
            .strip_prefix('"')
            .ok_or_else(|| format!("unquoted value: {raw:?}"))?;
        let close = value
            .find('"')
            .ok_or_else(|| format!("unterminated value: {raw:?}"))?;
        attrs.push((name, unescape(&value[..close])?));
        rest = value[close + 1..].trim_start();
    }
    Ok(attrs)
}

/// Parses the page strictly; returns its elements in document order.
fn parse(html: &str) -> Result<Vec<Element>, String> {
    let mut elements: Vec<Element> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut rest = html
        .strip_prefix("<!DOCTYPE html>")
        .ok_or("page does not start with <!DOCTYPE html>")?;
    loop {
        let lt = rest.find('<').unwrap_or(rest.len());
        let raw = &rest[..lt];
        if raw.contains('>') {
            return Err(format!("raw > in text {raw:?}"));
        }
        let text = unescape(raw)?;
        match open.last() {
            Some(&i) => elements[i].text.push_str(&text),
            None if text.trim().is_empty() => {}
            None => return Err(format!("text outside the root element: {text:?}")),
        }
        if lt == rest.len() {
            break;
        }
        let gt = rest[lt..].find('>').ok_or("unterminated tag")? + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if tag.contains('<') {
            return Err(format!("< inside tag {tag:?}"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            let i = open
                .pop()
                .ok_or_else(|| format!("</{name}> closes nothing"))?;
            if elements[i].name != name {
                return Err(format!("</{name}> closes <{}>", elements[i].name));
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, attrs) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("bad tag name {name:?}"));
        }
        elements.push(Element {
            name: name.to_string(),
            attrs: parse_attrs(attrs)?,
            ancestors: open.iter().map(|&i| elements[i].name.clone()).collect(),
            text: String::new(),
        });
        let index = elements.len() - 1;
        if name == "style" {
            let end = rest.find("</style>").ok_or("unterminated <style>")?;
            elements[index].text = rest[..end].to_string();
            rest = &rest[end + "</style>".len()..];
        } else if !self_closing && !VOID.contains(&name) {
            open.push(index);
        }
    }
    if let Some(&i) = open.last() {
        return Err(format!("<{}> is never closed", elements[i].name));
    }
    Ok(elements)
}

fn named<'a>(elements: &'a [Element], name: &str) -> Vec<&'a Element> {
    elements.iter().filter(|e| e.name == name).collect()
}

/// Every http(s) reference in the page is the SVG namespace.
fn assert_no_external_resources(html: &str) {
    for scheme in ["http://", "https://"] {
        for (at, _) in html.match_indices(scheme) {
            let reference = &html[at..];
            assert!(
                reference.starts_with("http://www.w3.org/2000/svg\""),
                "external reference: {}",
                &reference[..reference.len().min(60)]
            );
        }
    }
}

fn render(document: Document) -> String {
    let output = Output {
        json: serde_json::Value::Null,
        document,
    };
    let mut page = Vec::new();
    HtmlExporter.export(&output, &mut page).unwrap();
    String::from_utf8(page).unwrap()
}

fn sample_document() -> Document {
    let hostile = "Peak <script>alert('x')</script> & co";
    let mut table = Table::new("Per <b>queue</b>", &["queue", "offered", "SL"]);
    table.rows.push(vec![
        Cell::text("a<b & c"),
        Cell::num(12.5, 1),
        Cell::Pct(0.8),
    ]);
    table.rows.push(vec![
        Cell::text("billing"),
        Cell::num(f64::NAN, 1),
        Cell::Pct(0.75),
    ]);
    let line = Chart {
        title: hostile.into(),
        x_label: "interval start".into(),
        y_label: "service level".into(),
        x: ["08:00", "08:30", "09:00", "09:30", "10:00"]
            .map(String::from)
            .to_vec(),
        series: vec![Series {
            name: "orders".into(),
            values: vec![0.2, f64::NAN, 0.4, 0.5, 0.6],
            band: Some(vec![
                (0.1, 0.3),
                (f64::NAN, f64::NAN),
                (0.3, 0.5),
                (0.4, 0.6),
                (0.5, 0.7),
            ]),
            bars: false,
        }],
        percent: true,
        ..Chart::default()
    };
    let bars = Chart {
        title: "Offered chats".into(),
        x: vec!["08:00".into(), "08:30".into()],
        series: vec![Series {
            name: "orders".into(),
            values: vec![10.0, f64::INFINITY],
            band: None,
            bars: true,
        }],
        targets: vec![("capacity 12".into(), 12.0)],
        ..Chart::default()
    };
    let empty = Chart {
        title: "Nothing yet".into(),
        ..Chart::default()
    };
    Document {
        title: hostile.into(),
        notes: vec!["seed 1".into(), "warning: 3 chats stranded".into()],
        tables: vec![table],
        charts: vec![line, bars, empty],
        ..Document::default()
    }
}

#[test]
fn html_page_is_well_formed_self_contained_and_escaped() {
    let document = sample_document();
    let page = render(document.clone());
    let elements = parse(&page).unwrap_or_else(|e| panic!("{e}\n{page}"));

    let svgs = named(&elements, "svg");
    assert_eq!(svgs.len(), document.charts.len());
    for (svg, chart) in svgs.iter().zip(&document.charts) {
        assert_eq!(svg.ancestors.last().map(String::as_str), Some("figure"));
        assert_eq!(svg.attr("aria-label"), Some(chart.title.as_str()));
    }
    // Charts come before tables.
    let first_table = elements.iter().position(|e| e.name == "table").unwrap();
    let last_svg = elements.iter().rposition(|e| e.name == "svg").unwrap();
    assert!(last_svg < first_table);

    // The hostile title is text, never markup: no script element anywhere.
    assert!(named(&elements, "script").is_empty());
    assert_eq!(named(&elements, "title")[0].text, document.title);
    assert_eq!(named(&elements, "h1")[0].text, document.title);
    let chart_texts: Vec<&str> = named(&elements, "text")
        .iter()
        .map(|t| t.text.trim())
        .collect();
    assert!(
        chart_texts.contains(&document.title.as_str()),
        "{chart_texts:?}"
    );

    let headers: Vec<&str> = named(&elements, "th")
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(headers, ["queue", "offered", "SL"]);
    assert_eq!(named(&elements, "h2")[0].text, "Per <b>queue</b>");
    let cells: Vec<(&str, Option<&str>)> = named(&elements, "td")
        .iter()
        .map(|e| (e.text.as_str(), e.attr("class")))
        .collect();
    assert_eq!(
        cells,
        [
            ("a<b & c", None),
            ("12.5", Some("n")),
            ("80.0%", Some("n")),
            ("billing", None),
            ("-", Some("n")),
            ("75.0%", Some("n")),
        ]
    );
    assert_eq!(named(&elements, "tr").len(), 3);

    let notes: Vec<Option<&str>> = named(&elements, "li")
        .iter()
        .map(|e| e.attr("class"))
        .collect();
    assert_eq!(notes, [None, Some("warning")]);

    assert_no_external_resources(&page);
}

#[test]
fn charts_skip_undefined_values_and_draw_bands_targets_and_percent_axes() {
    let page = render(sample_document());
    let elements = parse(&page).unwrap();
    for e in &elements {
        for (name, value) in &e.attrs {
            let lower = value.to_ascii_lowercase();
            assert!(
                !lower.contains("nan") && !lower.contains("inf"),
                "{}: {name}={value}",
                e.name
            );
        }
    }
    // Elements of the first chart drawn in the first series colour.
    let first_svg = elements.iter().position(|e| e.name == "svg").unwrap();
    let second_svg = elements
        .iter()
        .skip(first_svg + 1)
        .position(|e| e.name == "svg")
        .unwrap();
    let first_chart = &elements[first_svg..first_svg + 1 + second_svg];
    let series_colour = "#4E79A7";
    let coloured = |name: &str| -> Vec<&Element> {
        first_chart
            .iter()
            .filter(|e| e.name == name)
            .filter(|e| {
                e.attr("stroke") == Some(series_colour) || e.attr("fill") == Some(series_colour)
            })
            .collect()
    };
    // The NaN point splits the line and its band. The band's lone first point is a thin
    // rectangle, the rest one polygon; the line is one polyline through its last three points,
    // plus the legend swatch; markers on the four finite points plus the legend one.
    assert_eq!(coloured("polygon").len(), 1);
    let lines: Vec<usize> = coloured("polyline")
        .iter()
        .map(|p| p.attr("points").unwrap_or("").split_whitespace().count())
        .collect();
    assert_eq!(lines, [2, 3]);
    assert_eq!(coloured("circle").len(), 5);
    assert_eq!(coloured("rect").len(), 1);
    let texts: Vec<&str> = named(&elements, "text")
        .iter()
        .map(|t| t.text.trim())
        .collect();
    // The percent axis reads in percent and stops at 100%.
    assert!(texts.contains(&"0%") && texts.contains(&"60%"), "{texts:?}");
    assert!(!texts.contains(&"120%"), "{texts:?}");
    assert!(texts.contains(&"confidence interval"));
    // Bar chart: the infinite bar is skipped; the target is labelled.
    assert!(texts.contains(&"capacity 12"), "{texts:?}");
    assert!(texts.contains(&"no data to plot"));
}

/// The HTML report `chatcap COMMAND --replications R --html FILE` writes, as text.
fn html_report(command: &str, replications: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let argv = [
        "chatcap",
        command,
        "--replications",
        replications,
        "--quiet",
        "--html",
        path.to_str().unwrap(),
    ];
    let mut out = Vec::new();
    chatcap::run(Cli::parse_from(argv), &mut out).unwrap();
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn simulate_writes_a_self_contained_html_report_with_the_service_level_chart() {
    let page = html_report("simulate", "2");
    let elements = parse(&page).unwrap_or_else(|e| panic!("{e}"));
    let svgs = named(&elements, "svg");
    let labels: Vec<&str> = svgs.iter().filter_map(|s| s.attr("aria-label")).collect();
    assert!(labels.contains(&"Service level per interval"), "{labels:?}");
    assert_eq!(svgs.len(), labels.len());
    // Its bands (one per queue) are drawn.
    assert!(!named(&elements, "polygon").is_empty());
    let headers: Vec<&str> = named(&elements, "th")
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert!(
        headers.contains(&"SL") && headers.contains(&"ASA s"),
        "{headers:?}"
    );
    assert_no_external_resources(&page);
}

#[test]
fn percent_line_charts_of_high_shares_zoom_in_and_bars_start_at_zero() {
    let series = |bars: bool| Series {
        name: "orders".into(),
        values: vec![0.97, 0.95, 0.99],
        band: Some(vec![(0.94, 1.02), (0.91, 0.99), (0.98, 1.0)]),
        bars,
    };
    let chart = |title: &str, bars: bool| Chart {
        title: title.into(),
        x: vec!["08:00".into(), "08:30".into(), "09:00".into()],
        series: vec![series(bars)],
        percent: true,
        ..Chart::default()
    };
    let page = render(Document {
        title: "shares".into(),
        charts: vec![chart("line", false), chart("bars", true)],
        ..Document::default()
    });
    let elements = parse(&page).unwrap();
    let second_svg = elements.iter().rposition(|e| e.name == "svg").unwrap();
    let ticks = |range: &[Element]| -> Vec<String> {
        range
            .iter()
            .filter(|e| e.name == "text")
            .map(|e| e.text.trim().to_string())
            .filter(|t| t.ends_with('%'))
            .collect()
    };
    // Lowest point 91% (a band low): the line chart's axis runs 80%..100%.
    let line_ticks = ticks(&elements[..second_svg]);
    assert_eq!(
        line_ticks.first().map(String::as_str),
        Some("80%"),
        "{line_ticks:?}"
    );
    assert_eq!(
        line_ticks.last().map(String::as_str),
        Some("100%"),
        "{line_ticks:?}"
    );
    let bar_ticks = ticks(&elements[second_svg..]);
    assert_eq!(
        bar_ticks.first().map(String::as_str),
        Some("0%"),
        "{bar_ticks:?}"
    );
    assert_eq!(
        bar_ticks.last().map(String::as_str),
        Some("100%"),
        "{bar_ticks:?}"
    );
}

#[test]
fn plan_writes_a_self_contained_html_report_with_staffing_and_service_level_charts() {
    let page = html_report("plan", "3");
    let elements = parse(&page).unwrap_or_else(|e| panic!("{e}"));
    let labels: Vec<&str> = named(&elements, "svg")
        .iter()
        .filter_map(|s| s.attr("aria-label"))
        .collect();
    for chart in [
        "Agents on duty per interval",
        "Service level per interval",
        "Agent occupancy per interval",
    ] {
        assert!(labels.contains(&chart), "{chart} missing from {labels:?}");
    }
    let headers: Vec<&str> = named(&elements, "th")
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert!(
        headers.contains(&"required") && headers.contains(&"rostered"),
        "{headers:?}"
    );
    assert_no_external_resources(&page);
}
