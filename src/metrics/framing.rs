//! Framing: black bars (letterbox or pillarbox) that the conditioning image
//! does not have. A border row or column is "bar" when its mean luma is below
//! 24 and its spread below 8 levels in at least 75% of the sampled canonical
//! frames. `camera.border_fraction`: area share of the bars, minus the share
//! the conditioning image already has.

use super::{Measurements, Metric};
use crate::features::ClipFeatures;
use crate::frames::Plane;

fn is_dark_line(values: impl Iterator<Item = f32>) -> bool {
    let v: Vec<f32> = values.collect();
    let n = v.len().max(1) as f32;
    let mean = v.iter().sum::<f32>() / n;
    let spread = (v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / n).sqrt();
    mean < 24.0 && spread < 8.0
}

/// (top, bottom, left, right) bar thickness in pixels, scanning at most a third inward.
pub fn bars(p: &Plane) -> [usize; 4] {
    let (w, h) = (p.width, p.height);
    let row = |y: usize| is_dark_line((0..w).map(|x| p.at(x, y)));
    let col = |x: usize| is_dark_line((0..h).map(|y| p.at(x, y)));
    let count = |it: &mut dyn Iterator<Item = bool>| it.take_while(|&d| d).count();
    [
        count(&mut (0..h / 3).map(row)),
        count(&mut (0..h / 3).map(|i| row(h - 1 - i))),
        count(&mut (0..w / 3).map(col)),
        count(&mut (0..w / 3).map(|i| col(w - 1 - i))),
    ]
}

fn bar_area(b: [usize; 4], w: usize, h: usize) -> f64 {
    let (v, hz) = ((b[0] + b[1]).min(h), (b[2] + b[3]).min(w));
    (v * w + hz * h - v * hz) as f64 / (w * h) as f64
}

pub struct Framing;

impl Metric for Framing {
    fn name(&self) -> &'static str {
        "framing"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        if clip.samples.is_empty() {
            out.skip("camera.border_fraction", "no sampled frames");
            return;
        }
        let (w, h) = clip.canonical_size;
        let per: Vec<[usize; 4]> = clip
            .samples
            .iter()
            .map(|s| bars(&s.canonical.luma()))
            .collect();
        // Thickness present in at least 75% of samples, per side.
        let keep = (0.75 * per.len() as f64).ceil() as usize;
        let mut common = [0usize; 4];
        for (side, c) in common.iter_mut().enumerate() {
            let mut t: Vec<usize> = per.iter().map(|b| b[side]).collect();
            t.sort_unstable_by(|a, b| b.cmp(a));
            *c = t[keep - 1];
        }
        let clip_area = bar_area(common, w, h);
        let cond_area = bar_area(bars(&clip.condition.luma()), w, h);
        let excess = (clip_area - cond_area).max(0.0);
        out.set("camera.border_fraction", excess);
        if excess > 0.01 {
            out.event(
                "camera.border_fraction",
                None,
                format!("black bars (top {}, bottom {}, left {}, right {} px) cover {:.1}% of the frame", common[0], common[1], common[2], common[3], excess * 100.0),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letterbox_is_measured() {
        let (w, h) = (100, 60);
        let p = Plane::new(
            w,
            h,
            (0..w * h)
                .map(|i| {
                    if (i / w) < 6 || (i / w) >= 54 {
                        3.0
                    } else {
                        90.0 + (i % 7) as f32 * 10.0
                    }
                })
                .collect(),
        );
        assert_eq!(bars(&p), [6, 6, 0, 0]);
        assert!((bar_area(bars(&p), w, h) - 0.2).abs() < 1e-9);
    }
}
