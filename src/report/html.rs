//! A self-contained HTML report (inline CSS, PNG thumbnails, SVG curves).

use super::TaskReport;
use crate::verdict::aspects::Aspect;
use crate::verdict::Verdict;
use base64::Engine;
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn img(png: &[u8], caption: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(png);
    format!("<figure><img src=\"data:image/png;base64,{b64}\" alt=\"{0}\"><figcaption>{0}</figcaption></figure>", esc(caption))
}

/// Polyline of a curve, scaled to its own range.
fn sparkline(name: &str, values: &[f64]) -> String {
    let (w, h) = (240.0, 48.0);
    if values.len() < 2 {
        return String::new();
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let pts: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * w / (values.len() - 1) as f64,
                h - (v - lo) / span * (h - 4.0) - 2.0
            )
        })
        .collect();
    format!(
        "<div class=\"curve\"><svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\"><polyline fill=\"none\" stroke=\"#2a6fdb\" stroke-width=\"1.5\" points=\"{}\"/></svg><span>{} <small>{lo:.3}..{hi:.3}</small></span></div>",
        pts.join(" "),
        esc(name)
    )
}

const CURVES: [&str; 9] = [
    "first_frame.hold_ssim",
    "flow.motion",
    "flow.warp_error",
    "flow.compensated_flicker",
    "flow.acceleration",
    "temporal.flicker_luma",
    "temporal.structure_change",
    "camera.pan",
    "camera.tilt",
];

fn verdict_section(out: &mut String, title: &str, v: &Verdict) {
    let status = v.status();
    let _ = write!(
        out,
        "<section><h2>{} <span class=\"{status}\">{}</span> overall {} · confidence {}</h2>",
        esc(title),
        status.to_uppercase(),
        v.overall_score,
        v.confidence
    );
    let _ = write!(out, "<p>{}</p><table class=\"aspects\">", esc(&v.reasoning));
    for a in Aspect::ALL {
        let s = v.aspect_scores.get(a);
        let bar = s.map_or_else(
            || "<em>not measured</em>".to_string(),
            |s| format!("<div class=\"bar\" style=\"width:{s}%\">{s}</div>"),
        );
        let _ = write!(out, "<tr><th>{}</th><td>{bar}</td></tr>", a.key());
    }
    out.push_str("</table>");
    if !v.thumbnails.is_empty() {
        out.push_str("<div class=\"frames\">");
        for t in &v.thumbnails {
            out.push_str(&img(&t.png, &format!("frame {}", t.frame)));
        }
        out.push_str("</div>");
    }
    for (label, items) in [("Issues", &v.major_issues), ("Strengths", &v.strengths)] {
        if !items.is_empty() {
            let _ = write!(out, "<h3>{label}</h3><ul>");
            for i in items {
                let _ = write!(out, "<li>{}</li>", esc(i));
            }
            out.push_str("</ul>");
        }
    }
    let curves: String = CURVES
        .iter()
        .filter_map(|c| v.curves.get(*c).map(|vals| sparkline(c, vals)))
        .collect();
    if !curves.is_empty() {
        let _ = write!(out, "<h3>Curves</h3><div class=\"curves\">{curves}</div>");
    }
    let _ = write!(
        out,
        "<p class=\"meta\">{} · calibration {} · config {} · {}</p></section>",
        esc(&v.evaluator.version),
        esc(&v.evaluator.calibration_version),
        esc(&v.evaluator.config_digest),
        esc(&v.input.video)
    );
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}}\
section{{border-top:1px solid #ccc;padding-top:.5em;margin-top:1.5em}}\
.pass{{color:#177a2b}}.fail{{color:#b3261e}}.error{{color:#7a4b00}}\
table.aspects th{{text-align:left;font-weight:normal;padding-right:1em;width:14em}}\
table.aspects td{{width:400px}}.bar{{background:#2a6fdb;color:#fff;font-size:12px;padding:1px 4px;min-width:1.5em}}\
.frames{{display:flex;gap:8px;flex-wrap:wrap}}figure{{margin:0}}figcaption{{font-size:12px;color:#555}}\
.curves{{display:flex;flex-wrap:wrap;gap:12px}}.curve span{{display:block;font-size:12px}}\
.meta{{font-size:11px;color:#777}}table.rank td,table.rank th{{padding:2px 8px;text-align:left}}\
</style></head><body>{body}</body></html>\n",
        esc(title)
    )
}

pub fn verdict_html(v: &Verdict, condition_png: &[u8]) -> String {
    let mut body = String::from("<h1>leoma-gpu verdict</h1>");
    body.push_str(&img(condition_png, "conditioning first frame"));
    verdict_section(&mut body, &v.input.video, v);
    page("leoma-gpu verdict", &body)
}

pub fn task_html(r: &TaskReport, condition_png: &[u8]) -> String {
    let mut body = format!("<h1>Task {}</h1><p>{}</p>", r.task_id, esc(&r.prompt));
    body.push_str(&img(condition_png, "conditioning first frame"));
    body.push_str("<table class=\"rank\"><tr><th>rank</th><th>miner</th><th>result</th><th>overall</th><th>confidence</th></tr>");
    for e in &r.ranking {
        let v = &r.verdicts[&e.hotkey];
        let result = v.status();
        let _ = write!(
            body,
            "<tr><td>{}</td><td><a href=\"#m{}\">{}</a></td><td class=\"{result}\">{result}</td><td>{}</td><td>{}</td></tr>",
            e.rank,
            e.rank,
            esc(&e.hotkey),
            v.overall_score,
            v.confidence
        );
    }
    body.push_str("</table>");
    for e in &r.ranking {
        let _ = write!(body, "<a id=\"m{}\"></a>", e.rank);
        verdict_section(
            &mut body,
            &format!("#{} {}", e.rank, e.hotkey),
            &r.verdicts[&e.hotkey],
        );
    }
    page(&format!("leoma-gpu task {}", r.task_id), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_draws_curves() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
        let s = sparkline("x", &[0.0, 1.0, 0.5]);
        assert!(
            s.contains("points=\"0.0,46.0 120.0,2.0 240.0,24.0\""),
            "{s}"
        );
        assert!(sparkline("x", &[1.0]).is_empty());
    }
}
