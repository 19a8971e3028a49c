//! Blockiness: codec block edges. For the 8-pixel grid of native luma, the mean
//! absolute step across block boundaries over the mean step inside blocks,
//! horizontally and vertically averaged. About 1 for clean frames, above ~1.3
//! when 8x8 blocks show. `visual.blockiness` is the median over samples.

use super::{Measurements, Metric};
use crate::features::ClipFeatures;
use crate::frames::Plane;

pub fn block_edge_ratio(p: &Plane) -> Option<f64> {
    if p.width < 16 || p.height < 16 {
        return None;
    }
    let mut acc = [[0f64; 2]; 2]; // [direction][boundary?]
    let mut cnt = [[0f64; 2]; 2];
    for y in 0..p.height {
        for x in 0..p.width - 1 {
            let b = usize::from(x % 8 == 7);
            acc[0][b] += (p.at(x + 1, y) - p.at(x, y)).abs() as f64;
            cnt[0][b] += 1.0;
        }
    }
    for y in 0..p.height - 1 {
        let b = usize::from(y % 8 == 7);
        for x in 0..p.width {
            acc[1][b] += (p.at(x, y + 1) - p.at(x, y)).abs() as f64;
            cnt[1][b] += 1.0;
        }
    }
    let ratio = |d: usize| {
        let inner = acc[d][0] / cnt[d][0];
        let edge = acc[d][1] / cnt[d][1];
        (edge + 0.5) / (inner + 0.5)
    };
    Some((ratio(0) + ratio(1)) / 2.0)
}

pub struct Blockiness;

impl Metric for Blockiness {
    fn name(&self) -> &'static str {
        "blockiness"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let r: Vec<f64> = clip
            .samples
            .iter()
            .filter_map(|s| block_edge_ratio(&s.native_luma))
            .collect();
        if r.is_empty() {
            out.skip("visual.blockiness", "no sampled frame of at least 16x16");
            return;
        }
        out.set("visual.blockiness", super::median(&r));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_blocks_score_high_and_smooth_ramp_scores_one() {
        let (w, h) = (64, 64);
        let blocks = Plane::new(
            w,
            h,
            (0..w * h)
                .map(|i| (((i % w) / 8 * 7 + (i / w) / 8 * 5) % 50) as f32 * 4.0)
                .collect(),
        );
        let ramp = Plane::new(w, h, (0..w * h).map(|i| (i % w) as f32 * 2.0).collect());
        assert!(block_edge_ratio(&blocks).unwrap() > 5.0);
        // Horizontal steps equal everywhere (ratio 1); no vertical steps (ratio 1).
        assert!((block_edge_ratio(&ramp).unwrap() - 1.0).abs() < 1e-9);
    }
}
