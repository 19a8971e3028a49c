//! Flicker: fast brightness or colour oscillation that motion does not explain.
//!
//! Luma: the frame is split into an 8x6 grid; for each cell the second temporal
//! difference of its mean, |c(t+1) - 2c(t) + c(t-1)|, is taken, and the median
//! over cells (robust to a moving object in a few cells) is averaged over t:
//! `temporal.flicker_luma` in 8-bit levels. Colour: the same second difference
//! of the frame's mean Cb and Cr, summed: `temporal.flicker_color`.

use super::{describe_range, ranges, Measurements, Metric};
use crate::features::ClipFeatures;
use crate::frames::Plane;

const GRID: (usize, usize) = (8, 6);
/// Second difference (levels) above which a frame is reported as flickering.
const REPORT_LEVELS: f64 = 4.0;

pub struct Flicker;

pub fn cell_means(p: &Plane) -> Vec<f64> {
    let (gw, gh) = GRID;
    let mut sums = vec![0f64; gw * gh];
    let mut counts = vec![0f64; gw * gh];
    for y in 0..p.height {
        let cy = (y * gh / p.height).min(gh - 1);
        for x in 0..p.width {
            let c = cy * gw + (x * gw / p.width).min(gw - 1);
            sums[c] += p.at(x, y) as f64;
            counts[c] += 1.0;
        }
    }
    sums.iter()
        .zip(&counts)
        .map(|(s, c)| s / c.max(1.0))
        .collect()
}

impl Metric for Flicker {
    fn name(&self) -> &'static str {
        "flicker"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let n = clip.frame_count();
        if n < 3 {
            out.skip("temporal.flicker_luma", "fewer than 3 frames");
            return;
        }
        let cells: Vec<Vec<f64>> = clip.temporal.iter().map(|f| cell_means(&f.luma)).collect();
        let mut luma_curve = vec![0.0; n];
        let mut colour = Vec::with_capacity(n - 2);
        for t in 1..n - 1 {
            let d2: Vec<f64> = (0..cells[t].len())
                .map(|c| (cells[t + 1][c] - 2.0 * cells[t][c] + cells[t - 1][c]).abs())
                .collect();
            luma_curve[t] = super::median(&d2);
            let m = |k: usize| clip.temporal[k].chroma_means;
            colour.push(
                (0..2)
                    .map(|c| (m(t + 1)[c] - 2.0 * m(t)[c] + m(t - 1)[c]).abs())
                    .sum::<f64>(),
            );
        }
        out.set("temporal.flicker_luma", super::mean(&luma_curve[1..n - 1]));
        out.set("temporal.flicker_color", super::mean(&colour));
        let flickering: Vec<usize> = (1..n - 1)
            .filter(|&t| luma_curve[t] > REPORT_LEVELS)
            .collect();
        for r in ranges(&flickering) {
            let peak = (r.0..=r.1).map(|t| luma_curve[t]).fold(0.0, f64::max);
            out.event(
                "temporal.flicker_luma",
                Some(r),
                format!(
                    "{} flicker (brightness jumps up to {peak:.0} levels)",
                    describe_range(r)
                ),
            );
        }
        out.curve("temporal.flicker_luma", luma_curve);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::clip_from_lumas;

    fn textured(t: usize, offset: f32) -> Vec<f32> {
        (0..48 * 32)
            .map(|i| ((i * 7 + t * 3) % 100) as f32 + 50.0 + offset)
            .collect()
    }

    #[test]
    fn steady_brightness_ramp_is_not_flicker_but_oscillation_is() {
        let ramp: Vec<Vec<f32>> = (0..12).map(|t| textured(0, t as f32 * 2.0)).collect();
        let osc: Vec<Vec<f32>> = (0..12)
            .map(|t| textured(0, if t % 2 == 0 { 0.0 } else { 20.0 }))
            .collect();
        let (mut a, mut b) = (Measurements::default(), Measurements::default());
        Flicker.measure(&clip_from_lumas(48, 32, &ramp), &mut a);
        Flicker.measure(&clip_from_lumas(48, 32, &osc), &mut b);
        assert!(a.get("temporal.flicker_luma").unwrap() < 1e-3);
        assert!((b.get("temporal.flicker_luma").unwrap() - 40.0).abs() < 1e-6);
        assert!(b.events.iter().any(|e| e.text.contains("flicker")));
    }
}
