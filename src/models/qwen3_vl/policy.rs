//! The frame policy and question version the VLM runs under, pinned in the
//! calibration file (`[vlm]`) and echoed in every verdict.

use serde::{Deserialize, Serialize};

/// How a clip and its conditioning image are shown to the model (pinned in
/// the calibration file and echoed in every verdict).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VlmPolicy {
    /// Version of the question templates (`super::questions::VERSION`).
    pub questions: String,
    /// Frames sampled uniformly over the clip, first and last included
    /// (`numpy.linspace(0, n - 1, frames).round()`).
    pub frames: usize,
    /// Pixel budget of the whole video (all frames) for `smart_resize`.
    pub video_min_pixels: usize,
    pub video_max_pixels: usize,
    /// Pixel budget of the conditioning image.
    pub image_min_pixels: usize,
    pub image_max_pixels: usize,
}

impl VlmPolicy {
    pub fn validate(&self) -> Result<(), String> {
        if self.questions != super::questions::VERSION {
            return Err(format!(
                "vlm.questions is {:?}; this build asks {:?}",
                self.questions,
                super::questions::VERSION
            ));
        }
        if !(2..=256).contains(&self.frames) {
            return Err("vlm.frames must be within 2..=256".into());
        }
        if self.video_min_pixels > self.video_max_pixels
            || self.image_min_pixels > self.image_max_pixels
            || self.video_max_pixels == 0
            || self.image_max_pixels == 0
        {
            return Err("vlm pixel budgets must be positive with min <= max".into());
        }
        Ok(())
    }
}
