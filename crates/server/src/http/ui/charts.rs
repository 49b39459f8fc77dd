//! Server-rendered SVG charts: readable without JavaScript, every mark with its number as a
//! tooltip (`<title>`), and the chart's own title for screen readers. Text is escaped here,
//! so templates may embed the result as it is.

use std::fmt::Write as _;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;

/// One series of a chart: its name and CSS class (`s1`, `s2`, …) and a value per category.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// CSS class that colours it.
    pub class: &'static str,
    /// One value per category (`None`: no value, e.g. a percentage of nothing).
    pub values: Vec<Option<f64>>,
}

fn esc(raw: &str) -> String {
    raw.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn fmt(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A "nice" upper bound for the axis: 1, 2 or 5 times a power of ten at or above `max`.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|c| *c >= max)
        .unwrap_or(10.0 * magnitude)
}

fn frame(out: &mut String, id: &str, title: &str, max: f64, unit: &str) {
    let _ = write!(
        out,
        "<svg class=\"chart\" id=\"{}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(id),
        esc(title),
        esc(title)
    );
    let plot_h = HEIGHT - TOP - BOTTOM;
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = TOP + plot_h - plot_h * f64::from(i) / 4.0;
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{WIDTH}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}{}</text>",
            LEFT - 6.0,
            y + 4.0,
            fmt(v),
            esc(unit)
        );
    }
}

fn labels(out: &mut String, categories: &[String], slot: f64) {
    // As many as fit side by side at about 6 units a character.
    let longest = categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(1);
    let fit = ((WIDTH - LEFT) / (longest as f64 * 6.5 + 12.0)).floor() as usize;
    labels_at(out, categories, slot, HEIGHT - 8.0, fit.max(1));
}

/// Labels under the plot, at most `most` of them (every n-th) so they do not overlap.
fn labels_at(out: &mut String, categories: &[String], slot: f64, y: f64, most: usize) {
    // At most about twelve labels fit under the axis.
    let every = categories.len().div_ceil(most).max(1);
    for (i, label) in categories
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
    {
        let x = LEFT + slot * (i as f64 + 0.5);
        let _ = write!(
            out,
            "<text class=\"axis\" x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"middle\">{}</text>",
            esc(label)
        );
    }
}

/// Grouped bars, one group per category.
pub fn bars(id: &str, title: &str, categories: &[String], series: &[Series]) -> String {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0f64, |a, b| a.max(*b));
    let max = nice_max(max);
    let mut out = String::new();
    frame(&mut out, id, title, max, "");
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT) / categories.len().max(1) as f64;
    let bar = (slot * 0.8) / series.len().max(1) as f64;
    for (c, category) in categories.iter().enumerate() {
        for (k, s) in series.iter().enumerate() {
            let Some(v) = s.values.get(c).copied().flatten() else {
                continue;
            };
            let h = plot_h * v / max;
            let x = LEFT + slot * c as f64 + slot * 0.1 + bar * k as f64;
            let _ = write!(
                out,
                "<rect class=\"{}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\"><title>{} {}: {}</title></rect>",
                s.class,
                TOP + plot_h - h,
                (bar - 1.0).max(1.0),
                esc(category),
                esc(&s.name),
                fmt(v)
            );
        }
    }
    labels(&mut out, categories, slot);
    out.push_str("</svg>");
    legend(series) + &out
}

/// Lines over the categories on a 0–`max` axis (`max` none: from the data).
pub fn lines(
    id: &str,
    title: &str,
    categories: &[String],
    series: &[Series],
    max: Option<f64>,
    unit: &str,
) -> String {
    let max = max.unwrap_or_else(|| {
        nice_max(
            series
                .iter()
                .flat_map(|s| s.values.iter().flatten())
                .fold(0.0f64, |a, b| a.max(*b)),
        )
    });
    let mut out = String::new();
    frame(&mut out, id, title, max, unit);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT) / categories.len().max(1) as f64;
    for s in series {
        let mut path = String::new();
        let mut points = String::new();
        for (c, v) in s.values.iter().enumerate() {
            let Some(v) = v else {
                continue;
            };
            let x = LEFT + slot * (c as f64 + 0.5);
            let y = TOP + plot_h - plot_h * v.min(max) / max;
            let _ = write!(
                path,
                "{}{x:.1},{y:.1} ",
                if path.is_empty() { "M" } else { "L" }
            );
            let label = categories.get(c).map_or("", String::as_str);
            let _ = write!(
                points,
                "<circle class=\"{}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\"><title>{} {}: {}{}</title></circle>",
                s.class,
                esc(label),
                esc(&s.name),
                fmt(*v),
                esc(unit)
            );
        }
        let _ = write!(
            out,
            "<path class=\"line {}\" d=\"{}\" fill=\"none\"/>{points}",
            s.class,
            path.trim_end()
        );
    }
    labels(&mut out, categories, slot);
    out.push_str("</svg>");
    legend(series) + &out
}

/// A grid of numbers (rows × columns), each cell shaded by its value against the largest.
pub fn heatmap(
    id: &str,
    title: &str,
    rows: &[String],
    columns: &[String],
    values: &[Vec<u32>],
) -> String {
    let max = values.iter().flatten().copied().max().unwrap_or(0).max(1);
    let cell_w = (WIDTH - LEFT) / columns.len().max(1) as f64;
    let cell_h = 22.0;
    let height = TOP + cell_h * rows.len() as f64 + BOTTOM;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"chart heatmap\" id=\"{}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(id),
        esc(title),
        esc(title)
    );
    for (r, row) in rows.iter().enumerate() {
        let y = TOP + cell_h * r as f64;
        let _ = write!(
            out,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT - 6.0,
            y + cell_h * 0.65,
            esc(row)
        );
        for (c, column) in columns.iter().enumerate() {
            let v = values
                .get(r)
                .and_then(|row| row.get(c))
                .copied()
                .unwrap_or(0);
            let x = LEFT + cell_w * c as f64;
            let shade = 0.08 + 0.85 * f64::from(v) / f64::from(max);
            let _ = write!(
                out,
                "<rect class=\"cell\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill-opacity=\"{shade:.2}\"><title>{} {}: {v}</title></rect><text class=\"cell-text\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{v}</text>",
                cell_w - 1.0,
                cell_h - 1.0,
                esc(row),
                esc(column),
                x + cell_w / 2.0,
                y + cell_h * 0.68
            );
        }
    }
    labels_at(&mut out, columns, cell_w, height - 8.0, 24);
    out.push_str("</svg>");
    out
}

fn legend(series: &[Series]) -> String {
    let mut out = String::from("<p class=\"legend\">");
    for s in series {
        let _ = write!(
            out,
            "<span><i class=\"{}\"></i>{}</span>",
            s.class,
            esc(&s.name)
        );
    }
    out.push_str("</p>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_their_numbers_and_escape_text() {
        let svg = bars(
            "c",
            "Created <vs> resolved",
            &["2026-11-02".into(), "2026-11-09".into()],
            &[Series {
                name: "Created".into(),
                class: "s1",
                values: vec![Some(3.0), Some(7.0)],
            }],
        );
        assert!(svg.contains("<title>2026-11-09 Created: 7</title>"));
        assert!(svg.contains("Created &lt;vs&gt; resolved"));
        assert_eq!(svg.matches("<rect").count(), 2);
        // The axis tops out at 10 (the nice bound above 7).
        assert!(svg.contains(">10</text>"));
    }

    #[test]
    fn lines_skip_missing_points() {
        let svg = lines(
            "l",
            "SLA",
            &["a".into(), "b".into(), "c".into()],
            &[Series {
                name: "Met".into(),
                class: "s2",
                values: vec![Some(50.0), None, Some(100.0)],
            }],
            Some(100.0),
            "%",
        );
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("c Met: 100%"));
    }

    #[test]
    fn nice_bounds() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(12.0), 20.0);
        assert_eq!(nice_max(450.0), 500.0);
    }
}
