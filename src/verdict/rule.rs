//! Leoma's rule on top of the aspect scores: weighted overall, pass/fail,
//! Python-style rounding, and how decisive the evidence is (confidence).

use super::aspects::{Aspect, AspectResult};
use super::calibration::Rule;
use std::collections::BTreeMap;

/// Python's `round`: half to even (74.5 -> 74, 75.5 -> 76), clamped to 0..=100.
pub fn round_score(x: f64) -> u8 {
    x.round_ties_even().clamp(0.0, 100.0) as u8
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Aspect scores as Leoma reports them: integers, null when unmeasured.
    pub scores: BTreeMap<Aspect, Option<u8>>,
    pub overall_exact: f64,
    pub overall: u8,
    pub passed: bool,
    pub confidence: u8,
    /// Conditions that failed, e.g. "temporal_consistency 20 < 50".
    pub failures: Vec<String>,
    /// Lowest critical aspect, for the reasoning line.
    pub weakest_critical: Option<(Aspect, u8)>,
    /// Share of the rule's weight that was measured (1.0 unless degraded).
    pub coverage: f64,
}

/// Apply the rule. `degraded` verdicts never pass.
pub fn decide(aspects: &[AspectResult], rule: &Rule, degraded: bool) -> Decision {
    let scores: BTreeMap<Aspect, Option<u8>> = aspects
        .iter()
        .map(|a| (a.aspect, a.exact.map(round_score)))
        .collect();
    let (mut wsum, mut acc) = (0.0, 0.0);
    for (aspect, s) in &scores {
        if let Some(s) = s {
            let w = rule.weights.get(aspect).copied().unwrap_or(0.0);
            wsum += w;
            acc += w * *s as f64;
        }
    }
    let overall_exact = if wsum > 0.0 { acc / wsum } else { 0.0 };
    let overall = round_score(overall_exact);

    let mut margins = vec![overall_exact - rule.pass_threshold];
    let mut failures = Vec::new();
    if overall_exact < rule.pass_threshold {
        failures.push(format!("overall {overall} < {}", rule.pass_threshold));
    }
    let mut weakest_critical: Option<(Aspect, u8)> = None;
    for aspect in &rule.critical {
        let Some(Some(s)) = scores.get(aspect) else {
            continue;
        };
        margins.push(*s as f64 - rule.critical_threshold);
        if (*s as f64) < rule.critical_threshold {
            failures.push(format!(
                "{} {s} < {}",
                aspect.key(),
                rule.critical_threshold
            ));
        }
        if weakest_critical.is_none_or(|(_, w)| *s < w) {
            weakest_critical = Some((*aspect, *s));
        }
    }
    let would_pass = failures.is_empty();
    let decisive = if would_pass {
        margins.iter().copied().fold(f64::INFINITY, f64::min)
    } else {
        margins
            .iter()
            .filter(|m| **m < 0.0)
            .map(|m| -m)
            .fold(0.0, f64::max)
    };
    let coverage = wsum;
    let confidence =
        round_score((50.0 + 50.0 * (decisive / rule.confidence_scale).tanh()) * coverage.min(1.0));
    Decision {
        scores,
        overall_exact,
        overall,
        passed: would_pass && !degraded,
        confidence,
        failures,
        weakest_critical,
        coverage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::calibration::Calibration;

    fn results(s: [f64; 6]) -> Vec<AspectResult> {
        Aspect::ALL
            .iter()
            .zip(s)
            .map(|(&aspect, v)| AspectResult {
                aspect,
                exact: Some(v),
                components: vec![],
            })
            .collect()
    }

    #[test]
    fn rounding_is_half_to_even() {
        assert_eq!(round_score(74.5), 74);
        assert_eq!(round_score(75.5), 76);
        assert_eq!(round_score(-3.0), 0);
        assert_eq!(round_score(140.0), 100);
    }

    #[test]
    fn leoma_reference_cases() {
        let rule = Calibration::embedded().rule;
        // All aspects >= 80 with a weighted overall above 75: passes.
        let d = decide(&results([88.0, 84.0, 82.0, 85.0, 87.0, 80.0]), &rule, false);
        assert!(d.passed);
        assert_eq!(d.overall, 85); // 0.25*88+0.25*84+0.15*82+0.2*85+0.1*87+0.05*80 = 85.0
                                   // First-frame fidelity 42 fails the critical floor whatever the overall.
        let d = decide(&results([42.0, 95.0, 95.0, 95.0, 95.0, 95.0]), &rule, false);
        assert!(!d.passed);
        assert!(d
            .failures
            .iter()
            .any(|f| f.starts_with("first_frame_fidelity 42")));
    }

    #[test]
    fn overall_just_below_threshold_fails_and_confidence_is_low() {
        let rule = Calibration::embedded().rule;
        let d = decide(&results([74.5; 6]), &rule, false);
        assert_eq!(d.overall, 74);
        assert!(!d.passed);
        assert!(d.confidence < 60, "{}", d.confidence);
    }

    #[test]
    fn degraded_never_passes_and_renormalises() {
        let rule = Calibration::embedded().rule;
        let mut r = results([90.0; 6]);
        r[1].exact = None;
        let d = decide(&r, &rule, true);
        assert!(!d.passed);
        assert_eq!(d.overall, 90);
        assert_eq!(d.scores[&Aspect::PromptAdherence], None);
        assert!((d.coverage - 0.75).abs() < 1e-12);
    }
}
