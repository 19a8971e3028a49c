//! Qwen3-VL cost per clip and per extra question, with the real
//! Qwen3-VL-2B-Instruct shapes (random weights: `scripts/make-qwen3vl-reference.sh
//! --2b DIR` writes them, ~4.3 GB, not committed), on the example clip under
//! the calibration's [vlm] frame policy. `scripts/bench-qwen3vl.sh` makes the
//! weights and runs this on the CPU.
//!
//! Prints: load time; per clip the vision tower (image + 16-frame video),
//! the shared prefix and the first question; each further question; and the
//! peak resident memory. Under `cargo test` (no `--bench`) it smoke-tests the
//! same path on the tiny checkpoint.

mod common;

use leoma_gpu::decode::{probe, FrameStream, Limits};
use leoma_gpu::models::device;
use leoma_gpu::models::qwen3_vl::processor::uniform_indices;
use leoma_gpu::models::qwen3_vl::{questions, ClipInput, Qwen3Vl};
use leoma_gpu::verdict::calibration::Calibration;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cache = common::cache_dir();
    let dir = if measuring {
        let d = std::env::var_os("LEOMA_QWEN3VL_2B")
            .map(PathBuf::from)
            .unwrap_or_else(|| cache.join("qwen3-vl-2b-random"));
        assert!(
            d.join("config.json").is_file(),
            "{} missing: run scripts/make-qwen3vl-reference.sh --2b {}",
            d.display(),
            d.display()
        );
        d
    } else {
        root.join("models/tiny/qwen3_vl")
    };
    let examples = common::examples();
    let task = examples.join("task");
    let video = task.join("generated_videos/miner-clean.mp4");
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(task.join("metadata.json"))
            .expect("example task (scripts/fetch-examples.sh)"),
    )
    .unwrap();
    let prompt = meta["prompt"]["text"].as_str().unwrap().to_string();
    let policy = Calibration::embedded().vlm.expect("[vlm] policy");
    let limits = Limits::default();
    let info = probe(&video, &limits).expect("example clip");
    let wanted = uniform_indices(info.declared_frames.unwrap_or(81) as usize, policy.frames);
    let (mut frames, mut indices) = (Vec::new(), Vec::new());
    for f in FrameStream::open(&info, &limits).unwrap() {
        let f = f.unwrap();
        if wanted.binary_search(&f.index).is_ok() {
            indices.push(f.index);
            frames.push(f.rgb);
        }
    }
    let condition = leoma_gpu::pipeline::load_image(&task.join("first_frame.png")).unwrap();

    let (dev, _) = device::select(std::env::var_os("LEOMA_BENCH_CPU").is_some());
    let dtype = device::vlm_dtype(&dev);
    let t = Instant::now();
    let model = Qwen3Vl::load(dir.to_str().unwrap(), &dev, dtype).expect("load Qwen3-VL");
    let load_s = t.elapsed().as_secs_f64();
    let clip = ClipInput {
        frames: &frames,
        frame_indices: &indices,
        fps: info.fps,
        condition: Some(&condition),
    };
    let qs = questions::for_prompt(&prompt, true);
    let runs = 1;
    let mut rows = Vec::new();
    for run in 0..runs {
        let t = Instant::now();
        let enc = model.encode(&clip, &policy).unwrap();
        let encode_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let one = model.ask(&enc, &qs[..1]).unwrap();
        let first_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let all = model.ask(&enc, &qs).unwrap();
        let all_s = t.elapsed().as_secs_f64();
        assert_eq!(all.len(), qs.len());
        assert!(one[0].answer.value.is_finite());
        rows.push((run, encode_s, first_s, all_s));
    }
    let tokens = model
        .prompt(&model.encode(&clip, &policy).unwrap(), &qs[0].text)
        .unwrap()
        .ids
        .len();
    println!(
        "qwen3-vl bench: {} ({}), device {:?} {:?}, {} frames {:?}, {} questions, {} prompt tokens",
        dir.display(),
        if measuring {
            "2B shapes, random weights"
        } else {
            "tiny smoke test"
        },
        dev.location(),
        dtype,
        frames.len(),
        indices,
        qs.len(),
        tokens
    );
    println!("load: {load_s:.2} s");
    println!("| run | vision encode (s) | prefix + 1 question (s) | prefix + {} questions (s) | per extra question (s) | per clip, all questions (s) |", qs.len());
    println!("|---|---|---|---|---|---|");
    for (run, enc, first, all) in rows {
        let extra = (all - first) / (qs.len() - 1).max(1) as f64;
        println!(
            "| {run} | {enc:.2} | {first:.2} | {all:.2} | {extra:.2} | {:.2} |",
            enc + all
        );
    }
    if let Some(mib) = common::peak_rss_mib() {
        println!("peak RSS: {mib:.0} MiB");
    }
}
