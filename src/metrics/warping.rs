//! Temporal consistency along the optical flow (`flow::analysis` gives the
//! per-pair sums; reliable pixels exclude occlusions and motion boundaries).
//!
//! - `flow.warp_error` (curve and value): per pair, the RMS difference between
//!   frame t and frame t + 1 warped back along the flow, over reliable pixels,
//!   in 8-bit levels (Lai et al. 2018's warping error, as EvalCrafter computes
//!   it, on luma at the temporal size); the value is the mean over pairs;
//! - `flow.unreliable_fraction`: mean share of pixels left out (occluded, out
//!   of frame, on motion boundaries, or where forward and backward flow disagree);
//! - `flow.compensated_flicker` (curve and value): brightness that changes
//!   along the motion and changes back. Per 16x16 block, m_t is the mean
//!   brightness change of pair t along the block's mean flow (levels; see
//!   `flow::analysis`); the flicker of step t is the count-weighted mean over
//!   blocks of |m_t − m_{t−1}|, so a steady fade or a lighting change that
//!   persists costs nothing, and a strobe costs its amplitude twice per cycle.
//!   Only blocks at least a quarter measured in both pairs count.

use super::{describe_range, ranges, Measurements, Metric};
use crate::features::ClipFeatures;
use crate::flow::analysis::BLOCK;

/// Warping error above this many levels (8-bit RMS) marks a pair in the evidence.
const BAD_PAIR_LEVELS: f64 = 12.0;
const MIN_BLOCK_PIXELS: u32 = (BLOCK * BLOCK / 4) as u32;

pub struct Warping;

impl Metric for Warping {
    fn name(&self) -> &'static str {
        "warping"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let Some(flow) = super::flow_of(clip, out, "flow.warp_error", 1) else {
            return;
        };
        let errors: Vec<Option<f64>> = flow.pairs.iter().map(|p| p.warp_rmse_levels()).collect();
        let measured: Vec<f64> = errors.iter().flatten().copied().collect();
        if measured.is_empty() {
            out.skip("flow.warp_error", "no pair has reliable pixels");
        } else {
            out.set("flow.warp_error", super::mean(&measured));
        }
        out.set(
            "flow.unreliable_fraction",
            super::mean(
                &flow
                    .pairs
                    .iter()
                    .map(|p| p.unreliable_fraction())
                    .collect::<Vec<_>>(),
            ),
        );
        let bad: Vec<usize> = (0..errors.len())
            .filter(|&t| errors[t].is_some_and(|e| e > BAD_PAIR_LEVELS))
            .collect();
        for (a, b) in ranges(&bad).into_iter().take(5) {
            out.event(
                "flow.warp_error",
                Some((a, b + 1)),
                format!(
                    "{} do not follow from each other along the motion (warping error above {BAD_PAIR_LEVELS:.0} levels)",
                    describe_range((a, b + 1))
                ),
            );
        }
        out.curve(
            "flow.warp_error",
            errors.iter().map(|e| e.unwrap_or(0.0)).collect(),
        );

        let steps: Vec<f64> = flow
            .pairs
            .windows(2)
            .map(|w| {
                let (mut num, mut den) = (0f64, 0f64);
                for b in 0..w[0].block_counted.len() {
                    let (c0, c1) = (w[0].block_counted[b], w[1].block_counted[b]);
                    if c0 >= MIN_BLOCK_PIXELS && c1 >= MIN_BLOCK_PIXELS {
                        let m0 = w[0].block_residual[b] / c0 as f64;
                        let m1 = w[1].block_residual[b] / c1 as f64;
                        let weight = c0.min(c1) as f64;
                        num += weight * (m1 - m0).abs() * 255.0;
                        den += weight;
                    }
                }
                if den > 0.0 {
                    num / den
                } else {
                    0.0
                }
            })
            .collect();
        if steps.is_empty() {
            out.skip("flow.compensated_flicker", "fewer than 3 frames");
        } else {
            out.set("flow.compensated_flicker", super::mean(&steps));
            out.curve("flow.compensated_flicker", steps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::clip_from_lumas;

    fn textured(w: usize, h: usize, shift: f64, offset: f32) -> Vec<f32> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f64 - shift, (i / w) as f64);
                offset
                    + (110.0 + 40.0 * (x / 5.0).sin() * (y / 7.0).cos() + 25.0 * (x / 13.0).cos())
                        as f32
            })
            .collect()
    }

    #[test]
    fn strobing_brightness_flickers_and_a_steady_pan_does_not() {
        let (w, h) = (96, 64);
        let pan: Vec<Vec<f32>> = (0..8).map(|t| textured(w, h, t as f64, 0.0)).collect();
        // A light that strobes by 5 levels while the camera pans.
        let strobe: Vec<Vec<f32>> = (0..8)
            .map(|t| textured(w, h, t as f64, if t % 2 == 0 { 0.0 } else { 5.0 }))
            .collect();
        let (mut a, mut b) = (Measurements::default(), Measurements::default());
        Warping.measure(&clip_from_lumas(w, h, &pan), &mut a);
        Warping.measure(&clip_from_lumas(w, h, &strobe), &mut b);
        let (fa, fb) = (
            a.get("flow.compensated_flicker").unwrap(),
            b.get("flow.compensated_flicker").unwrap(),
        );
        assert!(fa < 1.0, "steady pan flickers {fa}");
        assert!(fb > 6.0, "strobe flickers only {fb}");
        assert!(a.get("flow.warp_error").unwrap() < 2.0, "{:?}", a.values);
        assert_eq!(a.curves["flow.warp_error"].len(), 7);
    }
}
