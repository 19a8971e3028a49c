//! Plain-text tables for terminals.

use super::TaskReport;
use crate::verdict::aspects::Aspect;
use crate::verdict::Verdict;
use std::fmt::Write;

fn score(s: Option<u8>) -> String {
    s.map_or_else(|| "-".to_string(), |v| v.to_string())
}

const SHORT: [(&str, Aspect); 6] = [
    ("ffid", Aspect::FirstFrameFidelity),
    ("prompt", Aspect::PromptAdherence),
    ("motion", Aspect::MotionQuality),
    ("tempo", Aspect::TemporalConsistency),
    ("visual", Aspect::VisualQuality),
    ("camera", Aspect::CameraComposition),
];

pub fn verdict_table(v: &Verdict) -> String {
    let mut s = String::new();
    let status = if v.passed { "PASSED" } else { "FAILED" };
    let _ = writeln!(
        s,
        "{status}  overall {}  confidence {}{}",
        v.overall_score,
        v.confidence,
        if v.degraded { "  (degraded)" } else { "" }
    );
    let _ = writeln!(s, "{}", v.input.video);
    for a in Aspect::ALL {
        let _ = writeln!(s, "  {:<22} {:>4}", a.key(), score(v.aspect_scores.get(a)));
    }
    let _ = writeln!(s, "{}", v.reasoning);
    if !v.major_issues.is_empty() {
        let _ = writeln!(s, "Issues:");
        for i in &v.major_issues {
            let _ = writeln!(s, "  - {i}");
        }
    }
    if !v.strengths.is_empty() {
        let _ = writeln!(s, "Strengths:");
        for i in &v.strengths {
            let _ = writeln!(s, "  + {i}");
        }
    }
    if !v.missing_evidence.is_empty() {
        let _ = writeln!(s, "Missing evidence:");
        for m in &v.missing_evidence {
            let _ = writeln!(s, "  ? {m}");
        }
    }
    if let Some(c) = &v.cross_check {
        let _ = match (&c.result, &c.agreement) {
            (Some(r), Some(a)) => writeln!(
                s,
                "Cross-check ({}): {} overall {} ({:+} vs ours), pass/fail {}",
                c.judge,
                if r.passed { "passed" } else { "failed" },
                r.overall_score,
                a.overall_difference,
                if a.pass_fail_agree {
                    "agrees"
                } else {
                    "disagrees"
                }
            ),
            _ => writeln!(
                s,
                "Cross-check ({}): no result after {} attempt(s): {}",
                c.judge,
                c.attempts,
                c.error.as_deref().unwrap_or("unknown")
            ),
        };
    }
    let _ = writeln!(
        s,
        "{} · calibration {} · config {}",
        v.evaluator.version,
        v.evaluator.calibration_version,
        &v.evaluator.config_digest[..12]
    );
    s
}

pub fn task_table(r: &TaskReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "task {} · {}", r.task_id, r.evaluator.version);
    let width = r
        .ranking
        .iter()
        .map(|e| e.hotkey.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = write!(
        s,
        "{:>4}  {:<width$}  {:<6} {:>7} {:>4}",
        "rank", "miner", "result", "overall", "conf"
    );
    for (name, _) in SHORT {
        let _ = write!(s, " {name:>6}");
    }
    let _ = writeln!(s, "  first issue");
    for e in &r.ranking {
        let v = &r.verdicts[&e.hotkey];
        let result = v.status();
        let _ = write!(
            s,
            "{:>4}  {:<width$}  {:<6} {:>7} {:>4}",
            e.rank, e.hotkey, result, v.overall_score, v.confidence
        );
        for (_, a) in SHORT {
            let _ = write!(s, " {:>6}", score(v.aspect_scores.get(a)));
        }
        let first = v.major_issues.first().map(String::as_str).unwrap_or("");
        let first: String = first.chars().take(90).collect();
        let _ = writeln!(s, "  {first}");
    }
    if let Some(v) = r.verdicts.values().find(|v| v.degraded) {
        let _ = writeln!(s, "degraded: {}", v.degraded_reasons.join("; "));
    }
    s
}
