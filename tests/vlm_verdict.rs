//! The VLM inside the verdict and the `ask` command, on the tiny Qwen3-VL
//! checkpoint (random weights: the answers carry no meaning, the plumbing does).

mod common;

use serde_json::Value;

fn tiny() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tiny/qwen3_vl");
    assert!(
        dir.join("tokenizer.json").is_file(),
        "run scripts/fetch-qwen-tokenizer.sh first (the README's test command does)"
    );
    dir.to_str().unwrap().to_string()
}

fn score(extra: &[&str]) -> common::Output {
    let clip = common::clip("miner-clean");
    let ff = common::task_dir().join("first_frame.png");
    let prompt = common::prompt();
    let mut args = common::score_args(clip.to_str().unwrap(), ff.to_str().unwrap(), &prompt);
    args.extend_from_slice(extra);
    common::run(&args)
}

#[test]
fn the_vlm_feeds_the_verdict_and_is_recorded() {
    let model = tiny();
    let out = score(&["--vlm", &model]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    for key in [
        "vlm.prompt_overall",
        "vlm.prompt_action",
        "vlm.prompt_subject",
        "vlm.prompt_steps",
        "vlm.prompt_steps_min",
        "vlm.prompt_camera",
        "vlm.condition_match",
        "vlm.motion_plausible",
        "vlm.artefacts",
        "vlm.visual_quality",
        "vlm.judge_addressed",
        "vlm.q.prompt.step.2",
    ] {
        let x = v["metrics"][key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing"));
        assert!((0.0..=1.0).contains(&x), "{key} = {x}");
    }
    // the frame policy and the weights are recorded
    let policy = &v["evaluator"]["frame_policy"]["vlm"];
    assert_eq!(policy["frames"], 16);
    assert_eq!(policy["questions"], "vlm-questions-v1");
    let digests = v["evaluator"]["model_digests"].as_object().unwrap();
    assert!(digests.contains_key("qwen3_vl/model.safetensors"));
    assert!(digests.contains_key("qwen3_vl/tokenizer.json"));
    // prompt adherence rests on the VLM: nothing missing, not degraded
    assert!(v["aspect_scores"]["prompt_adherence"].is_u64());
    assert_eq!(v["missing_evidence"], Value::Array(vec![]));
    assert_eq!(v["degraded"], false);

    // the same clip twice: the same verdict, byte for byte
    let again = score(&["--vlm", &model]);
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn without_the_vlm_the_verdict_names_the_missing_evidence() {
    let out = score(&[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let missing: Vec<&str> = v["missing_evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        missing
            .iter()
            .any(|m| m
                .starts_with("prompt_adherence: the VLM's answers (primary evidence) are missing")),
        "{missing:?}"
    );
    assert!(missing
        .iter()
        .any(|m| m.starts_with("motion_quality: the VLM's answers (secondary evidence)")));
    assert!(v["evaluator"]["frame_policy"].get("vlm").is_none());
    assert!(v["degraded_reasons"][0].as_str().unwrap().contains("--vlm"));
}

#[test]
fn a_bad_vlm_is_refused_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("config.json"), "{\"text_config\": {}}").unwrap();
    let out = score(&["--vlm", d.path().to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("tokenizer.json"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"));
}

#[test]
fn ask_prints_each_questions_probabilities() {
    let model = tiny();
    let clip = common::clip("miner-clean");
    let ff = common::task_dir().join("first_frame.png");
    let out = common::run(&[
        "ask",
        "--vlm",
        &model,
        clip.to_str().unwrap(),
        "--first-frame",
        ff.to_str().unwrap(),
        "--question",
        "Is there a bird?",
        "Is it night?",
        "--graded-question",
        "How sharp is the video?",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let qs = v["questions"].as_array().unwrap();
    assert_eq!(qs.len(), 3);
    assert!(qs[0]["question"]
        .as_str()
        .unwrap()
        .ends_with("Question: Is there a bird? Answer with Yes or No."));
    let p = qs[0]["p_yes"].as_f64().unwrap();
    let probs = qs[0]["answer"]["probs"].as_array().unwrap();
    let (yes, no) = (probs[0].as_f64().unwrap(), probs[1].as_f64().unwrap());
    assert!((p - yes / (yes + no)).abs() < 1e-12);
    let e = qs[2]["expected_digit"].as_f64().unwrap();
    assert!((0.0..=9.0).contains(&e));
    assert_eq!(v["frame_indices"].as_array().unwrap().len(), 16);

    let out = common::run(&["ask", "--vlm", &model, clip.to_str().unwrap()]);
    assert_eq!(out.code, 2);
}

#[test]
fn a_sharded_checkpoint_loads_and_records_every_shard() {
    let src = std::path::PathBuf::from(tiny());
    let d = tempfile::tempdir().unwrap();
    for f in ["config.json", "processor_config.json", "tokenizer.json"] {
        std::fs::copy(src.join(f), d.path().join(f)).unwrap();
    }
    let shard = "model-00001-of-00001.safetensors";
    std::fs::copy(src.join("model.safetensors"), d.path().join(shard)).unwrap();
    let names = safetensors_names(&src.join("model.safetensors"));
    let map: serde_json::Map<String, Value> =
        names.into_iter().map(|n| (n, Value::from(shard))).collect();
    std::fs::write(
        d.path().join("model.safetensors.index.json"),
        serde_json::json!({"metadata": {}, "weight_map": map}).to_string(),
    )
    .unwrap();
    let m = leoma_gpu::models::qwen3_vl::Qwen3Vl::load(
        d.path().to_str().unwrap(),
        &candle_core::Device::Cpu,
        candle_core::DType::F32,
    )
    .unwrap();
    assert!(m.digests().contains_key(shard));
    assert!(m.digests().contains_key("model.safetensors.index.json"));
}

/// Tensor names in a safetensors header.
fn safetensors_names(p: &std::path::Path) -> Vec<String> {
    let bytes = std::fs::read(p).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Map<String, Value> = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    header
        .keys()
        .filter(|k| *k != "__metadata__")
        .cloned()
        .collect()
}
