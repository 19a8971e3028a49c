//! Motion from optical flow. Speeds are per 1/16 s (Leoma's frame interval),
//! so clips at other rates compare, and relative to the frame diagonal, so
//! sizes compare.
//!
//! - `flow.motion` (curve and value): mean flow magnitude over the frame, % of
//!   the diagonal per 1/16 s; mean over pairs. A still image sent as video
//!   scores ~0 (VBench's dynamic degree and EvalCrafter's flow score, made
//!   continuous and normalised);
//! - `flow.static_pair_fraction`: share of pairs moving less than 0.05% of the
//!   diagonal per 1/16 s (a quarter pixel at 416x240);
//! - `flow.acceleration` (curve and value): trajectory acceleration |F_t(p +
//!   F_{t−1}(p)) − F_{t−1}(p)| over reliable pixels, % of the diagonal per
//!   (1/16 s)²; mean over triples;
//! - `flow.jerk`: Σ |acceleration| / Σ (speed + 0.25 px) over all triples:
//!   how much trajectories bend relative to how fast they go. Smooth motion of
//!   any speed stays low; stop-start, jitter and reversed or shuffled frames
//!   rise towards and past 1.

use super::{describe_range, ranges, Measurements, Metric};
use crate::features::ClipFeatures;

/// Percent of the diagonal per 1/16 s under which a pair counts as still.
pub const STATIC_PERCENT: f64 = 0.05;
/// Speed floor (px per frame) in the jerk ratio, so noise on still content stays low.
const SPEED_FLOOR_PX: f64 = 0.25;

pub struct FlowMotion;

impl Metric for FlowMotion {
    fn name(&self) -> &'static str {
        "flow_motion"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let Some(flow) = super::flow_of(clip, out, "flow.motion", 1) else {
            return;
        };
        let diag = flow.diagonal();
        let per_16th = super::frames_per_16th(clip.fps);
        let motion: Vec<f64> = flow
            .pairs
            .iter()
            .map(|p| 100.0 * p.mean_magnitude() * per_16th / diag)
            .collect();
        let still: Vec<usize> = (0..motion.len())
            .filter(|&t| motion[t] < STATIC_PERCENT)
            .collect();
        out.set("flow.motion", super::mean(&motion));
        out.set(
            "flow.static_pair_fraction",
            still.len() as f64 / motion.len() as f64,
        );
        let min_len = ((clip.fps * 0.5).round() as usize).max(2);
        for (a, b) in ranges(&still)
            .into_iter()
            .filter(|(a, b)| b - a + 1 >= min_len)
            .take(5)
        {
            out.event(
                "flow.static_pair_fraction",
                Some((a, b + 1)),
                format!("{} do not move (optical flow)", describe_range((a, b + 1))),
            );
        }
        out.curve("flow.motion", motion);

        let triples: Vec<_> = flow.triples.iter().filter(|t| t.count > 0).collect();
        if triples.is_empty() {
            out.skip("flow.acceleration", "no reliable trajectory over 3 frames");
            return;
        }
        let accel: Vec<f64> = flow
            .triples
            .iter()
            .map(|t| {
                if t.count == 0 {
                    0.0
                } else {
                    100.0 * t.accel_sum / t.count as f64 * per_16th * per_16th / diag
                }
            })
            .collect();
        let measured: Vec<f64> = flow
            .triples
            .iter()
            .zip(&accel)
            .filter(|(t, _)| t.count > 0)
            .map(|(_, a)| *a)
            .collect();
        out.set("flow.acceleration", super::mean(&measured));
        out.curve("flow.acceleration", accel);
        let bend: f64 = triples.iter().map(|t| t.accel_sum).sum();
        let speed: f64 = triples
            .iter()
            .map(|t| t.speed_sum + SPEED_FLOOR_PX * t.count as f64)
            .sum();
        out.set("flow.jerk", bend / speed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::clip_from_lumas;

    fn scene(w: usize, h: usize, shift: f64) -> Vec<f32> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f64 - shift, (i / w) as f64);
                (120.0 + 45.0 * (x / 6.0).sin() * (y / 9.0).cos() + 30.0 * (x / 17.0).cos()) as f32
            })
            .collect()
    }

    fn measure(shifts: &[f64]) -> Measurements {
        let (w, h) = (96, 64);
        let lumas: Vec<Vec<f32>> = shifts.iter().map(|&s| scene(w, h, s)).collect();
        let mut m = Measurements::default();
        FlowMotion.measure(&clip_from_lumas(w, h, &lumas), &mut m);
        m
    }

    #[test]
    fn still_clip_is_static_and_steady_motion_is_smooth() {
        let still = measure(&[0.0; 10]);
        assert_eq!(still.get("flow.static_pair_fraction"), Some(1.0));
        assert!(still.get("flow.motion").unwrap() < 0.01);
        let steady = measure(&(0..10).map(|t| 1.5 * t as f64).collect::<Vec<_>>());
        assert_eq!(steady.get("flow.static_pair_fraction"), Some(0.0));
        // 1.5 px per frame over a 115 px diagonal.
        let motion = steady.get("flow.motion").unwrap();
        assert!((motion - 100.0 * 1.5 / 115.38).abs() < 0.1, "{motion}");
        assert!(
            steady.get("flow.jerk").unwrap() < 0.1,
            "{:?}",
            steady.values
        );
    }

    #[test]
    fn back_and_forth_motion_is_jerky() {
        let shuttle = measure(&[0.0, 2.0, 0.0, 2.0, 0.0, 2.0, 0.0, 2.0]);
        assert!(
            shuttle.get("flow.jerk").unwrap() > 0.8,
            "{:?}",
            shuttle.values
        );
    }
}
