//! Camera motion from optical flow: per pair, a similarity motion fitted to
//! the reliable flow (`flow::camera`, robust IRLS), split into pan, tilt,
//! zoom and roll; what it does not explain is the objects' own motion.
//!
//! - `camera.pan`, `camera.tilt` (curves): translation per pair, % of the
//!   diagonal; `camera.zoom` (curve): scale change per pair, %; `camera.roll`
//!   (curve): rotation per pair, degrees;
//! - `camera.shake`: how abruptly the camera's velocity changes: the median
//!   over consecutive pairs of |v_t − v_{t−1}|, where v is (pan, tilt, and zoom
//!   and roll as the displacement they cause at the frame's corner), % of the
//!   diagonal per (1/16 s)². Jitter changes direction every frame and scores
//!   high; a steady or smoothly accelerating move scores low, and the median
//!   ignores a few abrupt subject moves;
//! - `camera.speed`: mean camera speed at the corner, % of the diagonal per 1/16 s;
//! - `camera.object_motion`: mean |flow − camera model| over reliable pixels,
//!   % of the diagonal per 1/16 s.
//!
//! Pairs whose camera could not be fitted (too few reliable pixels, as across
//! a cut) count as a still camera in the path and are reported.

use super::{Measurements, Metric};
use crate::features::ClipFeatures;
use crate::flow::camera::CameraMotion;

pub struct CameraFromFlow;

impl Metric for CameraFromFlow {
    fn name(&self) -> &'static str {
        "camera_motion"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let Some(flow) = super::flow_of(clip, out, "camera.shake", 2) else {
            return;
        };
        let diag = flow.diagonal();
        let corner = diag / 2.0;
        let per_16th = super::frames_per_16th(clip.fps);
        let still = CameraMotion {
            pan: 0.0,
            tilt: 0.0,
            zoom: 0.0,
            roll: 0.0,
        };
        let cams: Vec<CameraMotion> = flow
            .pairs
            .iter()
            .map(|p| p.camera.unwrap_or(still))
            .collect();
        let unfitted: Vec<usize> = (0..flow.pairs.len())
            .filter(|&t| flow.pairs[t].camera.is_none())
            .collect();
        if let Some(&t) = unfitted.first() {
            out.event(
                "camera.shake",
                Some((t, t + 1)),
                format!(
                    "camera motion unknown for {} of {} frame pairs (first: frames {t}-{})",
                    unfitted.len(),
                    flow.pairs.len(),
                    t + 1
                ),
            );
        }

        // Velocity per pair in px: pan, tilt, and zoom and roll at the corner.
        let velocity: Vec<[f64; 4]> = cams
            .iter()
            .map(|c| [c.pan, c.tilt, corner * c.zoom, corner * c.roll])
            .collect();
        let changes: Vec<f64> = velocity
            .windows(2)
            .map(|w| {
                let d2: f64 = (0..4).map(|k| (w[1][k] - w[0][k]).powi(2)).sum();
                100.0 * d2.sqrt() * per_16th * per_16th / diag
            })
            .collect();
        out.set("camera.shake", super::median(&changes));
        let speed: Vec<f64> = cams
            .iter()
            .map(|c| {
                let corner_px = corner * (c.zoom.abs() + c.roll.abs());
                100.0 * ((c.pan * c.pan + c.tilt * c.tilt).sqrt() + corner_px) * per_16th / diag
            })
            .collect();
        out.set("camera.speed", super::mean(&speed));
        let object: Vec<f64> = flow
            .pairs
            .iter()
            .filter_map(|p| p.mean_object_motion())
            .map(|m| 100.0 * m * per_16th / diag)
            .collect();
        if object.is_empty() {
            out.skip("camera.object_motion", "no pair with a fitted camera");
        } else {
            out.set("camera.object_motion", super::mean(&object));
        }
        out.curve(
            "camera.pan",
            cams.iter().map(|c| 100.0 * c.pan / diag).collect(),
        );
        out.curve(
            "camera.tilt",
            cams.iter().map(|c| 100.0 * c.tilt / diag).collect(),
        );
        out.curve("camera.zoom", cams.iter().map(|c| 100.0 * c.zoom).collect());
        out.curve(
            "camera.roll",
            cams.iter().map(|c| c.roll.to_degrees()).collect(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::clip_from_lumas;

    fn scene(w: usize, h: usize, ox: f64, oy: f64) -> Vec<f32> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f64 - ox, (i / w) as f64 - oy);
                (120.0
                    + 45.0 * (x / 6.0).sin() * (y / 9.0).cos()
                    + 30.0 * (x / 17.0).cos()
                    + 20.0 * (y / 11.0).sin()) as f32
            })
            .collect()
    }

    fn measure(offsets: &[(f64, f64)]) -> Measurements {
        let (w, h) = (120, 80);
        let lumas: Vec<Vec<f32>> = offsets.iter().map(|&(x, y)| scene(w, h, x, y)).collect();
        let mut m = Measurements::default();
        CameraFromFlow.measure(&clip_from_lumas(w, h, &lumas), &mut m);
        m
    }

    #[test]
    fn a_steady_pan_is_motion_not_shake_and_jitter_is_shake() {
        // Jitter: the camera jumps 2.9 px back and forth every frame.
        let pan = measure(&(0..16).map(|t| (t as f64, 0.0)).collect::<Vec<_>>());
        let jitter = measure(
            &(0..16)
                .map(|t| if t % 2 == 0 { (0.0, 0.0) } else { (2.5, -1.5) })
                .collect::<Vec<_>>(),
        );
        let (sp, sj) = (
            pan.get("camera.shake").unwrap(),
            jitter.get("camera.shake").unwrap(),
        );
        assert!(sp < 0.1, "pan shake {sp}");
        // |Δv| = 2 x 2.9 px over a 144 px diagonal: about 4%.
        assert!(sj > 3.0, "jitter shake {sj}");
        // 1 px per frame to the right: the camera pans at +1 px per pair.
        let pans = &pan.curves["camera.pan"];
        let diag = (120f64 * 120.0 + 80.0 * 80.0).sqrt();
        assert!(
            pans.iter().all(|p| (p * diag / 100.0 - 1.0).abs() < 0.05),
            "{pans:?}"
        );
        assert!(pan.get("camera.object_motion").unwrap() < 0.1);
    }
}
