//! Text and overlays written into the frames (captions, watermarks, messages
//! to the judge). A clip must never gain from addressing the judge, so this
//! only ever costs points.
//!
//! Overlays are static and high-contrast while the scene moves, and are absent
//! from the conditioning image. On the sampled canonical frames: a pixel is
//! *persistent* when its Sobel magnitude exceeds 160 in at least 75% of samples
//! and no strong edge lies within 1 pixel of it in the conditioning image.
//! A 16x16 cell is an overlay cell when at least 6% of it is persistent, and
//! cells count only in horizontal runs of 3 or more (lines of text).
//! `visual.overlay_fraction`: share of the frame covered by overlay cells.

use super::{Measurements, Metric};
use crate::features::ClipFeatures;
use crate::frames::Plane;

const STRONG_EDGE: f32 = 160.0;
const PERSISTENCE: f64 = 0.75;
const CELL: usize = 16;
const CELL_DENSITY: f64 = 0.06;
const MIN_RUN: usize = 3;

pub fn strong_edges(p: &Plane) -> Vec<bool> {
    let mut out = vec![false; p.width * p.height];
    if p.width < 3 || p.height < 3 {
        return out;
    }
    for y in 1..p.height - 1 {
        for x in 1..p.width - 1 {
            let gx = p.at(x + 1, y - 1) + 2.0 * p.at(x + 1, y) + p.at(x + 1, y + 1)
                - p.at(x - 1, y - 1)
                - 2.0 * p.at(x - 1, y)
                - p.at(x - 1, y + 1);
            let gy = p.at(x - 1, y + 1) + 2.0 * p.at(x, y + 1) + p.at(x + 1, y + 1)
                - p.at(x - 1, y - 1)
                - 2.0 * p.at(x, y - 1)
                - p.at(x + 1, y - 1);
            out[y * p.width + x] = (gx * gx + gy * gy).sqrt() > STRONG_EDGE;
        }
    }
    out
}

pub struct Overlay;

impl Metric for Overlay {
    fn name(&self) -> &'static str {
        "overlay"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        if clip.samples.len() < 3 {
            out.skip("visual.overlay_fraction", "fewer than 3 sampled frames");
            return;
        }
        let (w, h) = clip.canonical_size;
        let cond = strong_edges(&clip.condition.luma());
        let mut counts = vec![0u32; w * h];
        for s in &clip.samples {
            for (c, e) in counts.iter_mut().zip(strong_edges(&s.canonical.luma())) {
                *c += u32::from(e);
            }
        }
        let need = (PERSISTENCE * clip.samples.len() as f64).ceil() as u32;
        let near_cond_edge = |x: usize, y: usize| {
            (y.saturating_sub(1)..=(y + 1).min(h - 1))
                .any(|yy| (x.saturating_sub(1)..=(x + 1).min(w - 1)).any(|xx| cond[yy * w + xx]))
        };
        let (cw, ch) = (w / CELL, h / CELL);
        let mut cell_hit = vec![false; cw * ch];
        for cy in 0..ch {
            for cx in 0..cw {
                let mut persistent = 0usize;
                for y in cy * CELL..(cy + 1) * CELL {
                    for x in cx * CELL..(cx + 1) * CELL {
                        if counts[y * w + x] >= need && !near_cond_edge(x, y) {
                            persistent += 1;
                        }
                    }
                }
                cell_hit[cy * cw + cx] = persistent as f64 >= CELL_DENSITY * (CELL * CELL) as f64;
            }
        }
        let mut kept = 0usize;
        let (mut top, mut bottom) = (usize::MAX, 0usize);
        for cy in 0..ch {
            let mut cx = 0;
            while cx < cw {
                let start = cx;
                while cx < cw && cell_hit[cy * cw + cx] {
                    cx += 1;
                }
                if cx - start >= MIN_RUN {
                    kept += cx - start;
                    top = top.min(cy * CELL);
                    bottom = bottom.max((cy + 1) * CELL - 1);
                }
                cx += 1;
            }
        }
        let fraction = (kept * CELL * CELL) as f64 / (w * h).max(1) as f64;
        out.set("visual.overlay_fraction", fraction);
        if kept > 0 {
            out.event(
                "visual.overlay_fraction",
                None,
                format!(
                    "static text or overlay absent from the first frame, rows {top}-{bottom} of {h} ({:.1}% of the frame)",
                    fraction * 100.0
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::{clip_from_frames, gray};

    /// Moving soft texture; optionally a static white-on-black "text" bar.
    fn frame(t: usize, text: bool) -> crate::frames::RgbFrame {
        let (w, h) = (128, 64);
        let luma: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                if text && (40..52).contains(&y) && (16..112).contains(&x) {
                    if (x / 3 + y / 4) % 2 == 0 {
                        250.0
                    } else {
                        5.0
                    }
                } else {
                    100.0 + 40.0 * (((x + 3 * t) as f32) / 9.0).sin()
                }
            })
            .collect();
        gray(w, h, &luma)
    }

    #[test]
    fn finds_static_text_absent_from_condition() {
        let frames: Vec<_> = (0..8).map(|t| frame(t, true)).collect();
        let clip = clip_from_frames(&frames, frame(0, false), 16.0);
        let mut m = Measurements::default();
        Overlay.measure(&clip, &mut m);
        assert!(
            m.get("visual.overlay_fraction").unwrap() > 0.05,
            "{:?}",
            m.values
        );
        assert!(m.events[0].text.contains("static text"));
    }

    #[test]
    fn text_already_in_condition_or_absent_is_not_flagged() {
        let with_text: Vec<_> = (0..8).map(|t| frame(t, true)).collect();
        let clip = clip_from_frames(&with_text, frame(0, true), 16.0);
        let mut m = Measurements::default();
        Overlay.measure(&clip, &mut m);
        assert_eq!(m.get("visual.overlay_fraction"), Some(0.0));

        let plain: Vec<_> = (0..8).map(|t| frame(t, false)).collect();
        let clip = clip_from_frames(&plain, frame(0, false), 16.0);
        let mut m = Measurements::default();
        Overlay.measure(&clip, &mut m);
        assert_eq!(m.get("visual.overlay_fraction"), Some(0.0));
    }
}
