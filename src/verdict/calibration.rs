//! The calibration file: every constant that shapes a verdict, in one versioned
//! TOML file compiled into the binary (`calibration.toml` beside this source).
//! Its sha256 and version go into every verdict.

use super::aspects::Aspect;
use crate::flow::FlowParams;
use crate::frames::FramePolicy;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

pub const EMBEDDED: &str = include_str!("calibration.toml");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub version: String,
    pub frame_policy: FramePolicy,
    /// The optical-flow algorithm's constants (see `flow/mod.rs`).
    pub flow: FlowParams,
    pub rule: Rule,
    pub evidence: EvidencePolicy,
    pub resolution_gate: ResolutionGate,
    pub aspects: BTreeMap<Aspect, AspectCalibration>,
    /// How the VLM is shown a clip and which question templates it is asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlm: Option<crate::models::qwen3_vl::VlmPolicy>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub pass_threshold: f64,
    pub critical_threshold: f64,
    pub critical: Vec<Aspect>,
    pub weights: BTreeMap<Aspect, f64>,
    /// Margin (score points) at which the confidence reaches 88 (50 + 50·tanh 1).
    pub confidence_scale: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidencePolicy {
    pub issue_below: f64,
    pub strength_at: f64,
    pub strength_aspect: f64,
}

/// Leoma's sampler gate: |w - width| <= tolerance and |h - height| <= tolerance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolutionGate {
    pub width: u32,
    pub height: u32,
    pub tolerance: u32,
    pub fps: f64,
    pub frames: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AspectCalibration {
    /// Why the aspect is null when none of its metrics was measured.
    pub missing: String,
    #[serde(default)]
    pub components: Vec<Component>,
    /// Evidence this aspect should rest on; the verdict names each group none
    /// of whose metrics was measured (`missing_evidence`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expects: Vec<ExpectedEvidence>,
}

/// A group of metrics (by name prefix) an aspect expects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedEvidence {
    pub prefix: String,
    /// What the verdict says when none of the group was measured.
    pub missing: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Contributes to the aspect's weighted mean.
    Mean,
    /// Caps the aspect: the aspect cannot exceed this component's score.
    Cap,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub metric: String,
    pub mode: Mode,
    #[serde(default)]
    pub weight: f64,
    /// Piecewise-linear map from the raw value to 0..=100: `[[raw, score], ...]`
    /// with raw values increasing; flat beyond both ends.
    pub curve: Vec<[f64; 2]>,
    /// Evidence text; `{value}` is replaced by the raw value.
    pub text: String,
    #[serde(default = "default_digits")]
    pub digits: usize,
    /// Show the value as a percentage (x100, with a % sign).
    #[serde(default)]
    pub percent: bool,
}

fn default_digits() -> usize {
    2
}

#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error("{path}: cannot read calibration: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: invalid calibration: {detail}")]
    Invalid { path: String, detail: String },
}

impl Component {
    pub fn score(&self, raw: f64) -> f64 {
        piecewise(&self.curve, raw)
    }

    pub fn describe(&self, raw: f64) -> String {
        let v = if self.percent {
            format!("{:.*}%", self.digits, raw * 100.0)
        } else {
            format!("{:.*}", self.digits, raw)
        };
        self.text.replace("{value}", &v)
    }
}

/// Linear interpolation through `points` (x increasing), clamped at both ends.
pub fn piecewise(points: &[[f64; 2]], x: f64) -> f64 {
    match points {
        [] => 0.0,
        [only] => only[1],
        _ => {
            if x <= points[0][0] {
                return points[0][1];
            }
            for w in points.windows(2) {
                let ([x0, y0], [x1, y1]) = (w[0], w[1]);
                if x <= x1 {
                    return if x1 > x0 {
                        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
                    } else {
                        y1
                    };
                }
            }
            points[points.len() - 1][1]
        }
    }
}

impl Calibration {
    pub fn embedded() -> Self {
        Self::parse(EMBEDDED, "embedded calibration")
            .expect("the embedded calibration is valid (tested)")
    }

    pub fn from_file(path: &Path) -> Result<(Self, String), CalibrationError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| CalibrationError::Io {
            path: p.clone(),
            source,
        })?;
        let cal = Self::parse(&text, &p)?;
        Ok((cal, text))
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, CalibrationError> {
        let invalid = |detail: String| CalibrationError::Invalid {
            path: origin.to_string(),
            detail,
        };
        let cal: Calibration = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        cal.validate().map_err(invalid)?;
        Ok(cal)
    }

    fn validate(&self) -> Result<(), String> {
        for a in Aspect::ALL {
            if !self.aspects.contains_key(&a) {
                return Err(format!("aspect {} is missing", a.key()));
            }
            if !self.rule.weights.contains_key(&a) {
                return Err(format!("rule.weights.{} is missing", a.key()));
            }
        }
        let total: f64 = self.rule.weights.values().sum();
        if (total - 1.0).abs() > 1e-9 {
            return Err(format!("rule.weights sum to {total}, not 1"));
        }
        for (aspect, ac) in &self.aspects {
            for c in &ac.components {
                if c.curve.is_empty() || c.curve.windows(2).any(|w| w[1][0] < w[0][0]) {
                    return Err(format!(
                        "{}: curve of {} must be non-empty with increasing x",
                        aspect.key(),
                        c.metric
                    ));
                }
                if c.curve.iter().any(|p| !(0.0..=100.0).contains(&p[1])) {
                    return Err(format!(
                        "{}: curve of {} leaves 0..=100",
                        aspect.key(),
                        c.metric
                    ));
                }
                if c.mode == Mode::Mean && c.weight <= 0.0 {
                    return Err(format!(
                        "{}: mean component {} needs a positive weight",
                        aspect.key(),
                        c.metric
                    ));
                }
            }
        }
        if let Some(v) = &self.vlm {
            v.validate()?;
        }
        if self.rule.confidence_scale <= 0.0 {
            return Err("rule.confidence_scale must be positive".into());
        }
        crate::frames::resize::filter_by_name(&self.frame_policy.frame_filter)
            .map_err(|e| e.to_string())?;
        crate::frames::resize::filter_by_name(&self.frame_policy.condition_filter)
            .map_err(|e| e.to_string())?;
        let sizes = [
            self.frame_policy.canonical_size,
            self.frame_policy.temporal_size,
        ];
        if sizes.iter().flatten().any(|&s| !(16..=4096).contains(&s)) {
            return Err("frame_policy sizes must be within 16..=4096".into());
        }
        self.flow.validate()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(bytes);
    format!("{:x}", h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_calibration_parses_and_validates() {
        let c = Calibration::embedded();
        assert!(!c.version.is_empty());
        assert_eq!(c.rule.pass_threshold, 75.0);
        assert_eq!(c.rule.critical_threshold, 50.0);
    }

    #[test]
    fn piecewise_interpolates_and_clamps() {
        let pts = [[0.0, 0.0], [1.0, 50.0], [3.0, 100.0]];
        assert_eq!(piecewise(&pts, -5.0), 0.0);
        assert_eq!(piecewise(&pts, 0.5), 25.0);
        assert_eq!(piecewise(&pts, 2.0), 75.0);
        assert_eq!(piecewise(&pts, 9.0), 100.0);
        let down = [[0.0, 100.0], [10.0, 0.0]];
        assert_eq!(piecewise(&down, 2.5), 75.0);
    }

    #[test]
    fn rejects_weights_that_do_not_sum_to_one() {
        let bad = EMBEDDED.replace("camera_composition = 0.05", "camera_composition = 0.5");
        assert!(matches!(
            Calibration::parse(&bad, "t"),
            Err(CalibrationError::Invalid { .. })
        ));
    }

    #[test]
    fn rejects_unknown_keys() {
        let bad = format!("{EMBEDDED}\nsurprise = 1\n");
        assert!(Calibration::parse(&bad, "t").is_err());
    }
}
