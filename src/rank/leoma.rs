//! Leoma's round ranking: stake-weighted vote, task window, completeness and
//! the dominance rule, reproduced from the ERA 1 reference
//! (`leoma/infra/stake_voting.py`, `scorer_constants.py`, `rank.py`,
//! `delivery/http/tasks/score_calculation.py`, `routes/weights.py` at
//! `29af3ac`). [`improved`](super::improved) is the opt-in variant that fixes
//! the reference's ranking weaknesses.
//!
//! The rules, in order:
//!
//! 1. **Ballots.** A sample is one validator's verdict on one (task, miner).
//!    Several samples for the same (task, miner, validator) keep the **last**
//!    one read, like the API's upsert on that unique key.
//! 2. **Vote** per (task, miner): `stake(v) = max(0, stake)` for listed
//!    validators, 0 for unknown ones (every validator has stake 1 when no
//!    validator list is given). If `Σ stake <= 0` the task does not pass;
//!    otherwise it passes iff `Σ stake·passed / Σ stake > 0.5` (strict, so
//!    exactly half the stake passing is a failure). Stakes are summed in
//!    validator-hotkey order (Leoma sums in database row order; the two can
//!    differ only in the last bit of non-integer stakes).
//! 3. **Window.** `max_tid` is the highest task id over *all* samples. Leoma
//!    does not score until `max_tid >= SCORER_TASK_WINDOW` (100); then the
//!    window is the consecutive ids `[max_tid - 99, max_tid]` (ids, not the
//!    last 100 seen).
//! 4. **Completeness.** For each miner listed with `is_valid`: `evaluated` =
//!    window ids with at least one verdict for it (verdicts from zero-stake
//!    validators count); `completeness = evaluated / SCORER_TASK_WINDOW`;
//!    eligible iff `completeness >= SCORER_COMPLETENESS_THRESHOLD - 1e-12`.
//!    `passed` = window tasks whose vote passes; `pass_rate = passed /
//!    evaluated` (the evaluated count, not the window size).
//! 5. **Dominance.** Eligible miners sorted by `(commit_block or 2^31,
//!    hotkey)`; walking from the latest committer back, rank 1 goes to the
//!    first whose `pass_rate >= pred_rate + DOMINANCE_THRESHOLD` for every
//!    earlier miner, evaluated in f64 exactly like Python (so 0.75 vs 0.70
//!    dominates but 0.85 vs 0.80 does not: `0.8 + 0.05` is
//!    `0.8500000000000001`). The earliest committer has no predecessors and
//!    always qualifies. Ranks 2.. follow by `(-passed, hotkey)`.
//! 6. **Winner.** The rank-1 hotkey's uid if that miner is listed with
//!    `is_valid`. Leoma's `/weights` answers uid 0 (burn) otherwise; this
//!    module names the winner or says why there is none and leaves burning to
//!    the code that sets weights.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Leoma's default window (`SCORER_TASK_WINDOW`).
pub const SCORER_TASK_WINDOW: u64 = 100;
/// Leoma's default completeness threshold (`SCORER_COMPLETENESS_THRESHOLD`).
pub const SCORER_COMPLETENESS_THRESHOLD: f64 = 0.8;
/// Leoma's default dominance margin (`DOMINANCE_THRESHOLD`).
pub const DOMINANCE_THRESHOLD: f64 = 0.05;
/// Default z of the improved mode's Wilson lower bound (two-sided 95 %).
pub const WILSON_Z: f64 = 1.96;
/// Slack Leoma allows in the completeness comparison.
pub const COMPLETENESS_SLACK: f64 = 1e-12;
/// The commit block Leoma assumes for a miner without one (sorts last).
pub const NO_BLOCK: u64 = 1 << 31;

/// One validator's verdict on one miner's clip for one task (a line of the
/// samples JSONL; other fields of Leoma's sample rows are ignored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub task_id: u64,
    pub miner_hotkey: String,
    pub validator_hotkey: String,
    pub passed: bool,
}

/// A registered miner (Leoma's `valid_miners` row).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Miner {
    pub hotkey: String,
    pub uid: u64,
    /// Block of the miner's latest on-chain commit (`null`: sorts last).
    #[serde(default, alias = "block")]
    pub commit_block: Option<u64>,
    pub is_valid: bool,
}

/// A registered validator and its stake.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Validator {
    pub hotkey: String,
    pub stake: f64,
}

/// Everything one ranking needs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Round {
    pub samples: Vec<Sample>,
    pub miners: Vec<Miner>,
    /// `None`: every validator has stake 1.
    pub validators: Option<Vec<Validator>>,
}

/// Which rules rank the round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RankMode {
    /// Leoma's rules, reproduced.
    #[default]
    Leoma,
    /// The opt-in variant in [`super::improved`].
    Improved,
}

/// Every constant of the ranking, serialized under Leoma's environment names.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankConfig {
    /// Number of consecutive task ids in the window.
    #[serde(rename = "SCORER_TASK_WINDOW")]
    pub window: u64,
    /// Share of the window a miner must have been evaluated on to rank.
    #[serde(rename = "SCORER_COMPLETENESS_THRESHOLD")]
    pub completeness: f64,
    /// Margin a later committer must beat every earlier one by.
    #[serde(rename = "DOMINANCE_THRESHOLD")]
    pub dominance: f64,
    /// z of the Wilson lower bound (improved mode only; not a Leoma setting).
    #[serde(rename = "LEOMA_RANK_WILSON_Z")]
    pub wilson_z: f64,
}

impl Default for RankConfig {
    fn default() -> Self {
        RankConfig {
            window: SCORER_TASK_WINDOW,
            completeness: SCORER_COMPLETENESS_THRESHOLD,
            dominance: DOMINANCE_THRESHOLD,
            wilson_z: WILSON_Z,
        }
    }
}

impl RankConfig {
    /// Reject settings the rules are undefined for.
    pub fn validate(&self) -> Result<(), RankInputError> {
        let bad = |m: String| Err(RankInputError(m));
        if self.window == 0 || self.window > 1_000_000_000 {
            return bad(format!(
                "SCORER_TASK_WINDOW must be within 1..=1000000000, got {}",
                self.window
            ));
        }
        if !(0.0..=1.0).contains(&self.completeness) {
            return bad(format!(
                "SCORER_COMPLETENESS_THRESHOLD must be within 0..=1, got {}",
                self.completeness
            ));
        }
        if !(0.0..=1.0).contains(&self.dominance) {
            return bad(format!(
                "DOMINANCE_THRESHOLD must be within 0..=1, got {}",
                self.dominance
            ));
        }
        if !(0.0..=10.0).contains(&self.wilson_z) {
            return bad(format!(
                "LEOMA_RANK_WILSON_Z must be within 0..=10, got {}",
                self.wilson_z
            ));
        }
        Ok(())
    }
}

/// Unusable ranking input; the message names the source and the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct RankInputError(pub String);

// ---------------------------------------------------------------- inputs

/// Parse samples JSONL: one sample per line, blank lines ignored. `source`
/// names the file in errors (`source:LINE: problem`).
pub fn parse_samples_jsonl(text: &str, source: &str) -> Result<Vec<Sample>, RankInputError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let s: Sample = serde_json::from_str(line)
            .map_err(|e| RankInputError(format!("{source}:{}: malformed sample: {e}", i + 1)))?;
        for (field, v) in [
            ("miner_hotkey", &s.miner_hotkey),
            ("validator_hotkey", &s.validator_hotkey),
        ] {
            if v.trim().is_empty() {
                return Err(RankInputError(format!(
                    "{source}:{}: {field} is empty",
                    i + 1
                )));
            }
        }
        out.push(s);
    }
    Ok(out)
}

/// Parse the miners JSON array; a hotkey listed twice is an error.
pub fn parse_miners_json(text: &str, source: &str) -> Result<Vec<Miner>, RankInputError> {
    let miners: Vec<Miner> = serde_json::from_str(text).map_err(|e| {
        RankInputError(format!(
            "{source}: not a JSON array of {{hotkey, uid, commit_block, is_valid}}: {e}"
        ))
    })?;
    let mut seen = BTreeSet::new();
    for m in &miners {
        if m.hotkey.trim().is_empty() {
            return Err(RankInputError(format!(
                "{source}: a miner has an empty hotkey"
            )));
        }
        if !seen.insert(m.hotkey.as_str()) {
            return Err(RankInputError(format!(
                "{source}: miner hotkey {} is listed twice",
                m.hotkey
            )));
        }
    }
    Ok(miners)
}

/// Parse the validators JSON array; a hotkey listed twice or a non-finite
/// stake is an error (a negative stake is allowed and counts as 0).
pub fn parse_validators_json(text: &str, source: &str) -> Result<Vec<Validator>, RankInputError> {
    let validators: Vec<Validator> = serde_json::from_str(text).map_err(|e| {
        RankInputError(format!(
            "{source}: not a JSON array of {{hotkey, stake}}: {e}"
        ))
    })?;
    let mut seen = BTreeSet::new();
    for v in &validators {
        if !v.stake.is_finite() {
            return Err(RankInputError(format!(
                "{source}: validator {} has a non-finite stake",
                v.hotkey
            )));
        }
        if !seen.insert(v.hotkey.as_str()) {
            return Err(RankInputError(format!(
                "{source}: validator hotkey {} is listed twice",
                v.hotkey
            )));
        }
    }
    Ok(validators)
}

// ---------------------------------------------------------------- vote

/// Validator stakes as the vote sees them.
#[derive(Clone, Debug)]
pub struct StakeTable(Option<BTreeMap<String, f64>>);

impl StakeTable {
    /// `None`: every validator has stake 1.
    pub fn new(validators: Option<&[Validator]>) -> Self {
        StakeTable(validators.map(|vs| {
            vs.iter()
                .map(|v| (v.hotkey.clone(), v.stake))
                .collect::<BTreeMap<_, _>>()
        }))
    }

    /// `max(0, stake)` for a listed validator, 0 for an unknown one (NaN
    /// counts as 0 too).
    pub fn stake(&self, validator: &str) -> f64 {
        match &self.0 {
            None => 1.0,
            Some(map) => map
                .get(validator)
                .map_or(0.0, |s| if *s > 0.0 { *s } else { 0.0 }),
        }
    }
}

/// Leoma's `stake_weighted_pass`: `(passed, stake)` pairs (stakes already
/// clamped); false when the total stake is not positive, else the
/// stake-weighted share of passes must exceed 0.5.
pub fn stake_weighted_pass(votes: &[(bool, f64)]) -> bool {
    let total: f64 = votes.iter().map(|(_, s)| *s).sum();
    if total <= 0.0 {
        return false;
    }
    let weighted: f64 = votes.iter().map(|(p, s)| if *p { *s } else { 0.0 }).sum();
    weighted / total > 0.5
}

/// Verdicts per (task, miner): validator -> passed, the last sample winning.
pub type Ballots = BTreeMap<(u64, String), BTreeMap<String, bool>>;

/// Group samples into ballots; a later sample for the same (task, miner,
/// validator) replaces an earlier one (the API's upsert).
pub fn ballots(samples: &[Sample]) -> Ballots {
    let mut b = Ballots::new();
    for s in samples {
        b.entry((s.task_id, s.miner_hotkey.clone()))
            .or_default()
            .insert(s.validator_hotkey.clone(), s.passed);
    }
    b
}

/// The vote on one ballot: `(total stake, passes)`.
pub fn vote(ballot: &BTreeMap<String, bool>, stakes: &StakeTable) -> (f64, bool) {
    let votes: Vec<(bool, f64)> = ballot.iter().map(|(v, p)| (*p, stakes.stake(v))).collect();
    (
        votes.iter().map(|(_, s)| *s).sum(),
        stake_weighted_pass(&votes),
    )
}

// ---------------------------------------------------------------- window

/// Leoma's `scoring_window_task_ids` (for dashboards): `None` without tasks,
/// `1..=max` while `max < window`, else the last `window` consecutive ids.
pub fn scoring_window(max_task_id: Option<u64>, window: u64) -> Option<(u64, u64)> {
    let max = max_task_id?;
    if max < window {
        Some((1, max))
    } else {
        Some((max - window + 1, max))
    }
}

// ---------------------------------------------------------------- dominance

/// `(hotkey, passed_count, pass_rate, block)`, as Leoma's `rank.py` takes them.
#[derive(Clone, Debug, PartialEq)]
pub struct MinerStat {
    pub hotkey: String,
    pub passed_count: u64,
    pub pass_rate: f64,
    pub block: Option<u64>,
}

/// Indices of `stats` in commit order: `(block or 2^31, hotkey)` ascending.
pub fn commit_order<T>(
    stats: &[T],
    block: impl Fn(&T) -> Option<u64>,
    hotkey: impl Fn(&T) -> &str,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..stats.len()).collect();
    order.sort_by(|&a, &b| {
        let (sa, sb) = (&stats[a], &stats[b]);
        block(sa)
            .unwrap_or(NO_BLOCK)
            .cmp(&block(sb).unwrap_or(NO_BLOCK))
            .then_with(|| hotkey(sa).cmp(hotkey(sb)))
    });
    order
}

/// Leoma's `find_dominant_winner`: the index of the latest committer whose
/// rate is `>=` every earlier committer's rate plus `threshold`; the earliest
/// always qualifies. `None` only for an empty list.
pub fn find_dominant_winner(stats: &[MinerStat], threshold: f64) -> Option<usize> {
    let order = commit_order(stats, |s| s.block, |s| &s.hotkey);
    (0..order.len()).rev().map(|i| order[i]).find(|&i| {
        let rate = stats[i].pass_rate;
        order
            .iter()
            .take_while(|&&j| j != i)
            .all(|&j| rate >= stats[j].pass_rate + threshold)
    })
}

/// Leoma's `compute_rank_from_miner_stats`: the winner's index, then every
/// index in rank order (winner first, the rest by `(-passed_count, hotkey)`).
pub fn compute_rank(stats: &[MinerStat], threshold: f64) -> (Option<usize>, Vec<usize>) {
    let winner = find_dominant_winner(stats, threshold);
    let mut rest: Vec<usize> = (0..stats.len()).filter(|&i| Some(i) != winner).collect();
    rest.sort_by(|&a, &b| {
        stats[b]
            .passed_count
            .cmp(&stats[a].passed_count)
            .then_with(|| stats[a].hotkey.cmp(&stats[b].hotkey))
    });
    (winner, winner.into_iter().chain(rest).collect())
}

// ---------------------------------------------------------------- report

/// The ranked round.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RankReport {
    pub mode: RankMode,
    pub config: RankConfig,
    /// `null` when nothing is scored.
    pub window: Option<WindowInfo>,
    pub winner: Option<Winner>,
    /// Why the winner won, or why there is none.
    pub reason: String,
    /// Eligible miners by rank, then the other valid miners (rank `null`).
    pub ranking: Vec<RankedMiner>,
    /// Every hotkey that is not ranked, with the reason.
    pub ineligible: Vec<Ineligible>,
    /// Improved mode: each rule that differs from Leoma's and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub why: Vec<Why>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WindowInfo {
    pub first: u64,
    pub last: u64,
    pub size: u64,
    /// Improved mode: window ids with at least one counted verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<u64>,
    /// Improved mode: window ids without any counted verdict (outages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outages: Option<Vec<u64>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Winner {
    pub hotkey: String,
    pub uid: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RankedMiner {
    /// 1.. for eligible miners, `null` for the others.
    pub rank: Option<usize>,
    pub hotkey: String,
    pub uid: u64,
    /// Window tasks whose stake vote passed.
    pub passed: u64,
    /// Window tasks with a verdict for this miner.
    pub evaluated: u64,
    pub completeness: f64,
    pub pass_rate: f64,
    pub eligible: bool,
    pub commit_block: Option<u64>,
    /// Improved mode: Wilson lower bound of the pass rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lower_bound: Option<f64>,
    /// Improved mode: live tasks after the miner's first verdict that it has
    /// no verdict for (counted as failures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missed: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ineligible {
    pub hotkey: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Why {
    pub rule: String,
    pub why: String,
}

impl RankReport {
    pub(crate) fn empty(mode: RankMode, config: RankConfig, reason: String) -> Self {
        RankReport {
            mode,
            config,
            window: None,
            winner: None,
            reason,
            ranking: Vec::new(),
            ineligible: Vec::new(),
            why: Vec::new(),
        }
    }

    /// The rank-1 entry, if any.
    pub fn rank_one(&self) -> Option<&RankedMiner> {
        self.ranking.iter().find(|m| m.rank == Some(1))
    }
}

/// Rank a round with the chosen rules. The configuration must be valid
/// ([`RankConfig::validate`]).
pub fn rank(mode: RankMode, round: &Round, config: &RankConfig) -> RankReport {
    match mode {
        RankMode::Leoma => rank_round(round, config),
        RankMode::Improved => super::improved::rank_round(round, config),
    }
}

/// Hotkeys that appear in samples or the miners list but cannot be ranked
/// because they are not valid miners.
/// Completeness `evaluated / denominator` and whether it clears the threshold;
/// a miner that falls short is added to `ineligible` with the reason.
/// `verdicts` names what was counted ("verdict", "counted verdict") and `tasks`
/// what the denominator counts ("window tasks", "live window tasks").
#[allow(clippy::too_many_arguments)]
pub(crate) fn completeness_check(
    hotkey: &str,
    evaluated: u64,
    denominator: u64,
    verdicts: &str,
    tasks: &str,
    window: (u64, u64),
    config: &RankConfig,
    ineligible: &mut Vec<Ineligible>,
) -> (f64, bool) {
    let completeness = evaluated as f64 / denominator as f64;
    let eligible = evaluated > 0 && completeness >= config.completeness - COMPLETENESS_SLACK;
    let reason = if evaluated == 0 {
        Some(format!(
            "no {verdicts} in the window [{}, {}]",
            window.0, window.1
        ))
    } else if !eligible {
        Some(format!(
            "evaluated on {evaluated} of the {denominator} {tasks}: completeness {completeness} \
             < SCORER_COMPLETENESS_THRESHOLD {}",
            config.completeness
        ))
    } else {
        None
    };
    if let Some(reason) = reason {
        ineligible.push(Ineligible {
            hotkey: hotkey.to_string(),
            reason,
        });
    }
    (completeness, eligible)
}

pub(crate) fn not_valid(round: &Round, window: (u64, u64)) -> Vec<Ineligible> {
    let listed: BTreeMap<&str, &Miner> = round
        .miners
        .iter()
        .map(|m| (m.hotkey.as_str(), m))
        .collect();
    let mut out = BTreeMap::new();
    for m in &round.miners {
        if !m.is_valid {
            out.insert(
                m.hotkey.clone(),
                "is_valid is false: only valid miners are ranked".to_string(),
            );
        }
    }
    for s in &round.samples {
        if s.task_id >= window.0
            && s.task_id <= window.1
            && !listed.contains_key(s.miner_hotkey.as_str())
        {
            out.insert(
                s.miner_hotkey.clone(),
                "not in the miners list: only valid miners are ranked".to_string(),
            );
        }
    }
    out.into_iter()
        .map(|(hotkey, reason)| Ineligible { hotkey, reason })
        .collect()
}

/// The uid the weight goes to, or why none: the rank-1 hotkey must be a
/// listed valid miner.
pub(crate) fn winner_of(round: &Round, hotkey: &str) -> Result<Winner, String> {
    match round.miners.iter().rev().find(|m| m.hotkey == hotkey) {
        Some(m) if m.is_valid => Ok(Winner {
            hotkey: m.hotkey.clone(),
            uid: m.uid,
        }),
        Some(_) => Err(format!(
            "rank 1 ({hotkey}) is not valid (is_valid is false), so no uid gets the weight (Leoma answers uid 0, burn)"
        )),
        None => Err(format!(
            "rank 1 ({hotkey}) is not in the miners list, so no uid gets the weight (Leoma answers uid 0, burn)"
        )),
    }
}

/// Leoma's rules (module docs).
pub fn rank_round(round: &Round, config: &RankConfig) -> RankReport {
    let w = config.window;
    let Some(max_tid) = round.samples.iter().map(|s| s.task_id).max() else {
        return RankReport::empty(
            RankMode::Leoma,
            *config,
            "no verdicts: there is nothing to rank".into(),
        );
    };
    if max_tid < w {
        return RankReport::empty(
            RankMode::Leoma,
            *config,
            format!(
                "Leoma does not score until the highest task id reaches SCORER_TASK_WINDOW={w}; \
                 the highest task id is {max_tid}, so there is no winner"
            ),
        );
    }
    let (first, last) = (max_tid - w + 1, max_tid);
    let stakes = StakeTable::new(round.validators.as_deref());
    // miner -> (evaluated, passed) over the window
    let mut counts: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let all = ballots(&round.samples);
    for ((task, miner), ballot) in &all {
        if *task < first {
            continue;
        }
        let (_, passes) = vote(ballot, &stakes);
        let c = counts.entry(miner.as_str()).or_default();
        c.0 += 1;
        c.1 += u64::from(passes);
    }

    let mut ineligible = not_valid(round, (first, last));
    let mut entries: Vec<RankedMiner> = Vec::new();
    for m in round.miners.iter().filter(|m| m.is_valid) {
        let (evaluated, passed) = counts.get(m.hotkey.as_str()).copied().unwrap_or((0, 0));
        let (completeness, eligible) = completeness_check(
            &m.hotkey,
            evaluated,
            w,
            "verdict",
            "window tasks",
            (first, last),
            config,
            &mut ineligible,
        );
        entries.push(RankedMiner {
            rank: None,
            hotkey: m.hotkey.clone(),
            uid: m.uid,
            passed,
            evaluated,
            completeness,
            pass_rate: if evaluated > 0 {
                passed as f64 / evaluated as f64
            } else {
                0.0
            },
            eligible,
            commit_block: m.commit_block,
            lower_bound: None,
            missed: None,
        });
    }
    ineligible.sort_by(|a, b| a.hotkey.cmp(&b.hotkey));

    let (eligible, mut others): (Vec<RankedMiner>, Vec<RankedMiner>) =
        entries.into_iter().partition(|e| e.eligible);
    let stats: Vec<MinerStat> = eligible
        .iter()
        .map(|e| MinerStat {
            hotkey: e.hotkey.clone(),
            passed_count: e.passed,
            pass_rate: e.pass_rate,
            block: e.commit_block,
        })
        .collect();
    let (winner_idx, order) = compute_rank(&stats, config.dominance);
    let mut ranking: Vec<RankedMiner> = order
        .iter()
        .enumerate()
        .map(|(r, &i)| RankedMiner {
            rank: Some(r + 1),
            ..eligible[i].clone()
        })
        .collect();
    others.sort_by(|a, b| {
        b.passed
            .cmp(&a.passed)
            .then_with(|| a.hotkey.cmp(&b.hotkey))
    });
    ranking.extend(others);

    let (winner, reason) = match winner_idx {
        None => (
            None,
            format!(
                "no miner is eligible: none of the {} valid miners was evaluated on at least \
                 SCORER_COMPLETENESS_THRESHOLD={} of the window [{first}, {last}], so there is no winner",
                round.miners.iter().filter(|m| m.is_valid).count(),
                config.completeness
            ),
        ),
        Some(i) => {
            let why = dominance_reason(&stats, i, config.dominance);
            match winner_of(round, &stats[i].hotkey) {
                Ok(win) => (Some(win), why),
                Err(e) => (None, format!("{why}; {e}")),
            }
        }
    };
    RankReport {
        mode: RankMode::Leoma,
        config: *config,
        window: Some(WindowInfo {
            first,
            last,
            size: w,
            live: None,
            outages: None,
        }),
        winner,
        reason,
        ranking,
        ineligible,
        why: Vec::new(),
    }
}

fn block_text(b: Option<u64>) -> String {
    b.map_or_else(|| "no commit block".to_string(), |b| format!("block {b}"))
}

/// Why `stats[winner]` took rank 1 under Leoma's dominance rule.
fn dominance_reason(stats: &[MinerStat], winner: usize, threshold: f64) -> String {
    let order = commit_order(stats, |s| s.block, |s| &s.hotkey);
    let pos = order.iter().position(|&i| i == winner).unwrap_or(0);
    let w = &stats[winner];
    let later = order.len() - 1 - pos;
    let later_text = if later == 0 {
        String::new()
    } else {
        format!(
            "; no later committer ({later}) reaches every earlier committer's pass rate + \
             DOMINANCE_THRESHOLD={threshold}"
        )
    };
    if stats.len() == 1 {
        return format!(
            "{} ({}, pass rate {}) is the only eligible miner",
            w.hotkey,
            block_text(w.block),
            w.pass_rate
        );
    }
    if pos == 0 {
        return format!(
            "{} ({}, pass rate {}) is the earliest committer among the eligible miners, which \
             always qualifies{later_text}",
            w.hotkey,
            block_text(w.block),
            w.pass_rate
        );
    }
    let best_earlier = order[..pos]
        .iter()
        .map(|&j| &stats[j])
        .max_by(|a, b| a.pass_rate.total_cmp(&b.pass_rate))
        .expect("pos > 0");
    format!(
        "{} ({}, pass rate {}) has a pass rate >= every earlier committer's rate + \
         DOMINANCE_THRESHOLD={threshold} (best earlier: {} at {}){later_text}",
        w.hotkey,
        block_text(w.block),
        w.pass_rate,
        best_earlier.hotkey,
        best_earlier.pass_rate
    )
}

// ---------------------------------------------------------------- table

/// A readable table of the report, then the winner line and the ineligible
/// hotkeys.
pub fn render_table(r: &RankReport) -> String {
    let mut s = String::new();
    let mode = match r.mode {
        RankMode::Leoma => "leoma",
        RankMode::Improved => "improved",
    };
    let _ = write!(s, "mode {mode}");
    match &r.window {
        Some(w) => {
            let _ = write!(s, "  window {}..{} ({} task ids", w.first, w.last, w.size);
            if let Some(live) = w.live {
                let _ = write!(s, ", {live} live");
            }
            let _ = write!(s, ")");
        }
        None => {
            let _ = write!(s, "  window none");
        }
    }
    let _ = writeln!(
        s,
        "  completeness >= {}  dominance {}{}",
        r.config.completeness,
        r.config.dominance,
        if r.mode == RankMode::Improved {
            format!("  z {}", r.config.wilson_z)
        } else {
            String::new()
        }
    );
    if !r.ranking.is_empty() {
        let improved = r.ranking.iter().any(|m| m.lower_bound.is_some());
        let hk_w = r
            .ranking
            .iter()
            .map(|m| m.hotkey.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        let _ = write!(
            s,
            "{:>4}  {:<hk_w$}  {:>5}  {:>10}  {:>6}  {:>9}  {:>8}  {:>6}",
            "rank", "hotkey", "uid", "block", "passed", "evaluated", "complete", "rate"
        );
        if improved {
            let _ = write!(s, "  {:>6}  {:>6}", "lower", "missed");
        }
        let _ = writeln!(s, "  eligible");
        for m in &r.ranking {
            let _ = write!(
                s,
                "{:>4}  {:<hk_w$}  {:>5}  {:>10}  {:>6}  {:>9}  {:>8.3}  {:>6.3}",
                m.rank.map_or_else(|| "-".to_string(), |r| r.to_string()),
                m.hotkey,
                m.uid,
                m.commit_block
                    .map_or_else(|| "-".to_string(), |b| b.to_string()),
                m.passed,
                m.evaluated,
                m.completeness,
                m.pass_rate
            );
            if improved {
                let _ = write!(
                    s,
                    "  {:>6.3}  {:>6}",
                    m.lower_bound.unwrap_or(0.0),
                    m.missed.unwrap_or(0)
                );
            }
            let _ = writeln!(s, "  {}", if m.eligible { "yes" } else { "no" });
        }
    }
    match &r.winner {
        Some(w) => {
            let _ = writeln!(s, "winner: {} (uid {}): {}", w.hotkey, w.uid, r.reason);
        }
        None => {
            let _ = writeln!(s, "winner: none: {}", r.reason);
        }
    }
    if !r.ineligible.is_empty() {
        let _ = writeln!(s, "not ranked:");
        for i in &r.ineligible {
            let _ = writeln!(s, "  {}: {}", i.hotkey, i.reason);
        }
    }
    if !r.why.is_empty() {
        let _ = writeln!(s, "rules:");
        for w in &r.why {
            let _ = writeln!(s, "  - {} ({})", w.rule, w.why);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(h: &str, rate: f64, block: u64) -> MinerStat {
        MinerStat {
            hotkey: h.into(),
            passed_count: (rate * 100.0).round() as u64,
            pass_rate: rate,
            block: Some(block),
        }
    }

    #[test]
    fn dominance_examples_from_the_reference() {
        let s = [stat("early", 0.70, 1000), stat("late", 0.80, 1001)];
        assert_eq!(find_dominant_winner(&s, 0.05), Some(1));
        let s = [stat("early", 0.70, 1000), stat("late", 0.74, 1001)];
        assert_eq!(find_dominant_winner(&s, 0.05), Some(0));
        let s = [
            stat("a", 0.90, 1000),
            stat("b", 0.80, 1001),
            stat("c", 0.85, 1002),
        ];
        assert_eq!(find_dominant_winner(&s, 0.05), Some(0));
        assert_eq!(find_dominant_winner(&[], 0.05), None);
    }

    #[test]
    fn vote_is_strict_and_clamps() {
        assert!(!stake_weighted_pass(&[(true, 1.0), (false, 1.0)]));
        assert!(stake_weighted_pass(&[(true, 2.0), (false, 1.0)]));
        assert!(!stake_weighted_pass(&[(true, 0.0)]));
        assert!(!stake_weighted_pass(&[]));
        let t = StakeTable::new(Some(&[Validator {
            hotkey: "v".into(),
            stake: -5.0,
        }]));
        assert_eq!(t.stake("v"), 0.0);
        assert_eq!(t.stake("unknown"), 0.0);
        assert_eq!(StakeTable::new(None).stake("anyone"), 1.0);
    }

    #[test]
    fn window_helper_matches_scorer_constants() {
        assert_eq!(scoring_window(None, 100), None);
        assert_eq!(scoring_window(Some(7), 100), Some((1, 7)));
        assert_eq!(scoring_window(Some(500), 100), Some((401, 500)));
    }

    #[test]
    fn samples_parse_errors_name_the_line() {
        let text = "{\"task_id\":1,\"miner_hotkey\":\"m\",\"validator_hotkey\":\"v\",\"passed\":true}\n\n{oops\n";
        let e = parse_samples_jsonl(text, "s.jsonl").unwrap_err();
        assert!(e.0.starts_with("s.jsonl:3:"), "{e}");
    }
}
