//! Camera stability without optical flow (a cross-check of `camera_motion`,
//! and the detector of framing jumps too large for the flow's pyramid): the
//! global shift between consecutive frames from their integral projections (column and row mean profiles,
//! matched by least absolute difference over ±16 px with a parabolic sub-pixel
//! fit), at the temporal size.
//!
//! - `camera.path_x`, `camera.path_y` (curves): the cumulative camera path, px;
//! - `camera.profile_shake`: RMS of the path minus its ±4-frame moving average, as a
//!   percentage of the frame diagonal (high-frequency jitter, not pans; the
//!   window narrows symmetrically at the ends);
//! - `camera.jump_count`: single-frame shifts over 6% of the diagonal that
//!   neither neighbour shares (framing jumps).

use super::{Measurements, Metric};
use crate::features::ClipFeatures;
use crate::frames::Plane;

const MAX_SHIFT: isize = 16;
const SMOOTH_RADIUS: usize = 4;
const JUMP_FRACTION: f64 = 0.06;

fn profiles(p: &Plane) -> (Vec<f64>, Vec<f64>) {
    let mut cols = vec![0f64; p.width];
    let mut rows = vec![0f64; p.height];
    for (row, line) in rows.iter_mut().zip(p.data.chunks_exact(p.width)) {
        for (col, &v) in cols.iter_mut().zip(line) {
            *col += v as f64;
            *row += v as f64;
        }
    }
    cols.iter_mut().for_each(|v| *v /= p.height as f64);
    rows.iter_mut().for_each(|v| *v /= p.width as f64);
    (cols, rows)
}

/// Shift s (sub-pixel) such that b[i + s] ≈ a[i], mean-removed profiles.
pub fn profile_shift(a: &[f64], b: &[f64]) -> f64 {
    let center = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
        v.iter().map(|x| x - m).collect::<Vec<f64>>()
    };
    let (a, b) = (center(a), center(b));
    let n = a.len() as isize;
    let max = MAX_SHIFT.min(n / 4);
    let cost = |s: isize| {
        let (mut c, mut k) = (0f64, 0f64);
        for i in 0..n {
            let j = i + s;
            if j >= 0 && j < n {
                c += (a[i as usize] - b[j as usize]).abs();
                k += 1.0;
            }
        }
        c / k.max(1.0)
    };
    let costs: Vec<f64> = (-max..=max).map(cost).collect();
    let best = (0..costs.len())
        .min_by(|&i, &j| costs[i].total_cmp(&costs[j]))
        .unwrap_or(max as usize);
    let mut shift = best as f64 - max as f64;
    if best > 0 && best + 1 < costs.len() {
        let (l, c, r) = (costs[best - 1], costs[best], costs[best + 1]);
        let denom = l - 2.0 * c + r;
        if denom > 1e-12 {
            shift += 0.5 * (l - r) / denom;
        }
    }
    shift
}

pub struct Stability;

impl Metric for Stability {
    fn name(&self) -> &'static str {
        "stability"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let n = clip.frame_count();
        if n < 3 {
            out.skip("camera.profile_shake", "fewer than 3 frames");
            return;
        }
        let (w, h) = (clip.temporal[0].luma.width, clip.temporal[0].luma.height);
        let diag = ((w * w + h * h) as f64).sqrt();
        let prof: Vec<_> = clip.temporal.iter().map(|f| profiles(&f.luma)).collect();
        let steps: Vec<(f64, f64)> = prof
            .windows(2)
            .map(|p| {
                (
                    profile_shift(&p[0].0, &p[1].0),
                    profile_shift(&p[0].1, &p[1].1),
                )
            })
            .collect();
        let mut path = vec![(0f64, 0f64)];
        for (dx, dy) in &steps {
            let (x, y) = *path.last().unwrap();
            path.push((x + dx, y + dy));
        }
        let mut resid = 0f64;
        for i in 0..n {
            // Symmetric window, narrowed at the ends, so a steady pan has no residual.
            let r = SMOOTH_RADIUS.min(i).min(n - 1 - i);
            let (a, b) = (i - r, i + r);
            let k = (b - a + 1) as f64;
            let mx = path[a..=b].iter().map(|p| p.0).sum::<f64>() / k;
            let my = path[a..=b].iter().map(|p| p.1).sum::<f64>() / k;
            resid += (path[i].0 - mx).powi(2) + (path[i].1 - my).powi(2);
        }
        out.set(
            "camera.profile_shake",
            100.0 * (resid / n as f64).sqrt() / diag,
        );
        let mag: Vec<f64> = steps.iter().map(|(x, y)| (x * x + y * y).sqrt()).collect();
        let jump = JUMP_FRACTION * diag;
        let jumps: Vec<usize> = (0..mag.len())
            .filter(|&i| {
                let calm =
                    |j: Option<usize>| j.and_then(|j| mag.get(j)).is_none_or(|&m| m < jump / 3.0);
                mag[i] > jump && calm(i.checked_sub(1)) && calm(Some(i + 1))
            })
            .collect();
        out.set("camera.jump_count", jumps.len() as f64);
        for &i in jumps.iter().take(5) {
            out.event(
                "camera.jump_count",
                Some((i, i + 1)),
                format!(
                    "framing jumps {:.0} px between frames {i} and {}",
                    mag[i],
                    i + 1
                ),
            );
        }
        out.curve("camera.path_x", path.iter().map(|p| p.0).collect());
        out.curve("camera.path_y", path.iter().map(|p| p.1).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::clip_from_lumas;

    fn scene(w: usize, h: usize, ox: f64) -> Vec<f32> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f64 + ox, (i / w) as f64);
                (120.0 + 50.0 * (x / 7.0).sin() + 30.0 * (y / 5.0).cos() + 20.0 * (x / 23.0).cos())
                    as f32
            })
            .collect()
    }

    #[test]
    fn recovers_subpixel_shift() {
        let a: Vec<f64> = (0..200).map(|i| ((i as f64) / 6.0).sin() * 50.0).collect();
        let b: Vec<f64> = (0..200)
            .map(|i| ((i as f64 - 2.3) / 6.0).sin() * 50.0)
            .collect();
        assert!(
            (profile_shift(&a, &b) - 2.3).abs() < 0.15,
            "{}",
            profile_shift(&a, &b)
        );
    }

    #[test]
    fn steady_pan_has_less_shake_than_jitter() {
        let pan: Vec<Vec<f32>> = (0..24).map(|t| scene(160, 90, t as f64 * 2.0)).collect();
        let jitter: Vec<Vec<f32>> = (0..24)
            .map(|t| scene(160, 90, if t % 2 == 0 { 0.0 } else { 5.0 }))
            .collect();
        let (mut a, mut b) = (Measurements::default(), Measurements::default());
        Stability.measure(&clip_from_lumas(160, 90, &pan), &mut a);
        Stability.measure(&clip_from_lumas(160, 90, &jitter), &mut b);
        assert!(
            a.get("camera.profile_shake").unwrap() < 0.3,
            "{:?}",
            a.values
        );
        assert!(
            b.get("camera.profile_shake").unwrap() > 1.0,
            "{:?}",
            b.values
        );
    }
}
