//! Dense optical flow and the temporal quantities measured along it.
//!
//! # The algorithm
//! A multiresolution CLG method ("Lucas/Kanade meets Horn/Schunck", Bruhn,
//! Weickert & Schnörr 2005) with image warping and median filtering between
//! warps (Sun, Roth & Black 2010). Per pyramid level, coarse to fine:
//!
//! 1. warp the second image towards the first along the current flow
//!    (bilinear, replicated border);
//! 2. linearise brightness constancy around it: gradients of the mean of the
//!    two images (5-tap central differences), temporal difference;
//! 3. integrate the structure tensor `J = Σ_G [Ix Iy It]ᵀ[Ix Iy It]` over a
//!    small Gaussian window (the local, Lucas–Kanade part);
//! 4. solve `J·(du, dv) − α·Δ(u + du, v + dv) = 0` (the global, Horn–Schunck
//!    part, which fills textureless regions) with red-black SOR, each pixel a
//!    2x2 solve;
//! 5. median-filter the updated flow.
//!
//! Why this one: every step is a stencil or a per-pixel 2x2 solve, so it maps
//! one to one onto GPU kernels with no atomics and no data-dependent control
//! flow, and red-black SOR gives the same bits in any execution order. On real
//! frames moved by known motions it is about twice as accurate as OpenCV's DIS
//! (medium preset) and an order of magnitude more than Farneback at the same
//! size (`tests/flow_accuracy.rs`, `scripts/flow-reference.py`).
//!
//! # Conventions
//! Pixel centres sit at integer coordinates: pixel (column x, row y) is the
//! point (x, y). The flow F from frame A to frame B says that the point p of A
//! is seen at p + F(p) in B. Intensities are 8-bit levels divided by 255.
//!
//! Two engines implement the same arithmetic: [`cpu::CpuFlow`] (rayon) and,
//! with the `cuda` feature, `cuda::CudaFlow` (kernels in `kernels/flow.cu`).

pub mod analysis;
pub mod camera;
pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod flo;
mod ops;
pub mod pyramid;
mod solver;

pub use analysis::{ClipFlow, PairStats, TripleStats};

use crate::frames::Plane;
use serde::{Deserialize, Serialize};

/// The flow algorithm's constants; pinned in the calibration file (`[flow]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowParams {
    /// Most pyramid levels, level 0 being the input size.
    pub max_levels: usize,
    /// A coarser level is added only while its shorter side stays at least this.
    pub min_size: usize,
    /// Warps per level: the flow is re-linearised around the current estimate.
    pub warps: usize,
    /// Red-black SOR sweeps per warp.
    pub sor_iterations: usize,
    /// SOR over-relaxation factor, in (0, 2).
    pub sor_omega: f32,
    /// Smoothness weight α (intensities in [0, 1]).
    pub alpha: f32,
    /// σ, in pixels of each level, of the Gaussian window integrating the structure tensor.
    pub window_sigma: f32,
    /// Side of the median filter applied to the flow after each warp (odd; 1 = none).
    pub median: usize,
}

impl Default for FlowParams {
    fn default() -> Self {
        crate::verdict::calibration::Calibration::embedded().flow
    }
}

impl FlowParams {
    pub fn validate(&self) -> Result<(), String> {
        let bad = |what: &str| Err(format!("flow.{what}"));
        if self.max_levels == 0 || self.max_levels > 12 {
            return bad("max_levels must be 1..=12");
        }
        if self.min_size < 4 {
            return bad("min_size must be at least 4");
        }
        if self.warps == 0 || self.sor_iterations == 0 {
            return bad("warps and sor_iterations must be at least 1");
        }
        if !(self.sor_omega > 0.0 && self.sor_omega < 2.0) {
            return bad("sor_omega must be in (0, 2)");
        }
        if !(self.alpha > 0.0 && self.alpha.is_finite()) {
            return bad("alpha must be positive");
        }
        if !(self.window_sigma > 0.0 && self.window_sigma <= 8.0) {
            return bad("window_sigma must be in (0, 8]");
        }
        if self.median % 2 == 0 || self.median > 7 {
            return bad("median must be 1, 3, 5 or 7");
        }
        Ok(())
    }

    /// Normalised taps of the Gaussian window integrating the structure
    /// tensor, `2r + 1` of them with r = ceil(2.5σ).
    pub fn window_taps(&self) -> Vec<f32> {
        let sigma = self.window_sigma as f64;
        let r = (2.5 * sigma).ceil() as i64;
        let raw: Vec<f64> = (-r..=r)
            .map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp())
            .collect();
        let total: f64 = raw.iter().sum();
        raw.iter().map(|w| (w / total) as f32).collect()
    }
}

/// A dense flow field, planar: `u` horizontal, `v` vertical displacement in pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowField {
    pub width: usize,
    pub height: usize,
    pub u: Vec<f32>,
    pub v: Vec<f32>,
}

impl FlowField {
    pub fn zeros(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            u: vec![0.0; width * height],
            v: vec![0.0; width * height],
        }
    }

    /// Mean end-point error against `other` over the pixels `keep` accepts.
    pub fn mean_epe(&self, other: &FlowField, keep: impl Fn(usize, usize) -> bool) -> f64 {
        let (mut sum, mut n) = (0f64, 0usize);
        for y in 0..self.height {
            for x in 0..self.width {
                if keep(x, y) {
                    let i = y * self.width + x;
                    let (du, dv) = (self.u[i] - other.u[i], self.v[i] - other.v[i]);
                    sum += ((du * du + dv * dv) as f64).sqrt();
                    n += 1;
                }
            }
        }
        sum / n.max(1) as f64
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("frames differ in size: {a:?} vs {b:?}")]
    SizeMismatch {
        a: (usize, usize),
        b: (usize, usize),
    },
    #[error("frame of {width}x{height} is too small for optical flow (at least 8x8)")]
    TooSmall { width: usize, height: usize },
    #[error("the CUDA flow engine is not available: {0}")]
    Unavailable(String),
    #[error("CUDA error in the flow engine: {0}")]
    Device(String),
}

/// One flow implementation. Both engines compute the same algorithm with the
/// same parameters; they differ only in where the arithmetic runs.
pub trait FlowEngine: Send + Sync {
    /// "cpu" or "cuda".
    fn name(&self) -> &'static str;
    /// Forward flow a -> b for each pair.
    fn flow_pairs(&self, pairs: &[(&Plane, &Plane)]) -> Result<Vec<FlowField>, FlowError>;
    /// Forward and backward flow over every consecutive pair of each clip, and
    /// the per-pair and per-triple reductions the temporal metrics read. Clips
    /// are analysed independently: a clip's result never depends on the others
    /// in the batch.
    fn analyze_clips(&self, clips: &[&[&Plane]]) -> Result<Vec<ClipFlow>, FlowError>;
}

/// Which engine to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Cpu,
    Cuda,
}

/// The engine for `backend`. CUDA needs the `cuda` feature and a GPU; asking
/// for it without them is an error, never a silent fallback.
pub fn engine(backend: Backend, params: &FlowParams) -> Result<Box<dyn FlowEngine>, FlowError> {
    match backend {
        Backend::Cpu => Ok(Box::new(cpu::CpuFlow::new(params.clone()))),
        #[cfg(feature = "cuda")]
        Backend::Cuda => Ok(Box::new(cuda::CudaFlow::new(params.clone(), 0)?)),
        #[cfg(not(feature = "cuda"))]
        Backend::Cuda => Err(FlowError::Unavailable(
            "this binary was built without the `cuda` feature".into(),
        )),
    }
}

/// The best engine this process can run: CUDA when built with it and a GPU
/// answers, else the CPU.
pub fn default_engine(params: &FlowParams) -> Box<dyn FlowEngine> {
    #[cfg(feature = "cuda")]
    match cuda::CudaFlow::new(params.clone(), 0) {
        Ok(e) => return Box::new(e),
        Err(e) => tracing::info!("optical flow runs on the CPU: {e}"),
    }
    Box::new(cpu::CpuFlow::new(params.clone()))
}

pub(crate) fn check_pair(a: &Plane, b: &Plane) -> Result<(), FlowError> {
    if (a.width, a.height) != (b.width, b.height) {
        return Err(FlowError::SizeMismatch {
            a: (a.width, a.height),
            b: (b.width, b.height),
        });
    }
    if a.width < 8 || a.height < 8 {
        return Err(FlowError::TooSmall {
            width: a.width,
            height: a.height,
        });
    }
    Ok(())
}
