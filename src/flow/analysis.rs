//! What the temporal metrics read of a clip's flow: per-pair and per-triple
//! sums, reduced where the flow lives (on the GPU for the CUDA engine), so
//! only a few numbers per pair ever leave the device.
//!
//! For a pair (A = frame t, B = frame t + 1) with forward flow F and backward
//! flow G, a pixel p is *reliable* when
//! - p + F(p) lies inside the frame;
//! - forward and backward flow agree (Sundaram et al. / Ruder et al., as in
//!   EvalCrafter): |F + G(p + F)|² <= 0.01 (|F|² + |G(p + F)|²) + 0.5;
//! - p is off a motion boundary: |∇F|² <= 0.01 |F|² + 0.002 (central
//!   differences, one-sided at the border, like `numpy.gradient`).
//!
//! The residual r(p) = B(p + F(p)) − A(p) is the brightness change along the
//! motion, intensities in [0, 1].
//!
//! Per 16x16 block, the brightness change is also measured along the block's
//! mean flow F̄ (a rigid shift): the block mean of B(p + F̄) − A(p) over pixels
//! whose shifted position is inside the frame. A dense flow can bend to
//! explain a brightness change as motion (pixels sliding towards darker or
//! lighter texture); a rigid shift cannot, so this is what flicker reads.

use super::camera::{self, CameraMotion, NormalSums};
use super::{ops, FlowField};
use serde::Serialize;

/// Side of the square blocks over which residuals are summed (for local flicker).
pub const BLOCK: usize = 16;
const FB_RELATIVE: f32 = 0.01;
const FB_ABSOLUTE: f32 = 0.5;
const BOUNDARY_RELATIVE: f32 = 0.01;
const BOUNDARY_ABSOLUTE: f32 = 0.002;

/// Sums over one consecutive pair (t, t + 1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairStats {
    pub pixels: u64,
    /// Reliable pixels (see the module docs).
    pub reliable: u64,
    /// Σ r² over reliable pixels.
    pub sq_residual: f64,
    /// Σ |F| over all pixels, px.
    pub magnitude_sum: f64,
    /// Σ |F − camera model| over reliable pixels, px.
    pub object_sum: f64,
    /// The fitted camera motion; None when too few pixels are reliable.
    pub camera: Option<CameraMotion>,
    /// Per block (row-major, `BLOCK` px square): Σ of B(p + F̄) − A(p) along
    /// the block's mean flow, and how many pixels it sums.
    pub block_residual: Vec<f64>,
    pub block_counted: Vec<u32>,
}

impl PairStats {
    /// Root-mean-square warping residual over reliable pixels, 8-bit levels.
    pub fn warp_rmse_levels(&self) -> Option<f64> {
        (self.reliable > 0).then(|| (self.sq_residual / self.reliable as f64).sqrt() * 255.0)
    }

    pub fn unreliable_fraction(&self) -> f64 {
        1.0 - self.reliable as f64 / self.pixels.max(1) as f64
    }

    /// Mean flow magnitude over the frame, px.
    pub fn mean_magnitude(&self) -> f64 {
        self.magnitude_sum / self.pixels.max(1) as f64
    }

    /// Mean residual motion once the camera is removed, px.
    pub fn mean_object_motion(&self) -> Option<f64> {
        (self.reliable > 0 && self.camera.is_some()).then(|| self.object_sum / self.reliable as f64)
    }
}

/// Sums over a triple (t − 1, t, t + 1): how trajectories bend.
/// For a reliable pixel p of pair t − 1 with q = p + F₁(p), the acceleration is
/// a = F₂(q) − F₁(p) (px per frame²).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TripleStats {
    /// Σ |a|, Σ |F₁(p)|, over `count` pixels.
    pub accel_sum: f64,
    pub speed_sum: f64,
    pub count: u64,
}

/// A clip's flow analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClipFlow {
    pub width: usize,
    pub height: usize,
    /// Block grid (columns, rows) of `PairStats::block_residual`.
    pub blocks: (usize, usize),
    /// One per consecutive pair: `pairs[t]` is frames (t, t + 1).
    pub pairs: Vec<PairStats>,
    /// One per consecutive triple: `triples[t]` is frames (t, t + 1, t + 2).
    pub triples: Vec<TripleStats>,
}

impl ClipFlow {
    /// The frame diagonal, px: the unit of the normalised motion measures.
    pub fn diagonal(&self) -> f64 {
        ((self.width * self.width + self.height * self.height) as f64).sqrt()
    }
}

pub fn block_grid(w: usize, h: usize) -> (usize, usize) {
    (w.div_ceil(BLOCK), h.div_ceil(BLOCK))
}

/// d/dx like numpy.gradient: central inside, one-sided at the ends.
#[inline]
fn gradient_at(p: &[f32], i: usize, pos: usize, len: usize, stride: usize) -> f32 {
    if len < 2 {
        0.0
    } else if pos == 0 {
        p[i + stride] - p[i]
    } else if pos == len - 1 {
        p[i] - p[i - stride]
    } else {
        (p[i + stride] - p[i - stride]) * 0.5
    }
}

/// Whether pixel (x, y) is reliable, and its residual.
#[inline]
pub fn check_pixel(
    a: &[f32],
    b: &[f32],
    f: &FlowField,
    g: &FlowField,
    x: usize,
    y: usize,
) -> (bool, f32) {
    let (w, h) = (f.width, f.height);
    let i = y * w + x;
    let (fu, fv) = (f.u[i], f.v[i]);
    let (tx, ty) = (x as f32 + fu, y as f32 + fv);
    let inside = tx >= 0.0 && tx <= (w - 1) as f32 && ty >= 0.0 && ty <= (h - 1) as f32;
    let bw = ops::bilinear(b, w, h, tx, ty);
    let gu = ops::bilinear(&g.u, w, h, tx, ty);
    let gv = ops::bilinear(&g.v, w, h, tx, ty);
    let (su, sv) = (fu + gu, fv + gv);
    let f2 = fu * fu + fv * fv;
    let disagree = su * su + sv * sv > FB_RELATIVE * (f2 + (gu * gu + gv * gv)) + FB_ABSOLUTE;
    let ux = gradient_at(&f.u, i, x, w, 1);
    let uy = gradient_at(&f.u, i, y, h, w);
    let vx = gradient_at(&f.v, i, x, w, 1);
    let vy = gradient_at(&f.v, i, y, h, w);
    let boundary =
        (ux * ux + uy * uy) + (vx * vx + vy * vy) > BOUNDARY_RELATIVE * f2 + BOUNDARY_ABSOLUTE;
    (inside && !disagree && !boundary, bw - a[i])
}

/// The pair's sums on the CPU, and its reliability mask (for the triple that follows).
pub fn pair_stats(a: &[f32], b: &[f32], f: &FlowField, g: &FlowField) -> (PairStats, Vec<bool>) {
    let (w, h) = (f.width, f.height);
    let (bx, by) = block_grid(w, h);
    let mut s = PairStats {
        pixels: (w * h) as u64,
        reliable: 0,
        sq_residual: 0.0,
        magnitude_sum: 0.0,
        object_sum: 0.0,
        camera: None,
        block_residual: vec![0.0; bx * by],
        block_counted: vec![0; bx * by],
    };
    let mut block_flow = vec![[0f64; 3]; bx * by];
    let mut mask = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let (ok, r) = check_pixel(a, b, f, g, x, y);
            s.magnitude_sum += (f.u[i] * f.u[i] + f.v[i] * f.v[i]).sqrt() as f64;
            let blk = &mut block_flow[(y / BLOCK) * bx + x / BLOCK];
            blk[0] += f.u[i] as f64;
            blk[1] += f.v[i] as f64;
            blk[2] += 1.0;
            if ok {
                mask[i] = true;
                s.reliable += 1;
                s.sq_residual += (r as f64) * (r as f64);
            }
        }
    }
    for y in 0..h {
        for x in 0..w {
            let blk = (y / BLOCK) * bx + x / BLOCK;
            let (bu, bv) = block_mean_flow(&block_flow[blk]);
            if let Some(r) = shifted_residual(a, b, w, h, x, y, bu, bv) {
                s.block_residual[blk] += r as f64;
                s.block_counted[blk] += 1;
            }
        }
    }
    let (theta, object) = fit_camera(f, &mask);
    s.camera = theta.map(|t| CameraMotion::from_theta(&t));
    s.object_sum = object;
    (s, mask)
}

/// A block's mean flow from its sums [Σu, Σv, n], in f32 as both engines use it.
#[inline]
pub fn block_mean_flow(sums: &[f64; 3]) -> (f32, f32) {
    ((sums[0] / sums[2]) as f32, (sums[1] / sums[2]) as f32)
}

/// B(p + shift) − A(p) when p + shift is inside the frame.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn shifted_residual(
    a: &[f32],
    b: &[f32],
    w: usize,
    h: usize,
    x: usize,
    y: usize,
    du: f32,
    dv: f32,
) -> Option<f32> {
    let (tx, ty) = (x as f32 + du, y as f32 + dv);
    (tx >= 0.0 && tx <= (w - 1) as f32 && ty >= 0.0 && ty <= (h - 1) as f32)
        .then(|| ops::bilinear(b, w, h, tx, ty) - a[y * w + x])
}

/// Centred coordinates of pixel (x, y), in f32 as both engines compute them.
#[inline]
pub fn centred(x: usize, y: usize, w: usize, h: usize) -> (f32, f32) {
    (
        x as f32 - (w - 1) as f32 * 0.5,
        y as f32 - (h - 1) as f32 * 0.5,
    )
}

/// IRLS camera fit over the reliable pixels, and Σ |F − model| with the final fit.
fn fit_camera(f: &FlowField, mask: &[bool]) -> (Option<camera::Theta>, f64) {
    let (w, h) = (f.width, f.height);
    let mut theta: Option<camera::Theta> = None;
    for pass in 0..camera::IRLS_PASSES {
        let t32 = theta.as_ref().map(camera::theta_f32);
        if pass > 0 && t32.is_none() {
            break;
        }
        let mut sums = NormalSums::default();
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if mask[i] {
                    let (xc, yc) = centred(x, y, w, h);
                    let wt = camera::weight(t32.as_ref(), xc, yc, f.u[i], f.v[i]);
                    sums.push(
                        xc as f64,
                        yc as f64,
                        f.u[i] as f64,
                        f.v[i] as f64,
                        wt as f64,
                    );
                }
            }
        }
        theta = sums.solve();
    }
    let Some(t) = theta else {
        return (None, 0.0);
    };
    let t32 = camera::theta_f32(&t);
    let mut object = 0f64;
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if mask[i] {
                let (xc, yc) = centred(x, y, w, h);
                let (ru, rv) = camera::residual(&t32, xc, yc, f.u[i], f.v[i]);
                object += (ru * ru + rv * rv).sqrt() as f64;
            }
        }
    }
    (Some(t), object)
}

/// Trajectory acceleration between consecutive forward flows `f1` (pair t − 1,
/// reliable where `mask1`) and `f2` (pair t).
pub fn triple_stats(f1: &FlowField, mask1: &[bool], f2: &FlowField) -> TripleStats {
    let (w, h) = (f1.width, f1.height);
    let mut s = TripleStats::default();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if !mask1[i] {
                continue;
            }
            let (qx, qy) = (x as f32 + f1.u[i], y as f32 + f1.v[i]);
            let au = ops::bilinear(&f2.u, w, h, qx, qy) - f1.u[i];
            let av = ops::bilinear(&f2.v, w, h, qx, qy) - f1.v[i];
            s.accel_sum += (au * au + av * av).sqrt() as f64;
            s.speed_sum += (f1.u[i] * f1.u[i] + f1.v[i] * f1.v[i]).sqrt() as f64;
            s.count += 1;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constant(w: usize, h: usize, u: f32, v: f32) -> FlowField {
        FlowField {
            width: w,
            height: h,
            u: vec![u; w * h],
            v: vec![v; w * h],
        }
    }

    #[test]
    fn consistent_translation_is_reliable_except_where_it_leaves_the_frame() {
        let (w, h) = (40, 30);
        let a: Vec<f32> = (0..w * h).map(|i| ((i % w) as f32 * 0.3).sin()).collect();
        let b: Vec<f32> = (0..w * h)
            .map(|i| (((i % w) as f32 - 2.0) * 0.3).sin())
            .collect();
        let (f, g) = (constant(w, h, 2.0, 0.0), constant(w, h, -2.0, 0.0));
        let (s, mask) = pair_stats(&a, &b, &f, &g);
        // Columns 38 and 39 map outside; everything else is reliable.
        assert_eq!(s.reliable, ((w - 2) * h) as u64);
        assert!(!mask[w - 1] && mask[0]);
        assert!(s.warp_rmse_levels().unwrap() < 1e-3);
        let cam = s.camera.unwrap();
        assert!((cam.pan - 2.0).abs() < 1e-6 && cam.tilt.abs() < 1e-6);
        assert!(s.mean_object_motion().unwrap() < 1e-6);
    }

    #[test]
    fn inconsistent_backward_flow_is_unreliable() {
        let (w, h) = (20, 20);
        let a = vec![0.5; w * h];
        let (f, g) = (constant(w, h, 1.0, 0.0), constant(w, h, 1.0, 0.0));
        let (s, _) = pair_stats(&a, &a, &f, &g);
        assert_eq!(s.reliable, 0);
        assert!(s.camera.is_none());
    }

    #[test]
    fn uniform_motion_has_no_acceleration() {
        let (w, h) = (20, 20);
        let f = constant(w, h, 1.5, -0.5);
        let t = triple_stats(&f, &vec![true; w * h], &f);
        assert_eq!(t.count, 400);
        assert!(t.accel_sum < 1e-9);
        assert!((t.speed_sum / 400.0 - (2.5f64).sqrt()).abs() < 1e-6);
    }
}
