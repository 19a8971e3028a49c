//! `leoma-gpu flow`: a .flo file OpenCV can read (same layout, checked here
//! byte by byte), and clear exit-2 errors for bad input.

mod common;

use common::*;
use leoma_gpu::flow::flo;
use std::path::PathBuf;

fn golden(rel: &str) -> String {
    repo(&format!("tests/golden/flow/{rel}"))
        .display()
        .to_string()
}

fn tmp(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    (dir, p)
}

#[test]
fn writes_the_forward_flow_as_middlebury_flo() {
    let (_d, out) = tmp("f.flo");
    let a = golden("synthetic/office-base.png");
    let b = golden("synthetic/office-shift-medium.png");
    let r = run(&[
        "flow",
        &a,
        &b,
        "--out",
        out.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(summary["backend"], "cpu");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..4], b"PIEH");
    assert_eq!(bytes.len(), 12 + 416 * 240 * 8);
    let field = flo::read(&bytes[..]).unwrap();
    assert_eq!((field.width, field.height), (416, 240));
    // The shift is (5.5, 3.2): the centre of the frame moves by it.
    let i = 120 * 416 + 208;
    assert!(
        (field.u[i] - 5.5).abs() < 0.2 && (field.v[i] - 3.2).abs() < 0.2,
        "{} {}",
        field.u[i],
        field.v[i]
    );
}

#[test]
fn bad_inputs_exit_2_naming_the_file() {
    let (_d, out) = tmp("f.flo");
    let out = out.to_str().unwrap();
    let a = golden("synthetic/office-base.png");
    let not_an_image = repo("models/tiny/clip/config.json").display().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![a.clone(), "/nonexistent/b.png".into()],
            "/nonexistent/b.png",
        ),
        (vec![a.clone(), not_an_image], "config.json"),
        (
            vec![a.clone(), hostile("zero-byte.mp4").display().to_string()],
            "zero-byte.mp4",
        ),
    ];
    for (frames, needle) in cases {
        let r = run(&["flow", &frames[0], &frames[1], "--out", out]);
        assert_eq!(r.code, 2, "{frames:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{frames:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
    // Different sizes.
    let small = golden("real/office-5-a.png");
    let (_d2, resized) = tmp("small.png");
    image::open(&small)
        .unwrap()
        .resize_exact(100, 60, image::imageops::FilterType::Triangle)
        .save(&resized)
        .unwrap();
    let r = run(&["flow", &a, resized.to_str().unwrap(), "--out", out]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("same size"), "{}", r.stderr);
}

#[cfg(not(feature = "cuda"))]
#[test]
fn asking_for_cuda_without_it_is_an_error_not_a_fallback() {
    let (_d, out) = tmp("f.flo");
    let a = golden("synthetic/office-base.png");
    let r = run(&[
        "flow",
        &a,
        &a,
        "--out",
        out.to_str().unwrap(),
        "--backend",
        "cuda",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("without the `cuda` feature"),
        "{}",
        r.stderr
    );
}
