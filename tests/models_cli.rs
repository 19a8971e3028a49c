//! Model loading and use through the command line, on the committed tiny
//! random-weight checkpoints: local directories, the Hugging Face cache
//! (offline), missing files, and verdicts that are no longer degraded.

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn tiny(family: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models/tiny")
        .join(family)
}

fn run_env(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_leoma-gpu"));
    cmd.args(args).env("HF_HUB_OFFLINE", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn embeds(out: &Output) -> serde_json::Value {
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn embed_prints_normalised_embeddings_and_cosines_in_argument_order() {
    let ff = task_dir().join("first_frame.png");
    let clip_dir = tiny("clip");
    let out = run(&[
        "embed",
        "--clip",
        clip_dir.to_str().unwrap(),
        "--image",
        ff.to_str().unwrap(),
        ff.to_str().unwrap(),
        "--text",
        "a photo of a cat",
        "naïve café — 東京 🙂",
    ]);
    let v = embeds(&out);
    let img = v["image_embeds"].as_array().unwrap();
    assert_eq!(img.len(), 2);
    let norm: f64 = img[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap().powi(2))
        .sum::<f64>()
        .sqrt();
    assert!((norm - 1.0).abs() < 1e-5, "{norm}");
    assert_eq!(img[0], img[1], "same image, same embedding");
    assert_eq!(v["cosine"].as_array().unwrap().len(), 2);
    assert_eq!(v["cosine"][0].as_array().unwrap().len(), 2);
    assert_eq!(
        v["token_ids"][0],
        serde_json::json!([49406, 320, 1125, 539, 320, 2368, 49407])
    );
    assert!(v["probability"].is_null(), "CLIP has no probability scale");
    assert_eq!(
        v["digests"]["model.safetensors"].as_str().unwrap().len(),
        64
    );
}

#[test]
fn siglip_reports_its_probability_and_dino_refuses_text() {
    let ff = task_dir().join("first_frame.png");
    let v = embeds(&run(&[
        "embed",
        "--siglip",
        tiny("siglip").to_str().unwrap(),
        "--image",
        ff.to_str().unwrap(),
        "--text",
        "a bird",
    ]));
    let p = v["probability"][0][0].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p));
    let out = run(&[
        "embed",
        "--dino",
        tiny("dinov2").to_str().unwrap(),
        "--image",
        ff.to_str().unwrap(),
        "--text",
        "a bird",
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--text needs a model with a text tower"),
        "{}",
        out.stderr
    );
}

/// A Hugging Face cache holding the tiny CLIP as `leoma/tiny-clip`.
fn hub_cache(root: &Path) {
    let repo = root.join("hub/models--leoma--tiny-clip");
    let snap = repo.join("snapshots/0123456789abcdef0123456789abcdef01234567");
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(
        repo.join("refs/main"),
        "0123456789abcdef0123456789abcdef01234567",
    )
    .unwrap();
    for f in [
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
        "tokenizer.json",
    ] {
        std::fs::copy(tiny("clip").join(f), snap.join(f)).unwrap();
    }
}

#[test]
fn hub_ids_resolve_through_the_hf_cache_offline() {
    let home = tempfile::tempdir().unwrap();
    hub_cache(home.path());
    let ff = task_dir().join("first_frame.png");
    let env = [("HF_HOME", home.path())];
    let from_hub = embeds(&run_env(
        &[
            "embed",
            "--clip",
            "leoma/tiny-clip",
            "--image",
            ff.to_str().unwrap(),
        ],
        &env,
    ));
    let from_dir = embeds(&run(&[
        "embed",
        "--clip",
        tiny("clip").to_str().unwrap(),
        "--image",
        ff.to_str().unwrap(),
    ]));
    assert_eq!(from_hub["image_embeds"], from_dir["image_embeds"]);
    assert_eq!(from_hub["digests"], from_dir["digests"]);

    let missing = run_env(
        &[
            "embed",
            "--clip",
            "leoma/absent",
            "--image",
            ff.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("leoma/absent") && missing.stderr.contains("HF_HUB_OFFLINE"),
        "{}",
        missing.stderr
    );

    let list = run_env(&["models", "list"], &env);
    assert_eq!(list.code, 0);
    assert!(list.stdout.contains("leoma/tiny-clip"), "{}", list.stdout);
}

#[test]
fn a_model_dir_missing_a_file_is_an_input_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
    ] {
        std::fs::copy(tiny("clip").join(f), dir.path().join(f)).unwrap();
    }
    let ff = task_dir().join("first_frame.png");
    let out = run(&[
        "embed",
        "--clip",
        dir.path().to_str().unwrap(),
        "--image",
        ff.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("tokenizer.json"), "{}", out.stderr);
    std::fs::write(dir.path().join("tokenizer.json"), "{not json").unwrap();
    let out = run(&[
        "embed",
        "--clip",
        dir.path().to_str().unwrap(),
        "--image",
        ff.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("tokenizer.json"), "{}", out.stderr);
}

#[test]
fn with_models_the_verdict_is_not_degraded_and_records_weight_digests() {
    let (video, ff, p) = (
        clip("miner-clean"),
        task_dir().join("first_frame.png"),
        prompt(),
    );
    let mut args = score_args(video.to_str().unwrap(), ff.to_str().unwrap(), &p);
    let (c, s, d) = (tiny("clip"), tiny("siglip"), tiny("dinov2"));
    args.extend([
        "--clip",
        c.to_str().unwrap(),
        "--siglip",
        s.to_str().unwrap(),
        "--dino",
        d.to_str().unwrap(),
    ]);
    let out = run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["degraded"], false);
    assert!(v["aspect_scores"]["prompt_adherence"].is_u64());
    for key in [
        "clip/model.safetensors",
        "siglip/model.safetensors",
        "dinov2/model.safetensors",
        "siglip/tokenizer.json",
    ] {
        assert_eq!(
            v["evaluator"]["model_digests"][key].as_str().map(str::len),
            Some(64),
            "{key}"
        );
    }
    for key in [
        "semantic.clip_prompt",
        "semantic.siglip_prompt",
        "semantic.dinov2_first_frame",
        "semantic.clip_first_frame",
    ] {
        assert!(v["metrics"][key].is_f64(), "{key} missing");
    }
    assert!(
        v["metrics"]["semantic.clip_prompt_pieces"]
            .as_f64()
            .unwrap()
            >= 2.0,
        "the long prompt is cut into pieces"
    );
    assert_eq!(
        v["curves"]["semantic.dinov2_to_first"][0]
            .as_f64()
            .map(|x| (x - 1.0).abs() < 1e-5),
        Some(true)
    );
    // Without models, the same clip's verdict is degraded and names what is missing.
    let plain: serde_json::Value = serde_json::from_str(
        &run(&score_args(
            video.to_str().unwrap(),
            ff.to_str().unwrap(),
            &p,
        ))
        .stdout,
    )
    .unwrap();
    assert_eq!(plain["degraded"], true);
    assert!(plain["degraded_reasons"][0]
        .as_str()
        .unwrap()
        .contains("--clip or --siglip"));
}
