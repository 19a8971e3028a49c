use super::{output, CliError, Format, JudgeOptions, EXIT_INTERNAL, EXIT_OK};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use leoma_gpu::pipeline::{load_image, thumbnail};
use leoma_gpu::rank::rank_task;
use leoma_gpu::report::{html::task_html, table::task_table, TaskReport};
use leoma_gpu::store::{self, Store};
use leoma_gpu::task::Task;
use leoma_gpu::verdict::{self, InputInfo, Verdict};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// Task directory in the Leoma layout (metadata.json, first_frame.png, generated_videos/).
    pub task_dir: PathBuf,
    /// Clips judged at once (default: one per CPU core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub judge: JudgeOptions,
    /// After printing the report, store its verdicts in the local verdict history
    /// (SQLite; re-storing a task replaces its verdicts). Needs --validator.
    #[arg(long)]
    pub store: bool,
    /// Directory of the verdict history, verdicts.sqlite3 [default:
    /// $XDG_DATA_HOME/leoma-gpu, else ~/.local/share/leoma-gpu].
    #[arg(long, env = store::DATA_DIR_ENV, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Validator hotkey the stored verdicts are recorded under (with --store).
    #[arg(long, env = "LEOMA_VALIDATOR_HOTKEY", value_name = "HOTKEY")]
    pub validator: Option<String>,
}

/// With --store: the validator hotkey and the open store, before any work, so
/// that a missing hotkey or an unusable database costs no evaluation.
fn open_store(a: &EvaluateArgs) -> Result<Option<(Store, String)>, CliError> {
    if !a.store {
        return Ok(None);
    }
    let validator = match a.validator.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => {
            return Err(CliError::Input(
                "--store needs the validator hotkey: pass --validator HOTKEY or set LEOMA_VALIDATOR_HOTKEY"
                    .into(),
            ))
        }
    };
    let internal = |e: store::StoreError| CliError::Internal(e.to_string());
    let path = store::db_path(a.data_dir.as_deref()).map_err(internal)?;
    Ok(Some((Store::open(path).map_err(internal)?, validator)))
}

/// Store the printed report. Verdicts of clips that hit an internal error (a
/// bug of ours, not the miner's fault) would count as failures: such a task
/// is not stored at all.
fn store_report(
    store: Option<(Store, String)>,
    report: &TaskReport,
    internal_errors: usize,
) -> Result<(), CliError> {
    let Some((store, validator)) = store else {
        return Ok(());
    };
    if internal_errors > 0 {
        return Err(CliError::Internal(format!(
            "{}: task {} not stored: {internal_errors} clip(s) hit an internal error",
            store.path().display(),
            report.task_id
        )));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let n = store
        .store_task(&validator, report, now)
        .map_err(|e| CliError::Internal(e.to_string()))?;
    eprintln!(
        "leoma-gpu: stored {n} verdict(s) of task {} in {}",
        report.task_id,
        store.path().display()
    );
    Ok(())
}

pub fn run(a: EvaluateArgs) -> Result<u8, CliError> {
    let store = open_store(&a)?;
    let evaluator = a.judge.evaluator()?;
    let cross_check = a.judge.cross_check.config()?;
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
    // A panic is a bug of ours: it fails the clips concerned, is reported, and the others go on.
    let internal_errors = AtomicUsize::new(0);
    let internal = |video: &Path, stage: &str| {
        internal_errors.fetch_add(1, Ordering::Relaxed);
        let message = format!("{}: internal error while {stage}", video.display());
        verdict::unusable(
            InputInfo::path_only(video),
            evaluator.info("none"),
            "internal_error",
            message,
        )
    };

    // Clips are judged in parallel, each as soon as it is decoded, so a task's
    // clips never sit in memory together.
    let results: Vec<(String, Verdict)> = pool.install(|| {
        task.miners
            .par_iter()
            .map(|(hotkey, path)| {
                let v = if !path.is_file() {
                    let message = format!(
                        "{}: miner {hotkey} is listed but has no video",
                        path.display()
                    );
                    verdict::unusable(
                        InputInfo::path_only(path),
                        evaluator.info("none"),
                        "missing_video",
                        message,
                    )
                } else {
                    match catch_unwind(AssertUnwindSafe(|| {
                        evaluator.judge_clip(path, &condition, &task.prompt)
                    })) {
                        Ok(Ok(mut v)) => {
                            if let Some(cfg) = &cross_check {
                                let rule = &evaluator.config.calibration.rule;
                                v.cross_check = Some(leoma_gpu::crosscheck::run(
                                    cfg,
                                    &task.prompt,
                                    &task.first_frame,
                                    path,
                                    &v,
                                    rule.pass_threshold,
                                    rule.critical_threshold,
                                ));
                            }
                            v
                        }
                        Ok(Err(e)) => evaluator.unusable(path, &e),
                        Err(_) => internal(path, "judging"),
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
    let emitted = output::emit(&text, a.judge.out.as_deref());
    let internal_errors = internal_errors.into_inner();
    // Stored even when the report could not be written: the verdicts are not lost.
    let stored = store_report(store, &report, internal_errors);
    if let (Err(_), Err(e)) = (&emitted, &stored) {
        eprintln!("leoma-gpu: {e}");
    }
    emitted?;
    stored?;
    Ok(if internal_errors > 0 {
        EXIT_INTERNAL
    } else {
        EXIT_OK
    })
}
