//! Bad input gets a one-line error naming the file and the problem, exit code
//! 2, never a panic; inside a task, a bad clip fails alone.

mod common;

use common::*;
use std::path::Path;

fn score_hostile(video: &Path, first_frame: &Path) -> Output {
    let p = prompt();
    run(&score_args(
        video.to_str().unwrap(),
        first_frame.to_str().unwrap(),
        &p,
    ))
}

fn assert_input_error(out: &Output, file: &Path, needle: &str) {
    assert_eq!(
        out.code, 2,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout.is_empty(),
        "no verdict on stdout for unusable input"
    );
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("leoma-gpu: "))
        .collect();
    assert_eq!(lines.len(), 1, "one error line expected:\n{}", out.stderr);
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        lines[0].contains(name),
        "error should name {name}: {}",
        lines[0]
    );
    assert!(
        lines[0].contains(needle),
        "error should say '{needle}': {}",
        lines[0]
    );
}

#[test]
fn hostile_clips_are_rejected_with_the_reason() {
    let ff = task_dir().join("first_frame.png");
    for (name, needle) in [
        ("zero-byte.mp4", "file is empty"),
        ("truncated.mp4", "not a readable video container"),
        ("random.mp4", "not a readable video container"),
        ("image.mp4", "a still image"),
        ("audio-only.mp4", "no video stream"),
        ("huge-dims.mp4", "frame size 8192x4320 is outside"),
        ("long.mp4", "over the limit"),
        ("tiny-dims.mp4", "frame size 16x16 is outside"),
        ("one-frame.mp4", "decodable frame"),
    ] {
        let video = hostile(name);
        let out = score_hostile(&video, &ff);
        assert_input_error(&out, &video, needle);
    }
}

#[test]
fn missing_video_is_an_input_error() {
    let video = hostile("does-not-exist.mp4");
    assert_input_error(
        &score_hostile(&video, &task_dir().join("first_frame.png")),
        &video,
        "cannot read file",
    );
}

#[test]
fn corrupt_or_fake_first_frame_is_an_input_error() {
    for name in ["corrupt-first-frame.png", "not-an-image.png"] {
        let img = hostile(name);
        let out = score_hostile(&clip("miner-clean"), &img);
        assert_input_error(&out, &img, "cannot read image");
    }
}

#[test]
fn limits_are_configurable_and_enforced_before_decoding() {
    let video = clip("miner-clean");
    let p = prompt();
    let mut args = score_args(video.to_str().unwrap(), "x", &p);
    let ff = task_dir().join("first_frame.png");
    args[3] = ff.to_str().unwrap();
    args.extend(["--max-duration", "2"]);
    assert_input_error(&run(&args), &video, "over the limit of 2.0 s");
    args.truncate(6);
    args.extend(["--max-frames", "40"]);
    assert_input_error(&run(&args), &video, "more than 40 frames");
}

#[test]
fn bad_thresholds_and_empty_prompt_are_input_errors() {
    let video = clip("miner-clean");
    let ff = task_dir().join("first_frame.png");
    let out = run(&[
        "score",
        video.to_str().unwrap(),
        "--first-frame",
        ff.to_str().unwrap(),
        "--prompt",
        " ",
    ]);
    assert_eq!(out.code, 2);
    let out = run(&[
        "score",
        video.to_str().unwrap(),
        "--first-frame",
        ff.to_str().unwrap(),
        "--prompt",
        "p",
        "--pass-threshold",
        "170",
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("pass threshold"));
}

fn copy_task(to: &Path, miners: &[(&str, &Path)]) {
    std::fs::create_dir_all(to.join("generated_videos")).unwrap();
    std::fs::copy(
        task_dir().join("first_frame.png"),
        to.join("first_frame.png"),
    )
    .unwrap();
    for (hotkey, src) in miners {
        std::fs::copy(
            src,
            to.join("generated_videos").join(format!("{hotkey}.mp4")),
        )
        .unwrap();
    }
    let hotkeys: Vec<&str> = miners.iter().map(|(h, _)| *h).collect();
    let meta = serde_json::json!({"task_id": 5, "prompt": {"text": prompt()}, "miners": hotkeys});
    std::fs::write(to.join("metadata.json"), meta.to_string()).unwrap();
}

#[test]
fn a_hostile_clip_inside_a_task_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let clean = clip("miner-clean");
    let (random, audio, image) = (
        hostile("random.mp4"),
        hostile("audio-only.mp4"),
        hostile("image.mp4"),
    );
    copy_task(
        dir.path(),
        &[
            ("5Good", &clean),
            ("5Random", &random),
            ("5Audio", &audio),
            ("5Image", &image),
        ],
    );
    let out = run(&["evaluate", dir.path().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(r["ranking"][0]["hotkey"], "5Good");
    assert!(r["verdicts"]["5Good"]["error"].is_null());
    assert!(r["verdicts"]["5Good"]["overall_score"].as_i64().unwrap() > 50);
    for (hotkey, kind) in [
        ("5Random", "not_a_video"),
        ("5Audio", "no_video_stream"),
        ("5Image", "still_image"),
    ] {
        let v = &r["verdicts"][hotkey];
        assert_eq!(v["passed"], false);
        assert_eq!(v["error"]["kind"], kind, "{hotkey}: {v}");
        assert_eq!(v["overall_score"], 0);
    }
}

#[test]
fn malformed_task_directories_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let clean = clip("miner-clean");
    copy_task(dir.path(), &[("5Good", &clean)]);
    let meta = dir.path().join("metadata.json");
    for (text, needle) in [
        ("{\"task_id\": 1, \"prompt\": ", "malformed metadata"),
        (
            "{\"task_id\": 1, \"miners\": [\"5Good\"]}",
            "missing field `prompt`",
        ),
        (
            "{\"task_id\": 1, \"prompt\": \"p\", \"miners\": []}",
            "miners list is empty",
        ),
        ("[1, 2, 3]", "malformed metadata"),
    ] {
        std::fs::write(&meta, text).unwrap();
        let out = run(&["evaluate", dir.path().to_str().unwrap()]);
        assert_eq!(out.code, 2, "{text}: {}", out.stderr);
        assert!(
            out.stderr.contains("metadata.json") && out.stderr.contains(needle),
            "{text}: {}",
            out.stderr
        );
    }
    std::fs::remove_file(&meta).unwrap();
    let out = run(&["evaluate", dir.path().to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("not a task directory"),
        "{}",
        out.stderr
    );

    copy_task(dir.path(), &[("5Good", &clean)]);
    std::fs::copy(
        hostile("corrupt-first-frame.png"),
        dir.path().join("first_frame.png"),
    )
    .unwrap();
    let out = run(&["evaluate", dir.path().to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("first_frame.png") && out.stderr.contains("cannot read image"),
        "{}",
        out.stderr
    );
}
