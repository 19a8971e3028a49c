//! From measurements to a Leoma verdict: calibrated aspect scores, the pass
//! rule, evidence, and the record of how the verdict was made.

pub mod aspects;
pub mod calibration;
pub mod evidence;
pub mod rule;

use aspects::{score_aspect, Aspect, AspectResult};
use calibration::Calibration;
use serde::Serialize;
use std::collections::BTreeMap;

pub use crate::metrics::{Event, Measurements};

/// Evaluator version, echoed in every verdict.
pub const EVALUATOR_VERSION: &str = concat!("leoma-gpu ", env!("CARGO_PKG_VERSION"));

/// The six aspect scores in Leoma's key order; null when unmeasured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AspectScores {
    pub first_frame_fidelity: Option<u8>,
    pub prompt_adherence: Option<u8>,
    pub motion_quality: Option<u8>,
    pub temporal_consistency: Option<u8>,
    pub visual_quality: Option<u8>,
    pub camera_composition: Option<u8>,
}

impl AspectScores {
    fn from_map(m: &BTreeMap<Aspect, Option<u8>>) -> Self {
        let g = |a: Aspect| m.get(&a).copied().flatten();
        Self {
            first_frame_fidelity: g(Aspect::FirstFrameFidelity),
            prompt_adherence: g(Aspect::PromptAdherence),
            motion_quality: g(Aspect::MotionQuality),
            temporal_consistency: g(Aspect::TemporalConsistency),
            visual_quality: g(Aspect::VisualQuality),
            camera_composition: g(Aspect::CameraComposition),
        }
    }

    pub fn get(&self, a: Aspect) -> Option<u8> {
        match a {
            Aspect::FirstFrameFidelity => self.first_frame_fidelity,
            Aspect::PromptAdherence => self.prompt_adherence,
            Aspect::MotionQuality => self.motion_quality,
            Aspect::TemporalConsistency => self.temporal_consistency,
            Aspect::VisualQuality => self.visual_quality,
            Aspect::CameraComposition => self.camera_composition,
        }
    }

    fn zero() -> Self {
        Self::from_map(&Aspect::ALL.iter().map(|&a| (a, Some(0))).collect())
    }
}

/// A conformance check (resolution gate, frame rate, ...): reported, never fatal.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// How the verdict was made: enough to reproduce it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvaluatorInfo {
    pub version: String,
    pub calibration_version: String,
    /// sha256 of the effective configuration (calibration, thresholds, limits).
    pub config_digest: String,
    pub frame_policy: serde_json::Value,
    /// sha256 of every model or parameter file used, by name.
    pub model_digests: BTreeMap<String, String>,
    pub decode_backend: String,
    /// Where the optical flow ran ("cpu" or "cuda"); the engines agree within
    /// the tolerance of tests/flow_cuda_parity.rs, not to the last bit.
    pub flow_backend: String,
}

/// Facts about the judged clip.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputInfo {
    pub video: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<crate::decode::VideoInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoded_frames: Option<usize>,
}

impl InputInfo {
    /// What is known of a clip that could not be opened: its path.
    pub fn path_only(video: &std::path::Path) -> Self {
        Self {
            video: video.display().to_string(),
            sha256: None,
            probe: None,
            decoded_frames: None,
        }
    }
}

/// Why a clip could not be judged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputError {
    pub kind: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub passed: bool,
    pub overall_score: u8,
    pub confidence: u8,
    pub aspect_scores: AspectScores,
    pub major_issues: Vec<String>,
    pub strengths: Vec<String>,
    pub reasoning: String,
    pub degraded: bool,
    pub degraded_reasons: Vec<String>,
    /// Expected evidence that was not measured (e.g. the VLM's, when no VLM
    /// is configured), by aspect; the aspect is scored from the rest.
    pub missing_evidence: Vec<String>,
    pub checks: Vec<Check>,
    /// Raw measured values by metric name.
    pub metrics: BTreeMap<String, f64>,
    /// Per-frame curves by metric name.
    pub curves: BTreeMap<String, Vec<f64>>,
    /// Metrics that could not run, with the reason.
    pub skipped_metrics: BTreeMap<String, String>,
    /// Unrounded weighted overall, for ranking ties.
    pub overall_exact: f64,
    pub input: InputInfo,
    pub evaluator: EvaluatorInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<InputError>,
    /// Agreement with the hosted judge (opt-in `--cross-check`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_check: Option<crate::crosscheck::CrossCheck>,
    /// Small PNG frames for the HTML report (not part of the JSON verdict).
    #[serde(skip)]
    pub thumbnails: Vec<Thumbnail>,
}

/// A frame of the clip, shrunk and PNG-encoded, for reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Thumbnail {
    pub frame: usize,
    pub png: Vec<u8>,
}

impl Verdict {
    /// "pass", "fail", or "error" for a clip that could not be judged.
    pub fn status(&self) -> &'static str {
        if self.error.is_some() {
            "error"
        } else if self.passed {
            "pass"
        } else {
            "fail"
        }
    }
}

/// Judge one clip from its measurements.
pub fn judge(
    cal: &Calibration,
    m: Measurements,
    checks: Vec<Check>,
    input: InputInfo,
    evaluator: EvaluatorInfo,
) -> Verdict {
    let results: Vec<AspectResult> = Aspect::ALL
        .iter()
        .map(|&a| score_aspect(a, &cal.aspects[&a], &m))
        .collect();
    let degraded_reasons: Vec<String> = results
        .iter()
        .filter(|r| r.exact.is_none())
        .map(|r| format!("{}: {}", r.aspect.key(), cal.aspects[&r.aspect].missing))
        .collect();
    let degraded = !degraded_reasons.is_empty();
    let missing_evidence = missing_evidence(cal, &m, &results);
    let decision = rule::decide(&results, &cal.rule, degraded);
    let mut major_issues = evidence::major_issues(cal, &results, &m);
    for c in checks.iter().filter(|c| !c.passed) {
        if major_issues.len() < evidence::MAX_ITEMS {
            major_issues.push(format!("check {}: {}", c.name, c.detail));
        }
    }
    Verdict {
        passed: decision.passed,
        overall_score: decision.overall,
        confidence: decision.confidence,
        aspect_scores: AspectScores::from_map(&decision.scores),
        major_issues,
        strengths: evidence::strengths(cal, &results),
        reasoning: evidence::reasoning(
            &decision,
            &degraded_reasons,
            cal.rule.pass_threshold,
            cal.rule.critical_threshold,
        ),
        degraded,
        degraded_reasons,
        missing_evidence,
        checks,
        metrics: m.values,
        curves: m.curves,
        skipped_metrics: m.skipped,
        overall_exact: decision.overall_exact,
        input,
        evaluator,
        error: None,
        cross_check: None,
        thumbnails: Vec::new(),
    }
}

/// "aspect: what is missing" for every expected evidence group of which no
/// metric was measured (a skipped metric's reason is appended).
fn missing_evidence(cal: &Calibration, m: &Measurements, results: &[AspectResult]) -> Vec<String> {
    let mut out = Vec::new();
    for r in results {
        for e in &cal.aspects[&r.aspect].expects {
            if r.components.iter().any(|c| c.metric.starts_with(&e.prefix)) {
                continue;
            }
            let why = m
                .skipped
                .iter()
                .find(|(k, _)| k.starts_with(&e.prefix))
                .map(|(k, reason)| format!(" ({k} skipped: {reason})"))
                .unwrap_or_default();
            out.push(format!("{}: {}{why}", r.aspect.key(), e.missing));
        }
    }
    out
}

/// The verdict for a clip that could not be judged: failed, every aspect 0
/// (as Leoma scores a missing aspect), with the reason.
pub fn unusable(
    input: InputInfo,
    evaluator: EvaluatorInfo,
    kind: &str,
    message: String,
) -> Verdict {
    Verdict {
        passed: false,
        overall_score: 0,
        confidence: 100,
        aspect_scores: AspectScores::zero(),
        major_issues: vec![format!("unusable clip: {message}")],
        strengths: Vec::new(),
        reasoning: format!("Failed: the clip could not be evaluated ({kind})."),
        degraded: false,
        degraded_reasons: Vec::new(),
        missing_evidence: Vec::new(),
        checks: Vec::new(),
        metrics: BTreeMap::new(),
        curves: BTreeMap::new(),
        skipped_metrics: BTreeMap::new(),
        overall_exact: 0.0,
        input,
        evaluator,
        error: Some(InputError {
            kind: kind.to_string(),
            message,
        }),
        cross_check: None,
        thumbnails: Vec::new(),
    }
}
