//! Sharpness from the variance of the 3x3 Laplacian of native luma.
//!
//! - `visual.sharpness_ratio`: frame 0 against the conditioning image aligned
//!   to the same size (same content, so the ratio is about 1 when the clip
//!   keeps the first frame's detail and near 0 when it is blurred);
//! - `visual.detail_band_ratio`: median over the sampled frames of
//!   var(∇² full size) / var(∇² half size): the share of detail in the finest
//!   band, which needs no reference and so also catches blur that sets in after
//!   frame 0 (content changes over a clip, so frame-to-reference ratios would not);
//! - `visual.laplacian_variance`: median over samples, for reports.
//!
//! Noise raises all three; `visual.noise_sigma` catches noise.

use super::{Measurements, Metric};
use crate::features::ClipFeatures;
use crate::frames::resize::resize_plane;
use crate::frames::Plane;
use image::imageops::FilterType;

pub fn laplacian_variance(p: &Plane) -> f64 {
    if p.width < 3 || p.height < 3 {
        return 0.0;
    }
    let (mut s, mut ss, mut n) = (0f64, 0f64, 0f64);
    for y in 1..p.height - 1 {
        for x in 1..p.width - 1 {
            let l = (p.at(x - 1, y) + p.at(x + 1, y) + p.at(x, y - 1) + p.at(x, y + 1)
                - 4.0 * p.at(x, y)) as f64;
            s += l;
            ss += l * l;
            n += 1.0;
        }
    }
    (ss / n - (s / n).powi(2)).max(0.0)
}

/// var(∇² full) / var(∇² half size); None for flat or tiny frames.
pub fn band_ratio(p: &Plane) -> Option<f64> {
    if p.width < 16 || p.height < 16 {
        return None;
    }
    let half = resize_plane(p, p.width / 2, p.height / 2, FilterType::Triangle);
    let coarse = laplacian_variance(&half);
    (coarse >= 1e-6).then(|| laplacian_variance(p) / coarse)
}

pub struct Sharpness;

impl Metric for Sharpness {
    fn name(&self) -> &'static str {
        "sharpness"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        if clip.samples.is_empty() {
            out.skip("visual.sharpness_ratio", "no sampled frames");
            return;
        }
        let per_frame: Vec<f64> = clip
            .samples
            .iter()
            .map(|s| laplacian_variance(&s.native_luma))
            .collect();
        out.set("visual.laplacian_variance", super::median(&per_frame));
        let bands: Vec<f64> = clip
            .samples
            .iter()
            .filter_map(|s| band_ratio(&s.native_luma))
            .collect();
        if !bands.is_empty() {
            out.set("visual.detail_band_ratio", super::median(&bands));
        }
        let reference = laplacian_variance(&clip.condition_native_luma);
        match clip.samples.iter().find(|s| s.index == 0) {
            _ if reference < 1.0 => out.skip(
                "visual.sharpness_ratio",
                "conditioning image has no detail to compare with",
            ),
            Some(f0) => out.set(
                "visual.sharpness_ratio",
                laplacian_variance(&f0.native_luma) / reference,
            ),
            None => out.skip("visual.sharpness_ratio", "frame 0 was not sampled"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_is_zero_and_checkerboard_is_known() {
        assert_eq!(laplacian_variance(&Plane::filled(8, 8, 50.0)), 0.0);
        let cb = Plane::new(
            8,
            8,
            (0..64)
                .map(|i| if (i % 8 + i / 8) % 2 == 0 { 0.0 } else { 10.0 })
                .collect(),
        );
        // Interior Laplacian is ±40 in equal numbers: variance 1600.
        assert!((laplacian_variance(&cb) - 1600.0).abs() < 1e-9);
    }
}
