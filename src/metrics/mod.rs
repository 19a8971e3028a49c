//! Measured quantities and the registry that lists them.
//!
//! A metric reads `ClipFeatures` and records named values (`first_frame.ssim`),
//! per-frame curves and located events ("frames 20-32 black"). The verdict
//! never calls a metric directly: it looks values up by name through the
//! calibration file, so a new metric (flow, CLIP, VLM) plugs in by registering
//! here and adding calibration entries.

pub mod blank;
pub mod blockiness;
pub mod camera_motion;
pub mod clipping;
pub mod cuts;
pub mod fidelity;
pub mod flicker;
pub mod flow_motion;
pub mod framing;
pub mod motion;
pub mod niqe;
pub mod no_reference;
pub mod noise;
pub mod order;
pub mod overlay;
pub mod semantic;
pub mod sharpness;
pub mod ssim;
pub mod stability;
pub mod vlm;
pub mod warping;

use crate::features::ClipFeatures;
use serde::Serialize;
use std::collections::BTreeMap;

/// A located observation a metric makes, quoted as evidence when the metric's
/// score is low.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    pub metric: String,
    /// First and last frame concerned (inclusive), when the event is located.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<(usize, usize)>,
    pub text: String,
}

/// What the metrics measured on one clip.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Measurements {
    pub values: BTreeMap<String, f64>,
    pub curves: BTreeMap<String, Vec<f64>>,
    pub events: Vec<Event>,
    /// Metrics that could not run on this clip, with the reason.
    pub skipped: BTreeMap<String, String>,
}

impl Measurements {
    /// Record a value; non-finite values are recorded as skipped instead, so
    /// no NaN ever reaches a verdict.
    pub fn set(&mut self, name: &str, value: f64) {
        if value.is_finite() {
            self.values.insert(name.to_string(), value);
        } else {
            self.skip(name, format!("not finite ({value})"));
        }
    }

    pub fn curve(&mut self, name: &str, values: Vec<f64>) {
        self.curves.insert(
            name.to_string(),
            values
                .into_iter()
                .map(|v| if v.is_finite() { v } else { 0.0 })
                .collect(),
        );
    }

    pub fn event(&mut self, metric: &str, frames: Option<(usize, usize)>, text: String) {
        self.events.push(Event {
            metric: metric.to_string(),
            frames,
            text,
        });
    }

    pub fn skip(&mut self, name: &str, reason: impl Into<String>) {
        self.skipped.insert(name.to_string(), reason.into());
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).copied()
    }
}

/// One measured family of quantities.
pub trait Metric: Send + Sync {
    /// Short identifier, also the prefix-free name shown in logs.
    fn name(&self) -> &'static str;
    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements);
}

/// The ordered list of metrics run on every clip.
pub struct Registry {
    metrics: Vec<Box<dyn Metric>>,
}

impl Registry {
    /// The measured metrics that need no model.
    pub fn builtin() -> Self {
        Self {
            metrics: vec![
                Box::new(fidelity::FirstFrame),
                Box::new(blank::BlankFrames),
                Box::new(flicker::Flicker),
                Box::new(cuts::Cuts),
                Box::new(order::FrameOrder),
                Box::new(motion::Motion),
                Box::new(sharpness::Sharpness),
                Box::new(noise::Noise),
                Box::new(blockiness::Blockiness),
                Box::new(clipping::Clipping),
                Box::new(no_reference::Niqe),
                Box::new(overlay::Overlay),
                Box::new(stability::Stability),
                Box::new(framing::Framing),
                Box::new(warping::Warping),
                Box::new(flow_motion::FlowMotion),
                Box::new(camera_motion::CameraFromFlow),
            ],
        }
    }

    pub fn push(&mut self, metric: Box<dyn Metric>) {
        self.metrics.push(metric);
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.metrics.iter().map(|m| m.name()).collect()
    }

    /// Run every metric in order. Each metric only adds to `Measurements`, so
    /// running them one after another keeps the result deterministic.
    pub fn measure(&self, clip: &ClipFeatures) -> Measurements {
        let mut out = Measurements::default();
        for m in &self.metrics {
            let _span = tracing::debug_span!("metric", name = m.name()).entered();
            m.measure(clip, &mut out);
        }
        out
    }
}

/// The clip's flow analysis when it has at least `min_pairs` frame pairs;
/// otherwise `metric` is recorded as skipped, with the reason.
pub fn flow_of<'a>(
    clip: &'a ClipFeatures,
    out: &mut Measurements,
    metric: &str,
    min_pairs: usize,
) -> Option<&'a crate::flow::ClipFlow> {
    match &clip.flow {
        Ok(f) if f.pairs.len() >= min_pairs => Some(f),
        Ok(_) => {
            out.skip(metric, format!("fewer than {} frames", min_pairs + 1));
            None
        }
        Err(e) => {
            out.skip(metric, e.clone());
            None
        }
    }
}

/// Frame intervals per 1/16 s (Leoma's rate): multiply a per-frame motion by
/// this to compare clips at any frame rate.
pub fn frames_per_16th(fps: f64) -> f64 {
    if fps > 0.0 {
        fps / 16.0
    } else {
        1.0
    }
}

/// Group consecutive frame indices into inclusive ranges.
pub fn ranges(indices: &[usize]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &i in indices {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == i => *end = i,
            _ => out.push((i, i)),
        }
    }
    out
}

/// "frame 7" or "frames 20-32".
pub fn describe_range((a, b): (usize, usize)) -> String {
    if a == b {
        format!("frame {a}")
    } else {
        format!("frames {a}-{b}")
    }
}

/// Median of a slice (NaN-free input); 0 for an empty slice.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_group_consecutive_frames() {
        assert_eq!(ranges(&[1, 2, 3, 7, 9, 10]), vec![(1, 3), (7, 7), (9, 10)]);
        assert_eq!(describe_range((20, 32)), "frames 20-32");
        assert_eq!(describe_range((4, 4)), "frame 4");
    }

    #[test]
    fn non_finite_values_are_skipped_not_recorded() {
        let mut m = Measurements::default();
        m.set("x", f64::NAN);
        assert!(m.get("x").is_none());
        assert!(m.skipped.contains_key("x"));
    }

    #[test]
    fn median_handles_even_and_odd() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}

#[cfg(test)]
pub mod test_support {
    use crate::features::{temporal_frame, ClipFeatures, SampledFrame};
    use crate::frames::RgbFrame;

    pub fn gray(w: usize, h: usize, luma: &[f32]) -> RgbFrame {
        RgbFrame::new(
            w,
            h,
            luma.iter()
                .flat_map(|&v| [v.round().clamp(0.0, 255.0) as u8; 3])
                .collect(),
        )
    }

    /// A clip whose every view (temporal, opening, samples) is built from gray frames;
    /// the conditioning image is frame 0.
    pub fn clip_from_lumas(w: usize, h: usize, lumas: &[Vec<f32>]) -> ClipFeatures {
        let frames: Vec<RgbFrame> = lumas.iter().map(|l| gray(w, h, l)).collect();
        clip_from_frames(&frames, frames[0].clone(), 16.0)
    }

    pub fn clip_from_frames(frames: &[RgbFrame], condition: RgbFrame, fps: f64) -> ClipFeatures {
        let (w, h) = (frames[0].width, frames[0].height);
        ClipFeatures {
            fps,
            native_size: (w, h),
            canonical_size: (w, h),
            condition_native_luma: condition.luma(),
            condition,
            opening: frames.iter().take(9).cloned().collect(),
            temporal: frames.iter().map(temporal_frame).collect(),
            samples: frames
                .iter()
                .enumerate()
                .map(|(index, f)| SampledFrame {
                    index,
                    native_luma: f.luma(),
                    canonical: f.clone(),
                })
                .collect(),
            prompt: String::new(),
            flow: Err("not computed".into()),
            vlm: None,
        }
        .with_flow(&crate::flow::cpu::CpuFlow::new(
            crate::flow::FlowParams::default(),
        ))
    }
}
