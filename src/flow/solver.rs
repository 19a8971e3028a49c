//! One flow field on the CPU: the coarse-to-fine CLG iterations of
//! `flow/mod.rs`, single-threaded (callers parallelise over pairs).

use super::ops::{self, Sor};
use super::pyramid::Pyramid;
use super::{FlowField, FlowParams};

/// Scratch planes sized for level 0, reused across levels and warps.
struct Scratch {
    bw: Vec<f32>,
    du: Vec<f32>,
    dv: Vec<f32>,
    tmp: Vec<f32>,
    /// The five structure-tensor planes, one after another.
    j: Vec<f32>,
}

impl Scratch {
    fn new(n: usize) -> Self {
        let plane = || vec![0f32; n];
        Self {
            bw: plane(),
            du: plane(),
            dv: plane(),
            tmp: plane(),
            j: vec![0f32; 5 * n],
        }
    }
}

/// Flow from the frame of pyramid `a` to the frame of pyramid `b`.
pub fn solve(a: &Pyramid, b: &Pyramid, p: &FlowParams) -> FlowField {
    let taps = p.window_taps();
    let sor = Sor {
        alpha: p.alpha,
        omega: p.sor_omega,
    };
    let (w0, h0) = a.sizes[0];
    let mut s = Scratch::new(w0 * h0);
    let top = a.sizes.len() - 1;
    let (wt, ht) = a.sizes[top];
    let (mut u, mut v) = (vec![0f32; wt * ht], vec![0f32; wt * ht]);
    for level in (0..=top).rev() {
        let (w, h) = a.sizes[level];
        let n = w * h;
        if level < top {
            let (wc, hc) = a.sizes[level + 1];
            u = ops::upsample_flow(&u, wc, hc, w, h);
            v = ops::upsample_flow(&v, wc, hc, w, h);
        }
        let (al, bl) = (&a.levels[level], &b.levels[level]);
        for _ in 0..p.warps {
            ops::warp(bl, &u, &v, w, h, &mut s.bw[..n]);
            let j = &mut s.j[..5 * n];
            ops::tensor_products(al, &s.bw[..n], &u, &v, w, h, j);
            for plane in j.chunks_mut(n) {
                ops::blur(plane, &mut s.tmp[..n], w, h, &taps);
            }
            let (du, dv) = (&mut s.du[..n], &mut s.dv[..n]);
            du.fill(0.0);
            dv.fill(0.0);
            for _ in 0..p.sor_iterations {
                for colour in 0..2 {
                    ops::sor_half_sweep(j, &u, &v, du, dv, w, h, colour, sor);
                }
            }
            for i in 0..n {
                u[i] += du[i];
                v[i] += dv[i];
            }
            if p.median > 1 {
                ops::median(&u, w, h, p.median, &mut s.tmp[..n]);
                u.copy_from_slice(&s.tmp[..n]);
                ops::median(&v, w, h, p.median, &mut s.tmp[..n]);
                v.copy_from_slice(&s.tmp[..n]);
            }
        }
    }
    FlowField {
        width: w0,
        height: h0,
        u,
        v,
    }
}
