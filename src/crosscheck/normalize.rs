//! Leoma's reading of the judge's reply (`_strip_json_fence`,
//! `_normalize_generated_eval_result`, `_parse_generated_eval_error` at
//! `29af3ac`): code fences stripped, scores clamped with Python's
//! `int(round(float(v)))` (half to even) into 0..=100, missing aspects 0, the
//! overall defaulting to the weighted aspects, lists capped at 20, and a
//! reply that is not JSON turned into a failing all-zero result.

use crate::verdict::aspects::Aspect;
use crate::verdict::rule::round_score;
use serde::Serialize;
use serde_json::Value;

/// Leoma's `ASPECT_WEIGHTS`, in its dict order (used only for a missing overall).
pub const WEIGHTS: [(Aspect, f64); 6] = [
    (Aspect::FirstFrameFidelity, 0.25),
    (Aspect::PromptAdherence, 0.25),
    (Aspect::MotionQuality, 0.15),
    (Aspect::TemporalConsistency, 0.20),
    (Aspect::VisualQuality, 0.10),
    (Aspect::CameraComposition, 0.05),
];

/// The judge's result as Leoma stores it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JudgeResult {
    pub passed: bool,
    pub overall_score: u8,
    pub confidence: u8,
    /// In Leoma's key order.
    pub aspect_scores: Vec<(String, u8)>,
    pub major_issues: Vec<String>,
    pub strengths: Vec<String>,
    pub reasoning: String,
    /// The reply was not JSON: Leoma's fail-safe result.
    pub parse_error: bool,
}

impl JudgeResult {
    pub fn aspect(&self, a: Aspect) -> u8 {
        self.aspect_scores
            .iter()
            .find(|(k, _)| k == a.key())
            .map_or(0, |(_, v)| *v)
    }
}

/// A reply Leoma would get no result from (its normalisation raises).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NoResult {
    #[error("the reply is JSON but not an object")]
    NotAnObject,
    #[error("a score is infinite (Python's round raises OverflowError)")]
    Infinite,
}

/// `_strip_json_fence`: the text between the first two ``` (a leading
/// `json` tag dropped), else the stripped text.
pub fn strip_fence(content: &str) -> &str {
    let text = content.trim();
    match text.split("```").nth(1) {
        Some(fenced) if text.contains("```") => fenced.strip_prefix("json").unwrap_or(fenced),
        _ => text,
    }
}

/// Python's `float(s)` on a string: surrounding whitespace allowed,
/// underscores between digits allowed.
fn py_float(s: &str) -> Option<f64> {
    let t = s.trim();
    let cleaned: String = t.chars().filter(|c| *c != '_').collect();
    if t.contains("__") || t.starts_with('_') || t.ends_with('_') {
        return None;
    }
    cleaned.parse::<f64>().ok()
}

/// `_clamp_score(value, default)`.
fn clamp_score(v: Option<&Value>, default: u8) -> Result<u8, NoResult> {
    let f = match v {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::Bool(b)) => Some(if *b { 1.0 } else { 0.0 }),
        Some(Value::String(s)) => py_float(s),
        _ => None,
    };
    match f {
        None => Ok(default),
        Some(x) if x.is_nan() => Ok(default),
        Some(x) if x.is_infinite() => Err(NoResult::Infinite),
        Some(x) => Ok(round_score(x)),
    }
}

/// Python's `str(item)` for the JSON values a list can hold.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().take(20).map(py_str).collect(),
        _ => Vec::new(),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Normalise a raw reply as Leoma's evaluator does.
pub fn normalize(
    raw: &str,
    pass_threshold: f64,
    critical_threshold: f64,
) -> Result<JudgeResult, NoResult> {
    let text = strip_fence(raw);
    let parsed: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return Ok(parse_error(text)),
    };
    let Value::Object(obj) = parsed else {
        return Err(NoResult::NotAnObject);
    };
    let empty = serde_json::Map::new();
    let raw_aspects = match obj.get("aspect_scores") {
        Some(Value::Object(m)) => m,
        _ => &empty,
    };
    let mut aspect_scores = Vec::with_capacity(6);
    for a in Aspect::ALL {
        aspect_scores.push((
            a.key().to_string(),
            clamp_score(raw_aspects.get(a.key()), 0)?,
        ));
    }
    let score = |a: Aspect| {
        aspect_scores
            .iter()
            .find(|(k, _)| k == a.key())
            .map_or(0, |(_, v)| *v)
    };
    let weighted = WEIGHTS
        .iter()
        .fold(0.0, |acc, (a, w)| acc + score(*a) as f64 * w);
    let overall = clamp_score(obj.get("overall_score"), round_score(weighted))?;
    let floor = score(Aspect::FirstFrameFidelity)
        .min(score(Aspect::PromptAdherence))
        .min(score(Aspect::TemporalConsistency));
    let reasoning = match obj.get("reasoning") {
        Some(v) if truthy(v) => py_str(v).trim().to_string(),
        _ => String::new(),
    };
    Ok(JudgeResult {
        passed: overall as f64 >= pass_threshold && floor as f64 >= critical_threshold,
        overall_score: overall,
        confidence: clamp_score(obj.get("confidence"), 0)?,
        aspect_scores,
        major_issues: string_list(obj.get("major_issues")),
        strengths: string_list(obj.get("strengths")),
        reasoning,
        parse_error: false,
    })
}

/// `_parse_generated_eval_error`.
fn parse_error(text: &str) -> JudgeResult {
    JudgeResult {
        passed: false,
        overall_score: 0,
        confidence: 0,
        aspect_scores: Aspect::ALL
            .iter()
            .map(|a| (a.key().to_string(), 0))
            .collect(),
        major_issues: Vec::new(),
        strengths: Vec::new(),
        reasoning: format!(
            "Parse error: {}",
            text.chars().take(100).collect::<String>()
        ),
        parse_error: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leoma_reference_cases() {
        // tests/unit/test_evaluation.py @ 29af3ac: overall 86 with aspects 88/84/82/85/87/80 passes
        let r = normalize(r#"{"overall_score": 86, "aspect_scores": {"first_frame_fidelity": 88, "prompt_adherence": 84, "motion_quality": 82, "temporal_consistency": 85, "visual_quality": 87, "camera_composition": 80}}"#, 75.0, 50.0).unwrap();
        assert!(r.passed);
        // overall 78 with first_frame_fidelity 42 fails on the critical floor
        let r = normalize(r#"{"overall_score": 78, "aspect_scores": {"first_frame_fidelity": 42, "prompt_adherence": 90, "motion_quality": 90, "temporal_consistency": 90, "visual_quality": 90, "camera_composition": 90}}"#, 75.0, 50.0).unwrap();
        assert!(!r.passed);
    }

    #[test]
    fn fences_rounding_defaults_and_clamping() {
        assert_eq!(strip_fence("```json\n{\"a\": 1}\n```"), "\n{\"a\": 1}\n");
        assert_eq!(strip_fence("  {\"a\": 1} "), "{\"a\": 1}");
        let r = normalize("```json\n{\"overall_score\": 74.5, \"confidence\": \"75.5\", \"aspect_scores\": {\"prompt_adherence\": 140, \"motion_quality\": -3, \"visual_quality\": \"x\"}, \"major_issues\": [\"a\", 3, null], \"reasoning\": \"  ok \"}\n```", 75.0, 50.0).unwrap();
        assert_eq!(r.overall_score, 74);
        assert_eq!(r.confidence, 76);
        assert_eq!(r.aspect(Aspect::PromptAdherence), 100);
        assert_eq!(r.aspect(Aspect::MotionQuality), 0);
        assert_eq!(r.aspect(Aspect::VisualQuality), 0);
        assert_eq!(r.aspect(Aspect::FirstFrameFidelity), 0);
        assert_eq!(r.major_issues, vec!["a", "3", "None"]);
        assert_eq!(r.reasoning, "ok");
        assert!(!r.passed);
    }

    #[test]
    fn missing_overall_is_the_weighted_aspects_and_bad_json_fails_safe() {
        let r = normalize(r#"{"aspect_scores": {"first_frame_fidelity": 90, "prompt_adherence": 90, "motion_quality": 90, "temporal_consistency": 90, "visual_quality": 90, "camera_composition": 90}}"#, 75.0, 50.0).unwrap();
        assert_eq!(r.overall_score, 90);
        assert!(r.passed);
        let r = normalize("not json at all", 75.0, 50.0).unwrap();
        assert!(r.parse_error && !r.passed && r.overall_score == 0);
        assert_eq!(r.reasoning, "Parse error: not json at all");
        assert_eq!(normalize("[1, 2]", 75.0, 50.0), Err(NoResult::NotAnObject));
        assert_eq!(
            normalize(r#"{"overall_score": "inf"}"#, 75.0, 50.0),
            Err(NoResult::Infinite)
        );
        assert_eq!(
            normalize(r#"{"overall_score": "nan"}"#, 75.0, 50.0)
                .unwrap()
                .overall_score,
            0
        );
    }
}
