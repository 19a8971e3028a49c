//! Major issues, strengths and the reasoning line, all quoting measured values.

use super::aspects::{AspectResult, ComponentScore};
use super::calibration::{Calibration, Component};
use super::rule::Decision;
use crate::metrics::Measurements;

/// Leoma caps both lists at 20 entries.
pub const MAX_ITEMS: usize = 20;

fn component_for<'a>(
    cal: &'a Calibration,
    r: &AspectResult,
    c: &ComponentScore,
) -> Option<&'a Component> {
    cal.aspects
        .get(&r.aspect)?
        .components
        .iter()
        .find(|k| k.metric == c.metric && k.mode == c.mode)
}

pub fn major_issues(cal: &Calibration, results: &[AspectResult], m: &Measurements) -> Vec<String> {
    let mut out = Vec::new();
    for r in results {
        // The lowest-scoring component per metric speaks for it.
        let mut low: Vec<&ComponentScore> = Vec::new();
        for c in r
            .components
            .iter()
            .filter(|c| c.score < cal.evidence.issue_below)
        {
            match low.iter_mut().find(|k| k.metric == c.metric) {
                Some(k) if c.score < k.score => *k = c,
                Some(_) => {}
                None => low.push(c),
            }
        }
        low.sort_by(|a, b| a.score.total_cmp(&b.score));
        for c in low {
            let Some(comp) = component_for(cal, r, c) else {
                continue;
            };
            let mut line = format!("{}: {}", r.aspect.key(), comp.describe(c.raw));
            let located: Vec<&str> = m
                .events
                .iter()
                .filter(|e| e.metric == c.metric)
                .take(3)
                .map(|e| e.text.as_str())
                .collect();
            if !located.is_empty() {
                line.push_str(&format!(" ({})", located.join("; ")));
            }
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out.truncate(MAX_ITEMS);
    out
}

pub fn strengths(cal: &Calibration, results: &[AspectResult]) -> Vec<String> {
    let mut out = Vec::new();
    for r in results
        .iter()
        .filter(|r| r.exact.is_some_and(|s| s >= cal.evidence.strength_aspect))
    {
        for c in r
            .components
            .iter()
            .filter(|c| c.score >= cal.evidence.strength_at)
        {
            if let Some(comp) =
                component_for(cal, r, c).filter(|k| k.mode == super::calibration::Mode::Mean)
            {
                out.push(format!("{}: {}", r.aspect.key(), comp.describe(c.raw)));
            }
        }
    }
    out.truncate(MAX_ITEMS);
    out
}

pub fn reasoning(
    d: &Decision,
    degraded_reasons: &[String],
    pass_threshold: f64,
    critical_threshold: f64,
) -> String {
    let head = if d.passed {
        let weakest = d
            .weakest_critical
            .map(|(a, s)| format!(" (lowest critical: {} {s})", a.key()))
            .unwrap_or_default();
        format!("Passed: overall {} >= {pass_threshold} and every critical aspect >= {critical_threshold}{weakest}.", d.overall)
    } else if !d.failures.is_empty() {
        format!("Failed: {}.", d.failures.join("; "))
    } else {
        format!(
            "Not passable: measured aspects give overall {}, but the verdict is degraded.",
            d.overall
        )
    };
    if degraded_reasons.is_empty() {
        head
    } else {
        format!("{head} Degraded: {}.", degraded_reasons.join("; "))
    }
}
