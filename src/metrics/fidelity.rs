//! First-frame fidelity: frame 0 against the conditioning image (both at the
//! canonical size), and how long the opening holds on to it.
//!
//! - `first_frame.ssim`, `first_frame.psnr_db`: luma SSIM/PSNR, ffmpeg-compatible.
//! - `first_frame.color_shift`: CIELAB ΔE76 between the mean colours.
//! - `first_frame.hold_ssim` (curve), `first_frame.hold_ssim_mean`,
//!   `first_frame.hold_drop`: coarse SSIM of each frame of the opening window
//!   against the conditioning image (luma shrunk 8x, best over shifts of up to
//!   ±3 coarse pixels, i.e. ±24 canonical pixels, so camera drift and small
//!   motion do not count), its mean, and how far it falls below frame 0's:
//!   "starts right, then jumps away" versus a legitimate change;
//! - `first_frame.hold_max_step`: the largest single-frame fall of that curve
//!   (a jump away from the first frame rather than a gradual departure).

use super::ssim::{mse_u8, psnr_from_mse, ssim_u8};
use super::{Measurements, Metric};
use crate::features::ClipFeatures;
use crate::frames::resize::resize_plane;
use crate::frames::RgbFrame;
use image::imageops::FilterType;

/// The hold curve compares luma shrunk by this factor...
const HOLD_SHRINK: usize = 8;
/// ...allowing this much translation (coarse pixels) between frame and image.
const HOLD_MAX_SHIFT: isize = 3;

/// Best SSIM of `a` against `b` over integer shifts within ±`max` pixels,
/// computed on the overlapping region.
pub fn shift_tolerant_ssim(a: &[u8], b: &[u8], w: usize, h: usize, max: isize) -> f64 {
    let mut best = ssim_u8(a, b, w, h).unwrap_or(0.0);
    for dy in -max..=max {
        for dx in -max..=max {
            let (ow, oh) = (w - dx.unsigned_abs(), h - dy.unsigned_abs());
            if (dx, dy) == (0, 0) || ow < 16 || oh < 16 {
                continue;
            }
            let crop = |src: &[u8], sx: usize, sy: usize| {
                (0..oh)
                    .flat_map(|y| {
                        src[(sy + y) * w + sx..(sy + y) * w + sx + ow]
                            .iter()
                            .copied()
                    })
                    .collect::<Vec<u8>>()
            };
            let (ax, bx) = if dx >= 0 {
                (dx as usize, 0)
            } else {
                (0, dx.unsigned_abs())
            };
            let (ay, by) = if dy >= 0 {
                (dy as usize, 0)
            } else {
                (0, dy.unsigned_abs())
            };
            if let Some(s) = ssim_u8(&crop(a, ax, ay), &crop(b, bx, by), ow, oh) {
                best = best.max(s);
            }
        }
    }
    best
}

pub struct FirstFrame;

impl Metric for FirstFrame {
    fn name(&self) -> &'static str {
        "first_frame"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let Some(frame0) = clip.opening.first() else {
            out.skip("first_frame", "clip has no frames");
            return;
        };
        let (w, h) = clip.canonical_size;
        let cond = clip.condition.luma_u8();
        let (cw, ch) = ((w / HOLD_SHRINK).max(8), (h / HOLD_SHRINK).max(8));
        let coarse = |f: &RgbFrame| {
            let p = resize_plane(&f.luma(), cw, ch, FilterType::Triangle);
            p.data
                .iter()
                .map(|v| v.round().clamp(0.0, 255.0) as u8)
                .collect::<Vec<u8>>()
        };
        let cond_coarse = coarse(&clip.condition);
        let ssim_to_cond =
            |f: &RgbFrame| shift_tolerant_ssim(&coarse(f), &cond_coarse, cw, ch, HOLD_MAX_SHIFT);

        let y0 = frame0.luma_u8();
        let ssim0 = ssim_u8(&y0, &cond, w, h).unwrap_or(0.0);
        out.set("first_frame.ssim", ssim0);
        if let Some(mse) = mse_u8(&y0, &cond) {
            out.set("first_frame.psnr_db", psnr_from_mse(mse));
        }
        out.set(
            "first_frame.color_shift",
            delta_e(&mean_lab(frame0), &mean_lab(&clip.condition)),
        );

        let hold: Vec<f64> = clip.opening.iter().map(ssim_to_cond).collect();
        let hold0 = hold[0];
        let mean = super::mean(&hold);
        let (min_at, min) =
            hold.iter().enumerate().fold(
                (0, f64::INFINITY),
                |acc, (i, &v)| if v < acc.1 { (i, v) } else { acc },
            );
        out.set("first_frame.hold_ssim_mean", mean);
        out.set("first_frame.hold_drop", (hold0 - min).max(0.0));
        let max_step = hold.windows(2).map(|w| w[0] - w[1]).fold(0.0f64, f64::max);
        out.set("first_frame.hold_max_step", max_step);
        if hold0 - min > 0.2 {
            out.event(
                "first_frame.hold_drop",
                Some((0, min_at)),
                format!("opening leaves the first frame by frame {min_at} (coarse SSIM {hold0:.2} -> {min:.2})"),
            );
        }
        out.curve("first_frame.hold_ssim", hold);
    }
}

/// Mean CIELAB colour (D65, sRGB) over every second pixel in each direction.
pub fn mean_lab(f: &RgbFrame) -> [f64; 3] {
    let mut acc = [0f64; 3];
    let mut n = 0f64;
    for y in (0..f.height).step_by(2) {
        for x in (0..f.width).step_by(2) {
            let i = (y * f.width + x) * 3;
            let lab = srgb_to_lab(f.data[i], f.data[i + 1], f.data[i + 2]);
            for c in 0..3 {
                acc[c] += lab[c];
            }
            n += 1.0;
        }
    }
    acc.map(|v| v / n.max(1.0))
}

pub fn delta_e(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

fn srgb_to_lab(r: u8, g: u8, b: u8) -> [f64; 3] {
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (lin(r), lin(g), lin(b));
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f64| {
        if t > 0.008856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_tolerant_ssim_forgives_small_translation_only() {
        let (w, h) = (64, 48);
        let tex = |ox: usize| -> Vec<u8> {
            (0..w * h)
                .map(|i| {
                    ((((i % w) + ox) as f64 / 3.0).sin() * 60.0
                        + ((i / w) as f64 / 4.0).cos() * 50.0
                        + 128.0) as u8
                })
                .collect()
        };
        let (a, b) = (tex(0), tex(2));
        assert!(ssim_u8(&a, &b, w, h).unwrap() < 0.8);
        assert!(shift_tolerant_ssim(&a, &b, w, h, 3) > 0.99);
        let far = tex(9);
        assert!(shift_tolerant_ssim(&a, &far, w, h, 3) < 0.9);
    }

    #[test]
    fn lab_of_white_and_black() {
        let w = srgb_to_lab(255, 255, 255);
        assert!(
            (w[0] - 100.0).abs() < 0.01 && w[1].abs() < 0.02 && w[2].abs() < 0.02,
            "{w:?}"
        );
        assert!(srgb_to_lab(0, 0, 0)[0].abs() < 1e-9);
    }

    #[test]
    fn colour_shift_is_zero_for_same_image_and_grows_with_tint() {
        let a = RgbFrame::new(4, 4, vec![120; 48]);
        let tinted = RgbFrame::new(4, 4, [150u8, 120, 120].repeat(16));
        assert_eq!(delta_e(&mean_lab(&a), &mean_lab(&a)), 0.0);
        assert!(delta_e(&mean_lab(&a), &mean_lab(&tinted)) > 10.0);
    }
}
