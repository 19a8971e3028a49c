use super::{output, CliError, Format, JudgeOptions, EXIT_INTERNAL, EXIT_OK};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use leoma_gpu::pipeline::{load_image, thumbnail};
use leoma_gpu::rank::rank_task;
use leoma_gpu::report::{html::task_html, table::task_table, TaskReport};
use leoma_gpu::task::Task;
use leoma_gpu::verdict::{self, InputInfo, Verdict};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// Task directory in the Leoma layout (metadata.json, first_frame.png, generated_videos/).
    pub task_dir: PathBuf,
    /// Clips judged at once (default: one per CPU core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub judge: JudgeOptions,
}

pub fn run(a: EvaluateArgs) -> Result<u8, CliError> {
    let evaluator = a.judge.evaluator()?;
    let task = Task::load(&a.task_dir).map_err(|e| CliError::Input(e.to_string()))?;
    let condition = load_image(&task.first_frame).map_err(|e| CliError::Input(e.to_string()))?;

    let bar = ProgressBar::new(task.miners.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} judging clips {pos}/{len} [{elapsed}] {msg}")
            .expect("valid template"),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.jobs.unwrap_or(0))
        .build()
        .map_err(|e| CliError::Internal(e.to_string()))?;
    let internal_errors = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(String, Verdict)> = pool.install(|| {
        task.miners
            .par_iter()
            .map(|(hotkey, path)| {
                let v = if !path.is_file() {
                    verdict::unusable(
                        InputInfo::path_only(path),
                        evaluator.info("none"),
                        "missing_video",
                        format!(
                            "{}: miner {hotkey} is listed but has no video",
                            path.display()
                        ),
                    )
                } else {
                    // A panic is a bug of ours: it fails this clip, is reported, and the others go on.
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        evaluator.judge_clip_or_fail(path, &condition, &task.prompt)
                    })) {
                        Ok(v) => v,
                        Err(_) => {
                            internal_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            verdict::unusable(
                                InputInfo::path_only(path),
                                evaluator.info("none"),
                                "internal_error",
                                format!("{}: internal error while judging", path.display()),
                            )
                        }
                    }
                };
                bar.inc(1);
                bar.set_message(hotkey.clone());
                (hotkey.clone(), v)
            })
            .collect()
    });
    bar.finish_and_clear();

    let verdicts: BTreeMap<String, Verdict> = results.into_iter().collect();
    for (hotkey, v) in &verdicts {
        tracing::info!(miner = %hotkey, passed = v.passed, overall = v.overall_score, "{}", if v.passed { "PASSED" } else { "FAILED" });
    }
    let report = TaskReport {
        task_id: task.task_id,
        prompt: task.prompt.clone(),
        evaluator: evaluator.info("n/a"),
        ranking: rank_task(&verdicts),
        verdicts,
    };
    let text = match a.judge.format {
        Format::Json => output::to_json(&report)?,
        Format::Table => task_table(&report),
        Format::Html => task_html(&report, &thumbnail(&condition)),
    };
    output::emit(&text, a.judge.out.as_deref())?;
    Ok(if internal_errors.into_inner() > 0 {
        EXIT_INTERNAL
    } else {
        EXIT_OK
    })
}
