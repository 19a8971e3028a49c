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
