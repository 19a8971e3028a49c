//! Shared helpers for the integration tests: the example media and the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A path inside the repository.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A committed golden JSON file, by path inside the repository.
pub fn golden_json(rel: &str) -> serde_json::Value {
    let p = repo(rel);
    serde_json::from_str(
        &std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A committed golden array of little-endian f32, by path inside the repository.
pub fn golden_f32(rel: &str) -> Vec<f32> {
    let p = repo(rel);
    std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The example media built by `scripts/fetch-examples.sh` (real clips from
/// Debian packages). Tests that need it fail, with the command to run, when
/// it is missing: they never skip silently.
pub fn examples_dir() -> PathBuf {
    let dir = std::env::var_os("LEOMA_EXAMPLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"));
    assert!(
        dir.join("task/metadata.json").is_file() && dir.join("hostile").is_dir(),
        "example media missing under {}: run scripts/fetch-examples.sh first (the README's test command does)",
        dir.display()
    );
    dir
}

pub fn task_dir() -> PathBuf {
    examples_dir().join("task")
}

pub fn clip(hotkey: &str) -> PathBuf {
    task_dir()
        .join("generated_videos")
        .join(format!("{hotkey}.mp4"))
}

pub fn hostile(name: &str) -> PathBuf {
    examples_dir().join("hostile").join(name)
}

pub fn prompt() -> String {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(task_dir().join("metadata.json")).unwrap())
            .unwrap();
    meta["prompt"]["text"].as_str().unwrap().to_string()
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_leoma-gpu"))
        .args(args)
        .env_remove("EVALUATION_PASS_THRESHOLD")
        .env_remove("EVALUATION_CRITICAL_THRESHOLD")
        .env_remove("RUST_LOG")
        .output()
        .expect("run leoma-gpu");
    let o = Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !o.stderr.contains("panicked"),
        "leoma-gpu panicked on {args:?}:\n{}",
        o.stderr
    );
    o
}

pub fn score_args<'a>(video: &'a str, first_frame: &'a str, prompt: &'a str) -> Vec<&'a str> {
    vec![
        "score",
        video,
        "--first-frame",
        first_frame,
        "--prompt",
        prompt,
    ]
}
