//! Our SSIM and PSNR against ffmpeg's own `ssim` and `psnr` filters, on the
//! same real luma planes (written as PGM, so ffmpeg reads exactly our bytes).
//! `scripts/ffmpeg-quality-reference.sh` produces the reference numbers.
//!
//! Tolerance: ffmpeg prints SSIM with 6 decimals and PSNR with 2 (the script
//! recovers more from its stats output), and sums its per-row f32 SSIM in a
//! slice-threaded order; |ΔSSIM| <= 2e-6 and |ΔPSNR| <= 0.01 dB cover both.

mod common;

use common::*;
use leoma_gpu::decode::{probe, FrameStream, Limits};
use leoma_gpu::frames::align::align_condition;
use leoma_gpu::metrics::ssim::{mse_u8, psnr_from_mse, ssim_u8};
use leoma_gpu::pipeline::load_image;
use std::path::Path;
use std::process::Command;

fn write_pgm(path: &Path, w: usize, h: usize, data: &[u8]) {
    let mut bytes = format!("P5\n{w} {h}\n255\n").into_bytes();
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

fn frames(video: &Path, take: &[usize]) -> Vec<Vec<u8>> {
    let limits = Limits::default();
    let info = probe(video, &limits).unwrap();
    FrameStream::open(&info, &limits)
        .unwrap()
        .map(|f| f.unwrap())
        .filter(|f| take.contains(&f.index))
        .map(|f| f.rgb.luma_u8())
        .collect()
}

#[test]
fn ssim_and_psnr_match_ffmpeg_filters_on_real_frames() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ffmpeg-quality-reference.sh");
    let cond = load_image(&task_dir().join("first_frame.png")).unwrap();
    let (aligned, _) = align_condition(&cond, 832, 480, "catmull-rom").unwrap();
    let cond_luma = aligned.luma_u8();
    let clean = frames(&clip("miner-clean"), &[0, 40]);
    let mut pairs: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        (
            "clean frame 0 vs first frame",
            clean[0].clone(),
            cond_luma.clone(),
        ),
        (
            "clean frame 40 vs frame 0",
            clean[1].clone(),
            clean[0].clone(),
        ),
        ("identical", clean[0].clone(), clean[0].clone()),
    ];
    for miner in ["miner-noisy", "miner-blurred", "miner-flicker"] {
        pairs.push((
            miner,
            frames(&clip(miner), &[1]).remove(0),
            cond_luma.clone(),
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, a, b) in &pairs {
        let (pa, pb) = (dir.path().join("a.pgm"), dir.path().join("b.pgm"));
        write_pgm(&pa, 832, 480, a);
        write_pgm(&pb, 832, 480, b);
        let out = Command::new("bash")
            .arg(&script)
            .arg(&pb)
            .arg(&pa)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ours_ssim = ssim_u8(a, b, 832, 480).unwrap();
        let ref_ssim = r["ssim_y"].as_f64().unwrap();
        println!(
            "{name}: SSIM ours {ours_ssim:.7} ffmpeg {ref_ssim:.7}; PSNR ffmpeg {}",
            r["psnr_y"]
        );
        assert!(
            (ours_ssim - ref_ssim).abs() <= 2e-6,
            "{name}: SSIM ours {ours_ssim} ffmpeg {ref_ssim}"
        );
        let mse = mse_u8(a, b).unwrap();
        match r["psnr_y"].as_f64() {
            Some(ref_psnr) => {
                let ours = psnr_from_mse(mse);
                assert!(
                    (ours - ref_psnr).abs() <= 0.01,
                    "{name}: PSNR ours {ours} ffmpeg {ref_psnr}"
                );
            }
            None => {
                assert_eq!(r["psnr_y"], "inf", "{name}");
                assert_eq!(mse, 0.0, "{name}: ffmpeg says identical");
            }
        }
    }
}
