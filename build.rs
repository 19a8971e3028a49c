//! With the `cuda` feature, compiles the custom kernels in kernels/*.cu to PTX
//! with nvcc (CUDA_ROOT/bin/nvcc, NVCC, or nvcc on PATH; scripts/cuda-toolchain.sh
//! provides one without a GPU). The PTX targets compute_80, so the driver JITs it
//! for any GPU from the A100 on (A100, L4/4090, H100/H200). --fmad=false keeps
//! every multiply and add separate, as the CPU twins compute them.

use std::path::PathBuf;
use std::process::Command;

const KERNELS: &[&str] = &["flow"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for k in KERNELS {
        println!("cargo:rerun-if-changed=kernels/{k}.cu");
    }
    println!("cargo:rerun-if-env-changed=NVCC");
    println!("cargo:rerun-if-env-changed=CUDA_ROOT");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let nvcc = std::env::var_os("NVCC")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("CUDA_ROOT").map(|r| PathBuf::from(r).join("bin/nvcc")))
        .unwrap_or_else(|| PathBuf::from("nvcc"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for k in KERNELS {
        let ptx = out.join(format!("{k}.ptx"));
        let status = Command::new(&nvcc)
            .args(["--ptx", "-arch=compute_80", "-O3", "--fmad=false", "-std=c++17"])
            .arg(format!("kernels/{k}.cu"))
            .arg("-o")
            .arg(&ptx)
            .status()
            .unwrap_or_else(|e| {
                panic!(
                    "the cuda feature needs nvcc ({}: {e}); run `eval \"$(bash scripts/cuda-toolchain.sh)\"` first",
                    nvcc.display()
                )
            });
        assert!(status.success(), "nvcc failed on kernels/{k}.cu");
    }
}
