//! Command-line interface: argument parsing and exit codes. Every command is a
//! thin call into the library.

mod ask;
mod embed;
mod evaluate;
mod flow;
mod models;
mod output;
mod rank;
mod score;
mod weights;

use clap::{Args, Parser, Subcommand, ValueEnum};
use leoma_gpu::decode::Limits;
use leoma_gpu::models::ModelSet;
use leoma_gpu::pipeline::Evaluator;
use leoma_gpu::verdict::calibration::{Calibration, EMBEDDED};
use std::path::PathBuf;

/// Exit code: evaluated (whatever the verdicts).
pub const EXIT_OK: u8 = 0;
/// Exit code: internal error.
pub const EXIT_INTERNAL: u8 = 1;
/// Exit code: unusable input (the message names the file and the problem).
pub const EXIT_INPUT: u8 = 2;
/// Exit code: the chain is unreachable or refused the transaction (retry later).
pub const EXIT_CHAIN: u8 = 3;

/// Errors that end a command, split by who can fix them.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Input(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("{0}")]
    Chain(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => EXIT_INPUT,
            CliError::Internal(_) => EXIT_INTERNAL,
            CliError::Chain(_) => EXIT_CHAIN,
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "leoma-gpu",
    version,
    about = "Judge AI-generated text+image-to-video clips for the Leoma subnet from measured evidence.",
    long_about = "Judge AI-generated text+image-to-video (TI2V) clips for the Leoma subnet from measured \
evidence, on your own machine: six 0-100 aspect scores, Leoma's pass rule, and the evidence behind them.\n\n\
Exit codes: 0 evaluated (whatever the verdicts), 2 unusable input (a one-line error names the file and \
the problem), 1 internal error, 3 the chain is unreachable or refused a transaction (weights). Set RUST_LOG=debug for a trace on stderr."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Score one clip against its conditioning first frame and prompt (for miners).
    Score(score::ScoreArgs),
    /// Evaluate a Leoma task directory: one verdict per miner and the task's ranking.
    Evaluate(evaluate::EvaluateArgs),
    /// Embed images and texts with one model and print the embeddings and cosines (JSON).
    Embed(embed::EmbedArgs),
    /// Pre-download models into the Hugging Face cache, or list what is cached.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Rank miners over a round of verdicts (Leoma's rules) and name the winner.
    Rank(rank::RankArgs),
    /// Dense optical flow between two frames, written as a Middlebury .flo file.
    Flow(flow::FlowArgs),
    /// Set weights on chain through subxt: show, set (or dry-run), and the epoch loop.
    #[command(subcommand)]
    Weights(weights::WeightsCommand),
    /// Ask the VLM questions about a clip and print each answer's probabilities (for researchers).
    Ask(ask::AskArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Machine-readable JSON (the default).
    Json,
    /// A readable table.
    Table,
    /// A self-contained HTML report with frames and curves (use with --out).
    Html,
}

/// Options shared by every judging command.
#[derive(Args, Debug)]
pub struct JudgeOptions {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write the output to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Calibration file (TOML) replacing the embedded one; its digest goes into the verdict.
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// Overall score needed to pass (Leoma's EVALUATION_PASS_THRESHOLD).
    #[arg(long, env = "EVALUATION_PASS_THRESHOLD", value_name = "N")]
    pub pass_threshold: Option<f64>,
    /// Floor for the critical aspects (Leoma's EVALUATION_CRITICAL_THRESHOLD).
    #[arg(long, env = "EVALUATION_CRITICAL_THRESHOLD", value_name = "N")]
    pub critical_threshold: Option<f64>,
    /// Largest clip file accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().max_file_bytes / (1024 * 1024))]
    pub max_file_mib: u64,
    /// Longest clip accepted, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().max_duration_seconds)]
    pub max_duration: f64,
    /// Most frames decoded from one clip.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_frames)]
    pub max_frames: u64,
    /// Largest frame width accepted.
    #[arg(long, value_name = "PX", default_value_t = Limits::default().max_width)]
    pub max_width: u32,
    /// Largest frame height accepted.
    #[arg(long, value_name = "PX", default_value_t = Limits::default().max_height)]
    pub max_height: u32,
    #[command(flatten)]
    pub models: ModelOptions,
    #[command(flatten)]
    pub cross_check: CrossCheckOptions,
}

/// The hosted judge as a cross-check: off unless --cross-check is given and an
/// API key is in the environment (the key is never printed or logged).
#[derive(Args, Debug, Default)]
pub struct CrossCheckOptions {
    /// Also send each clip to Gemini exactly as Leoma's evaluator does and
    /// report its agreement with our verdict in a `cross_check` block (needs
    /// GEMINI_API_KEY in the environment; our verdict is never changed).
    #[arg(long)]
    pub cross_check: bool,
    /// Gemini API base URL.
    #[arg(long, env = "LEOMA_GEMINI_ENDPOINT", value_name = "URL",
          default_value = leoma_gpu::crosscheck::gemini::DEFAULT_ENDPOINT)]
    pub gemini_endpoint: String,
    /// Gemini model (Leoma's GEMINI_EVAL_MODEL).
    #[arg(long, env = "LEOMA_GEMINI_MODEL", value_name = "MODEL",
          default_value = leoma_gpu::crosscheck::gemini::DEFAULT_MODEL)]
    pub gemini_model: String,
    /// Media resolution sent with the clip (Leoma's EVALUATION_MEDIA_RESOLUTION: low, medium, high).
    #[arg(
        long,
        env = "EVALUATION_MEDIA_RESOLUTION",
        value_name = "RES",
        default_value = "high"
    )]
    pub media_resolution: String,
    /// Frame rate Gemini samples the clip at (Leoma's EVALUATION_VIDEO_FPS).
    #[arg(
        long,
        env = "EVALUATION_VIDEO_FPS",
        value_name = "FPS",
        default_value_t = 16.0
    )]
    pub video_fps: f64,
    /// Longest time the cross-check may add per clip, attempts and pauses included.
    #[arg(long, value_name = "SECONDS", default_value_t = 240)]
    pub cross_check_deadline: u64,
    /// Pause between attempts (at most 3 attempts, within the deadline).
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub cross_check_retry_sleep: u64,
}

impl CrossCheckOptions {
    /// The cross-check's settings, or None when it is off.
    pub fn config(&self) -> Result<Option<leoma_gpu::crosscheck::gemini::GeminiConfig>, CliError> {
        use leoma_gpu::crosscheck::gemini::{ApiKey, GeminiConfig};
        if !self.cross_check {
            return Ok(None);
        }
        let key = std::env::var("GEMINI_API_KEY")
            .ok()
            .and_then(ApiKey::new)
            .ok_or_else(|| {
                CliError::Input("--cross-check needs GEMINI_API_KEY in the environment".into())
            })?;
        if !(self.video_fps > 0.0 && self.video_fps <= 60.0) {
            return Err(CliError::Input(format!(
                "--video-fps must be within (0, 60], got {}",
                self.video_fps
            )));
        }
        let mut cfg = GeminiConfig::new(key);
        cfg.endpoint = self.gemini_endpoint.clone();
        cfg.model = self.gemini_model.clone();
        cfg.media_resolution = self.media_resolution.clone();
        cfg.video_fps = self.video_fps;
        cfg.deadline = std::time::Duration::from_secs(self.cross_check_deadline);
        cfg.retry_sleep = std::time::Duration::from_secs(self.cross_check_retry_sleep);
        cfg.attempt_timeout = cfg.attempt_timeout.min(cfg.deadline);
        Ok(Some(cfg))
    }
}

/// Which models to run (a local directory in Hugging Face layout, or a hub id
/// such as openai/clip-vit-base-patch32, fetched once into the HF cache).
#[derive(Args, Debug, Default)]
pub struct ModelOptions {
    /// CLIP checkpoint: prompt adherence (cosine) and CLIP-I first-frame fidelity.
    #[arg(long, env = "LEOMA_CLIP", value_name = "DIR_OR_ID")]
    pub clip: Option<String>,
    /// SigLIP checkpoint: prompt adherence as SigLIP's own probability.
    #[arg(long, env = "LEOMA_SIGLIP", value_name = "DIR_OR_ID")]
    pub siglip: Option<String>,
    /// DINOv2 checkpoint: DINO-I first-frame fidelity and identity drift.
    #[arg(long, env = "LEOMA_DINO", value_name = "DIR_OR_ID")]
    pub dino: Option<String>,
    /// Qwen3-VL checkpoint (e.g. Qwen/Qwen3-VL-2B-Instruct; 4B and 8B load the same
    /// way): the primary prompt-adherence evidence, read from answer probabilities.
    #[arg(long, env = "LEOMA_VLM", value_name = "DIR_OR_ID")]
    pub vlm: Option<String>,
    /// Run models and optical flow on the CPU even when a GPU is available.
    #[arg(long)]
    pub cpu: bool,
}

impl ModelOptions {
    /// Load the named models once; any failure is an input error naming the file.
    pub fn load(&self) -> Result<ModelSet, CliError> {
        use leoma_gpu::models::{
            clip::ClipEmbedder, dinov2::Dinov2Embedder, siglip::SiglipEmbedder,
        };
        use std::sync::Arc;
        let (device, dtype) = leoma_gpu::models::device::select(self.cpu);
        let err = |e: leoma_gpu::models::ModelError| CliError::Input(e.to_string());
        let mut set = ModelSet::default();
        if let Some(spec) = &self.clip {
            set.clip = Some(Arc::new(
                ClipEmbedder::load(spec, &device, dtype).map_err(err)?,
            ));
        }
        if let Some(spec) = &self.siglip {
            set.siglip = Some(Arc::new(
                SiglipEmbedder::load(spec, &device, dtype).map_err(err)?,
            ));
        }
        if let Some(spec) = &self.dino {
            set.dinov2 = Some(Arc::new(
                Dinov2Embedder::load(spec, &device, dtype).map_err(err)?,
            ));
        }
        if let Some(spec) = &self.vlm {
            let dtype = leoma_gpu::models::device::vlm_dtype(&device);
            set.vlm = Some(Arc::new(
                leoma_gpu::models::qwen3_vl::Qwen3Vl::load(spec, &device, dtype).map_err(err)?,
            ));
        }
        Ok(set)
    }
}

impl JudgeOptions {
    pub fn evaluator(&self) -> Result<Evaluator, CliError> {
        let (mut cal, text) = match &self.calibration {
            Some(p) => Calibration::from_file(p).map_err(|e| CliError::Input(e.to_string()))?,
            None => (Calibration::embedded(), EMBEDDED.to_string()),
        };
        for (name, v) in [
            ("pass threshold", self.pass_threshold),
            ("critical threshold", self.critical_threshold),
        ] {
            if let Some(v) = v {
                if !(0.0..=100.0).contains(&v) {
                    return Err(CliError::Input(format!(
                        "{name} must be within 0..=100, got {v}"
                    )));
                }
            }
        }
        if let Some(v) = self.pass_threshold {
            cal.rule.pass_threshold = v;
        }
        if let Some(v) = self.critical_threshold {
            cal.rule.critical_threshold = v;
        }
        if self.max_duration.is_nan()
            || self.max_duration <= 0.0
            || self.max_frames < 2
            || self.max_file_mib == 0
        {
            return Err(CliError::Input(
                "limits must be positive (max frames at least 2)".into(),
            ));
        }
        if self.models.vlm.is_some() && cal.vlm.is_none() {
            return Err(CliError::Input(
                "--vlm needs a [vlm] table (frame policy and question version) in the calibration file".into(),
            ));
        }
        let limits = Limits {
            max_file_bytes: self.max_file_mib.saturating_mul(1024 * 1024),
            max_duration_seconds: self.max_duration,
            max_frames: self.max_frames,
            max_width: self.max_width,
            max_height: self.max_height,
            ..Limits::default()
        };
        let flow: Box<dyn leoma_gpu::flow::FlowEngine> = if self.models.cpu {
            Box::new(leoma_gpu::flow::cpu::CpuFlow::new(cal.flow.clone()))
        } else {
            leoma_gpu::flow::default_engine(&cal.flow)
        };
        let models = self.models.load()?;
        Ok(Evaluator::with_models(cal, &text, limits, models, flow))
    }
}

pub fn run(cli: Cli) -> Result<u8, CliError> {
    match cli.command {
        Command::Score(a) => score::run(a),
        Command::Evaluate(a) => evaluate::run(a),
        Command::Embed(a) => embed::run(a),
        Command::Models(c) => models::run(c),
        Command::Rank(a) => rank::run(a),
        Command::Flow(a) => flow::run(a),
        Command::Weights(c) => weights::run(c),
        Command::Ask(a) => ask::run(a),
    }
}
