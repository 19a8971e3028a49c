//! torch's uint8 antialiased bicubic resize (`_upsample_bicubic2d_aa` on
//! uint8 CPU tensors, what torchvision's `resize(..., BICUBIC, antialias=True)`
//! runs): separable, horizontal pass first, Keys cubic with a = -0.5 widened
//! by the scale, weights normalised in float64 and rounded to int16 with
//! torch's precision rule, integer sums rounded and clamped to 0..=255 after
//! each pass. Bit-exact with torch 2.15 (checked against it while writing
//! this port, and through the processor's pixel sha256 in the parity test).

use crate::frames::RgbFrame;

fn cubic_aa(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A
    } else {
        0.0
    }
}

/// Per output index: first input index and int16 weights; and the precision.
fn aa_weights(in_size: usize, out_size: usize) -> (Vec<(usize, Vec<i32>)>, u32) {
    let scale = in_size as f64 / out_size as f64;
    let support = if scale >= 1.0 { 2.0 * scale } else { 2.0 };
    let max_size = (support.ceil() as i64 * 2 + 1) as i64;
    let invscale = if scale >= 1.0 { 1.0 / scale } else { 1.0 };
    let mut rows = Vec::with_capacity(out_size);
    let mut wt_max = 0f64;
    for i in 0..out_size {
        let center = scale * (i as f64 + 0.5);
        let xmin = ((center - support + 0.5) as i64).max(0);
        let xsize =
            (((center + support + 0.5) as i64).min(in_size as i64) - xmin).clamp(0, max_size);
        let mut w: Vec<f64> = (0..xsize)
            .map(|j| cubic_aa((j as f64 + xmin as f64 - center + 0.5) * invscale))
            .collect();
        let total: f64 = w.iter().sum();
        if total != 0.0 {
            for v in &mut w {
                *v /= total;
                wt_max = wt_max.max(*v);
            }
        }
        rows.push((xmin as usize, w));
    }
    let mut precision = 0u32;
    while precision < 22 {
        let next = (0.5 + wt_max * (1u64 << (precision + 1)) as f64) as i64;
        if next >= 1 << 15 {
            break;
        }
        precision += 1;
    }
    let scale_i = (1u64 << precision) as f64;
    let rows = rows
        .into_iter()
        .map(|(xmin, w)| {
            let ints = w
                .iter()
                .map(|v| {
                    let v = v * scale_i;
                    if v < 0.0 {
                        (-0.5 + v) as i32
                    } else {
                        (0.5 + v) as i32
                    }
                })
                .collect();
            (xmin, ints)
        })
        .collect();
    (rows, precision)
}

/// One separable pass along x (`horizontal`) or y over interleaved RGB.
fn aa_pass(src: &RgbFrame, out_len: usize, horizontal: bool) -> RgbFrame {
    let (w, h) = (src.width, src.height);
    let in_len = if horizontal { w } else { h };
    let (rows, precision) = aa_weights(in_len, out_len);
    let (ow, oh) = if horizontal {
        (out_len, h)
    } else {
        (w, out_len)
    };
    let mut out = vec![0u8; ow * oh * 3];
    let half = if precision == 0 {
        0
    } else {
        1i64 << (precision - 1)
    };
    for y in 0..oh {
        for x in 0..ow {
            let (xmin, ws) = &rows[if horizontal { x } else { y }];
            for c in 0..3 {
                let mut sum = half;
                for (j, wgt) in ws.iter().enumerate() {
                    let (sx, sy) = if horizontal {
                        (xmin + j, y)
                    } else {
                        (x, xmin + j)
                    };
                    sum += src.data[(sy * w + sx) * 3 + c] as i64 * *wgt as i64;
                }
                out[(y * ow + x) * 3 + c] = (sum >> precision).clamp(0, 255) as u8;
            }
        }
    }
    RgbFrame::new(ow, oh, out)
}

/// torchvision `resize(uint8, [h, w], BICUBIC, antialias=True)` on the CPU.
pub fn resize_bicubic_aa(src: &RgbFrame, width: usize, height: usize) -> RgbFrame {
    let mut img = src.clone();
    if width != img.width {
        img = aa_pass(&img, width, true);
    }
    if height != img.height {
        img = aa_pass(&img, height, false);
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_keeps_flat_images_flat_and_same_size_is_identity() {
        let flat = RgbFrame::new(40, 30, vec![77; 40 * 30 * 3]);
        let r = resize_bicubic_aa(&flat, 17, 11);
        assert!(r.data.iter().all(|&v| v == 77));
        assert_eq!(resize_bicubic_aa(&flat, 40, 30), flat);
    }
}
