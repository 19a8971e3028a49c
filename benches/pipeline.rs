//! Pipeline benchmark on the real example clips (run `scripts/fetch-examples.sh` first):
//!
//! 1. decode alone, and decode + features + metrics + verdict, per 81-frame
//!    832x480 clip, with the process's peak memory;
//! 2. SSIM + PSNR over 81 frame pairs: ours in memory beside ffmpeg's `ssim`
//!    and `psnr` filters on the same planes (raw gray video), in the same run.
//!
//! `cargo bench --bench pipeline` measures; under `cargo test` (no `--bench`
//! argument) it runs each step once as a smoke test.

use leoma_gpu::decode::{probe, FrameStream, Limits};
use leoma_gpu::metrics::ssim::{mse_u8, psnr_from_mse, ssim_u8};
use leoma_gpu::pipeline::{load_image, Evaluator};
mod common;

use common::{examples, time};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn luma_frames(video: &Path) -> Vec<Vec<u8>> {
    let limits = Limits::default();
    let info = probe(video, &limits).expect("probe");
    FrameStream::open(&info, &limits)
        .expect("open")
        .map(|f| f.expect("frame").rgb.luma_u8())
        .collect()
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let runs = if measuring { 7 } else { 1 };
    let task = examples().join("task");
    let clean = task.join("generated_videos/miner-clean.mp4");
    let noisy = task.join("generated_videos/miner-noisy.mp4");
    let condition = load_image(&task.join("first_frame.png")).expect("first frame");
    let evaluator = Evaluator::with_defaults();
    let threads = rayon::current_num_threads();

    let (decode, frames) = time(runs, || {
        let limits = Limits::default();
        let info = probe(&clean, &limits).unwrap();
        FrameStream::open(&info, &limits)
            .unwrap()
            .inspect(|f| assert!(f.is_ok()))
            .count()
    });
    let (judge, verdict) = time(runs, || {
        evaluator
            .judge_clip(&clean, &condition, "a cockatoo")
            .expect("judge")
    });
    let peak = common::peak_rss_mib().unwrap_or(f64::NAN);

    let (a, b) = (luma_frames(&clean), luma_frames(&noisy));
    let (ours, sums) = time(runs, || {
        a.iter()
            .zip(&b)
            .map(|(x, y)| {
                (
                    ssim_u8(x, y, 832, 480).unwrap(),
                    psnr_from_mse(mse_u8(x, y).unwrap()),
                )
            })
            .fold((0.0, 0.0), |s, v| (s.0 + v.0, s.1 + v.1))
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (ra, rb) = (dir.path().join("a.gray"), dir.path().join("b.gray"));
    std::fs::write(&ra, a.concat()).unwrap();
    std::fs::write(&rb, b.concat()).unwrap();
    let ffmpeg = |graph: &str| {
        let raw = [
            "-f", "rawvideo", "-pix_fmt", "gray", "-s", "832x480", "-r", "16", "-i",
        ];
        let status = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-threads", "1"])
            .args(raw)
            .arg(&rb)
            .args(raw)
            .arg(&ra)
            .args(["-lavfi", graph, "-f", "null", "-"])
            .status()
            .expect("run ffmpeg");
        assert!(status.success());
    };
    let (ff_both, _) = time(runs, || {
        ffmpeg("[0:v]split[a0][a1];[1:v]split[b0][b1];[a0][b0]ssim;[a1][b1]psnr")
    });
    let (ff_io, _) = time(runs, || ffmpeg("[0:v][1:v]hstack"));
    let ff_net = ff_both.saturating_sub(ff_io);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "leoma-gpu pipeline benchmark ({} run(s) each, median; rayon threads {threads})",
        runs
    );
    println!("| step | time | per frame |");
    println!("|---|---:|---:|");
    println!(
        "| decode 81-frame 832x480 H.264 clip | {:.1} ms | {:.2} ms |",
        ms(decode),
        ms(decode) / frames as f64
    );
    println!(
        "| decode + features + metrics + verdict | {:.1} ms | {:.2} ms |",
        ms(judge),
        ms(judge) / frames as f64
    );
    println!(
        "| SSIM+PSNR x{} pairs, leoma-gpu (in memory, 1 thread) | {:.1} ms | {:.2} ms |",
        a.len(),
        ms(ours),
        ms(ours) / a.len() as f64
    );
    println!("| SSIM+PSNR x{} pairs, ffmpeg filters (-threads 1, raw gray input) | {:.1} ms | {:.2} ms |", a.len(), ms(ff_both), ms(ff_both) / a.len() as f64);
    println!(
        "| ffmpeg reading the same input alone | {:.1} ms | |",
        ms(ff_io)
    );
    println!(
        "| ffmpeg filters net of input | {:.1} ms | ratio ffmpeg/ours {:.2} |",
        ms(ff_net),
        ms(ff_net) / ms(ours)
    );
    println!("peak resident memory: {peak:.0} MiB (VmHWM, before the SSIM section)");
    println!(
        "clean clip: overall {} (checksum ssim {:.4} psnr {:.2})",
        verdict.overall_score, sums.0, sums.1
    );
}
