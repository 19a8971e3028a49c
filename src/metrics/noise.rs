//! Noise: Immerkær's fast noise-variance estimate (CVIU 1996) on native luma:
//! σ = sqrt(π/2) / (6 (W-2)(H-2)) Σ |I * N|, N = [[1,-2,1],[-2,4,-2],[1,-2,1]].
//! `visual.noise_sigma` (median over samples, in levels) and
//! `visual.noise_excess` (clip σ minus the conditioning image's σ).

use super::{Measurements, Metric};
use crate::features::ClipFeatures;
use crate::frames::Plane;

pub fn immerkaer_sigma(p: &Plane) -> f64 {
    if p.width < 3 || p.height < 3 {
        return 0.0;
    }
    let mut sum = 0f64;
    for y in 1..p.height - 1 {
        for x in 1..p.width - 1 {
            let v = p.at(x - 1, y - 1) - 2.0 * p.at(x, y - 1) + p.at(x + 1, y - 1)
                - 2.0 * p.at(x - 1, y)
                + 4.0 * p.at(x, y)
                - 2.0 * p.at(x + 1, y)
                + p.at(x - 1, y + 1)
                - 2.0 * p.at(x, y + 1)
                + p.at(x + 1, y + 1);
            sum += v.abs() as f64;
        }
    }
    (std::f64::consts::PI / 2.0).sqrt() * sum / (6.0 * ((p.width - 2) * (p.height - 2)) as f64)
}

pub struct Noise;

impl Metric for Noise {
    fn name(&self) -> &'static str {
        "noise"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        if clip.samples.is_empty() {
            out.skip("visual.noise_sigma", "no sampled frames");
            return;
        }
        let sigmas: Vec<f64> = clip
            .samples
            .iter()
            .map(|s| immerkaer_sigma(&s.native_luma))
            .collect();
        let sigma = super::median(&sigmas);
        out.set("visual.noise_sigma", sigma);
        out.set(
            "visual.noise_excess",
            sigma - immerkaer_sigma(&clip.condition_native_luma),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_sigma_of_gaussian_noise_on_flat_image() {
        // Box-Muller over a fixed xorshift stream: deterministic Gaussian noise, σ = 8.
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut uniform = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let (w, h) = (256, 256);
        let data: Vec<f32> = (0..w * h)
            .map(|_| {
                let (u1, u2) = (uniform(), uniform());
                (128.0 + 8.0 * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos())
                    as f32
            })
            .collect();
        let sigma = immerkaer_sigma(&Plane::new(w, h, data));
        assert!((sigma - 8.0).abs() < 0.2, "{sigma}");
        assert_eq!(immerkaer_sigma(&Plane::filled(16, 16, 3.0)), 0.0);
    }
}
