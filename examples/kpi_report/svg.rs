//! A tiny SVG writer for horizontal bar charts (no plotting dependency).

use std::fmt::Write;

/// One bar: its label, its length (any non-negative unit) and the text
/// written after it.
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) value: f64,
    pub(crate) text: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A horizontal bar chart, bars in the given order, longest bar full width.
/// `centered` draws each bar centred (a funnel).
pub(crate) fn bar_chart(title: &str, bars: &[Bar], centered: bool) -> String {
    let (label_w, bar_w, row_h, top) = (170.0, 520.0, 30.0, 50.0);
    let width = label_w + bar_w + 150.0;
    let height = top + row_h * bars.len() as f64 + 20.0;
    let max = bars
        .iter()
        .map(|b| b.value)
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="28" font-size="17" font-weight="bold">{}</text>"#,
        escape(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = top + row_h * i as f64;
        let w = (b.value.max(0.0) / max * bar_w).max(1.0);
        let x = if centered {
            label_w + (bar_w - w) / 2.0
        } else {
            label_w
        };
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            y + 19.0,
            escape(&b.label)
        );
        let _ = writeln!(
            s,
            r##"<rect x="{x:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="#3b6ea8"/>"##,
            y + 4.0,
            row_h - 8.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}">{}</text>"#,
            label_w + bar_w + 8.0,
            y + 19.0,
            escape(&b.text)
        );
    }
    s.push_str("</svg>\n");
    s
}
