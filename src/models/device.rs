//! Where models run: CUDA (f16 weights unless told otherwise) when built with
//! the `cuda` feature and a GPU is present, else CPU in f32.

use candle_core::{DType, Device};

pub fn select(force_cpu: bool) -> (Device, DType) {
    if !force_cpu {
        #[cfg(feature = "cuda")]
        match Device::new_cuda(0) {
            Ok(d) => return (d, DType::F16),
            Err(e) => tracing::info!("no CUDA device ({e}); models run on the CPU"),
        }
    }
    (Device::Cpu, DType::F32)
}

/// The VLM's dtype on `device`: bfloat16 on CUDA (float16 overflows in
/// Qwen3's activations), float32 on the CPU.
pub fn vlm_dtype(device: &Device) -> DType {
    if device.is_cuda() {
        DType::BF16
    } else {
        DType::F32
    }
}
