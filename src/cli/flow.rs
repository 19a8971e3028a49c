use super::{CliError, EXIT_OK};
use clap::{Args, ValueEnum};
use leoma_gpu::flow::{self, flo, Backend, FlowEngine};
use leoma_gpu::pipeline::load_luma;
use leoma_gpu::verdict::calibration::Calibration;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// Most pixels per frame the `flow` command accepts (a 4K UHD frame).
const MAX_PIXELS: usize = 3840 * 2160;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// The CUDA engine when built with it and a GPU is present, else the CPU.
    Auto,
    Cpu,
    Cuda,
}

#[derive(Args, Debug)]
pub struct FlowArgs {
    /// First frame (any image format; converted to BT.601 luma).
    #[arg(value_name = "FRAME_A")]
    pub frame_a: PathBuf,
    /// Second frame, the same size as the first.
    #[arg(value_name = "FRAME_B")]
    pub frame_b: PathBuf,
    /// Where to write the forward flow A -> B (Middlebury .flo, readable by OpenCV).
    #[arg(long, value_name = "FLOW.flo")]
    pub out: PathBuf,
    /// Which engine computes the flow.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Calibration file whose [flow] section replaces the embedded parameters.
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
}

#[derive(Serialize)]
struct FlowSummary {
    out: String,
    backend: &'static str,
    width: usize,
    height: usize,
    mean_magnitude_px: f64,
    max_magnitude_px: f64,
    seconds: f64,
}

pub fn run(a: FlowArgs) -> Result<u8, CliError> {
    let params = match &a.calibration {
        Some(p) => {
            Calibration::from_file(p)
                .map_err(|e| CliError::Input(e.to_string()))?
                .0
                .flow
        }
        None => Calibration::embedded().flow,
    };
    let input = |e: leoma_gpu::pipeline::InputError| CliError::Input(e.to_string());
    let fa = load_luma(&a.frame_a).map_err(input)?;
    let fb = load_luma(&a.frame_b).map_err(input)?;
    if (fa.width, fa.height) != (fb.width, fb.height) {
        return Err(CliError::Input(format!(
            "{} is {}x{} but {} is {}x{}: the frames must be the same size",
            a.frame_a.display(),
            fa.width,
            fa.height,
            a.frame_b.display(),
            fb.width,
            fb.height
        )));
    }
    if fa.width * fa.height > MAX_PIXELS {
        return Err(CliError::Input(format!(
            "{}: {}x{} is larger than the flow command accepts (at most {MAX_PIXELS} pixels)",
            a.frame_a.display(),
            fa.width,
            fa.height
        )));
    }
    let engine: Box<dyn FlowEngine> = match a.backend {
        BackendArg::Auto => flow::default_engine(&params),
        BackendArg::Cpu => flow::engine(Backend::Cpu, &params).map_err(internal)?,
        BackendArg::Cuda => {
            flow::engine(Backend::Cuda, &params).map_err(|e| CliError::Input(e.to_string()))?
        }
    };
    let start = Instant::now();
    let field = engine
        .flow_pairs(&[(&fa, &fb)])
        .map_err(internal)?
        .pop()
        .ok_or_else(|| CliError::Internal("the flow engine returned nothing".into()))?;
    let seconds = start.elapsed().as_secs_f64();
    let file = std::fs::File::create(&a.out)
        .map_err(|e| CliError::Input(format!("{}: cannot create: {e}", a.out.display())))?;
    flo::write(&field, std::io::BufWriter::new(file))
        .map_err(|e| CliError::Input(format!("{}: cannot write: {e}", a.out.display())))?;
    let mags: Vec<f64> = field
        .u
        .iter()
        .zip(&field.v)
        .map(|(u, v)| ((u * u + v * v) as f64).sqrt())
        .collect();
    let summary = FlowSummary {
        out: a.out.display().to_string(),
        backend: engine.name(),
        width: field.width,
        height: field.height,
        mean_magnitude_px: mags.iter().sum::<f64>() / mags.len().max(1) as f64,
        max_magnitude_px: mags.iter().copied().fold(0.0, f64::max),
        seconds,
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).map_err(internal)?
    );
    Ok(EXIT_OK)
}

fn internal(e: impl std::fmt::Display) -> CliError {
    CliError::Internal(e.to_string())
}
