//! CLIP image-tower throughput with the real ViT-B/32 shapes (random weights:
//! `scripts/make-reference-models.sh --b32` writes them, ~600 MB, with the
//! Python reference's timing of the same 32 frames). `scripts/bench-clip.sh`
//! runs both in one go and this prints them side by side.
//!
//! Under `cargo test` (no `--bench`), it smoke-tests on the tiny CLIP.

mod common;

use leoma_gpu::decode::{probe, FrameStream, Limits};
use leoma_gpu::models::clip::ClipEmbedder;
use leoma_gpu::models::{device, ImageEmbedder};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cache = common::cache_dir();
    let b32 = std::env::var_os("LEOMA_CLIP_B32")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache.join("clip-vit-b32-random"));
    let dir = if measuring {
        assert!(
            b32.join("model.safetensors").is_file(),
            "{} missing: run scripts/make-reference-models.sh --b32",
            b32.display()
        );
        b32.clone()
    } else {
        root.join("models/tiny/clip")
    };
    let examples = common::examples();
    let video = examples.join("task/generated_videos/miner-clean.mp4");
    let limits = Limits::default();
    let info = probe(&video, &limits).expect("example clip (scripts/fetch-examples.sh)");
    let frames: Vec<_> = FrameStream::open(&info, &limits)
        .unwrap()
        .take(32)
        .map(|f| f.unwrap().rgb)
        .collect();

    let (dev, dtype) = device::select(std::env::var_os("LEOMA_BENCH_CPU").is_some());
    let model = ClipEmbedder::load(dir.to_str().unwrap(), &dev, dtype).expect("load CLIP");
    let runs = if measuring { 5 } else { 1 };
    model.embed_images(&frames).unwrap(); // warm-up
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let e = model.embed_images(&frames).unwrap();
            assert_eq!(e.len(), frames.len());
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let ours = frames.len() as f64 / times[times.len() / 2];
    let threads = rayon::current_num_threads();
    println!("CLIP image tower, {} frames of the example clip (preprocessing included), {} run(s), median", frames.len(), runs);
    println!("| implementation | device | images/s |");
    println!("|---|---|---:|");
    println!(
        "| leoma-gpu (candle, {:?}) | {dev:?} ({threads} threads) | {ours:.1} |",
        dtype
    );
    if let Ok(text) = std::fs::read_to_string(dir.join("python-timing.json")) {
        let py: serde_json::Value = serde_json::from_str(&text).unwrap();
        let theirs = py["images_per_s"].as_f64().unwrap_or(f64::NAN);
        println!("| transformers {} (torch {}, preprocessing excluded) | cpu ({} threads) | {theirs:.1} |", py["versions"]["transformers"].as_str().unwrap_or("?"), py["versions"]["torch"].as_str().unwrap_or("?"), py["threads"]);
        println!("ratio leoma-gpu / transformers: {:.2}", ours / theirs);
    }
}
