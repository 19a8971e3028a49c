//! SSIM and PSNR on 8-bit planes, computed the way ffmpeg's `ssim` and `psnr`
//! filters do, so our numbers can be checked against theirs.
//!
//! SSIM follows ffmpeg/x264: statistics of 4x4 blocks are summed into 8x8
//! windows on a 4-pixel grid (no Gaussian weighting), constants
//! C1 = (0.01*255)^2 and C2 = (0.03*255)^2 scaled to window sums, per-window
//! SSIM in f32, averaged over all windows. Trailing columns and rows that do
//! not fill a 4x4 block are ignored, as in ffmpeg.

/// Sums of one 4x4 block: Σa, Σb, Σa²+Σb², Σab.
type BlockSums = [i64; 4];

fn block_row(a: &[u8], b: &[u8], stride: usize, row: usize, blocks: usize, out: &mut [BlockSums]) {
    for (z, sums) in out.iter_mut().enumerate().take(blocks) {
        let (mut s1, mut s2, mut ss, mut s12) = (0i64, 0i64, 0i64, 0i64);
        for y in 0..4 {
            let base = (row * 4 + y) * stride + z * 4;
            for x in 0..4 {
                let (pa, pb) = (a[base + x] as i64, b[base + x] as i64);
                s1 += pa;
                s2 += pb;
                ss += pa * pa + pb * pb;
                s12 += pa * pb;
            }
        }
        *sums = [s1, s2, ss, s12];
    }
}

fn window_ssim(s1: i64, s2: i64, ss: i64, s12: i64) -> f32 {
    const C1: i64 = 416; // (int)(.01*.01*255*255*64 + .5)
    const C2: i64 = 235_963; // (int)(.03*.03*255*255*64*63 + .5)
    let vars = ss * 64 - s1 * s1 - s2 * s2;
    let covar = s12 * 64 - s1 * s2;
    ((2 * s1 * s2 + C1) as f32) * ((2 * covar + C2) as f32)
        / (((s1 * s1 + s2 * s2 + C1) as f32) * ((vars + C2) as f32))
}

/// Mean SSIM of two equally sized 8-bit planes (ffmpeg's per-plane value).
/// Returns `None` when a plane is smaller than 8x8 or the sizes differ.
pub fn ssim_u8(a: &[u8], b: &[u8], width: usize, height: usize) -> Option<f64> {
    let (bw, bh) = (width / 4, height / 4);
    if bw < 2 || bh < 2 || a.len() != width * height || b.len() != width * height {
        return None;
    }
    let mut prev = vec![[0i64; 4]; bw];
    let mut cur = vec![[0i64; 4]; bw];
    block_row(a, b, width, 0, bw, &mut prev);
    let mut total = 0f64;
    for row in 1..bh {
        block_row(a, b, width, row, bw, &mut cur);
        let mut row_sum = 0f32;
        for i in 0..bw - 1 {
            let s = |k: usize| prev[i][k] + prev[i + 1][k] + cur[i][k] + cur[i + 1][k];
            row_sum += window_ssim(s(0), s(1), s(2), s(3));
        }
        total += row_sum as f64;
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(total / ((bh - 1) * (bw - 1)) as f64)
}

/// Mean squared error of two equally sized 8-bit planes.
pub fn mse_u8(a: &[u8], b: &[u8]) -> Option<f64> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let sse: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| ((x as i64 - y as i64).pow(2)) as u64)
        .sum();
    Some(sse as f64 / a.len() as f64)
}

/// PSNR in dB for 8-bit data, as ffmpeg computes it from the MSE. Identical
/// planes give infinity in ffmpeg; we cap at `PSNR_CAP_DB` so JSON stays finite.
pub fn psnr_from_mse(mse: f64) -> f64 {
    if mse <= 0.0 {
        return PSNR_CAP_DB;
    }
    (10.0 * (255.0f64 * 255.0 / mse).log10()).min(PSNR_CAP_DB)
}

/// Ceiling for PSNR of identical planes (ffmpeg prints `inf`).
pub const PSNR_CAP_DB: f64 = 100.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: usize, h: usize) -> Vec<u8> {
        (0..w * h)
            .map(|i| ((i % w) * 255 / (w - 1)) as u8 ^ ((i / w) as u8 & 7))
            .collect()
    }

    #[test]
    fn identical_planes_have_ssim_one_and_capped_psnr() {
        let a = ramp(64, 48);
        assert!((ssim_u8(&a, &a, 64, 48).unwrap() - 1.0).abs() < 1e-6);
        assert_eq!(psnr_from_mse(mse_u8(&a, &a).unwrap()), PSNR_CAP_DB);
    }

    #[test]
    fn constant_offset_gives_known_psnr() {
        let a = vec![100u8; 32 * 32];
        let b = vec![110u8; 32 * 32];
        let mse = mse_u8(&a, &b).unwrap();
        assert_eq!(mse, 100.0);
        assert!((psnr_from_mse(mse) - 28.130803608679106).abs() < 1e-9);
        // Flat planes: SSIM reduces to the luminance term (2·μa·μb + C1)/(μa² + μb² + C1).
        let s = ssim_u8(&a, &b, 32, 32).unwrap();
        let (ma, mb, c1) = (100.0 * 64.0, 110.0 * 64.0, 416.0);
        let want = (2.0 * ma * mb + c1) / (ma * ma + mb * mb + c1);
        assert!((s - want).abs() < 1e-6, "{s} vs {want}");
    }

    #[test]
    fn inverted_texture_scores_low() {
        let a = ramp(64, 64);
        let b: Vec<u8> = a.iter().map(|v| 255 - v).collect();
        assert!(ssim_u8(&a, &b, 64, 64).unwrap() < 0.0);
    }

    #[test]
    fn tiny_or_mismatched_planes_are_rejected() {
        assert!(ssim_u8(&[0; 16], &[0; 16], 4, 4).is_none());
        assert!(ssim_u8(&[0; 64], &[0; 63], 8, 8).is_none());
        assert!(mse_u8(&[], &[]).is_none());
    }
}
