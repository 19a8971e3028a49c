//! The six Leoma aspects and how each is scored from measurements.

use super::calibration::{AspectCalibration, Mode};
use crate::metrics::Measurements;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    FirstFrameFidelity,
    PromptAdherence,
    MotionQuality,
    TemporalConsistency,
    VisualQuality,
    CameraComposition,
}

impl Aspect {
    /// Leoma's order (the judge's JSON schema).
    pub const ALL: [Aspect; 6] = [
        Aspect::FirstFrameFidelity,
        Aspect::PromptAdherence,
        Aspect::MotionQuality,
        Aspect::TemporalConsistency,
        Aspect::VisualQuality,
        Aspect::CameraComposition,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Aspect::FirstFrameFidelity => "first_frame_fidelity",
            Aspect::PromptAdherence => "prompt_adherence",
            Aspect::MotionQuality => "motion_quality",
            Aspect::TemporalConsistency => "temporal_consistency",
            Aspect::VisualQuality => "visual_quality",
            Aspect::CameraComposition => "camera_composition",
        }
    }
}

/// One component's contribution, kept for evidence and reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentScore {
    pub metric: String,
    pub mode: Mode,
    pub raw: f64,
    pub score: f64,
}

/// An aspect's exact score (None when no component was measured) and its parts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AspectResult {
    pub aspect: Aspect,
    pub exact: Option<f64>,
    pub components: Vec<ComponentScore>,
}

/// Score one aspect: the weighted mean of its measured `mean` components (100
/// when it has none), limited by every measured `cap` component. Components
/// whose metric was not measured are left out and the weights renormalised.
pub fn score_aspect(aspect: Aspect, cal: &AspectCalibration, m: &Measurements) -> AspectResult {
    let mut components = Vec::new();
    let (mut wsum, mut acc) = (0.0, 0.0);
    let mut cap = f64::INFINITY;
    for c in &cal.components {
        let Some(raw) = m.get(&c.metric) else {
            continue;
        };
        let score = c.score(raw);
        match c.mode {
            Mode::Mean => {
                wsum += c.weight;
                acc += c.weight * score;
            }
            Mode::Cap => cap = cap.min(score),
        }
        components.push(ComponentScore {
            metric: c.metric.clone(),
            mode: c.mode,
            raw,
            score,
        });
    }
    let exact = if components.is_empty() {
        None
    } else {
        let base = if wsum > 0.0 { acc / wsum } else { 100.0 };
        Some(base.min(cap).clamp(0.0, 100.0))
    };
    AspectResult {
        aspect,
        exact,
        components,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::calibration::Component;

    fn comp(metric: &str, mode: Mode, weight: f64) -> Component {
        Component {
            metric: metric.into(),
            mode,
            weight,
            curve: vec![[0.0, 0.0], [1.0, 100.0]],
            text: "x {value}".into(),
            digits: 2,
            percent: false,
        }
    }

    #[test]
    fn weighted_mean_with_cap_and_missing_component() {
        let cal = AspectCalibration {
            missing: "none".into(),
            components: vec![
                comp("a", Mode::Mean, 3.0),
                comp("b", Mode::Mean, 1.0),
                comp("c", Mode::Cap, 0.0),
                comp("zz", Mode::Mean, 5.0),
            ],
            expects: Vec::new(),
        };
        let mut m = Measurements::default();
        m.set("a", 1.0);
        m.set("b", 0.0);
        m.set("c", 0.9);
        let r = score_aspect(Aspect::MotionQuality, &cal, &m);
        assert_eq!(r.exact, Some(75.0));
        m.set("c", 0.5);
        assert_eq!(
            score_aspect(Aspect::MotionQuality, &cal, &m).exact,
            Some(50.0)
        );
        assert_eq!(
            score_aspect(Aspect::MotionQuality, &cal, &Measurements::default()).exact,
            None
        );
    }

    #[test]
    fn keys_match_leoma_schema() {
        let keys: Vec<_> = Aspect::ALL.iter().map(|a| a.key()).collect();
        assert_eq!(
            keys,
            [
                "first_frame_fidelity",
                "prompt_adherence",
                "motion_quality",
                "temporal_consistency",
                "visual_quality",
                "camera_composition"
            ]
        );
    }
}
