//! Black and blank frames: `temporal.black_fraction` (mean luma below 20 and
//! nearly uniform) and `temporal.blank_fraction` (any nearly uniform frame,
//! black included: luma standard deviation below 3 levels).

use super::{describe_range, ranges, Measurements, Metric};
use crate::features::ClipFeatures;

pub const BLACK_MEAN: f64 = 20.0;
pub const BLANK_STD: f64 = 3.0;

pub struct BlankFrames;

impl Metric for BlankFrames {
    fn name(&self) -> &'static str {
        "blank"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let n = clip.frame_count();
        if n == 0 {
            out.skip("temporal.blank_fraction", "clip has no frames");
            return;
        }
        let (mut black, mut blank) = (Vec::new(), Vec::new());
        for (i, f) in clip.temporal.iter().enumerate() {
            let (m, s) = (f.luma.mean(), f.luma.std());
            if s < BLANK_STD || (m < BLACK_MEAN && s < 2.0 * BLANK_STD) {
                blank.push(i);
                if m < BLACK_MEAN {
                    black.push(i);
                }
            }
        }
        out.set("temporal.black_fraction", black.len() as f64 / n as f64);
        out.set("temporal.blank_fraction", blank.len() as f64 / n as f64);
        for r in ranges(&black) {
            out.event(
                "temporal.black_fraction",
                Some(r),
                format!("{} black", describe_range(r)),
            );
        }
        let black_set: std::collections::BTreeSet<usize> = black.iter().copied().collect();
        let other: Vec<usize> = blank
            .into_iter()
            .filter(|i| !black_set.contains(i))
            .collect();
        for r in ranges(&other) {
            out.event(
                "temporal.blank_fraction",
                Some(r),
                format!("{} blank (uniform colour)", describe_range(r)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::clip_from_lumas;

    #[test]
    fn finds_black_run_in_textured_clip() {
        let mut lumas: Vec<Vec<f32>> = (0..10)
            .map(|t| (0..64).map(|i| ((i * 37 + t) % 200) as f32).collect())
            .collect();
        for l in &mut lumas[3..6] {
            l.iter_mut().for_each(|v| *v = 2.0);
        }
        let clip = clip_from_lumas(8, 8, &lumas);
        let mut m = Measurements::default();
        BlankFrames.measure(&clip, &mut m);
        assert!((m.get("temporal.black_fraction").unwrap() - 0.3).abs() < 1e-12);
        assert_eq!(m.events[0].text, "frames 3-5 black");
    }
}
