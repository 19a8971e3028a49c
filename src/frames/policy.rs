//! The frame policy: which frames each metric sees, at what size, through which filter.
//! It is pinned in the calibration file and echoed into every verdict.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FramePolicy {
    /// Size (w, h) at which frame 0 and the hold window are compared with the
    /// conditioning image, and at which overlays are searched (Leoma's 832x480).
    pub canonical_size: [usize; 2],
    /// Size at which every frame is kept for temporal metrics (flicker, cuts,
    /// order, motion, stability).
    pub temporal_size: [usize; 2],
    /// Filter for every resize of clip frames: "triangle", "catmull-rom" or "lanczos3".
    pub frame_filter: String,
    /// How the conditioning image is aligned to the clip's geometry: resized
    /// (stretched, as the reference miner's `resize((832, 480))` does) with this filter.
    pub condition_filter: String,
    /// Length of the opening hold window, in seconds of clip time.
    pub hold_seconds: f64,
    /// Number of frames, evenly spaced and always including frame 0 and the
    /// last, on which the native-resolution quality metrics run.
    pub quality_samples: usize,
}

impl FramePolicy {
    /// Indices of the frames the quality metrics sample out of `n` frames.
    pub fn quality_indices(&self, n: usize) -> Vec<usize> {
        evenly_spaced(n, self.quality_samples)
    }

    /// Number of frames in the opening hold window at `fps` (frame 0 included).
    pub fn hold_frames(&self, fps: f64) -> usize {
        ((self.hold_seconds * fps).round() as usize).max(1) + 1
    }
}

/// `k` indices spread evenly over `0..n`, first and last included, deduplicated.
pub fn evenly_spaced(n: usize, k: usize) -> Vec<usize> {
    if n == 0 || k == 0 {
        return Vec::new();
    }
    if k == 1 || n == 1 {
        return vec![0];
    }
    let mut out: Vec<usize> = (0..k)
        .map(|i| ((i as f64) * (n - 1) as f64 / (k - 1) as f64).round() as usize)
        .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evenly_spaced_covers_ends() {
        assert_eq!(evenly_spaced(81, 5), vec![0, 20, 40, 60, 80]);
        assert_eq!(evenly_spaced(3, 8), vec![0, 1, 2]);
        assert_eq!(evenly_spaced(1, 8), vec![0]);
        assert!(evenly_spaced(0, 8).is_empty());
    }
}
