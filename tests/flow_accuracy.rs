//! Optical-flow accuracy against known motion and against references no one
//! here wrote (OpenCV's DIS and Farneback), on the committed inputs of
//! `tests/golden/flow/` (`scripts/flow-reference.sh` regenerates them and the
//! reference numbers in `reference.json`; CI never needs OpenCV).
//!
//! - synthetic: a real picture moved by known similarity motions (the
//!   convention is in motions.json): end-point error in the interior at most
//!   0.25 px, and no worse than the better OpenCV method on any case;
//! - real: consecutive frames of the example clips: the warping error our flow
//!   leaves is no worse than either OpenCV flow's, and both our harness and the
//!   script's independent numpy code measure the same numbers.

use leoma_gpu::flow::analysis::pair_stats;
use leoma_gpu::flow::cpu::CpuFlow;
use leoma_gpu::flow::{FlowEngine, FlowField, FlowParams};
use leoma_gpu::frames::Plane;
use leoma_gpu::pipeline::load_luma;
use serde_json::Value;
use std::path::{Path, PathBuf};

const EPE_LIMIT: f64 = 0.25;

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/flow")
}

fn json(name: &str) -> Value {
    let text = std::fs::read_to_string(golden().join(name)).expect(name);
    serde_json::from_str(&text).expect(name)
}

fn frame(rel: &str) -> Plane {
    load_luma(&golden().join(rel)).expect(rel)
}

fn engine() -> CpuFlow {
    CpuFlow::new(FlowParams::default())
}

/// F(p) = zoom·R(rot)·(p − c) + c + t − p, c the frame centre.
fn true_flow(case: &Value, w: usize, h: usize) -> FlowField {
    let g = |k: &str, d: f64| case.get(k).and_then(Value::as_f64).unwrap_or(d);
    let (tx, ty, rot, zoom) = (
        g("tx", 0.0),
        g("ty", 0.0),
        g("rot", 0.0).to_radians(),
        g("zoom", 1.0),
    );
    let (cx, cy) = ((w - 1) as f64 / 2.0, (h - 1) as f64 / 2.0);
    let mut f = FlowField::zeros(w, h);
    for y in 0..h {
        for x in 0..w {
            let (px, py) = (x as f64 - cx, y as f64 - cy);
            let qx = zoom * (rot.cos() * px - rot.sin() * py) + cx + tx;
            let qy = zoom * (rot.sin() * px + rot.cos() * py) + cy + ty;
            f.u[y * w + x] = (qx - x as f64) as f32;
            f.v[y * w + x] = (qy - y as f64) as f32;
        }
    }
    f
}

fn interior_epe(ours: &FlowField, truth: &FlowField, margin: f64) -> f64 {
    let (w, h) = (truth.width, truth.height);
    let inside = |v: f64, n: usize| v >= margin && v <= (n - 1) as f64 - margin;
    ours.mean_epe(truth, |x, y| {
        let i = y * w + x;
        let (qx, qy) = (x as f64 + truth.u[i] as f64, y as f64 + truth.v[i] as f64);
        inside(x as f64, w) && inside(y as f64, h) && inside(qx, w) && inside(qy, h)
    })
}

#[test]
fn known_motions_are_recovered_within_a_quarter_pixel_and_beat_opencv() {
    let motions = json("motions.json");
    let reference = json("reference.json");
    let margin = motions["margin"].as_f64().unwrap();
    let e = engine();
    let mut table = Vec::new();
    for row in reference["synthetic"].as_array().unwrap() {
        let (scene, case) = (
            row["scene"].as_str().unwrap(),
            row["case"].as_str().unwrap(),
        );
        let a = frame(&format!("synthetic/{scene}-base.png"));
        let b = frame(&format!("synthetic/{scene}-{case}.png"));
        let ours = e.flow_pairs(&[(&a, &b)]).unwrap().pop().unwrap();
        let truth = true_flow(&motions["cases"][case], a.width, a.height);
        let epe = interior_epe(&ours, &truth, margin);
        let refs = &row["epe"];
        let best = refs["dis_medium"]
            .as_f64()
            .unwrap()
            .min(refs["farneback"].as_f64().unwrap());
        table.push(format!(
            "{scene} {case}: ours {epe:.4} px, best OpenCV {best:.4} px"
        ));
        assert!(epe <= EPE_LIMIT, "{scene} {case}: EPE {epe} > {EPE_LIMIT}");
        assert!(
            epe <= best,
            "{scene} {case}: EPE {epe} worse than OpenCV's {best}"
        );
        // The script measured our .flo with its own code: the same number.
        let scripted = refs["leoma_gpu"].as_f64().unwrap();
        assert!(
            (epe - scripted).abs() < 1e-4,
            "{scene} {case}: {epe} vs script {scripted}"
        );
    }
    println!("{}", table.join("\n"));
}

#[test]
fn real_pairs_warp_no_worse_than_opencv() {
    let reference = json("reference.json");
    let e = engine();
    for row in reference["real"].as_array().unwrap() {
        let pair = row["pair"].as_str().unwrap();
        let a = frame(&format!("real/{pair}-a.png"));
        let b = frame(&format!("real/{pair}-b.png"));
        let flows = e.flow_pairs(&[(&a, &b), (&b, &a)]).unwrap();
        let unit = |p: &Plane| p.data.iter().map(|v| v / 255.0).collect::<Vec<f32>>();
        let (stats, _) = pair_stats(&unit(&a), &unit(&b), &flows[0], &flows[1]);
        let ours = stats.warp_rmse_levels().unwrap();
        let refs = &row["warp_rmse_levels"];
        let best = refs["dis_medium"]
            .as_f64()
            .unwrap()
            .min(refs["farneback"].as_f64().unwrap());
        println!("{pair}: warping error ours {ours:.3} levels, best OpenCV {best:.3}");
        assert!(ours <= best, "{pair}: {ours} > OpenCV's {best}");
        // The numpy implementation of the same reliability rules agrees.
        let scripted = refs["leoma_gpu"].as_f64().unwrap();
        assert!(
            (ours - scripted).abs() < 2e-3,
            "{pair}: {ours} vs script {scripted}"
        );
        let unreliable = row["unreliable_fraction"]["leoma_gpu"].as_f64().unwrap();
        assert!(
            (stats.unreliable_fraction() - unreliable).abs() < 1e-3,
            "{pair}: unreliable {} vs script {unreliable}",
            stats.unreliable_fraction()
        );
    }
}

#[test]
fn flow_is_bit_identical_across_runs_and_thread_counts() {
    let a = frame("real/cockatoo-40-a.png");
    let b = frame("real/cockatoo-40-b.png");
    let e = engine();
    let pairs = [(&a, &b), (&b, &a), (&a, &b)];
    let many = e.flow_pairs(&pairs).unwrap();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| e.flow_pairs(&pairs).unwrap());
    assert_eq!(many, one);
    assert_eq!(many[0], many[2]);
    let clip = [&a, &b, &a, &b];
    let first = e.analyze_clips(&[&clip]).unwrap();
    let second = e.analyze_clips(&[&clip, &clip]).unwrap();
    assert_eq!(first[0], second[0]);
    assert_eq!(second[0], second[1]);
}
