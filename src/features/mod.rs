//! Features: what the metrics read, built while frames stream out of the decoder.
//! Only small copies are kept (every frame at the temporal size, a few frames at
//! the canonical and native sizes), never the whole clip at full size.

use crate::flow::{ClipFlow, FlowEngine};
use crate::frames::resize::{filter_by_name, resize_rgb, UnknownFilter};
use crate::frames::{FramePolicy, Plane, RgbFrame};
use image::imageops::FilterType;

/// Bins of the per-frame colour histogram: luma, then Cb, then Cr.
pub const HIST_BINS: [usize; 3] = [16, 8, 8];

/// One frame at the temporal working size.
#[derive(Clone, Debug)]
pub struct TemporalFrame {
    pub luma: Plane,
    /// Mean Cb and Cr (BT.601, centred on 0).
    pub chroma_means: [f64; 2],
    /// Normalised histogram (sums to 1 per channel) with `HIST_BINS` bins.
    pub hist: Vec<f64>,
}

/// A frame sampled for the quality metrics.
#[derive(Clone, Debug)]
pub struct SampledFrame {
    pub index: usize,
    /// Luma at the clip's native resolution (block grids and noise live there).
    pub native_luma: Plane,
    /// RGB at the canonical size (overlay search, colour).
    pub canonical: RgbFrame,
}

/// Everything the metrics see of one clip.
#[derive(Clone, Debug)]
pub struct ClipFeatures {
    pub fps: f64,
    pub native_size: (usize, usize),
    pub canonical_size: (usize, usize),
    /// Conditioning image aligned to the canonical size.
    pub condition: RgbFrame,
    /// Conditioning image aligned to the clip's native size, as luma.
    pub condition_native_luma: Plane,
    /// Frames of the opening hold window at the canonical size, frame 0 first.
    pub opening: Vec<RgbFrame>,
    /// Every frame at the temporal size.
    pub temporal: Vec<TemporalFrame>,
    pub samples: Vec<SampledFrame>,
    pub prompt: String,
    /// Optical flow over every consecutive pair of the temporal frames, or why
    /// it could not be computed.
    pub flow: Result<ClipFlow, String>,
    /// Frames kept at the native size for the VLM (`FeatureBuilder::with_vlm`).
    pub vlm: Option<VlmFrames>,
}

/// What the VLM is shown of a clip: frames at their decoded size and the
/// conditioning image aligned to that size.
#[derive(Clone, Debug)]
pub struct VlmFrames {
    pub indices: Vec<usize>,
    pub frames: Vec<RgbFrame>,
    pub condition: RgbFrame,
}

impl ClipFeatures {
    pub fn frame_count(&self) -> usize {
        self.temporal.len()
    }

    /// Compute the flow analysis of the temporal frames with `engine`.
    pub fn with_flow(mut self, engine: &dyn FlowEngine) -> Self {
        let lumas: Vec<&crate::frames::Plane> = self.temporal.iter().map(|f| &f.luma).collect();
        self.flow = engine
            .analyze_clips(&[&lumas])
            .map_err(|e| format!("optical flow ({}): {e}", engine.name()))
            .and_then(|mut v| {
                v.pop()
                    .ok_or_else(|| "optical flow returned nothing".into())
            });
        self
    }
}

/// Accumulates features frame by frame.
pub struct FeatureBuilder {
    policy: FramePolicy,
    frame_filter: FilterType,
    hold_frames: usize,
    sample_at: Vec<usize>,
    vlm_at: Vec<usize>,
    features: ClipFeatures,
}

impl FeatureBuilder {
    /// `expected_frames` places the quality samples; `condition` is already
    /// aligned to the native size (see `frames::align`).
    pub fn new(
        policy: &FramePolicy,
        fps: f64,
        native_size: (usize, usize),
        expected_frames: usize,
        condition_native: &RgbFrame,
        prompt: &str,
    ) -> Result<Self, UnknownFilter> {
        let frame_filter = filter_by_name(&policy.frame_filter)?;
        let [cw, ch] = policy.canonical_size;
        let condition = resize_rgb(condition_native, cw, ch, frame_filter);
        Ok(Self {
            hold_frames: policy.hold_frames(fps),
            sample_at: policy.quality_indices(expected_frames.max(1)),
            vlm_at: Vec::new(),
            frame_filter,
            features: ClipFeatures {
                fps,
                native_size,
                canonical_size: (cw, ch),
                condition,
                condition_native_luma: condition_native.luma(),
                opening: Vec::new(),
                temporal: Vec::new(),
                samples: Vec::new(),
                prompt: prompt.to_string(),
                flow: Err("optical flow not computed".into()),
                vlm: None,
            },
            policy: policy.clone(),
        })
    }

    /// Also keep the frames at `indices` (native size) and the aligned
    /// conditioning image for the VLM.
    pub fn with_vlm(mut self, indices: Vec<usize>, condition_native: &RgbFrame) -> Self {
        self.vlm_at = indices;
        self.features.vlm = Some(VlmFrames {
            indices: Vec::new(),
            frames: Vec::new(),
            condition: condition_native.clone(),
        });
        self
    }

    pub fn push(&mut self, index: usize, frame: &RgbFrame) {
        if let Some(v) = &mut self.features.vlm {
            if self.vlm_at.binary_search(&index).is_ok() {
                v.indices.push(index);
                v.frames.push(frame.clone());
            }
        }
        let (cw, ch) = self.features.canonical_size;
        let wants_sample = self.sample_at.binary_search(&index).is_ok();
        let canonical = (index < self.hold_frames || wants_sample)
            .then(|| resize_rgb(frame, cw, ch, self.frame_filter));
        if let Some(c) = &canonical {
            if index < self.hold_frames {
                self.features.opening.push(c.clone());
            }
        }
        if wants_sample {
            self.features.samples.push(SampledFrame {
                index,
                native_luma: frame.luma(),
                canonical: canonical.expect("resized above"),
            });
        }
        let [tw, th] = self.policy.temporal_size;
        self.features.temporal.push(temporal_frame(&resize_rgb(
            frame,
            tw,
            th,
            self.frame_filter,
        )));
    }

    /// The features, with the optical flow of the temporal frames.
    pub fn finish(self, flow: &dyn FlowEngine) -> ClipFeatures {
        self.features.with_flow(flow)
    }
}

pub(crate) fn temporal_frame(small: &RgbFrame) -> TemporalFrame {
    let luma = small.luma();
    let (cb, cr) = small.chroma();
    let mut hist = vec![0f64; HIST_BINS.iter().sum()];
    let n = luma.data.len().max(1) as f64;
    let bin = |v: f32, lo: f32, span: f32, bins: usize| {
        (((v - lo) / span * bins as f32) as isize).clamp(0, bins as isize - 1) as usize
    };
    for i in 0..luma.data.len() {
        hist[bin(luma.data[i], 0.0, 256.0, HIST_BINS[0])] += 1.0 / n;
        hist[HIST_BINS[0] + bin(cb.data[i], -128.0, 256.0, HIST_BINS[1])] += 1.0 / n;
        hist[HIST_BINS[0] + HIST_BINS[1] + bin(cr.data[i], -128.0, 256.0, HIST_BINS[2])] += 1.0 / n;
    }
    TemporalFrame {
        chroma_means: [cb.mean(), cr.mean()],
        hist,
        luma,
    }
}

/// Histogram distance in [0, 1]: half the L1 distance, averaged over the three channels.
pub fn hist_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / 6.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_distance_spans_zero_to_one() {
        let black = temporal_frame(&RgbFrame::new(8, 8, vec![0; 192]));
        let white = temporal_frame(&RgbFrame::new(8, 8, vec![255; 192]));
        assert_eq!(hist_distance(&black.hist, &black.hist), 0.0);
        // Luma moves to the other end; chroma stays neutral in both.
        assert!((hist_distance(&black.hist, &white.hist) - 1.0 / 3.0).abs() < 1e-9);
    }
}
