//! The hosted judge as an optional cross-check (off by default): with an API
//! key configured, the clip is sent to Gemini exactly as Leoma's evaluator
//! sends it (`gemini`, `rubric`), the reply is read with Leoma's rules
//! (`normalize`), and its agreement with our verdict is reported in the
//! verdict's `cross_check` block. It runs after our verdict is made and only
//! adds that block; its time is bounded by `GeminiConfig::deadline`.

pub mod gemini;
pub mod normalize;
pub mod rubric;

use crate::verdict::aspects::Aspect;
use crate::verdict::Verdict;
use gemini::GeminiConfig;
use normalize::JudgeResult;
use serde::Serialize;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The judge answered and its reply was read.
    Ok,
    /// The judge answered with something that is not JSON: Leoma's fail-safe
    /// result (all zeros, failed) is reported.
    ParseError,
    /// No result (HTTP failures past the attempts or the deadline, or a reply
    /// Leoma's normalisation cannot read).
    Failed,
}

/// Per-aspect and pass/fail agreement of the judge with our verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Agreement {
    pub pass_fail_agree: bool,
    /// Judge's overall minus ours.
    pub overall_difference: i32,
    /// Judge minus ours per aspect (Leoma's order); null where ours is unmeasured.
    pub aspect_differences: Vec<(String, Option<i32>)>,
    pub mean_abs_aspect_difference: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CrossCheck {
    pub judge: String,
    pub status: Status,
    pub attempts: u32,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<JudgeResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
}

pub fn agreement(judge: &JudgeResult, ours: &Verdict) -> Agreement {
    let diffs: Vec<(String, Option<i32>)> = Aspect::ALL
        .iter()
        .map(|&a| {
            (
                a.key().to_string(),
                ours.aspect_scores
                    .get(a)
                    .map(|o| judge.aspect(a) as i32 - o as i32),
            )
        })
        .collect();
    let measured: Vec<f64> = diffs
        .iter()
        .filter_map(|(_, d)| d.map(|d| d.abs() as f64))
        .collect();
    Agreement {
        pass_fail_agree: judge.passed == ours.passed,
        overall_difference: judge.overall_score as i32 - ours.overall_score as i32,
        aspect_differences: diffs,
        mean_abs_aspect_difference: (!measured.is_empty())
            .then(|| measured.iter().sum::<f64>() / measured.len() as f64),
    }
}

/// Ask the hosted judge about `video` and compare with `ours`. Never fails:
/// every problem ends up in the block's `status` and `error`.
pub fn run(
    cfg: &GeminiConfig,
    prompt: &str,
    first_frame: &Path,
    video: &Path,
    ours: &Verdict,
    pass_threshold: f64,
    critical_threshold: f64,
) -> CrossCheck {
    let failed = |error: String, attempts: u32, elapsed_ms: u64| CrossCheck {
        judge: cfg.model.clone(),
        status: Status::Failed,
        attempts,
        elapsed_ms,
        error: Some(error),
        result: None,
        agreement: None,
    };
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let (image, clip) = match (read(first_frame), read(video)) {
        (Ok(i), Ok(v)) => (i, v),
        (Err(e), _) | (_, Err(e)) => return failed(e, 0, 0),
    };
    let body = gemini::request_body(cfg, prompt, &image, &clip);
    let exchange = gemini::send(cfg, &body);
    let elapsed_ms = exchange.elapsed.as_millis() as u64;
    let text = match exchange.result {
        Ok(t) => t,
        Err(e) => return failed(e, exchange.attempts, elapsed_ms),
    };
    match normalize::normalize(&text, pass_threshold, critical_threshold) {
        Ok(result) => CrossCheck {
            judge: cfg.model.clone(),
            status: if result.parse_error {
                Status::ParseError
            } else {
                Status::Ok
            },
            attempts: exchange.attempts,
            elapsed_ms,
            error: None,
            agreement: Some(agreement(&result, ours)),
            result: Some(result),
        },
        Err(e) => failed(e.to_string(), exchange.attempts, elapsed_ms),
    }
}
