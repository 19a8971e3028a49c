//! Motion from frame differences (the flow-based measures come with the flow
//! engine and register beside these).
//!
//! - `motion.frame_diff` (curve) and `motion.mean_abs_diff`: mean absolute luma
//!   difference of consecutive frames at the temporal size, in levels per
//!   frame, rescaled to 16 fps (Leoma's rate) so clips at other rates compare;
//! - `motion.static_pair_fraction`: share of pairs below 0.35 levels (no
//!   visible change): 1.0 for a still image sent as video;
//! - `motion.jerk`: median |Δ frame_diff| over the median frame_diff + 0.5:
//!   steady motion gives values near 0, stop-start or jumping motion large ones.

use super::{describe_range, ranges, Measurements, Metric};
use crate::features::ClipFeatures;

pub const STATIC_LEVELS: f64 = 0.35;

pub struct Motion;

impl Metric for Motion {
    fn name(&self) -> &'static str {
        "motion"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let n = clip.frame_count();
        if n < 2 {
            out.skip("motion.mean_abs_diff", "fewer than 2 frames");
            return;
        }
        let per_16th = super::frames_per_16th(clip.fps);
        let diffs: Vec<f64> = clip
            .temporal
            .windows(2)
            .map(|w| w[0].luma.mean_abs_diff(&w[1].luma) * per_16th)
            .collect();
        let still: Vec<usize> = (0..diffs.len())
            .filter(|&i| diffs[i] < STATIC_LEVELS)
            .collect();
        out.set("motion.mean_abs_diff", super::mean(&diffs));
        out.set(
            "motion.static_pair_fraction",
            still.len() as f64 / diffs.len() as f64,
        );
        let steps: Vec<f64> = diffs.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
        if !steps.is_empty() {
            out.set(
                "motion.jerk",
                super::median(&steps) / (super::median(&diffs) + 0.5),
            );
        }
        // Report still stretches of at least half a second.
        let min_len = ((clip.fps * 0.5).round() as usize).max(2);
        for (a, b) in ranges(&still)
            .into_iter()
            .filter(|(a, b)| b - a + 1 >= min_len)
        {
            out.event(
                "motion.static_pair_fraction",
                Some((a, b + 1)),
                format!("{} show no motion", describe_range((a, b + 1))),
            );
        }
        out.curve("motion.frame_diff", diffs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::clip_from_lumas;

    #[test]
    fn still_clip_is_fully_static_and_moving_clip_is_not() {
        let still: Vec<Vec<f32>> = (0..10)
            .map(|_| (0..256).map(|i| (i % 97) as f32).collect())
            .collect();
        let moving: Vec<Vec<f32>> = (0..10)
            .map(|t| (0..256).map(|i| ((i + 3 * t) % 97) as f32).collect())
            .collect();
        let (mut a, mut b) = (Measurements::default(), Measurements::default());
        Motion.measure(&clip_from_lumas(16, 16, &still), &mut a);
        Motion.measure(&clip_from_lumas(16, 16, &moving), &mut b);
        assert_eq!(a.get("motion.static_pair_fraction"), Some(1.0));
        assert_eq!(a.get("motion.mean_abs_diff"), Some(0.0));
        assert!(a.events[0].text.contains("frames 0-9 show no motion"));
        assert_eq!(b.get("motion.static_pair_fraction"), Some(0.0));
        assert!(b.get("motion.mean_abs_diff").unwrap() > 5.0);
        assert!(b.get("motion.jerk").unwrap() < 0.05, "steady motion");
    }
}
