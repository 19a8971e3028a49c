//! The camera's share of a flow field: a similarity motion (pan, tilt, zoom,
//! roll) fitted by iteratively reweighted least squares over the reliable
//! pixels. Both engines reduce the normal equations on their own side; the
//! 4x4 solve and the reweighting schedule live here.
//!
//! With centred coordinates (x, y) (origin at the frame's centre) the model is
//!   u = tx + a·x − b·y,   v = ty + b·x + a·y,
//! so zoom = |(1 + a, b)| − 1 and roll = atan2(b, 1 + a).

use serde::Serialize;

/// IRLS passes: one plain least-squares fit, then Cauchy-reweighted refits.
pub const IRLS_PASSES: usize = 5;
/// Cauchy scale, px: a pixel whose residual is this large weighs one half.
pub const CAUCHY_SCALE: f32 = 1.0;
/// Fewer reliable pixels than this leave the camera motion of a pair unknown.
pub const MIN_PIXELS: f64 = 64.0;

/// Parameters (tx, ty, a, b) of the model above.
pub type Theta = [f64; 4];

/// Weighted sums of one IRLS pass (the normal equations' entries).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NormalSums {
    /// Σw, Σw·x, Σw·y, Σw·(x² + y²).
    pub s: f64,
    pub sx: f64,
    pub sy: f64,
    pub srr: f64,
    /// Σw·u, Σw·v, Σw·(x·u + y·v), Σw·(x·v − y·u).
    pub bu: f64,
    pub bv: f64,
    pub bdiv: f64,
    pub brot: f64,
}

impl NormalSums {
    pub const LEN: usize = 8;

    pub fn from_array(a: &[f64]) -> Self {
        Self {
            s: a[0],
            sx: a[1],
            sy: a[2],
            srr: a[3],
            bu: a[4],
            bv: a[5],
            bdiv: a[6],
            brot: a[7],
        }
    }

    pub fn add(&mut self, o: &NormalSums) {
        self.s += o.s;
        self.sx += o.sx;
        self.sy += o.sy;
        self.srr += o.srr;
        self.bu += o.bu;
        self.bv += o.bv;
        self.bdiv += o.bdiv;
        self.brot += o.brot;
    }

    /// Add one pixel at centred (x, y) with flow (u, v) and weight w.
    #[inline]
    pub fn push(&mut self, x: f64, y: f64, u: f64, v: f64, w: f64) {
        self.s += w;
        self.sx += w * x;
        self.sy += w * y;
        self.srr += w * (x * x + y * y);
        self.bu += w * u;
        self.bv += w * v;
        self.bdiv += w * (x * u + y * v);
        self.brot += w * (x * v - y * u);
    }

    /// The least-squares parameters, or None when too few pixels carry weight.
    pub fn solve(&self) -> Option<Theta> {
        if self.s < MIN_PIXELS * 0.25 {
            return None;
        }
        let m = nalgebra::Matrix4::new(
            self.s, 0.0, self.sx, -self.sy, //
            0.0, self.s, self.sy, self.sx, //
            self.sx, self.sy, self.srr, 0.0, //
            -self.sy, self.sx, 0.0, self.srr,
        );
        let rhs = nalgebra::Vector4::new(self.bu, self.bv, self.bdiv, self.brot);
        let t = m.lu().solve(&rhs)?;
        t.iter()
            .all(|v| v.is_finite())
            .then(|| [t[0], t[1], t[2], t[3]])
    }
}

/// The IRLS weight of a pixel whose residual (from the model `theta`) is
/// (ru, rv); the first pass (theta None) weighs every pixel 1.
#[inline]
pub fn weight(theta: Option<&[f32; 4]>, x: f32, y: f32, u: f32, v: f32) -> f32 {
    match theta {
        None => 1.0,
        Some(t) => {
            let (ru, rv) = residual(t, x, y, u, v);
            let q = (ru * ru + rv * rv) / (CAUCHY_SCALE * CAUCHY_SCALE);
            1.0 / (1.0 + q)
        }
    }
}

/// Flow minus the model at centred (x, y), in f32 as both engines compute it.
#[inline]
pub fn residual(t: &[f32; 4], x: f32, y: f32, u: f32, v: f32) -> (f32, f32) {
    let mu = t[0] + t[2] * x - t[3] * y;
    let mv = t[1] + t[3] * x + t[2] * y;
    (u - mu, v - mv)
}

pub fn theta_f32(t: &Theta) -> [f32; 4] {
    [t[0] as f32, t[1] as f32, t[2] as f32, t[3] as f32]
}

/// A pair's camera motion, in pixels of the flow's frame size.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CameraMotion {
    /// Horizontal and vertical translation at the frame centre (pan, tilt), px.
    pub pan: f64,
    pub tilt: f64,
    /// Relative scale change (0.01 = 1% zoom in).
    pub zoom: f64,
    /// Rotation, radians, counter-clockwise in image coordinates (y down).
    pub roll: f64,
}

impl CameraMotion {
    pub fn from_theta(t: &Theta) -> Self {
        let (c, s) = (1.0 + t[2], t[3]);
        Self {
            pan: t[0],
            tilt: t[1],
            zoom: (c * c + s * s).sqrt() - 1.0,
            roll: s.atan2(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_an_exact_similarity() {
        let truth: Theta = [1.5, -0.5, 0.02, -0.01];
        let mut sums = NormalSums::default();
        for y in -20..=20 {
            for x in -30..=30 {
                let (x, y) = (x as f64, y as f64);
                let u = truth[0] + truth[2] * x - truth[3] * y;
                let v = truth[1] + truth[3] * x + truth[2] * y;
                sums.push(x, y, u, v, 1.0);
            }
        }
        let t = sums.solve().unwrap();
        for k in 0..4 {
            assert!((t[k] - truth[k]).abs() < 1e-9, "{t:?}");
        }
        let cam = CameraMotion::from_theta(&t);
        assert!((cam.zoom - ((1.02f64.powi(2) + 0.0001).sqrt() - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn no_pixels_no_fit() {
        assert!(NormalSums::default().solve().is_none());
    }
}
