//! `leoma-gpu score` on real clips: JSON schema, table, --out, determinism.

mod common;

use common::*;

#[test]
fn score_prints_the_documented_verdict_schema() {
    let (video, ff, p) = (
        clip("miner-clean"),
        task_dir().join("first_frame.png"),
        prompt(),
    );
    let out = run(&score_args(
        video.to_str().unwrap(),
        ff.to_str().unwrap(),
        &p,
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    for key in [
        "passed",
        "overall_score",
        "confidence",
        "aspect_scores",
        "major_issues",
        "strengths",
        "reasoning",
        "degraded",
        "checks",
        "metrics",
        "evaluator",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let aspects: Vec<&String> = v["aspect_scores"].as_object().unwrap().keys().collect();
    assert_eq!(aspects.len(), 6);
    assert!((0..=100).contains(&v["overall_score"].as_i64().unwrap()));
    assert!(v["metrics"]["first_frame.ssim"].as_f64().unwrap() > 0.95);
}

#[test]
fn out_file_and_table_format() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("verdict.txt");
    let (video, ff, p) = (
        clip("miner-frozen"),
        task_dir().join("first_frame.png"),
        prompt(),
    );
    let mut args = score_args(video.to_str().unwrap(), ff.to_str().unwrap(), &p);
    args.extend(["--format", "table", "--out", target.to_str().unwrap()]);
    let out = run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.starts_with("FAILED"), "{text}");
    assert!(text.contains("motion_quality"));
}

#[test]
fn thresholds_come_from_leoma_env_names() {
    let (video, ff, p) = (
        clip("miner-clean"),
        task_dir().join("first_frame.png"),
        prompt(),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leoma-gpu"))
        .args(score_args(
            video.to_str().unwrap(),
            ff.to_str().unwrap(),
            &p,
        ))
        .env("EVALUATION_PASS_THRESHOLD", "70")
        .output()
        .unwrap();
    assert!(out.status.success());
    let with_env: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let plain: serde_json::Value = serde_json::from_str(
        &run(&score_args(
            video.to_str().unwrap(),
            ff.to_str().unwrap(),
            &p,
        ))
        .stdout,
    )
    .unwrap();
    assert_ne!(
        with_env["evaluator"]["config_digest"], plain["evaluator"]["config_digest"],
        "thresholds are part of the config digest"
    );
}
