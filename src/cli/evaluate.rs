use super::{output, CliError, Format, JudgeOptions, EXIT_INTERNAL, EXIT_OK};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use leoma_gpu::pipeline::{load_image, thumbnail, Prepared};
use leoma_gpu::rank::rank_task;
use leoma_gpu::report::{html::task_html, table::task_table, TaskReport};
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
}

pub fn run(a: EvaluateArgs) -> Result<u8, CliError> {
    let evaluator = a.judge.evaluator()?;
    let task = Task::load(&a.task_dir).map_err(|e| CliError::Input(e.to_string()))?;
    let condition = load_image(&task.first_frame).map_err(|e| CliError::Input(e.to_string()))?;

    let bar = ProgressBar::new(task.miners.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} decoding clips {pos}/{len} [{elapsed}] {msg}")
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

    // Decode every clip in parallel, then run the metrics on all of them together.
    let prepared: Vec<(String, Result<Prepared, Verdict>)> = pool.install(|| {
        task.miners
            .par_iter()
            .map(|(hotkey, path)| {
                let r = if !path.is_file() {
                    let message = format!(
                        "{}: miner {hotkey} is listed but has no video",
                        path.display()
                    );
                    Err(verdict::unusable(
                        InputInfo::path_only(path),
                        evaluator.info("none"),
                        "missing_video",
                        message,
                    ))
                } else {
                    match catch_unwind(AssertUnwindSafe(|| {
                        evaluator.prepare(path, &condition, &task.prompt)
                    })) {
                        Ok(Ok(p)) => Ok(p),
                        Ok(Err(e)) => Err(evaluator.unusable(path, &e)),
                        Err(_) => Err(internal(path, "decoding")),
                    }
                };
                bar.inc(1);
                bar.set_message(hotkey.clone());
                (hotkey.clone(), r)
            })
            .collect()
    });
    bar.finish_and_clear();

    let mut verdicts: BTreeMap<String, Verdict> = BTreeMap::new();
    let (mut ready_keys, mut ready) = (Vec::new(), Vec::new());
    for (hotkey, r) in prepared {
        match r {
            Ok(p) => {
                ready_keys.push(hotkey);
                ready.push(p);
            }
            Err(v) => {
                verdicts.insert(hotkey, v);
            }
        }
    }
    let videos: Vec<PathBuf> = ready.iter().map(|p| PathBuf::from(p.video())).collect();
    match catch_unwind(AssertUnwindSafe(|| {
        pool.install(|| evaluator.judge_prepared(ready))
    })) {
        Ok(judged) => verdicts.extend(ready_keys.into_iter().zip(judged)),
        Err(_) => {
            for (hotkey, video) in ready_keys.into_iter().zip(videos) {
                verdicts.insert(hotkey, internal(&video, "measuring"));
            }
        }
    }
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
