//! Evidence from the VLM (Qwen3-VL, `models::qwen3_vl`): the clip is shown as
//! a video under the pinned frame policy (`[vlm]` in the calibration file),
//! the conditioning image as an image, and the versioned questions
//! (`models::qwen3_vl::questions`) are read as probabilities, never sampled.
//! The vision inputs and the shared prompt prefix are encoded once per clip.
//!
//! Values (all in 0..=1; P(yes) for yes/no questions, the expected digit / 9
//! for graded ones):
//! - `vlm.prompt_overall`, `vlm.prompt_action`, `vlm.prompt_subject`,
//!   `vlm.prompt_steps` (mean over the action steps), `vlm.prompt_steps_min`,
//!   `vlm.prompt_camera`: prompt adherence, decomposed from the prompt;
//! - `vlm.condition_match`, `vlm.condition_identity`: consistency with the
//!   conditioning image;
//! - `vlm.motion_plausible`, `vlm.artefacts` (higher is worse),
//!   `vlm.visual_quality`;
//! - `vlm.text_overlay`, `vlm.judge_addressed` (text addressed to the judge);
//! - `vlm.answer_mass_min`: the least probability mass any question put on
//!   its answer tokens (how much the model answered in the asked form);
//! - `vlm.q.<question id>`: every question's own value.

use super::{Measurements, Metric};
use crate::features::ClipFeatures;
use crate::models::qwen3_vl::{questions, ClipInput, Qwen3Vl, Reading, VlmPolicy};
use std::sync::Arc;

pub struct Vlm {
    model: Arc<Qwen3Vl>,
    policy: VlmPolicy,
}

impl Vlm {
    pub fn new(model: Arc<Qwen3Vl>, policy: VlmPolicy) -> Self {
        Self { model, policy }
    }
}

const KEY: &str = "vlm.prompt_overall";

/// Summary values from the readings of one clip.
pub fn record(readings: &[Reading], out: &mut Measurements) {
    let get = |id: &str| readings.iter().find(|r| r.id == id).map(|r| r.answer.value);
    for r in readings {
        out.set(&format!("vlm.q.{}", r.id), r.answer.value);
    }
    for (key, id) in [
        ("vlm.prompt_overall", "prompt.overall"),
        ("vlm.prompt_action", "prompt.action"),
        ("vlm.prompt_subject", "prompt.subject"),
        ("vlm.prompt_camera", "prompt.camera"),
        ("vlm.condition_match", "condition.match"),
        ("vlm.condition_identity", "condition.identity"),
        ("vlm.motion_plausible", "physics.plausible"),
        ("vlm.artefacts", "visual.artefacts"),
        ("vlm.visual_quality", "visual.quality"),
        ("vlm.text_overlay", "overlay.text"),
        ("vlm.judge_addressed", "overlay.judge"),
    ] {
        if let Some(v) = get(id) {
            out.set(key, v);
        }
    }
    let steps: Vec<&Reading> = readings
        .iter()
        .filter(|r| r.id.starts_with("prompt.step."))
        .collect();
    if !steps.is_empty() {
        let values: Vec<f64> = steps.iter().map(|r| r.answer.value).collect();
        out.set("vlm.prompt_steps", super::mean(&values));
        out.set(
            "vlm.prompt_steps_min",
            values.iter().copied().fold(f64::INFINITY, f64::min),
        );
    }
    if let Some(m) = readings.iter().map(|r| r.answer.mass).reduce(f64::min) {
        out.set("vlm.answer_mass_min", m);
    }
}

/// Located evidence: the steps the model doubts, and text addressed to the judge.
fn events(readings: &[Reading], texts: &[(String, String)], out: &mut Measurements) {
    for r in readings {
        let text = texts
            .iter()
            .find(|(id, _)| *id == r.id)
            .map(|(_, t)| t.as_str());
        if r.id.starts_with("prompt.step.") && r.answer.value < 0.5 {
            if let Some(step) = text {
                out.event(
                    "vlm.prompt_steps_min",
                    None,
                    format!("VLM: P(yes) {:.2} that \"{step}\" happens", r.answer.value),
                );
            }
        }
        if r.id == "overlay.judge" && r.answer.value >= 0.5 {
            out.event(
                "vlm.judge_addressed",
                None,
                format!(
                    "VLM: P(yes) {:.2} that text in the video addresses the judge",
                    r.answer.value
                ),
            );
        }
    }
}

impl Metric for Vlm {
    fn name(&self) -> &'static str {
        "vlm"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let Some(v) = &clip.vlm else {
            out.skip(KEY, "the clip's frames were not kept for the VLM");
            return;
        };
        if v.frames.len() < 2 {
            out.skip(
                KEY,
                format!("{} frame(s) sampled for the VLM, need 2", v.frames.len()),
            );
            return;
        }
        let input = ClipInput {
            frames: &v.frames,
            frame_indices: &v.indices,
            fps: clip.fps,
            condition: Some(&v.condition),
        };
        let qs = questions::for_prompt(&clip.prompt, true);
        let result = self
            .model
            .encode(&input, &self.policy)
            .and_then(|enc| self.model.ask(&enc, &qs));
        match result {
            Ok(readings) => {
                record(&readings, out);
                let parts = questions::decompose(&clip.prompt);
                let texts: Vec<(String, String)> = parts
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (format!("prompt.step.{i}"), s.clone()))
                    .collect();
                events(&readings, &texts, out);
            }
            Err(e) => out.skip(KEY, e.to_string()),
        }
    }
}
