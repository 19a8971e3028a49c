//! Optical-flow throughput on the real example clip (run `scripts/fetch-examples.sh`
//! first), side by side with OpenCV's DIS (medium) and Farneback in the same run:
//!
//! 1. forward flow of consecutive pairs, one thread, at 416x240 and 832x480:
//!    ours beside OpenCV (`scripts/flow-reference.py bench`, when a Python with
//!    cv2 is found: `LEOMA_FLOWREF_PYTHON`, default the venv that
//!    `scripts/flow-reference.sh` makes);
//! 2. the full temporal analysis (forward + backward flow and every reduction)
//!    of one clip on all CPU threads;
//! 3. with `--features cuda` and a GPU: the analysis of a batch of 32 clips x
//!    80 pairs on the GPU, and the memory bandwidth that implies.
//!
//! `cargo bench --bench flow` measures; under `cargo test` it runs each step
//! once on a few frames as a smoke test.

use leoma_gpu::decode::{probe, FrameStream, Limits};
use leoma_gpu::flow::cpu::CpuFlow;
use leoma_gpu::flow::{FlowEngine, FlowParams};
use leoma_gpu::frames::{resize::resize_rgb, Plane};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{examples, time};

fn seconds(runs: usize, f: impl FnMut()) -> f64 {
    time(runs, f).0.as_secs_f64()
}

fn frames(video: &Path, size: (usize, usize), count: usize) -> Vec<Plane> {
    let limits = Limits::default();
    let info = probe(video, &limits).expect("probe");
    FrameStream::open(&info, &limits)
        .expect("open")
        .take(count)
        .map(|f| {
            let rgb = f.expect("frame").rgb;
            resize_rgb(&rgb, size.0, size.1, image::imageops::FilterType::Triangle).luma()
        })
        .collect()
}

/// OpenCV's single-thread pairs/s on the same frames, if a Python with cv2 is at hand.
fn opencv_pairs_per_s(frames: &[Plane]) -> Option<serde_json::Value> {
    let python = std::env::var_os("LEOMA_FLOWREF_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::cache_dir().join("flowref/bin/python"));
    if !python.exists() {
        return None;
    }
    let dir = tempfile::tempdir().ok()?;
    for (i, f) in frames.iter().enumerate() {
        let px: Vec<u8> = f
            .data
            .iter()
            .map(|v| v.round().clamp(0.0, 255.0) as u8)
            .collect();
        image::GrayImage::from_raw(f.width as u32, f.height as u32, px)?
            .save(dir.path().join(format!("{i:03}.png")))
            .ok()?;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/flow-reference.py");
    let out = Command::new(python)
        .arg(script)
        .arg("bench")
        .arg(dir.path())
        .output()
        .ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let video = examples().join("task/generated_videos/miner-clean.mp4");
    let params = FlowParams::default();
    let count = if measuring { 81 } else { 4 };
    let runs = if measuring { 3 } else { 1 };
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let engine = CpuFlow::new(params.clone());

    println!("Optical flow, real example clip (miner-clean.mp4), median of {runs} run(s)");
    println!("| size | implementation | threads | pairs/s | ours / it |");
    println!("|---|---|---:|---:|---:|");
    for size in [(416, 240), (832, 480)] {
        let clip = frames(&video, size, if measuring { 17 } else { 3 });
        let pairs: Vec<(&Plane, &Plane)> = clip.windows(2).map(|w| (&w[0], &w[1])).collect();
        let secs = one_thread.install(|| {
            seconds(runs, || {
                engine.flow_pairs(&pairs).expect("flow");
            })
        });
        let ours = pairs.len() as f64 / secs;
        println!(
            "| {}x{} | leoma-gpu CPU (forward flow) | 1 | {ours:.1} | |",
            size.0, size.1
        );
        if let Some(cv) = opencv_pairs_per_s(&clip) {
            for (name, v) in cv["pairs_per_s"].as_object().into_iter().flatten() {
                let theirs = v.as_f64().unwrap_or(f64::NAN);
                println!(
                    "| {}x{} | OpenCV {} {name} | 1 | {theirs:.1} | {:.2} |",
                    size.0,
                    size.1,
                    cv["opencv"].as_str().unwrap_or("?"),
                    ours / theirs
                );
            }
        }
    }

    let clip = frames(&video, (416, 240), count);
    let clip: Vec<&Plane> = clip.iter().collect();
    let threads = rayon::current_num_threads();
    let secs = seconds(runs, || {
        engine.analyze_clips(&[&clip]).expect("analysis");
    });
    println!(
        "\nFull temporal analysis (forward + backward flow, warping error, camera fit, \
         acceleration), one {}-frame clip at 416x240, {threads} CPU threads: {:.2} s, {:.1} pairs/s",
        clip.len(),
        secs,
        (clip.len() - 1) as f64 / secs
    );

    #[cfg(feature = "cuda")]
    gpu_batch(&params, &clip, measuring);
}

#[cfg(feature = "cuda")]
fn gpu_batch(params: &FlowParams, clip: &[&Plane], measuring: bool) {
    use leoma_gpu::flow::cuda::CudaFlow;
    let engine = match CudaFlow::new(params.clone(), 0) {
        Ok(e) => e,
        Err(e) => {
            println!("\nno GPU run: {e}");
            return;
        }
    };
    let clips_n = if measuring { 32 } else { 2 };
    let clips: Vec<&[&Plane]> = (0..clips_n).map(|_| clip).collect();
    engine.analyze_clips(&clips).expect("warm-up");
    let runs = if measuring { 3 } else { 1 };
    let secs = seconds(runs, || {
        engine.analyze_clips(&clips).expect("analysis");
    });
    let pairs = clips_n * (clip.len() - 1);
    let traffic = engine.modelled_bytes(clip[0].width, clip[0].height, pairs);
    let bw = engine.peak_bandwidth_bytes_per_s();
    println!(
        "\nGPU ({}): {clips_n} clips x {} pairs at {}x{}: {:.3} s, {:.0} pairs/s; modelled DRAM traffic {:.1} GB \
         = {:.0} GB/s, {:.0}% of the {:.0} GB/s peak",
        engine.device_name(),
        clip.len() - 1,
        clip[0].width,
        clip[0].height,
        secs,
        pairs as f64 / secs,
        traffic / 1e9,
        traffic / secs / 1e9,
        100.0 * traffic / secs / bw,
        bw / 1e9
    );
}
