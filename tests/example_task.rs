//! The bundled example task, on real clips: the clean clip wins, every
//! degradation costs overall and on the aspect it targets, the frozen clip
//! fails, bad miners get failed verdicts with reasons, output is deterministic.

mod common;

use common::*;
use serde_json::Value;
use std::sync::OnceLock;

fn report() -> &'static (Value, String) {
    static REPORT: OnceLock<(Value, String)> = OnceLock::new();
    REPORT.get_or_init(|| {
        let out = run(&["evaluate", task_dir().to_str().unwrap()]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        (serde_json::from_str(&out.stdout).unwrap(), out.stdout)
    })
}

fn verdict(hotkey: &str) -> &'static Value {
    &report().0["verdicts"][hotkey]
}

fn aspect(hotkey: &str, name: &str) -> i64 {
    verdict(hotkey)["aspect_scores"][name]
        .as_i64()
        .unwrap_or_else(|| panic!("{hotkey}.{name} is null"))
}

fn overall(hotkey: &str) -> i64 {
    verdict(hotkey)["overall_score"].as_i64().unwrap()
}

#[test]
fn clean_clip_ranks_first() {
    let ranking = report().0["ranking"].as_array().unwrap();
    assert_eq!(ranking[0]["hotkey"], "miner-clean", "{ranking:#?}");
    assert!(aspect("miner-clean", "first_frame_fidelity") >= 90);
    assert!(aspect("miner-clean", "temporal_consistency") >= 80);
}

#[test]
fn each_degradation_costs_overall_and_on_its_target_aspect() {
    for (miner, target) in [
        ("miner-frozen", "motion_quality"),
        ("miner-noisy", "visual_quality"),
        ("miner-blurred", "visual_quality"),
        ("miner-flicker", "temporal_consistency"),
        ("miner-cut", "temporal_consistency"),
        ("miner-shuffled", "temporal_consistency"),
        ("miner-overlay", "visual_quality"),
        ("miner-shaky", "camera_composition"),
    ] {
        assert!(
            overall(miner) < overall("miner-clean"),
            "{miner}: overall {} vs clean {}",
            overall(miner),
            overall("miner-clean")
        );
        assert!(
            aspect(miner, target) < aspect("miner-clean", target),
            "{miner}: {target} {} vs clean {}",
            aspect(miner, target),
            aspect("miner-clean", target)
        );
    }
}

#[test]
fn frozen_clip_fails_on_the_critical_floor_and_names_the_evidence() {
    let v = verdict("miner-frozen");
    assert_eq!(v["passed"], false);
    assert!(aspect("miner-frozen", "temporal_consistency") < 50);
    let issues = v["major_issues"].to_string();
    assert!(issues.contains("no motion"), "{issues}");
}

#[test]
fn degradations_are_named_in_the_evidence() {
    for (miner, needle) in [
        ("miner-cut", "cut between frames 39 and 40"),
        ("miner-overlay", "text or overlay"),
        ("miner-shuffled", "out of order"),
        ("miner-flicker", "flicker"),
        ("miner-noisy", "noise σ"),
        ("miner-blurred", "detail (Laplacian variance) at 0."),
        ("miner-shaky", "camera velocity changes"),
    ] {
        let issues = verdict(miner)["major_issues"].to_string();
        assert!(issues.contains(needle), "{miner}: {issues}");
    }
}

fn metric(hotkey: &str, name: &str) -> f64 {
    verdict(hotkey)["metrics"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("{hotkey}: {name} missing"))
}

#[test]
fn optical_flow_measures_separate_the_corruptions_from_the_clean_clip() {
    let clean = |name| metric("miner-clean", name);
    // Frozen: no motion at all; every pair static.
    assert!(metric("miner-frozen", "flow.motion") < 0.01);
    assert_eq!(metric("miner-frozen", "flow.static_pair_fraction"), 1.0);
    assert!(clean("flow.static_pair_fraction") == 0.0);
    // Shuffled and flickering frames do not follow from each other along the motion.
    for miner in ["miner-shuffled", "miner-flicker"] {
        assert!(
            metric(miner, "flow.warp_error") > 3.0 * clean("flow.warp_error"),
            "{miner}"
        );
        assert!(
            metric(miner, "flow.compensated_flicker") > 10.0 * clean("flow.compensated_flicker"),
            "{miner}"
        );
        assert!(
            metric(miner, "flow.jerk") > 2.0 * clean("flow.jerk"),
            "{miner}"
        );
    }
    // Shake: the camera's velocity jumps far more than the clean clip's.
    assert!(metric("miner-shaky", "camera.shake") > 4.0 * clean("camera.shake"));
    assert!(metric("miner-shaky", "flow.jerk") > 2.0 * clean("flow.jerk"));
    // The cut shows as a warping-error spike at the cut.
    let warp = verdict("miner-cut")["curves"]["flow.warp_error"]
        .as_array()
        .unwrap();
    let spike = warp
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.as_f64().unwrap().total_cmp(&b.1.as_f64().unwrap()))
        .unwrap()
        .0;
    assert_eq!(spike, 39, "{warp:?}");
    let v = verdict("miner-clean");
    assert_eq!(v["evaluator"]["flow_backend"], "cpu");
    for curve in [
        "flow.warp_error",
        "flow.motion",
        "camera.pan",
        "camera.zoom",
    ] {
        assert_eq!(v["curves"][curve].as_array().unwrap().len(), 80, "{curve}");
    }
    assert_eq!(
        v["curves"]["flow.acceleration"].as_array().unwrap().len(),
        79
    );
}

#[test]
fn without_a_prompt_model_the_verdict_is_degraded_and_never_passes() {
    for (hotkey, v) in report().0["verdicts"].as_object().unwrap() {
        assert_eq!(v["passed"], false, "{hotkey}");
        if v.get("error").is_none() {
            assert_eq!(v["degraded"], true, "{hotkey}");
            assert!(v["aspect_scores"]["prompt_adherence"].is_null());
            assert!(v["degraded_reasons"][0]
                .as_str()
                .unwrap()
                .contains("prompt_adherence"));
        }
    }
}

#[test]
fn unusable_miners_get_failed_verdicts_with_reasons_and_rank_last() {
    let missing = verdict("miner-missing");
    assert_eq!(missing["error"]["kind"], "missing_video");
    let truncated = verdict("miner-truncated");
    assert_eq!(truncated["error"]["kind"], "not_a_video");
    assert!(truncated["error"]["message"]
        .as_str()
        .unwrap()
        .contains("miner-truncated.mp4"));
    let ranking = report().0["ranking"].as_array().unwrap();
    let last_two: Vec<&str> = ranking[ranking.len() - 2..]
        .iter()
        .map(|e| e["hotkey"].as_str().unwrap())
        .collect();
    assert!(
        last_two.contains(&"miner-missing") && last_two.contains(&"miner-truncated"),
        "{last_two:?}"
    );
}

#[test]
fn every_verdict_records_how_it_was_made() {
    let v = verdict("miner-clean");
    let e = &v["evaluator"];
    assert!(e["version"].as_str().unwrap().starts_with("leoma-gpu "));
    assert_eq!(e["config_digest"].as_str().unwrap().len(), 64);
    assert_eq!(
        e["model_digests"]["calibration"].as_str().unwrap().len(),
        64
    );
    assert_eq!(
        e["model_digests"]["niqe_params"].as_str().unwrap().len(),
        64
    );
    assert_eq!(
        e["frame_policy"]["canonical_size"],
        serde_json::json!([832, 480])
    );
    assert_eq!(v["input"]["decoded_frames"], 81);
    assert_eq!(v["input"]["sha256"].as_str().unwrap().len(), 64);
    assert!(v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "resolution" && c["passed"] == true));
    assert_eq!(
        v["curves"]["motion.frame_diff"].as_array().unwrap().len(),
        80
    );
}

#[test]
fn same_input_twice_gives_byte_identical_json() {
    let again = run(&["evaluate", task_dir().to_str().unwrap()]);
    assert_eq!(again.code, 0);
    assert!(
        again.stdout == report().1,
        "evaluate output differs between two runs"
    );
}

#[test]
fn table_format_lists_the_ranking() {
    let out = run(&[
        "evaluate",
        task_dir().to_str().unwrap(),
        "--format",
        "table",
        "--jobs",
        "1",
    ]);
    assert_eq!(out.code, 0);
    let first_row = out.stdout.lines().nth(2).unwrap();
    assert!(first_row.contains("miner-clean"), "{}", out.stdout);
    assert!(out.stdout.contains("degraded: prompt_adherence"));
}
