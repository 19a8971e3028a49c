//! Frame order: shuffled, repeated and duplicated frames.
//!
//! Frames are compared by their *structure*: luma normalised to zero mean and
//! unit variance (so brightness flicker does not count), distance = mean
//! absolute difference. In a natural sequence frames further apart differ more;
//! frame t is out of order when its two neighbours resemble each other clearly
//! more than either resembles t: d(t-1, t+1) < 0.7 min(d(t-1, t), d(t, t+1)).
//!
//! A frame that the optical flow links reliably to both neighbours (at most
//! half its pixels unreliable on either side) is following a motion, however
//! jittery, and is not counted: camera shake brings t−1 and t+1 together too.
//!
//! - `temporal.order_violation_fraction`: share of interior frames out of order;
//! - `temporal.duplicate_fraction`: share of consecutive pairs that are
//!   (near-)identical (structure distance below 0.01) in an otherwise moving clip;
//! - `temporal.repeat_fraction`: share of frames that replay an earlier,
//!   non-adjacent frame (loops, ping-pong), found on 52x30 thumbnails.

use super::{describe_range, ranges, Measurements, Metric};
use crate::features::ClipFeatures;
use crate::frames::resize::resize_plane;
use crate::frames::Plane;
use image::imageops::FilterType;

const VIOLATION_RATIO: f64 = 0.7;
/// Share of unreliable pixels above which the flow no longer links two frames.
const UNLINKED: f64 = 0.5;
/// Structure distance under which two frames count as the same picture.
pub const SAME_PICTURE: f64 = 0.01;
/// Structure distance under which a pair shows no meaningful change.
const NOISE_FLOOR: f64 = 0.05;

/// Luma normalised to zero mean and unit variance (std floored at 1 level).
pub fn normalized(p: &Plane) -> Vec<f32> {
    let (m, s) = (p.mean() as f32, (p.std() as f32).max(1.0));
    p.data.iter().map(|v| (v - m) / s).collect()
}

pub fn structure_distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() as f64)
        .sum::<f64>()
        / a.len().max(1) as f64
}

/// Structure distance of each consecutive pair (length n-1).
pub fn consecutive_distances(z: &[Vec<f32>]) -> Vec<f64> {
    z.windows(2)
        .map(|w| structure_distance(&w[0], &w[1]))
        .collect()
}

pub struct FrameOrder;

impl Metric for FrameOrder {
    fn name(&self) -> &'static str {
        "order"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let n = clip.frame_count();
        if n < 3 {
            out.skip("temporal.order_violation_fraction", "fewer than 3 frames");
            return;
        }
        let z: Vec<Vec<f32>> = clip.temporal.iter().map(|f| normalized(&f.luma)).collect();
        let d1 = consecutive_distances(&z);
        let linked = |pair: usize| {
            clip.flow.as_ref().is_ok_and(|f| {
                f.pairs
                    .get(pair)
                    .is_some_and(|p| p.unreliable_fraction() <= UNLINKED)
            })
        };

        let mut out_of_order = Vec::new();
        for t in 1..n - 1 {
            let (a, b) = (d1[t - 1], d1[t]);
            if a.max(b) < NOISE_FLOOR || (linked(t - 1) && linked(t)) {
                continue;
            }
            if structure_distance(&z[t - 1], &z[t + 1]) < VIOLATION_RATIO * a.min(b) {
                out_of_order.push(t);
            }
        }
        out.set(
            "temporal.order_violation_fraction",
            out_of_order.len() as f64 / (n - 2) as f64,
        );
        if !out_of_order.is_empty() {
            let list: Vec<String> = ranges(&out_of_order)
                .into_iter()
                .take(6)
                .map(describe_range)
                .collect();
            out.event(
                "temporal.order_violation_fraction",
                Some((out_of_order[0], *out_of_order.last().unwrap())),
                format!(
                    "{} frame(s) out of order ({})",
                    out_of_order.len(),
                    list.join(", ")
                ),
            );
        }

        let moving = d1.iter().any(|&d| d >= NOISE_FLOOR);
        let dups: Vec<usize> = (0..n - 1)
            .filter(|&t| d1[t] < SAME_PICTURE)
            .map(|t| t + 1)
            .collect();
        let dup_fraction = if moving {
            dups.len() as f64 / (n - 1) as f64
        } else {
            0.0
        };
        out.set("temporal.duplicate_fraction", dup_fraction);
        if moving {
            for r in ranges(&dups).into_iter().filter(|r| r.1 > r.0) {
                out.event(
                    "temporal.duplicate_fraction",
                    Some(r),
                    format!("{} repeat the previous frame", describe_range(r)),
                );
            }
        }

        let thumbs: Vec<Vec<f32>> = clip
            .temporal
            .iter()
            .map(|f| normalized(&resize_plane(&f.luma, 52, 30, FilterType::Triangle)))
            .collect();
        let td = consecutive_distances(&thumbs);
        let mut repeats = Vec::new();
        for t in 2..n {
            if td[t - 1] < NOISE_FLOOR {
                continue; // a still stretch, not a replay
            }
            let replay = (0..t - 1)
                .find(|&s| structure_distance(&thumbs[s], &thumbs[t]) < SAME_PICTURE * 2.0);
            if let Some(s) = replay {
                repeats.push((t, s));
            }
        }
        out.set("temporal.repeat_fraction", repeats.len() as f64 / n as f64);
        if let Some(&(t, s)) = repeats.first() {
            out.event(
                "temporal.repeat_fraction",
                Some((t, repeats.last().unwrap().0)),
                format!(
                    "{} frame(s) replay earlier frames (first: frame {t} = frame {s})",
                    repeats.len()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::clip_from_lumas;

    /// A bright bar sweeping right, one step per frame, over a textured background.
    fn sweep(t: usize) -> Vec<f32> {
        let (w, h) = (64, 32);
        (0..w * h)
            .map(|i| {
                let x = i % w;
                let bg = ((i * 13) % 17) as f32 * 3.0 + 40.0;
                if x >= t * 2 && x < t * 2 + 6 {
                    230.0
                } else {
                    bg
                }
            })
            .collect()
    }

    fn run(order: &[usize]) -> Measurements {
        let lumas: Vec<Vec<f32>> = order.iter().map(|&t| sweep(t)).collect();
        let mut m = Measurements::default();
        FrameOrder.measure(&clip_from_lumas(64, 32, &lumas), &mut m);
        m
    }

    #[test]
    fn natural_order_has_no_violations() {
        let m = run(&(0..20).collect::<Vec<_>>());
        assert_eq!(m.get("temporal.order_violation_fraction"), Some(0.0));
        assert_eq!(m.get("temporal.duplicate_fraction"), Some(0.0));
        assert_eq!(m.get("temporal.repeat_fraction"), Some(0.0));
    }

    #[test]
    fn swapped_frames_are_out_of_order() {
        let m = run(&[0, 1, 2, 3, 12, 5, 6, 7, 8, 9, 10, 11, 4, 13, 14, 15]);
        assert!(m.get("temporal.order_violation_fraction").unwrap() >= 2.0 / 14.0);
    }

    #[test]
    fn duplicates_and_replays_are_counted() {
        let m = run(&[0, 1, 2, 2, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 7]);
        assert!(m.get("temporal.duplicate_fraction").unwrap() > 0.1);
        assert!(m.get("temporal.repeat_fraction").unwrap() > 0.2);
    }
}
