//! The CUDA flow engine against its CPU twin, where a GPU is present (built
//! with `--features cuda`; scripts/gpu-check.sh runs it on a lent GPU).
//! Without a GPU it says so and passes: CI compiles it, hardware runs it.
//!
//! Tolerances: the kernels repeat the CPU arithmetic operation by operation
//! with fused multiply-adds disabled, so flow fields should agree to the last
//! bit or close: at most 1e-3 px anywhere and 1e-5 px on average. Reductions
//! run in another order (tile trees on the GPU), so sums agree to 1e-6
//! relative and counts exactly, unless a pixel sits on a reliability threshold.
#![cfg(feature = "cuda")]

use leoma_gpu::flow::cpu::CpuFlow;
use leoma_gpu::flow::cuda::CudaFlow;
use leoma_gpu::flow::{ClipFlow, FlowEngine, FlowParams};
use leoma_gpu::frames::Plane;
use leoma_gpu::pipeline::load_luma;
use std::path::Path;

fn frames() -> Vec<Plane> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/flow/real");
    [
        "cockatoo-10-a",
        "cockatoo-10-b",
        "cockatoo-40-a",
        "cockatoo-40-b",
        "office-5-a",
        "office-5-b",
    ]
    .iter()
    .map(|n| load_luma(&dir.join(format!("{n}.png"))).unwrap())
    .collect()
}

fn gpu() -> Option<CudaFlow> {
    match CudaFlow::new(FlowParams::default(), 0) {
        Ok(e) => Some(e),
        Err(e) => {
            eprintln!("no GPU, CUDA parity not checked here: {e}");
            None
        }
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn cuda_flow_fields_match_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let f = frames();
    let pairs: Vec<(&Plane, &Plane)> = f.chunks(2).map(|c| (&c[0], &c[1])).collect();
    let cpu = CpuFlow::new(FlowParams::default())
        .flow_pairs(&pairs)
        .unwrap();
    let cuda = gpu.flow_pairs(&pairs).unwrap();
    for (k, (c, g)) in cpu.iter().zip(&cuda).enumerate() {
        let diffs: Vec<f32> =
            c.u.iter()
                .zip(&g.u)
                .chain(c.v.iter().zip(&g.v))
                .map(|(a, b)| (a - b).abs())
                .collect();
        let max = diffs.iter().copied().fold(0.0, f32::max);
        let mean = diffs.iter().map(|&d| d as f64).sum::<f64>() / diffs.len() as f64;
        let identical = diffs.iter().filter(|&&d| d == 0.0).count();
        println!(
            "pair {k}: max |Δ| {max:e} px, mean {mean:e} px, {identical}/{} components bit-identical",
            diffs.len()
        );
        assert!(
            max <= 1e-3 && mean <= 1e-5,
            "pair {k}: max {max}, mean {mean}"
        );
    }
    assert_eq!(
        cuda,
        gpu.flow_pairs(&pairs).unwrap(),
        "GPU flow is not deterministic"
    );
}

fn compare(cpu: &ClipFlow, gpu: &ClipFlow) {
    assert_eq!(cpu.pairs.len(), gpu.pairs.len());
    assert_eq!(cpu.triples.len(), gpu.triples.len());
    for (t, (c, g)) in cpu.pairs.iter().zip(&gpu.pairs).enumerate() {
        let slack = c.pixels as f64 * 1e-4;
        assert!(
            (c.reliable as f64 - g.reliable as f64).abs() <= slack,
            "pair {t}: reliable {} vs {}",
            c.reliable,
            g.reliable
        );
        assert!(
            close(c.magnitude_sum, g.magnitude_sum, 1e-5),
            "pair {t}: magnitude"
        );
        let (cw, gw) = (c.warp_rmse_levels().unwrap(), g.warp_rmse_levels().unwrap());
        assert!((cw - gw).abs() < 1e-2, "pair {t}: warp {cw} vs {gw}");
        match (&c.camera, &g.camera) {
            (Some(a), Some(b)) => {
                assert!(
                    (a.pan - b.pan).abs() < 1e-3 && (a.tilt - b.tilt).abs() < 1e-3,
                    "pair {t}: {a:?} vs {b:?}"
                );
                assert!(
                    (a.zoom - b.zoom).abs() < 1e-5 && (a.roll - b.roll).abs() < 1e-5,
                    "pair {t}: {a:?} vs {b:?}"
                );
            }
            (None, None) => {}
            other => panic!("pair {t}: camera {other:?}"),
        }
        // A pixel can fall on the frame's edge under one engine's mean flow and not the other's.
        for (k, (x, y)) in c.block_counted.iter().zip(&g.block_counted).enumerate() {
            assert!(x.abs_diff(*y) <= 2, "pair {t} block {k}: {x} vs {y} pixels");
        }
        for (k, (x, y)) in c.block_residual.iter().zip(&g.block_residual).enumerate() {
            assert!((x - y).abs() < 2e-2, "pair {t} block {k}: {x} vs {y}");
        }
    }
    for (t, (c, g)) in cpu.triples.iter().zip(&gpu.triples).enumerate() {
        assert!(
            (c.count as f64 - g.count as f64).abs() <= 100.0,
            "triple {t}: count"
        );
        assert!(
            close(c.accel_sum, g.accel_sum, 1e-2),
            "triple {t}: {} vs {}",
            c.accel_sum,
            g.accel_sum
        );
    }
}

#[test]
fn cuda_clip_analysis_matches_the_cpu_and_batches_independently() {
    let Some(gpu) = gpu() else { return };
    let f = frames();
    let clip_a: Vec<&Plane> = f.iter().collect();
    let clip_b: Vec<&Plane> = f.iter().rev().collect();
    let cpu = CpuFlow::new(FlowParams::default())
        .analyze_clips(&[&clip_a, &clip_b])
        .unwrap();
    let together = gpu.analyze_clips(&[&clip_a, &clip_b]).unwrap();
    let alone = gpu.analyze_clips(&[&clip_b]).unwrap();
    compare(&cpu[0], &together[0]);
    compare(&cpu[1], &together[1]);
    assert_eq!(
        together[1], alone[0],
        "a clip's GPU analysis depends on its batch"
    );
    println!(
        "clip A warping error per pair: cpu {:?} / cuda {:?}",
        cpu[0]
            .pairs
            .iter()
            .map(|p| p.warp_rmse_levels())
            .collect::<Vec<_>>(),
        together[0]
            .pairs
            .iter()
            .map(|p| p.warp_rmse_levels())
            .collect::<Vec<_>>()
    );
}
