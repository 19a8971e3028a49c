//! `leoma-gpu rank`: rank miners over a round of verdicts with Leoma's rules
//! (or the opt-in improved rules) and name the winner.

use super::{output, CliError, Format, EXIT_OK};
use clap::{Args, ValueEnum};
use leoma_gpu::rank::leoma::{
    self as rules, RankConfig, RankMode, Round, DOMINANCE_THRESHOLD, SCORER_COMPLETENESS_THRESHOLD,
    SCORER_TASK_WINDOW, WILSON_Z,
};
use std::path::{Path, PathBuf};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Leoma's rules, reproduced (stake vote, window, completeness, dominance).
    Leoma,
    /// Outages excluded, missed tasks charged, Wilson lower bound, strict
    /// dominance on the bound (see `why` in the output).
    Improved,
}

#[derive(Args, Debug)]
#[command(
    after_long_help = "Inputs: --samples, a JSONL file of {task_id, miner_hotkey, validator_hotkey, passed} (one per line, \
blank lines ignored; for the same task, miner and validator the last line wins, like the API's upsert); \
--miners, a JSON array of {hotkey, uid, commit_block, is_valid}; --validators, a JSON array of \
{hotkey, stake} (without it every validator has stake 1; unknown validators count 0).\n\n\
Leoma's rules: a task passes for a miner when the stake-weighted share of passing verdicts is > 0.5; \
nothing is scored until the highest task id reaches the window; the window is the last N task ids; a \
valid miner ranks when evaluated on at least the completeness share of it; rank 1 is the latest \
committer whose pass rate beats every earlier committer's by the dominance margin, else the earliest \
committer. --mode improved fixes the reference's ranking weaknesses; the output's `why` explains each rule."
)]
pub struct RankArgs {
    /// Verdicts, one JSON object per line; without it, the verdict store's
    /// (what `evaluate --store` wrote).
    #[arg(long, value_name = "FILE.jsonl")]
    pub samples: Option<PathBuf>,
    /// Directory of the verdict store (default: $LEOMA_DATA_DIR or ~/.local/share/leoma-gpu).
    #[arg(long, env = "LEOMA_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Registered miners (JSON array).
    #[arg(long, value_name = "FILE.json")]
    pub miners: Option<PathBuf>,
    /// Validator stakes (JSON array); without it every validator has stake 1.
    #[arg(long, value_name = "FILE.json")]
    pub validators: Option<PathBuf>,
    /// Which rules rank the round.
    #[arg(long, value_enum, default_value_t = ModeArg::Leoma)]
    pub mode: ModeArg,
    /// Output format (json or table).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write the output to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Consecutive task ids in the window (Leoma's SCORER_TASK_WINDOW).
    #[arg(long, env = "SCORER_TASK_WINDOW", value_name = "N", default_value_t = SCORER_TASK_WINDOW)]
    pub window: u64,
    /// Share of the window a miner must be evaluated on (SCORER_COMPLETENESS_THRESHOLD).
    #[arg(long, env = "SCORER_COMPLETENESS_THRESHOLD", value_name = "SHARE", default_value_t = SCORER_COMPLETENESS_THRESHOLD)]
    pub completeness: f64,
    /// Pass-rate margin a later committer must beat every earlier one by (DOMINANCE_THRESHOLD).
    #[arg(long, env = "DOMINANCE_THRESHOLD", value_name = "MARGIN", default_value_t = DOMINANCE_THRESHOLD)]
    pub dominance: f64,
    /// z of the Wilson lower bound (improved mode only).
    #[arg(long, env = "LEOMA_RANK_WILSON_Z", value_name = "Z", default_value_t = WILSON_Z)]
    pub wilson_z: f64,
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("{}: cannot read: {e}", path.display())))
}

pub fn run(a: RankArgs) -> Result<u8, CliError> {
    if a.format == Format::Html {
        return Err(CliError::Input(
            "--format html is not supported by rank (use json or table)".into(),
        ));
    }
    let config = RankConfig {
        window: a.window,
        completeness: a.completeness,
        dominance: a.dominance,
        wilson_z: a.wilson_z,
    };
    config
        .validate()
        .map_err(|e| CliError::Input(e.to_string()))?;
    let Some(miners_path) = &a.miners else {
        return Err(CliError::Input(
            "--miners FILE.json is required (registered miners: hotkey, uid, commit_block, is_valid)".into(),
        ));
    };
    let input = |e: rules::RankInputError| CliError::Input(e.to_string());
    let samples = match &a.samples {
        Some(p) => {
            rules::parse_samples_jsonl(&read(p)?, &p.display().to_string()).map_err(input)?
        }
        None => {
            let store_err = |e: leoma_gpu::store::StoreError| CliError::Input(e.to_string());
            let path = leoma_gpu::store::db_path(a.data_dir.as_deref()).map_err(store_err)?;
            if !path.is_file() {
                return Err(CliError::Input(format!(
                    "{}: no verdict store (run `evaluate --store` first, or pass --samples FILE.jsonl)",
                    path.display()
                )));
            }
            leoma_gpu::store::Store::open(&path)
                .and_then(|s| s.samples())
                .map_err(store_err)?
        }
    };
    let miners = rules::parse_miners_json(&read(miners_path)?, &miners_path.display().to_string())
        .map_err(input)?;
    let validators = match &a.validators {
        Some(p) => {
            Some(rules::parse_validators_json(&read(p)?, &p.display().to_string()).map_err(input)?)
        }
        None => None,
    };
    let mode = match a.mode {
        ModeArg::Leoma => RankMode::Leoma,
        ModeArg::Improved => RankMode::Improved,
    };
    let round = Round {
        samples,
        miners,
        validators,
    };
    let report = rules::rank(mode, &round, &config);
    let text = match a.format {
        Format::Table => rules::render_table(&report),
        _ => output::to_json(&report)?,
    };
    output::emit(&text, a.out.as_deref())?;
    Ok(EXIT_OK)
}
