//! Clipping: share of native luma pixels crushed to black (<= 2) or blown to
//! white (>= 253), beyond what the conditioning image already has.
//! `visual.clipped_fraction` (median over samples), `visual.clipping_excess`.

use super::{Measurements, Metric};
use crate::features::ClipFeatures;
use crate::frames::Plane;

pub fn clipped_fraction(p: &Plane) -> f64 {
    let n = p.data.iter().filter(|&&v| v <= 2.0 || v >= 253.0).count();
    n as f64 / p.data.len().max(1) as f64
}

pub struct Clipping;

impl Metric for Clipping {
    fn name(&self) -> &'static str {
        "clipping"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        if clip.samples.is_empty() {
            out.skip("visual.clipping_excess", "no sampled frames");
            return;
        }
        let f: Vec<f64> = clip
            .samples
            .iter()
            .map(|s| clipped_fraction(&s.native_luma))
            .collect();
        let frac = super::median(&f);
        out.set("visual.clipped_fraction", frac);
        out.set(
            "visual.clipping_excess",
            (frac - clipped_fraction(&clip.condition_native_luma)).max(0.0),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_both_ends() {
        let p = Plane::new(4, 1, vec![0.0, 128.0, 255.0, 252.0]);
        assert_eq!(clipped_fraction(&p), 0.5);
    }
}
