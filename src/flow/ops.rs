//! The CPU twins of the kernels in `kernels/flow.cu`: the same arithmetic, in
//! the same order, so both engines produce (nearly) the same bits. Any change
//! here must be mirrored there (and the other way round).

/// Binomial 5-tap low-pass used before decimation: [1 4 6 4 1] / 16.
pub const K5: [f32; 5] = [0.0625, 0.25, 0.375, 0.25, 0.0625];

/// The hot loops below are compiled twice: for the baseline and for AVX2
/// (picked at run time). Wider vectors only; the same IEEE operations in the
/// same order, so both give the same bits.
macro_rules! multiversion {
    ($(#[$doc:meta])* pub fn $name:ident => $body:ident ($($arg:ident: $ty:ty),* $(,)?)) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        pub fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn wide($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2 (checked above).
                    return unsafe { wide($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

multiversion! {
    /// Separable blur with `taps` (odd count, replicated border), in place; `tmp` is scratch.
    pub fn blur => blur_body(plane: &mut [f32], tmp: &mut [f32], w: usize, h: usize, taps: &[f32])
}

multiversion! {
    /// One red-black SOR half-sweep (see `sor_half_sweep_body`).
    pub fn sor_half_sweep => sor_half_sweep_body(
        j: &[f32], u0: &[f32], v0: &[f32], du: &mut [f32], dv: &mut [f32],
        w: usize, h: usize, colour: usize, s: Sor,
    )
}

multiversion! {
    /// Median over a `side` x `side` window (see `median_body`).
    pub fn median => median_body(src: &[f32], w: usize, h: usize, side: usize, out: &mut [f32])
}

#[inline]
fn clampi(i: isize, n: usize) -> usize {
    i.clamp(0, n as isize - 1) as usize
}

/// Blur with `K5` (replicated border) and keep the even pixels.
pub fn downsample(src: &[f32], w: usize, h: usize) -> (Vec<f32>, usize, usize) {
    let (w2, h2) = (w.div_ceil(2), h.div_ceil(2));
    let mut out = vec![0f32; w2 * h2];
    for y2 in 0..h2 {
        for x2 in 0..w2 {
            let mut acc = 0f32;
            for (ky, wy) in K5.iter().enumerate() {
                let yy = clampi((2 * y2 + ky) as isize - 2, h);
                let mut row = 0f32;
                for (kx, wx) in K5.iter().enumerate() {
                    let xx = clampi((2 * x2 + kx) as isize - 2, w);
                    row += wx * src[yy * w + xx];
                }
                acc += wy * row;
            }
            out[y2 * w2 + x2] = acc;
        }
    }
    (out, w2, h2)
}

/// Bilinear sample at (x, y), coordinates clamped to the image.
#[inline]
pub fn bilinear(src: &[f32], w: usize, h: usize, x: f32, y: f32) -> f32 {
    let x = x.max(0.0).min((w - 1) as f32);
    let y = y.max(0.0).min((h - 1) as f32);
    let (x0, y0) = (x as usize, y as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let (p00, p01) = (src[y0 * w + x0], src[y0 * w + x1]);
    let (p10, p11) = (src[y1 * w + x0], src[y1 * w + x1]);
    let top = p00 + fx * (p01 - p00);
    let bottom = p10 + fx * (p11 - p10);
    top + fy * (bottom - top)
}

/// Flow of a level from the next coarser one: twice the bilinear sample at x/2.
pub fn upsample_flow(coarse: &[f32], wc: usize, hc: usize, w: usize, h: usize) -> Vec<f32> {
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = 2.0 * bilinear(coarse, wc, hc, x as f32 * 0.5, y as f32 * 0.5);
        }
    }
    out
}

/// `b` warped towards `a`'s grid along (u, v): out(p) = b(p + F(p)).
pub fn warp(b: &[f32], u: &[f32], v: &[f32], w: usize, h: usize, out: &mut [f32]) {
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            out[i] = bilinear(b, w, h, x as f32 + u[i], y as f32 + v[i]);
        }
    }
}

/// The five structure-tensor products at every pixel, from the first image
/// `a` and the warped second `bw`: gradients of their mean (5-tap central
/// differences, replicated border) and their difference.
/// `j` holds five planes of w·h one after another: Ix², IxIy, Iy², IxIt, IyIt.
/// A pixel whose warped position (x + u, y + v) leaves the frame carries no
/// information: its products are zero and only smoothness sets its flow.
#[allow(clippy::too_many_arguments)]
pub fn tensor_products(
    a: &[f32],
    bw: &[f32],
    u: &[f32],
    v: &[f32],
    w: usize,
    h: usize,
    j: &mut [f32],
) {
    let n = w * h;
    let (xmax, ymax) = ((w - 1) as f32, (h - 1) as f32);
    let m = |x: isize, y: isize| {
        let i = clampi(y, h) * w + clampi(x, w);
        (a[i] + bw[i]) * 0.5
    };
    for y in 0..h as isize {
        for x in 0..w as isize {
            let gx = ((m(x - 2, y) - m(x + 2, y)) + 8.0 * (m(x + 1, y) - m(x - 1, y))) / 12.0;
            let gy = ((m(x, y - 2) - m(x, y + 2)) + 8.0 * (m(x, y + 1) - m(x, y - 1))) / 12.0;
            let i = y as usize * w + x as usize;
            let (tx, ty) = (x as f32 + u[i], y as f32 + v[i]);
            let inside = tx >= 0.0 && tx <= xmax && ty >= 0.0 && ty <= ymax;
            let (gx, gy) = if inside { (gx, gy) } else { (0.0, 0.0) };
            let gt = bw[i] - a[i];
            j[i] = gx * gx;
            j[n + i] = gx * gy;
            j[2 * n + i] = gy * gy;
            j[3 * n + i] = gx * gt;
            j[4 * n + i] = gy * gt;
        }
    }
}

/// Separable blur with `taps` (odd count, replicated border), in place; `tmp` is scratch.
/// Each output accumulates its taps in order, whatever the loop shape.
#[inline(always)]
fn blur_body(plane: &mut [f32], tmp: &mut [f32], w: usize, h: usize, taps: &[f32]) {
    let r = taps.len() / 2;
    let mut padded = vec![0f32; w + 2 * r];
    for y in 0..h {
        let row = &plane[y * w..(y + 1) * w];
        padded[..r].fill(row[0]);
        padded[r..r + w].copy_from_slice(row);
        padded[r + w..].fill(row[w - 1]);
        let acc = &mut tmp[y * w..(y + 1) * w];
        acc.fill(0.0);
        for (k, t) in taps.iter().enumerate() {
            for (a, p) in acc.iter_mut().zip(&padded[k..k + w]) {
                *a += t * p;
            }
        }
    }
    for y in 0..h {
        let acc = &mut plane[y * w..(y + 1) * w];
        acc.fill(0.0);
        for (k, t) in taps.iter().enumerate() {
            let src = clampi(y as isize + k as isize - r as isize, h);
            for (a, p) in acc.iter_mut().zip(&tmp[src * w..(src + 1) * w]) {
                *a += t * p;
            }
        }
    }
}

/// Constants of one SOR solve.
#[derive(Clone, Copy, Debug)]
pub struct Sor {
    pub alpha: f32,
    pub omega: f32,
}

/// One red-black half-sweep: updates the increments (du, dv) of the pixels
/// with (x + y) % 2 == colour. Each update reads only pixels of the other
/// colour, so the result does not depend on the order of the updates.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn sor_half_sweep_body(
    j: &[f32],
    u0: &[f32],
    v0: &[f32],
    du: &mut [f32],
    dv: &mut [f32],
    w: usize,
    h: usize,
    colour: usize,
    s: Sor,
) {
    let n_px = w * h;
    let t = Tensor {
        j11: &j[..n_px],
        j12: &j[n_px..2 * n_px],
        j22: &j[2 * n_px..3 * n_px],
        j13: &j[3 * n_px..4 * n_px],
        j23: &j[4 * n_px..5 * n_px],
    };
    let keep = 1.0 - s.omega;
    let four_alpha = 4.0 * s.alpha;
    let (mut nu, mut nv) = (vec![0f32; w], vec![0f32; w]);
    for y in 0..h {
        let first = (y + colour) % 2;
        if y == 0 || y + 1 == h {
            for x in (first..w).step_by(2) {
                sor_update(&t, u0, v0, du, dv, w, h, x, y, s);
            }
            continue;
        }
        // The row's interior: every pixel's update is computed (branch-free,
        // so the compiler vectorises it) from neighbours of the other colour,
        // which this half-sweep never writes; only this colour's are stored.
        // The neighbour sums run in the same order as in `sor_update`.
        let row = y * w;
        let m = w - 2;
        {
            let (du, dv) = (&*du, &*dv);
            fn window(p: &[f32], o: usize, m: usize) -> &[f32] {
                &p[o..o + m]
            }
            let at = |p, o| window(p, o, m);
            let c = row + 1;
            let (up, dn, lf, rt) = (c - w, c + w, c - 1, c + 1);
            let (up_u, dn_u, lf_u, rt_u) = (at(u0, up), at(u0, dn), at(u0, lf), at(u0, rt));
            let (up_v, dn_v, lf_v, rt_v) = (at(v0, up), at(v0, dn), at(v0, lf), at(v0, rt));
            let (up_du, dn_du, lf_du, rt_du) = (at(du, up), at(du, dn), at(du, lf), at(du, rt));
            let (up_dv, dn_dv, lf_dv, rt_dv) = (at(dv, up), at(dv, dn), at(dv, lf), at(dv, rt));
            let (cu, cv) = (at(u0, c), at(v0, c));
            let (j11, j12, j22) = (at(t.j11, c), at(t.j12, c), at(t.j22, c));
            let (j13, j23) = (at(t.j13, c), at(t.j23, c));
            let (nu, nv) = (&mut nu[..m], &mut nv[..m]);
            for k in 0..m {
                let su = (((up_u[k] + up_du[k]) + (dn_u[k] + dn_du[k])) + (lf_u[k] + lf_du[k]))
                    + (rt_u[k] + rt_du[k]);
                let sv = (((up_v[k] + up_dv[k]) + (dn_v[k] + dn_dv[k])) + (lf_v[k] + lf_dv[k]))
                    + (rt_v[k] + rt_dv[k]);
                let ru = s.alpha * (su - 4.0 * cu[k]) - j13[k];
                let rv = s.alpha * (sv - 4.0 * cv[k]) - j23[k];
                let (a, b) = solve2(j11[k] + four_alpha, j12[k], j22[k] + four_alpha, ru, rv);
                nu[k] = a;
                nv[k] = b;
            }
        }
        // Pixel x of the row is nu[x - 1]; this colour's pixels are x ≡ first (mod 2).
        let start = if first == 0 { 2 } else { 1 };
        for x in (start..w - 1).step_by(2) {
            let i = row + x;
            du[i] = keep * du[i] + s.omega * nu[x - 1];
            dv[i] = keep * dv[i] + s.omega * nv[x - 1];
        }
        if first == 0 {
            sor_update(&t, u0, v0, du, dv, w, h, 0, y, s);
        }
        if (w - 1) % 2 == first {
            sor_update(&t, u0, v0, du, dv, w, h, w - 1, y, s);
        }
    }
}

struct Tensor<'a> {
    j11: &'a [f32],
    j12: &'a [f32],
    j22: &'a [f32],
    j13: &'a [f32],
    j23: &'a [f32],
}

/// [a11 a12; a12 a22]⁻¹ (ru, rv).
#[inline(always)]
fn solve2(a11: f32, a12: f32, a22: f32, ru: f32, rv: f32) -> (f32, f32) {
    let det = a11 * a22 - a12 * a12;
    ((a22 * ru - a12 * rv) / det, (a11 * rv - a12 * ru) / det)
}

/// The SOR update of one pixel, any position (only existing neighbours count).
#[allow(clippy::too_many_arguments)]
#[inline]
fn sor_update(
    t: &Tensor,
    u0: &[f32],
    v0: &[f32],
    du: &mut [f32],
    dv: &mut [f32],
    w: usize,
    h: usize,
    x: usize,
    y: usize,
    s: Sor,
) {
    let i = y * w + x;
    let (mut su, mut sv, mut n) = (0f32, 0f32, 0f32);
    let mut add = |k: usize| {
        su += u0[k] + du[k];
        sv += v0[k] + dv[k];
        n += 1.0;
    };
    if y > 0 {
        add(i - w);
    }
    if y + 1 < h {
        add(i + w);
    }
    if x > 0 {
        add(i - 1);
    }
    if x + 1 < w {
        add(i + 1);
    }
    let ru = s.alpha * (su - n * u0[i]) - t.j13[i];
    let rv = s.alpha * (sv - n * v0[i]) - t.j23[i];
    let (nu, nv) = solve2(
        t.j11[i] + n * s.alpha,
        t.j12[i],
        t.j22[i] + n * s.alpha,
        ru,
        rv,
    );
    du[i] = (1.0 - s.omega) * du[i] + s.omega * nu;
    dv[i] = (1.0 - s.omega) * dv[i] + s.omega * nv;
}

/// Median over a `side` x `side` window (replicated border) into `out`.
/// Row by row, the window's values are laid out as `side²` lanes of the row's
/// width and pushed through a median-selecting comparator network, so the
/// inner loops are branch-free min/max that the compiler vectorises.
#[inline(always)]
fn median_body(src: &[f32], w: usize, h: usize, side: usize, out: &mut [f32]) {
    let r = (side / 2) as isize;
    let n = side * side;
    let net = median_network(n);
    let mut lanes = vec![0f32; n * w];
    for y in 0..h as isize {
        let mut k = 0;
        for dy in -r..=r {
            let row = &src[clampi(y + dy, h) * w..][..w];
            for dx in -r..=r {
                let lane = &mut lanes[k * w..(k + 1) * w];
                // Interior by slice copy, the replicated border by hand.
                let (lo, hi) = ((-dx).max(0) as usize, (w as isize - dx.max(0)) as usize);
                lane[lo..hi].copy_from_slice(
                    &row[(lo as isize + dx) as usize..(hi as isize + dx) as usize],
                );
                lane[..lo].fill(row[0]);
                lane[hi..].fill(row[w - 1]);
                k += 1;
            }
        }
        for &(to_min, to_max) in net.comparators.iter() {
            let (first, second) = (to_min.min(to_max), to_min.max(to_max));
            let (lo, hi) = lanes.split_at_mut(second * w);
            let (a, b) = (&mut lo[first * w..(first + 1) * w], &mut hi[..w]);
            let (mins, maxs) = if to_min < to_max { (a, b) } else { (b, a) };
            for (p, q) in mins.iter_mut().zip(maxs.iter_mut()) {
                let (s, t) = (*p, *q);
                *p = s.min(t);
                *q = s.max(t);
            }
        }
        out[y as usize * w..(y as usize + 1) * w]
            .copy_from_slice(&lanes[net.output * w..(net.output + 1) * w]);
    }
}

/// Comparators (min to the first lane, max to the second) that bring the
/// median of `n` inputs to lane `output`.
pub struct MedianNetwork {
    pub comparators: Vec<(usize, usize)>,
    pub output: usize,
}

/// Batcher's odd-even merge sort on the next power of two, with the padding
/// wires fixed at +inf (their comparators resolved away), pruned to the
/// comparators the median depends on. Built once per size.
pub fn median_network(n: usize) -> &'static MedianNetwork {
    use std::sync::OnceLock;
    static NETS: [OnceLock<MedianNetwork>; 4] = [const { OnceLock::new() }; 4];
    let slot = match n {
        1 => 0,
        9 => 1,
        25 => 2,
        49 => 3,
        _ => panic!("median windows are 1, 3, 5 or 7 wide"),
    };
    NETS[slot].get_or_init(|| build_median_network(n))
}

fn build_median_network(n: usize) -> MedianNetwork {
    let size = n.next_power_of_two();
    // Batcher's odd-even merge sort, iterative form.
    let mut full = Vec::new();
    let mut p = 1;
    while p < size {
        let mut k = p;
        while k >= 1 {
            let mut j = k % p;
            while j + k < size {
                for i in 0..k.min(size - j - k) {
                    if (i + j) / (2 * p) == (i + j + k) / (2 * p) {
                        full.push((i + j, i + j + k));
                    }
                }
                j += 2 * k;
            }
            k /= 2;
        }
        p *= 2;
    }
    // Wires n.. hold +inf. `at[w]` is the physical lane holding logical wire w.
    let mut at: Vec<usize> = (0..size).collect();
    let mut inf: Vec<bool> = (0..size).map(|w| w >= n).collect();
    let mut kept = Vec::new();
    for (a, b) in full {
        match (inf[a], inf[b]) {
            (_, true) => {}
            (true, false) => {
                at.swap(a, b);
                inf.swap(a, b);
            }
            (false, false) => kept.push((at[a], at[b])),
        }
    }
    let output = at[n / 2];
    // Keep only what the output depends on, walking backwards.
    let mut needed = vec![false; size];
    needed[output] = true;
    let mut comparators = Vec::new();
    for &(a, b) in kept.iter().rev() {
        if needed[a] || needed[b] {
            needed[a] = true;
            needed[b] = true;
            comparators.push((a, b));
        }
    }
    comparators.reverse();
    MedianNetwork {
        comparators,
        output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_interpolates_and_clamps() {
        let img = [0.0, 1.0, 2.0, 3.0]; // 2x2
        assert_eq!(bilinear(&img, 2, 2, 0.5, 0.0), 0.5);
        assert_eq!(bilinear(&img, 2, 2, 0.5, 0.5), 1.5);
        assert_eq!(bilinear(&img, 2, 2, -3.0, 9.0), 2.0);
    }

    #[test]
    fn downsample_keeps_constants_and_halves_size() {
        let (out, w, h) = downsample(&[0.5; 7 * 5], 7, 5);
        assert_eq!((w, h), (4, 3));
        assert!(out.iter().all(|&v| (v - 0.5).abs() < 1e-7));
    }

    #[test]
    fn blur_preserves_mean_of_a_ramp_interior() {
        let (w, h) = (16, 4);
        let mut p: Vec<f32> = (0..w * h).map(|i| (i % w) as f32).collect();
        let mut tmp = vec![0.0; w * h];
        blur(&mut p, &mut tmp, w, h, &[0.25, 0.5, 0.25]);
        // A linear ramp is unchanged by a symmetric kernel away from the border.
        assert!((p[5] - 5.0).abs() < 1e-6);
    }

    #[test]
    fn median_networks_select_the_median() {
        // Every size on many random inputs, against sorting.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % 1000) as f32
        };
        for n in [1usize, 9, 25, 49] {
            let net = median_network(n);
            for _ in 0..200 {
                let mut v: Vec<f32> = (0..n).map(|_| next()).collect();
                let mut sorted = v.clone();
                sorted.sort_by(f32::total_cmp);
                for &(i, j) in &net.comparators {
                    let (a, b) = (v[i], v[j]);
                    v[i] = a.min(b);
                    v[j] = a.max(b);
                }
                assert_eq!(v[net.output], sorted[n / 2], "n = {n}");
            }
        }
        assert!(median_network(25).comparators.len() < 200);
    }

    #[test]
    fn median_removes_an_outlier() {
        let mut src = vec![1.0f32; 25];
        src[12] = 100.0;
        let mut out = vec![0.0; 25];
        median(&src, 5, 5, 3, &mut out);
        assert_eq!(out[12], 1.0);
    }
}
