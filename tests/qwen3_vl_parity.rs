//! Parity of `leoma_gpu::models::qwen3_vl` with transformers 5.24's
//! Qwen3-VL on identical random weights and real inputs, as written by
//! `scripts/make-qwen3vl-reference.sh` (`tests/golden/qwen3_vl/`,
//! `models/tiny/qwen3_vl/`): 16 frames of the example clip as a video, the
//! task's first frame as an image, the task's prompt in two questions.
//!
//! Tolerances: input ids, token kinds, grids and M-RoPE positions exactly;
//! pixel tensors bit for bit (sha256 of the float32 bytes: the resize is an
//! exact port of torch's uint8 path); vision features within 1e-4; logits at
//! the read position within 1e-4 over the whole vocabulary; P(yes) and the
//! expected digit within 1e-5. The same clip asked twice gives the same bits.

mod common;

use leoma_gpu::frames::RgbFrame;
use leoma_gpu::models::qwen3_vl::processor::{uniform_indices, ProcessorSettings};
use leoma_gpu::models::qwen3_vl::reading::AnswerKind;
use leoma_gpu::models::qwen3_vl::{
    prompt::rope_positions, ClipInput, Question, Qwen3Vl, VlmPolicy,
};
use leoma_gpu::verdict::calibration::{sha256_hex, Calibration};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    common::repo("")
}

fn model_dir() -> PathBuf {
    let dir = root().join("models/tiny/qwen3_vl");
    assert!(
        dir.join("tokenizer.json").is_file(),
        "{}/tokenizer.json missing: run scripts/fetch-qwen-tokenizer.sh first (the README's test command does)",
        dir.display()
    );
    dir
}

fn golden() -> Value {
    common::golden_json("tests/golden/qwen3_vl/qwen3_vl.json")
}

fn f32_file(name: &str) -> Vec<f32> {
    common::golden_f32(&format!("tests/golden/qwen3_vl/{name}"))
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn f32_sha(v: &[f32]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    sha256_hex(&bytes)
}

fn max_diff(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .fold(0.0, f64::max)
}

/// The 16 frames, regenerated with the golden's ffmpeg commands and checked
/// byte for byte, decoded as the pipeline decodes images.
fn frames(g: &Value, dir: &Path) -> Vec<RgbFrame> {
    let examples = common::examples_dir();
    g["inputs"]["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let args: Vec<String> = f["command"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            let out = dir.join(args.last().unwrap());
            let status = std::process::Command::new(&args[0])
                .args(&args[1..args.len() - 1])
                .arg(&out)
                .current_dir(examples.parent().unwrap())
                .status()
                .unwrap();
            assert!(status.success(), "{args:?}");
            assert_eq!(
                sha256_hex(&std::fs::read(&out).unwrap()),
                f["png_sha256"].as_str().unwrap(),
                "frame {} differs from the reference's",
                f["index"]
            );
            let img = leoma_gpu::pipeline::load_image(&out).unwrap();
            assert_eq!(sha256_hex(&img.data), f["rgb_sha256"].as_str().unwrap());
            img
        })
        .collect()
}

fn policy(g: &Value) -> VlmPolicy {
    let p = &g["policy"];
    let n = |k: &str| p[k].as_u64().unwrap() as usize;
    VlmPolicy {
        questions: leoma_gpu::models::qwen3_vl::questions::VERSION.into(),
        frames: n("frames"),
        video_min_pixels: n("video_min_pixels"),
        video_max_pixels: n("video_max_pixels"),
        image_min_pixels: n("image_min_pixels"),
        image_max_pixels: n("image_max_pixels"),
    }
}

fn load() -> Qwen3Vl {
    let dir = model_dir();
    Qwen3Vl::load(
        dir.to_str().unwrap(),
        &candle_core::Device::Cpu,
        candle_core::DType::F32,
    )
    .unwrap()
}

#[test]
fn the_calibrated_frame_policy_is_the_goldens() {
    let g = golden();
    let cal = Calibration::embedded();
    assert_eq!(
        cal.vlm.as_ref().expect("[vlm] in the calibration"),
        &policy(&g)
    );
    assert_eq!(
        uniform_indices(
            g["inputs"]["clip_frames"].as_u64().unwrap() as usize,
            policy(&g).frames
        ),
        usizes(&g["inputs"]["frame_indices"])
    );
}

#[test]
fn processor_matches_transformers_bit_for_bit() {
    let g = golden();
    let dir = tempfile::tempdir().unwrap();
    let frames = frames(&g, dir.path());
    let condition =
        leoma_gpu::pipeline::load_image(&common::task_dir().join("first_frame.png")).unwrap();
    assert_eq!(
        sha256_hex(&condition.data),
        g["inputs"]["condition"]["rgb_sha256"].as_str().unwrap()
    );
    let settings =
        ProcessorSettings::from_file(&model_dir().join("processor_config.json")).unwrap();
    let p = policy(&g);
    let image = settings
        .image(&condition, p.image_min_pixels, p.image_max_pixels)
        .unwrap();
    let video = settings
        .video(&frames, p.video_min_pixels, p.video_max_pixels)
        .unwrap();
    let gp = &g["processor"];
    assert_eq!(image.grid.to_vec(), usizes(&gp["image_grid_thw"][0]));
    assert_eq!(video.grid.to_vec(), usizes(&gp["video_grid_thw"][0]));
    for (name, ours, theirs) in [
        ("image", &image.pixels, &gp["pixel_values"]),
        ("video", &video.pixels, &gp["pixel_values_videos"]),
    ] {
        let stride = theirs["sample_stride"].as_u64().unwrap() as usize;
        let samples: Vec<f32> = ours.iter().step_by(stride).copied().collect();
        let want: Vec<f32> = theirs["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let d = max_diff(&samples, &want);
        assert_eq!(
            f32_sha(ours),
            theirs["f32le_sha256"].as_str().unwrap(),
            "{name} pixel values differ from transformers' (sampled max |d| {d})"
        );
    }
}

#[test]
fn model_matches_transformers_and_is_deterministic() {
    let g = golden();
    let dir = tempfile::tempdir().unwrap();
    let frames = frames(&g, dir.path());
    let condition =
        leoma_gpu::pipeline::load_image(&common::task_dir().join("first_frame.png")).unwrap();
    let model = load();
    let indices = usizes(&g["inputs"]["frame_indices"]);
    let clip = ClipInput {
        frames: &frames,
        frame_indices: &indices,
        fps: g["inputs"]["clip_fps"].as_f64().unwrap(),
        condition: Some(&condition),
    };
    let encoded = model.encode(&clip, &policy(&g)).unwrap();

    let cases = g["questions"].as_array().unwrap();
    let questions: Vec<Question> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| Question {
            id: format!("q{i}"),
            kind: if c["kind"] == "graded" {
                AnswerKind::Graded
            } else {
                AnswerKind::YesNo
            },
            text: c["user_text"].as_str().unwrap().to_string(),
        })
        .collect();
    for (q, c) in questions.iter().zip(cases) {
        let p = model.prompt(&encoded, &q.text).unwrap();
        let want: Vec<u32> = c["input_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(p.ids, want, "{}: input ids differ", q.id);
        let kinds: Vec<u64> = p.kinds.iter().map(|k| *k as u64).collect();
        let want_kinds: Vec<u64> = c["mm_token_type_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(kinds, want_kinds, "{}: token kinds differ", q.id);
    }
    let p0 = model.prompt(&encoded, &questions[0].text).unwrap();
    let pos = rope_positions(&p0, encoded.layout()).unwrap();
    for (axis, want) in pos.iter().zip(g["rope_position_ids"].as_array().unwrap()) {
        let want: Vec<u32> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(axis, &want, "M-RoPE positions differ");
    }

    let readings = model.ask(&encoded, &questions).unwrap();
    let full = f32_file("logits_q0.f32");
    let d = max_diff(&readings[0].logits, &full);
    eprintln!("q0 logits: max |d| over {} entries = {d:.3e}", full.len());
    assert!(d <= 1e-4, "q0 logits differ by {d}");
    for (r, c) in readings.iter().zip(cases) {
        for (id, v) in c["logits_at"].as_object().unwrap() {
            let i: usize = id.parse().unwrap();
            let d = (r.logits[i] as f64 - v.as_f64().unwrap()).abs();
            assert!(d <= 1e-4, "{}: logit {i} differs by {d}", r.id);
        }
        let a = &c["answers"];
        let (value, mass) = match r.answer.kind {
            AnswerKind::YesNo => (
                a["p_yes"].as_f64().unwrap(),
                a["p_yes_mass"].as_f64().unwrap() + a["p_no_mass"].as_f64().unwrap(),
            ),
            AnswerKind::Graded => (
                a["expected_digit"].as_f64().unwrap() / 9.0,
                a["digit_mass"].as_f64().unwrap(),
            ),
        };
        let dv = (r.answer.value - value).abs();
        eprintln!(
            "{}: value {:.9} vs {:.9} (|d| {dv:.2e}), mass {:.6e} vs {mass:.6e}",
            r.id, r.answer.value, value, r.answer.mass
        );
        assert!(dv <= 1e-5, "{}: answer differs by {dv}", r.id);
        assert!(
            (r.answer.mass - mass).abs() <= 1e-5 * mass.max(1e-3),
            "{}: answer mass",
            r.id
        );
    }

    // the same clip again: identical bits
    let again = model
        .ask(&model.encode(&clip, &policy(&g)).unwrap(), &questions)
        .unwrap();
    for (a, b) in readings.iter().zip(&again) {
        assert_eq!(
            a.answer.value.to_bits(),
            b.answer.value.to_bits(),
            "{} not reproducible",
            a.id
        );
        assert_eq!(f32_sha(&a.logits), f32_sha(&b.logits));
    }
    // one question alone (no shared prefix beyond its own tokens) reads the same within tolerance
    let alone = model.ask(&encoded, &questions[1..2]).unwrap();
    assert!((alone[0].answer.value - readings[1].answer.value).abs() <= 1e-6);
}
