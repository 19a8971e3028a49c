use super::{output, CliError, Format, JudgeOptions, EXIT_OK};
use clap::Args;
use leoma_gpu::pipeline::{load_image, thumbnail};
use leoma_gpu::report::{html::verdict_html, table::verdict_table};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// The generated clip (any container/codec ffmpeg reads).
    pub video: PathBuf,
    /// The conditioning first frame (PNG/JPEG/WebP), at any resolution.
    #[arg(long, value_name = "IMG")]
    pub first_frame: PathBuf,
    /// The task's text prompt.
    #[arg(long, value_name = "TEXT")]
    pub prompt: String,
    #[command(flatten)]
    pub judge: JudgeOptions,
}

pub fn run(a: ScoreArgs) -> Result<u8, CliError> {
    let evaluator = a.judge.evaluator()?;
    let cross_check = a.judge.cross_check.config()?;
    if a.prompt.trim().is_empty() {
        return Err(CliError::Input("--prompt is empty".into()));
    }
    let condition = load_image(&a.first_frame).map_err(|e| CliError::Input(e.to_string()))?;
    let mut verdict = evaluator
        .judge_clip(&a.video, &condition, a.prompt.trim())
        .map_err(|e| CliError::Input(e.to_string()))?;
    if let Some(cfg) = &cross_check {
        let rule = &evaluator.config.calibration.rule;
        verdict.cross_check = Some(leoma_gpu::crosscheck::run(
            cfg,
            a.prompt.trim(),
            &a.first_frame,
            &a.video,
            &verdict,
            rule.pass_threshold,
            rule.critical_threshold,
        ));
    }
    let text = match a.judge.format {
        Format::Json => output::to_json(&verdict)?,
        Format::Table => verdict_table(&verdict),
        Format::Html => verdict_html(&verdict, &thumbnail(&condition)),
    };
    output::emit(&text, a.judge.out.as_deref())?;
    Ok(EXIT_OK)
}
