//! Abrupt cuts: a consecutive pair whose structure changes far more than the
//! clip's typical pair and whose colour histogram jumps too.
//! A cut at t (between t-1 and t) needs structure distance
//! above max(0.45, 4 x median) and histogram distance above 0.15.
//! Values: `temporal.cut_count`, `temporal.max_structure_jump` (largest pair
//! distance over the median).

use super::order::{consecutive_distances, normalized};
use super::{Measurements, Metric};
use crate::features::{hist_distance, ClipFeatures};

const MIN_JUMP: f64 = 0.45;
const MEDIAN_FACTOR: f64 = 4.0;
const MIN_HIST: f64 = 0.15;

pub struct Cuts;

impl Metric for Cuts {
    fn name(&self) -> &'static str {
        "cuts"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let n = clip.frame_count();
        if n < 2 {
            out.skip("temporal.cut_count", "fewer than 2 frames");
            return;
        }
        let z: Vec<Vec<f32>> = clip.temporal.iter().map(|f| normalized(&f.luma)).collect();
        let d = consecutive_distances(&z);
        let med = super::median(&d);
        let threshold = MIN_JUMP.max(MEDIAN_FACTOR * med);
        let mut cuts = Vec::new();
        for (i, &dist) in d.iter().enumerate() {
            let h = hist_distance(&clip.temporal[i].hist, &clip.temporal[i + 1].hist);
            if dist > threshold && h > MIN_HIST {
                cuts.push((i + 1, dist, h));
            }
        }
        out.set("temporal.cut_count", cuts.len() as f64);
        out.set(
            "temporal.max_structure_jump",
            d.iter().fold(0.0f64, |a, &b| a.max(b)) / med.max(0.01),
        );
        for (t, dist, h) in cuts.iter().take(8) {
            out.event(
                "temporal.cut_count",
                Some((t - 1, *t)),
                format!("cut between frames {} and {t} (structure change {dist:.2}, colour change {h:.2})", t - 1),
            );
        }
        out.curve("temporal.structure_change", d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::clip_from_lumas;

    #[test]
    fn hard_cut_between_unrelated_scenes_is_found_once() {
        let a = |t: usize| {
            (0..64 * 32)
                .map(|i| ((i + t) % 64) as f32 * 2.0 + 20.0)
                .collect::<Vec<f32>>()
        };
        let b = |t: usize| {
            (0..64 * 32)
                .map(|i| 220.0 - ((i / 64 + t) % 32) as f32 * 5.0)
                .collect::<Vec<f32>>()
        };
        let lumas: Vec<Vec<f32>> = (0..10).map(a).chain((0..10).map(b)).collect();
        let mut m = Measurements::default();
        Cuts.measure(&clip_from_lumas(64, 32, &lumas), &mut m);
        assert_eq!(m.get("temporal.cut_count"), Some(1.0));
        assert_eq!(m.events[0].frames, Some((9, 10)));
    }

    #[test]
    fn smooth_clip_has_no_cut() {
        let lumas: Vec<Vec<f32>> = (0..20)
            .map(|t| {
                (0..64 * 32)
                    .map(|i| ((i + t) % 64) as f32 * 2.0 + 20.0)
                    .collect()
            })
            .collect();
        let mut m = Measurements::default();
        Cuts.measure(&clip_from_lumas(64, 32, &lumas), &mut m);
        assert_eq!(m.get("temporal.cut_count"), Some(0.0));
    }
}
