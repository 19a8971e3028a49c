//! Leoma's round ranking (`leoma_gpu::rank::leoma`), the improved mode
//! (`leoma_gpu::rank::improved`) and `leoma-gpu rank`, through the library and
//! the binary. The dominance cases are the reference's `tests/unit/test_rank.py`
//! and `test_scorer_constants.py` (`29af3ac`); the replay is checked against a
//! brute-force implementation written here from the specification.

use leoma_gpu::rank::improved::{self, wilson_lower_bound};
use leoma_gpu::rank::leoma::{
    self, compute_rank, find_dominant_winner, scoring_window, stake_weighted_pass, Miner,
    MinerStat, RankConfig, RankMode, RankReport, Round, Sample, Validator,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

// ------------------------------------------------------------------ helpers

/// splitmix64: a tiny deterministic PRNG for the generated rounds.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

fn sample(task_id: u64, miner: &str, validator: &str, passed: bool) -> Sample {
    Sample {
        task_id,
        miner_hotkey: miner.into(),
        validator_hotkey: validator.into(),
        passed,
    }
}

fn miner(hotkey: &str, uid: u64, block: Option<u64>) -> Miner {
    Miner {
        hotkey: hotkey.into(),
        uid,
        commit_block: block,
        is_valid: true,
    }
}

fn validator(hotkey: &str, stake: f64) -> Validator {
    Validator {
        hotkey: hotkey.into(),
        stake,
    }
}

fn stat(hotkey: &str, passed: u64, rate: f64, block: u64) -> MinerStat {
    MinerStat {
        hotkey: hotkey.into(),
        passed_count: passed,
        pass_rate: rate,
        block: Some(block),
    }
}

/// One validator ("5V") judging `hotkey` on each task of `tasks`;
/// `pass(t)` is the verdict.
fn record(
    hotkey: &str,
    tasks: impl IntoIterator<Item = u64>,
    pass: impl Fn(u64) -> bool,
) -> Vec<Sample> {
    tasks
        .into_iter()
        .map(|t| sample(t, hotkey, "5V", pass(t)))
        .collect()
}

fn entry<'a>(r: &'a RankReport, hotkey: &str) -> &'a leoma::RankedMiner {
    r.ranking
        .iter()
        .find(|m| m.hotkey == hotkey)
        .unwrap_or_else(|| panic!("{hotkey} not in ranking: {r:#?}"))
}

fn winner(r: &RankReport) -> Option<&str> {
    r.winner.as_ref().map(|w| w.hotkey.as_str())
}

fn ranked(r: &RankReport) -> Vec<&str> {
    r.ranking
        .iter()
        .filter(|m| m.rank.is_some())
        .map(|m| m.hotkey.as_str())
        .collect()
}

fn with(f: impl FnOnce(&mut RankConfig)) -> RankConfig {
    let mut c = RankConfig::default();
    f(&mut c);
    c
}

// ------------------------------------------------------------------ dominance

#[test]
fn later_committer_wins_when_it_beats_the_margin() {
    let s = [stat("early", 70, 0.70, 1000), stat("late", 80, 0.80, 1001)];
    assert_eq!(find_dominant_winner(&s, 0.05), Some(1));
}

#[test]
fn earlier_committer_keeps_rank_one_within_the_margin() {
    let s = [stat("early", 70, 0.70, 1000), stat("late", 74, 0.74, 1001)];
    assert_eq!(find_dominant_winner(&s, 0.05), Some(0));
    let (w, order) = compute_rank(&s, 0.05);
    assert_eq!(w, Some(0));
    assert_eq!(order, vec![0, 1]);
}

#[test]
fn earliest_wins_when_no_later_committer_dominates() {
    let s = [
        stat("a", 90, 0.90, 1000),
        stat("b", 80, 0.80, 1001),
        stat("c", 85, 0.85, 1002),
    ];
    assert_eq!(find_dominant_winner(&s, 0.05), Some(0));
}

#[test]
fn single_and_empty_lists() {
    assert_eq!(
        find_dominant_winner(&[stat("only", 50, 0.5, 1000)], 0.05),
        Some(0)
    );
    assert_eq!(find_dominant_winner(&[], 0.05), None);
    assert_eq!(compute_rank(&[], 0.05), (None, vec![]));
}

#[test]
fn rank_one_then_passed_count_descending() {
    let s = [
        stat("low", 10, 0.10, 1000),
        stat("mid", 50, 0.50, 1001),
        stat("high", 90, 0.90, 1002),
    ];
    let (w, order) = compute_rank(&s, 0.05);
    assert_eq!(w, Some(2));
    assert_eq!(order, vec![2, 1, 0]);
}

#[test]
fn hundred_miners_last_committer_at_90_percent_wins() {
    let mut rng = Rng(42);
    let stats: Vec<MinerStat> = (0..100u64)
        .map(|i| {
            let passed = if i == 99 { 90 } else { rng.range(5, 84) };
            stat(
                &format!("5MockHotkey{i:03}{}", "x".repeat(48)),
                passed,
                passed as f64 / 100.0,
                1000 + i,
            )
        })
        .collect();
    let (w, order) = compute_rank(&stats, 0.05);
    assert_eq!(w, Some(99));
    assert_eq!(order.len(), 100);
    assert_eq!(order[0], 99);
    assert_eq!(stats[order[0]].block, Some(1099));
    for pair in order.windows(2) {
        assert!(stats[pair[1]].passed_count <= stats[pair[0]].passed_count);
    }
    // Every index appears once.
    let mut seen = order.clone();
    seen.sort();
    assert_eq!(seen, (0..100).collect::<Vec<_>>());
}

#[test]
fn missing_commit_block_sorts_last() {
    let s = [
        MinerStat {
            hotkey: "unknown-block".into(),
            passed_count: 95,
            pass_rate: 0.95,
            block: None,
        },
        stat("old", 80, 0.80, 5_000_000),
    ];
    // The miner without a block counts as the latest committer (2^31) and
    // dominates the old one.
    assert_eq!(find_dominant_winner(&s, 0.05), Some(0));
    // Equal blocks fall back to the hotkey: "a" is earlier than "b".
    let s = [stat("b", 80, 0.80, 7), stat("a", 70, 0.70, 7)];
    assert_eq!(find_dominant_winner(&s, 0.05), Some(0));
    let s = [stat("b", 72, 0.72, 7), stat("a", 70, 0.70, 7)];
    assert_eq!(find_dominant_winner(&s, 0.05), Some(1));
}

/// `>=` on Python floats: 0.75 vs 0.70 + 0.05 (== 0.75) dominates, but
/// 0.85 vs 0.80 + 0.05 (== 0.8500000000000001) does not. Leoma's comparison
/// is reproduced bit for bit, so both outcomes are kept.
#[test]
fn dominance_boundary_follows_leomas_float_arithmetic() {
    assert_eq!(0.7 + 0.05, 0.75);
    assert_ne!(0.8 + 0.05, 0.85);
    let s = [stat("early", 70, 0.70, 1000), stat("late", 75, 0.75, 1001)];
    assert_eq!(find_dominant_winner(&s, 0.05), Some(1));
    let s = [stat("early", 80, 0.80, 1000), stat("late", 85, 0.85, 1001)];
    assert_eq!(find_dominant_winner(&s, 0.05), Some(0));

    // The same through a whole round: rates come from passed / evaluated.
    for (early, late, expected) in [(70, 75, "late"), (80, 85, "early"), (70, 74, "early")] {
        let mut samples = record("early", 1..=100, |t| t <= early);
        samples.extend(record("late", 1..=100, |t| t <= late));
        let round = Round {
            samples,
            miners: vec![miner("early", 1, Some(10)), miner("late", 2, Some(11))],
            validators: None,
        };
        let r = leoma::rank_round(&round, &RankConfig::default());
        assert_eq!(
            winner(&r),
            Some(expected),
            "{early} vs {late}: {}",
            r.reason
        );
    }
}

// ------------------------------------------------------------------ vote

/// Passed count of miner "m" on task 1 of a one-task window.
fn passed_on_one_task(samples: Vec<Sample>, validators: Option<Vec<Validator>>) -> (u64, u64) {
    let round = Round {
        samples,
        miners: vec![miner("m", 1, Some(1))],
        validators,
    };
    let r = leoma::rank_round(&round, &with(|c| c.window = 1));
    let e = entry(&r, "m");
    (e.passed, e.evaluated)
}

#[test]
fn vote_is_a_strict_stake_majority() {
    assert!(!stake_weighted_pass(&[(true, 1.0), (false, 1.0)]));
    assert!(stake_weighted_pass(&[(true, 1.0), (false, 0.999)]));
    let vals = Some(vec![validator("a", 2.0), validator("b", 2.0)]);
    let half = vec![sample(1, "m", "a", true), sample(1, "m", "b", false)];
    assert_eq!(passed_on_one_task(half, vals), (0, 1));
    let vals = Some(vec![validator("a", 2.0), validator("b", 1.0)]);
    let more = vec![sample(1, "m", "a", true), sample(1, "m", "b", false)];
    assert_eq!(passed_on_one_task(more, vals.clone()), (1, 1));
    let less = vec![sample(1, "m", "a", false), sample(1, "m", "b", true)];
    assert_eq!(passed_on_one_task(less, vals), (0, 1));
}

#[test]
fn zero_total_stake_does_not_pass_but_counts_as_evaluated() {
    assert!(!stake_weighted_pass(&[(true, 0.0), (true, 0.0)]));
    let vals = Some(vec![validator("a", 0.0)]);
    assert_eq!(
        passed_on_one_task(vec![sample(1, "m", "a", true)], vals),
        (0, 1)
    );
}

#[test]
fn unknown_validators_have_no_stake() {
    let vals = Some(vec![validator("a", 1.0)]);
    let s = vec![
        sample(1, "m", "a", false),
        sample(1, "m", "stranger", true),
        sample(1, "m", "stranger2", true),
    ];
    assert_eq!(passed_on_one_task(s, vals.clone()), (0, 1));
    let only_unknown = vec![sample(1, "m", "stranger", true)];
    assert_eq!(passed_on_one_task(only_unknown, vals), (0, 1));
}

#[test]
fn negative_stake_is_clamped_to_zero() {
    // Unclamped, the total would be -9 and the task could not pass.
    let vals = Some(vec![validator("neg", -10.0), validator("b", 1.0)]);
    let s = vec![sample(1, "m", "neg", false), sample(1, "m", "b", true)];
    assert_eq!(passed_on_one_task(s, vals.clone()), (1, 1));
    let s = vec![sample(1, "m", "neg", true), sample(1, "m", "b", false)];
    assert_eq!(passed_on_one_task(s, vals), (0, 1));
}

#[test]
fn without_a_validator_list_every_stake_is_one() {
    let s = vec![
        sample(1, "m", "a", true),
        sample(1, "m", "b", true),
        sample(1, "m", "c", false),
    ];
    assert_eq!(passed_on_one_task(s, None), (1, 1));
}

#[test]
fn the_last_duplicate_sample_wins() {
    let s = vec![sample(1, "m", "a", false), sample(1, "m", "a", true)];
    assert_eq!(passed_on_one_task(s, None), (1, 1));
    let s = vec![sample(1, "m", "a", true), sample(1, "m", "a", false)];
    assert_eq!(passed_on_one_task(s, None), (0, 1));
}

// ------------------------------------------------------------------ window

#[test]
fn window_helper_matches_scorer_constants() {
    assert_eq!(scoring_window(None, 100), None);
    assert_eq!(scoring_window(Some(7), 100), Some((1, 7)));
    assert_eq!(scoring_window(Some(100), 100), Some((1, 100)));
    assert_eq!(scoring_window(Some(500), 100), Some((401, 500)));
}

#[test]
fn nothing_is_scored_until_the_highest_task_id_reaches_the_window() {
    let round = Round {
        samples: record("m", 1..=99, |_| true),
        miners: vec![miner("m", 1, Some(1))],
        validators: None,
    };
    let r = leoma::rank_round(&round, &RankConfig::default());
    assert_eq!(r.winner, None);
    assert_eq!(r.window, None);
    assert!(r.ranking.is_empty());
    assert!(r.reason.contains("SCORER_TASK_WINDOW=100"), "{}", r.reason);
    assert!(r.reason.contains("99"), "{}", r.reason);

    let mut round = round;
    round.samples.push(sample(100, "m", "5V", true));
    let r = leoma::rank_round(&round, &RankConfig::default());
    assert_eq!(winner(&r), Some("m"));
    assert_eq!(r.winner.as_ref().unwrap().uid, 1);

    let empty = Round::default();
    let r = leoma::rank_round(&empty, &RankConfig::default());
    assert_eq!(r.winner, None);
    assert!(r.reason.contains("no verdicts"));
}

#[test]
fn exactly_80_percent_is_eligible_79_is_not() {
    let mut samples = record("full", 1..=100, |_| true);
    samples.extend(record("e80", 21..=100, |_| true));
    samples.extend(record("e79", 22..=100, |_| true));
    let round = Round {
        samples,
        miners: vec![
            miner("full", 1, Some(3)),
            miner("e80", 2, Some(2)),
            miner("e79", 3, Some(1)),
        ],
        validators: None,
    };
    let r = leoma::rank_round(&round, &RankConfig::default());
    let e80 = entry(&r, "e80");
    assert!(e80.eligible && e80.rank.is_some());
    assert_eq!(e80.completeness, 0.8);
    let e79 = entry(&r, "e79");
    assert!(!e79.eligible && e79.rank.is_none());
    assert_eq!(e79.evaluated, 79);
    let why = r.ineligible.iter().find(|i| i.hotkey == "e79").unwrap();
    assert!(why.reason.contains("79 of the 100"), "{}", why.reason);
    // e79 is the earliest committer but ineligible; e80 is the earliest
    // eligible one, "full" does not beat 1.0 + 0.05.
    assert_eq!(winner(&r), Some("e80"));
}

#[test]
fn the_window_is_the_last_100_task_ids() {
    let mut samples = record("anchor", 1..=150, |_| false);
    samples.extend(record("old", 1..=50, |_| true));
    samples.extend(record("edge", 51..=130, |_| true));
    samples.extend(record("early", 50..=129, |_| true));
    let round = Round {
        samples,
        miners: vec![
            miner("anchor", 1, Some(1)),
            miner("old", 2, Some(2)),
            miner("edge", 3, Some(3)),
            miner("early", 4, Some(4)),
        ],
        validators: None,
    };
    let r = leoma::rank_round(&round, &RankConfig::default());
    let w = r.window.as_ref().unwrap();
    assert_eq!((w.first, w.last, w.size), (51, 150, 100));
    assert_eq!(entry(&r, "old").evaluated, 0);
    assert!(r
        .ineligible
        .iter()
        .any(|i| i.hotkey == "old" && i.reason.contains("no verdict in the window [51, 150]")));
    assert_eq!(entry(&r, "edge").evaluated, 80);
    assert!(entry(&r, "edge").eligible);
    assert_eq!(entry(&r, "early").evaluated, 79);
    assert!(!entry(&r, "early").eligible);
    // pass_rate divides by the evaluated count: 80/80.
    assert_eq!(entry(&r, "edge").pass_rate, 1.0);
    assert_eq!(winner(&r), Some("edge"));
}

/// The window is made of ids, not of "the last 100 seen": gaps lower
/// completeness.
#[test]
fn missing_ids_count_against_completeness_in_leoma_mode() {
    let samples = record("m", (1..=200).filter(|t| t % 5 != 0), |_| true);
    let round = Round {
        samples,
        miners: vec![miner("m", 1, Some(1))],
        validators: None,
    };
    let r = leoma::rank_round(&round, &RankConfig::default());
    let e = entry(&r, "m");
    assert_eq!(e.evaluated, 80);
    assert!(e.eligible);
    assert_eq!(r.window.as_ref().unwrap().first, 100);
}

#[test]
fn invalid_and_unlisted_miners_are_not_ranked() {
    let mut samples = record("ok", 1..=100, |_| true);
    samples.extend(record("bad", 1..=100, |_| true));
    samples.extend(record("stranger", 1..=100, |_| true));
    let mut bad = miner("bad", 2, Some(0));
    bad.is_valid = false;
    let round = Round {
        samples,
        miners: vec![miner("ok", 1, Some(5)), bad],
        validators: None,
    };
    let r = leoma::rank_round(&round, &RankConfig::default());
    assert_eq!(ranked(&r), vec!["ok"]);
    assert_eq!(r.winner.as_ref().unwrap().uid, 1);
    let reasons: HashMap<&str, &str> = r
        .ineligible
        .iter()
        .map(|i| (i.hotkey.as_str(), i.reason.as_str()))
        .collect();
    assert!(reasons["bad"].contains("is_valid is false"));
    assert!(reasons["stranger"].contains("not in the miners list"));
}

#[test]
fn no_eligible_miner_means_no_winner_with_a_reason() {
    let round = Round {
        samples: record("m", 60..=100, |_| true),
        miners: vec![miner("m", 1, Some(1))],
        validators: None,
    };
    let r = leoma::rank_round(&round, &RankConfig::default());
    assert_eq!(r.winner, None);
    assert!(r.reason.contains("no miner is eligible"), "{}", r.reason);
}

#[test]
fn report_does_not_depend_on_the_order_of_the_miners_list() {
    let round = replay(7);
    let mut reversed = round.clone();
    reversed.miners.reverse();
    for mode in [RankMode::Leoma, RankMode::Improved] {
        let a = serde_json::to_string(&leoma::rank(mode, &round, &RankConfig::default())).unwrap();
        let b =
            serde_json::to_string(&leoma::rank(mode, &reversed, &RankConfig::default())).unwrap();
        assert_eq!(a, b);
    }
}

#[test]
fn config_is_serialized_under_leomas_names_and_validated() {
    let v = serde_json::to_value(RankConfig::default()).unwrap();
    assert_eq!(v["SCORER_TASK_WINDOW"], 100);
    assert_eq!(v["SCORER_COMPLETENESS_THRESHOLD"], 0.8);
    assert_eq!(v["DOMINANCE_THRESHOLD"], 0.05);
    assert_eq!(v["LEOMA_RANK_WILSON_Z"], 1.96);
    let back: RankConfig = serde_json::from_value(v).unwrap();
    assert_eq!(back, RankConfig::default());
    assert!(RankConfig::default().validate().is_ok());
    assert!(with(|c| c.window = 0).validate().is_err());
    assert!(with(|c| c.completeness = 1.5).validate().is_err());
    assert!(with(|c| c.dominance = f64::NAN).validate().is_err());
    assert!(with(|c| c.wilson_z = -1.0).validate().is_err());
}

// ------------------------------------------------------------------ replay

/// 150 tasks, 20 miners (one invalid, some without a commit block, some
/// below 80 % coverage), three staked validators plus an unknown one, and
/// occasional superseded duplicate samples.
fn replay(seed: u64) -> Round {
    let mut rng = Rng(seed);
    let validators = vec![
        validator("5ValA", 5000.0),
        validator("5ValB", 3000.5),
        validator("5ValC", 1500.25),
    ];
    let mut miners = Vec::new();
    let mut profile = Vec::new();
    for i in 0..20u64 {
        let hotkey = format!("5Miner{i:02}");
        let block = if i % 7 == 6 {
            None
        } else {
            Some(1000 + rng.range(0, 400))
        };
        let quality = match i {
            17 => 0.97,
            _ => 0.35 + 0.55 * rng.f64(),
        };
        let coverage = if i % 5 == 4 {
            0.72
        } else {
            0.9 + 0.1 * rng.f64()
        };
        miners.push(Miner {
            hotkey: hotkey.clone(),
            uid: i + 1,
            commit_block: block,
            is_valid: i != 13,
        });
        profile.push((hotkey, quality, coverage));
    }
    let mut samples = Vec::new();
    for t in 1..=150u64 {
        for (hotkey, quality, coverage) in &profile {
            if rng.f64() >= *coverage {
                continue;
            }
            let good = rng.f64() < *quality;
            for v in ["5ValA", "5ValB", "5ValC", "5ValUnknown"] {
                if rng.f64() >= if v == "5ValUnknown" { 0.2 } else { 0.9 } {
                    continue;
                }
                let verdict = if rng.f64() < 0.85 { good } else { !good };
                if rng.f64() < 0.05 {
                    samples.push(sample(t, hotkey, v, !verdict));
                }
                samples.push(sample(t, hotkey, v, verdict));
            }
        }
        if t % 10 == 0 {
            samples.push(sample(t, "5Stranger", "5ValA", true));
        }
    }
    Round {
        samples,
        miners,
        validators: Some(validators),
    }
}

/// Straight from the specification, sharing no code with the library:
/// (winner, eligible hotkeys in rank order, passed count per eligible hotkey).
fn brute_force(
    round: &Round,
    first: u64,
    last: u64,
) -> (Option<String>, Vec<String>, HashMap<String, u64>) {
    let stakes = round.validators.as_ref().unwrap();
    let stake = |v: &str| {
        stakes
            .iter()
            .find(|x| x.hotkey == v)
            .map_or(0.0, |x| if x.stake > 0.0 { x.stake } else { 0.0 })
    };
    let mut latest: HashMap<(u64, &str, &str), bool> = HashMap::new();
    for s in &round.samples {
        latest.insert((s.task_id, &s.miner_hotkey, &s.validator_hotkey), s.passed);
    }
    // (block, hotkey, passed, rate)
    let mut eligible: Vec<(u64, String, u64, f64)> = Vec::new();
    for m in round.miners.iter().filter(|m| m.is_valid) {
        let (mut evaluated, mut passed) = (0u64, 0u64);
        for t in first..=last {
            let votes: Vec<(f64, bool)> = latest
                .iter()
                .filter(|((task, mk, _), _)| *task == t && *mk == m.hotkey)
                .map(|((_, _, v), p)| (stake(v), *p))
                .collect();
            if votes.is_empty() {
                continue;
            }
            evaluated += 1;
            let total: f64 = votes.iter().map(|(s, _)| s).sum();
            let yes: f64 = votes.iter().filter(|(_, p)| *p).map(|(s, _)| s).sum();
            if total > 0.0 && 2.0 * yes > total {
                passed += 1;
            }
        }
        if evaluated * 100 >= 80 * (last - first + 1) {
            eligible.push((
                m.commit_block.unwrap_or(2_147_483_648),
                m.hotkey.clone(),
                passed,
                passed as f64 / evaluated as f64,
            ));
        }
    }
    let qualifies = |c: &(u64, String, u64, f64)| {
        eligible
            .iter()
            .filter(|e| (e.0, &e.1) < (c.0, &c.1))
            .all(|e| c.3 >= e.3 + 0.05)
    };
    let winner = eligible
        .iter()
        .filter(|c| qualifies(c))
        .max_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)))
        .map(|c| c.1.clone());
    let mut rest: Vec<&(u64, String, u64, f64)> = eligible
        .iter()
        .filter(|e| Some(&e.1) != winner.as_ref())
        .collect();
    rest.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
    let order = winner
        .iter()
        .cloned()
        .chain(rest.iter().map(|e| e.1.clone()))
        .collect();
    let passed = eligible.iter().map(|e| (e.1.clone(), e.2)).collect();
    (winner, order, passed)
}

#[test]
fn replay_matches_a_brute_force_implementation() {
    for seed in [1u64, 2, 3, 2024] {
        let round = replay(seed);
        let r = leoma::rank_round(&round, &RankConfig::default());
        let w = r.window.as_ref().unwrap();
        assert_eq!((w.first, w.last), (51, 150));
        let (bw, border, bpassed) = brute_force(&round, 51, 150);
        assert_eq!(
            winner(&r).map(str::to_string),
            bw,
            "seed {seed}: {}",
            r.reason
        );
        assert_eq!(ranked(&r), border, "seed {seed}");
        for (hk, p) in &bpassed {
            assert_eq!(entry(&r, hk).passed, *p, "seed {seed} {hk}");
        }
        // The scenario exercises every rule: some miners are ineligible by
        // completeness, the invalid one and the stranger are not ranked.
        assert!(r
            .ineligible
            .iter()
            .any(|i| i.reason.contains("completeness")));
        assert!(r.ineligible.iter().any(|i| i.hotkey == "5Miner13"));
        assert!(r.ineligible.iter().any(|i| i.hotkey == "5Stranger"));
        assert!(border.len() >= 10, "seed {seed}: {border:?}");
        let uid = r.winner.as_ref().unwrap().uid;
        assert_eq!(format!("5Miner{:02}", uid - 1), bw.unwrap());
    }
}

/// Seed 1 in detail: the winner is a later committer (the walk matters),
/// not the default earliest one.
#[test]
fn replay_winner_is_a_later_committer_that_dominates() {
    let round = replay(1);
    let r = leoma::rank_round(&round, &RankConfig::default());
    let eligible: Vec<&leoma::RankedMiner> = r.ranking.iter().filter(|m| m.eligible).collect();
    let key = |m: &leoma::RankedMiner| (m.commit_block.unwrap_or(1 << 31), m.hotkey.clone());
    let earliest = eligible.iter().min_by_key(|m| key(m)).unwrap();
    let top = r.rank_one().unwrap();
    assert_ne!(top.hotkey, earliest.hotkey, "{}", r.reason);
    for m in &eligible {
        if key(m) < key(top) {
            assert!(top.pass_rate >= m.pass_rate + 0.05);
        }
    }
}

// ------------------------------------------------------------------ improved

#[test]
fn wilson_bound_makes_few_trials_show_more() {
    let few = wilson_lower_bound(9, 10, 1.96);
    let many = wilson_lower_bound(85, 100, 1.96);
    assert!((few - 0.5958).abs() < 1e-4, "{few}");
    assert!((many - 0.7672).abs() < 1e-4, "{many}");
    assert!(few < many);
    assert!(wilson_lower_bound(85, 100, 0.0) == 0.85);
}

/// A (earlier) passed 85 of 100 tasks; B (later) passed 9 of the last 10.
#[test]
fn nine_of_ten_does_not_beat_85_of_100_at_the_lower_bound() {
    let mut samples = record("A", 1..=100, |t| t > 15);
    samples.extend(record("B", 91..=100, |t| t != 95));
    let round = Round {
        samples,
        miners: vec![miner("A", 1, Some(100)), miner("B", 2, Some(200))],
        validators: None,
    };
    let config = with(|c| c.completeness = 0.0);
    // Leoma's raw rates: 0.9 >= 0.85 + 0.05 (== 0.9), so B takes rank 1.
    let leoma = leoma::rank_round(&round, &config);
    assert_eq!(winner(&leoma), Some("B"));
    let r = improved::rank_round(&round, &config);
    assert_eq!(winner(&r), Some("A"), "{}", r.reason);
    assert_eq!(ranked(&r), vec!["A", "B"]);
    let b = entry(&r, "B");
    assert_eq!((b.passed, b.evaluated, b.missed), (9, 10, Some(0)));
    assert!(b.lower_bound.unwrap() < entry(&r, "A").lower_bound.unwrap());
}

/// An identical pass record under a later commit never takes rank 1 in
/// improved mode, whatever the margin; Leoma with a zero margin crowns it.
#[test]
fn a_copy_of_the_earlier_winner_never_wins() {
    for pattern in [3u64, 5, 7, 11] {
        let pass = move |t: u64| t % pattern != 0;
        let mut samples = record("orig", 1..=100, pass);
        samples.extend(record("copy", 1..=100, pass));
        let round = Round {
            samples,
            miners: vec![miner("orig", 1, Some(100)), miner("copy", 2, Some(101))],
            validators: None,
        };
        for d in [0.0, 0.01, 0.05] {
            let config = with(|c| c.dominance = d);
            let r = improved::rank_round(&round, &config);
            assert_eq!(winner(&r), Some("orig"), "pattern {pattern} margin {d}");
        }
        let r = leoma::rank_round(&round, &with(|c| c.dominance = 0.0));
        assert_eq!(winner(&r), Some("copy"));
    }
    // A perfect record copied: the bound stays below 1.0.
    let mut samples = record("orig", 1..=100, |_| true);
    samples.extend(record("copy", 1..=100, |_| true));
    let round = Round {
        samples,
        miners: vec![miner("orig", 1, Some(100)), miner("copy", 2, Some(101))],
        validators: None,
    };
    let r = improved::rank_round(&round, &with(|c| c.dominance = 0.0));
    assert_eq!(winner(&r), Some("orig"));
}

/// The copy answers the same but skips 20 of the tasks it would fail:
/// Leoma's pass rate over evaluated tasks rises to 1.0 and it wins; improved
/// mode charges the missed tasks.
#[test]
fn skipping_tasks_it_would_fail_does_not_pay_in_improved_mode() {
    let fails = |t: u64| t % 5 == 0;
    let mut samples = record("orig", 1..=100, |t| !fails(t));
    samples.extend(record("skipper", (1..=100).filter(|t| !fails(*t)), |_| {
        true
    }));
    let round = Round {
        samples,
        miners: vec![miner("orig", 1, Some(100)), miner("skipper", 2, Some(101))],
        validators: None,
    };
    let r = leoma::rank_round(&round, &RankConfig::default());
    assert_eq!(winner(&r), Some("skipper"));
    let r = improved::rank_round(&round, &RankConfig::default());
    assert_eq!(winner(&r), Some("orig"), "{}", r.reason);
    let s = entry(&r, "skipper");
    assert_eq!((s.passed, s.evaluated, s.missed), (80, 80, Some(20)));
    assert_eq!(s.pass_rate, 0.8);
}

/// A validator outage on 25 task ids: Leoma drops every miner below 80 %;
/// improved mode excludes the outage ids.
#[test]
fn validator_outages_are_not_charged_to_miners() {
    let live = |t: &u64| !(30..=54).contains(t);
    let mut samples = record("A", (21..=120).filter(live), |t| t % 4 != 0);
    samples.extend(record("B", (21..=120).filter(live), |t| t % 20 != 0));
    let round = Round {
        samples,
        miners: vec![miner("A", 1, Some(1)), miner("B", 2, Some(2))],
        validators: None,
    };
    let r = leoma::rank_round(&round, &RankConfig::default());
    assert_eq!(r.winner, None);
    assert!(r.reason.contains("no miner is eligible"));
    let r = improved::rank_round(&round, &RankConfig::default());
    let w = r.window.as_ref().unwrap();
    assert_eq!((w.first, w.last, w.size, w.live), (21, 120, 100, Some(75)));
    assert_eq!(w.outages.as_ref().unwrap().len(), 25);
    assert_eq!(entry(&r, "A").completeness, 1.0);
    assert_eq!(entry(&r, "B").missed, Some(0));
    assert_eq!(winner(&r), Some("B"), "{}", r.reason);
}

/// Verdicts from zero-stake validators are not counted in improved mode: a
/// task judged only by them is an outage, not a failure.
#[test]
fn zero_stake_verdicts_are_not_counted_in_improved_mode() {
    let mut samples = record("A", 1..=100, |_| true);
    for s in samples.iter_mut().filter(|s| s.task_id > 90) {
        s.validator_hotkey = "5Unregistered".into();
    }
    let round = Round {
        samples,
        miners: vec![miner("A", 1, Some(1))],
        validators: Some(vec![validator("5V", 10.0)]),
    };
    let r = leoma::rank_round(&round, &RankConfig::default());
    assert_eq!((entry(&r, "A").passed, entry(&r, "A").evaluated), (90, 100));
    let r = improved::rank_round(&round, &RankConfig::default());
    let a = entry(&r, "A");
    assert_eq!((a.passed, a.evaluated, a.missed), (90, 90, Some(0)));
    assert_eq!(r.window.as_ref().unwrap().live, Some(90));
}

#[test]
fn improved_mode_scores_a_partial_window() {
    let mut samples = record("A", 1..=30, |t| t % 3 != 0);
    samples.extend(record("B", 1..=30, |_| true));
    let round = Round {
        samples,
        miners: vec![miner("A", 1, Some(1)), miner("B", 2, Some(2))],
        validators: None,
    };
    assert_eq!(
        leoma::rank_round(&round, &RankConfig::default()).winner,
        None
    );
    let r = improved::rank_round(&round, &RankConfig::default());
    let w = r.window.as_ref().unwrap();
    assert_eq!((w.first, w.last, w.size), (1, 30, 30));
    // B: 30/30 has bound ~0.886 > 20/30 + 0.05.
    assert_eq!(winner(&r), Some("B"), "{}", r.reason);
    assert!(r
        .why
        .iter()
        .any(|w| w.rule.contains("below SCORER_TASK_WINDOW")));
}

#[test]
fn improved_report_explains_its_rules() {
    let round = replay(3);
    let r = improved::rank_round(&round, &RankConfig::default());
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["mode"], "improved");
    let why = v["why"].as_array().unwrap();
    assert!(why.len() >= 6);
    for w in why {
        assert!(!w["rule"].as_str().unwrap().is_empty());
        assert!(!w["why"].as_str().unwrap().is_empty());
    }
    for m in v["ranking"].as_array().unwrap() {
        assert!(m["lower_bound"].as_f64().unwrap() <= m["pass_rate"].as_f64().unwrap());
    }
    // Invariants of the rule on the replay.
    let eligible: Vec<&leoma::RankedMiner> = r.ranking.iter().filter(|m| m.eligible).collect();
    let top = r.rank_one().unwrap();
    let key = |m: &leoma::RankedMiner| (m.commit_block.unwrap_or(1 << 31), m.hotkey.clone());
    for m in &eligible {
        if key(m) < key(top) {
            assert!(top.lower_bound.unwrap() > m.pass_rate + 0.05);
        }
    }
    for pair in r.ranking.windows(2).skip(1) {
        if pair[1].eligible {
            assert!(pair[0].lower_bound >= pair[1].lower_bound);
        }
    }
    let leoma_json =
        serde_json::to_value(leoma::rank_round(&round, &RankConfig::default())).unwrap();
    assert!(leoma_json.get("why").is_none());
    assert!(leoma_json["ranking"][0].get("lower_bound").is_none());
}

// ------------------------------------------------------------------ CLI

const ENV: [&str; 4] = [
    "SCORER_TASK_WINDOW",
    "SCORER_COMPLETENESS_THRESHOLD",
    "DOMINANCE_THRESHOLD",
    "LEOMA_RANK_WILSON_Z",
];

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rank")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli(args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leoma-gpu"));
    c.arg("rank").args(args);
    for k in ENV {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("run leoma-gpu");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn fixture_args() -> Vec<String> {
    vec![
        "--samples".into(),
        fixture("round.jsonl"),
        "--miners".into(),
        fixture("miners.json"),
        "--validators".into(),
        fixture("validators.json"),
    ]
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn cli_happy_path_names_the_winner() {
    let mut args = fixture_args();
    args.extend(["--window".into(), "4".into()]);
    let out = cli(&refs(&args), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["mode"], "leoma");
    assert_eq!(v["winner"]["hotkey"], "5Bob");
    assert_eq!(v["winner"]["uid"], 2);
    assert_eq!(v["window"]["first"], 3);
    assert_eq!(v["window"]["last"], 6);
    assert_eq!(v["config"]["SCORER_TASK_WINDOW"], 4);
    let order: Vec<&str> = v["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["hotkey"].as_str().unwrap())
        .collect();
    assert_eq!(order, vec!["5Bob", "5Carol", "5Alice"]);
    for key in [
        "rank",
        "hotkey",
        "uid",
        "passed",
        "evaluated",
        "completeness",
        "pass_rate",
        "eligible",
        "commit_block",
    ] {
        assert!(v["ranking"][0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["ranking"][2]["pass_rate"], 0.5);
    assert!(v["ranking"][1]["commit_block"].is_null());
    assert_eq!(v["ineligible"][0]["hotkey"], "5Dave");
    assert!(v["reason"].as_str().unwrap().contains("5Bob"));
}

#[test]
fn cli_reads_leomas_environment_names() {
    let out = cli(&refs(&fixture_args()), &[("SCORER_TASK_WINDOW", "4")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["winner"]["hotkey"], "5Bob");

    // Default window: the highest id (6) is below 100, so no winner.
    let out = cli(&refs(&fixture_args()), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(v["winner"].is_null());
    assert!(v["window"].is_null());
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .contains("SCORER_TASK_WINDOW=100"));

    // A margin of 0.6 keeps the earliest eligible committer (Alice).
    let out = cli(
        &refs(&fixture_args()),
        &[("SCORER_TASK_WINDOW", "4"), ("DOMINANCE_THRESHOLD", "0.6")],
    );
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["winner"]["hotkey"], "5Alice");
}

#[test]
fn cli_table_format() {
    let mut args = fixture_args();
    args.extend(["--window", "4", "--format", "table"].map(String::from));
    let out = cli(&refs(&args), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("rank"), "{}", out.stdout);
    assert!(
        out.stdout.contains("winner: 5Bob (uid 2)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("5Dave: is_valid is false"),
        "{}",
        out.stdout
    );

    args.extend(["--mode", "improved"].map(String::from));
    let out = cli(&refs(&args), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("lower"), "{}", out.stdout);
    assert!(out.stdout.contains("winner: "), "{}", out.stdout);
}

#[test]
fn cli_improved_mode_json() {
    let mut args = fixture_args();
    args.extend(["--window", "4", "--mode", "improved"].map(String::from));
    let out = cli(&refs(&args), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["mode"], "improved");
    assert!(v["why"].as_array().unwrap().len() >= 6);
    assert!(v["ranking"][0]["lower_bound"].is_number());
    // Four tasks are too few for a later committer's bound to clear the
    // earlier's rate + 0.05: the earliest eligible committer keeps rank 1.
    assert_eq!(v["winner"]["hotkey"], "5Alice", "{}", v["reason"]);
}

#[test]
fn cli_out_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("rank.json");
    let mut args = fixture_args();
    args.extend(["--window".into(), "4".into(), "--out".into()]);
    args.push(target.to_string_lossy().into_owned());
    let out = cli(&refs(&args), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(v["winner"]["uid"], 2);
}

#[test]
fn cli_malformed_line_is_an_input_error_naming_file_and_line() {
    let bad = fixture("malformed.jsonl");
    let out = cli(
        &["--samples", &bad, "--miners", &fixture("miners.json")],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("malformed.jsonl:3:"), "{}", out.stderr);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
}

#[test]
fn cli_missing_file_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.jsonl");
    let out = cli(
        &[
            "--samples",
            missing.to_str().unwrap(),
            "--miners",
            &fixture("miners.json"),
        ],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("nope.jsonl: cannot read"),
        "{}",
        out.stderr
    );

    let mut args = fixture_args();
    args[5] = missing
        .to_string_lossy()
        .replace("nope.jsonl", "stakes.json");
    let out = cli(&refs(&args), &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("stakes.json"), "{}", out.stderr);
}

#[test]
fn cli_bad_miners_file_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let miners = dir.path().join("m.json");
    std::fs::write(&miners, r#"[{"hotkey": "a", "uid": 1, "commit_block": null, "is_valid": true}, {"hotkey": "a", "uid": 2, "commit_block": 5, "is_valid": true}]"#).unwrap();
    let samples = fixture("round.jsonl");
    let out = cli(
        &["--samples", &samples, "--miners", miners.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("m.json") && out.stderr.contains("listed twice"),
        "{}",
        out.stderr
    );
    std::fs::write(&miners, "{not json").unwrap();
    let out = cli(
        &["--samples", &samples, "--miners", miners.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("m.json"), "{}", out.stderr);
}

#[test]
fn cli_needs_miners_and_reads_the_verdict_store_without_samples() {
    let out = cli(&["--samples", &fixture("round.jsonl")], &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--miners"), "{}", out.stderr);

    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let out = cli(
        &["--miners", &fixture("miners.json"), "--data-dir", data_dir],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("no verdict store") && out.stderr.contains("--samples"),
        "{}",
        out.stderr
    );

    // Store the example task's verdicts, then rank from the store.
    let task = std::env::var_os("LEOMA_EXAMPLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .join("task");
    assert!(
        task.join("metadata.json").is_file(),
        "run scripts/fetch-examples.sh first"
    );
    let stored = Command::new(env!("CARGO_BIN_EXE_leoma-gpu"))
        .args([
            "evaluate",
            task.to_str().unwrap(),
            "--store",
            "--data-dir",
            data_dir,
            "--validator",
            "5Validator",
        ])
        .output()
        .unwrap();
    assert!(
        stored.status.success(),
        "{}",
        String::from_utf8_lossy(&stored.stderr)
    );
    let miners = data.path().join("miners.json");
    let list: Vec<serde_json::Value> = ["miner-clean", "miner-noisy", "miner-frozen"]
        .iter()
        .enumerate()
        .map(|(i, h)| serde_json::json!({"hotkey": h, "uid": i + 1, "commit_block": 100 + i, "is_valid": true}))
        .collect();
    std::fs::write(&miners, serde_json::to_string(&list).unwrap()).unwrap();
    let out = cli(
        &[
            "--miners",
            miners.to_str().unwrap(),
            "--data-dir",
            data_dir,
            "--window",
            "1",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    // One task, every verdict failed (degraded without models): the earliest committer keeps rank 1.
    assert_eq!(r["winner"]["hotkey"], "miner-clean", "{}", out.stdout);
    assert_eq!(
        r["ranking"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["eligible"] == true)
            .count(),
        3
    );
}

#[test]
fn cli_rejects_html_and_bad_settings() {
    let mut args = fixture_args();
    args.extend(["--format", "html"].map(String::from));
    let out = cli(&refs(&args), &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("html"), "{}", out.stderr);
    let mut args = fixture_args();
    args.extend(["--completeness", "1.5"].map(String::from));
    let out = cli(&refs(&args), &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("SCORER_COMPLETENESS_THRESHOLD"),
        "{}",
        out.stderr
    );
}

#[test]
fn cli_replay_agrees_with_the_brute_force_winner() {
    let round = replay(2024);
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("samples.jsonl");
    let miners = dir.path().join("miners.json");
    let validators = dir.path().join("validators.json");
    let lines: Vec<String> = round
        .samples
        .iter()
        .map(|s| serde_json::to_string(s).unwrap())
        .collect();
    std::fs::write(&samples, lines.join("\n") + "\n").unwrap();
    std::fs::write(&miners, serde_json::to_string(&round.miners).unwrap()).unwrap();
    std::fs::write(
        &validators,
        serde_json::to_string(round.validators.as_ref().unwrap()).unwrap(),
    )
    .unwrap();
    let out = cli(
        &[
            "--samples",
            samples.to_str().unwrap(),
            "--miners",
            miners.to_str().unwrap(),
            "--validators",
            validators.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let (bw, border, _) = brute_force(&round, 51, 150);
    assert_eq!(v["winner"]["hotkey"].as_str().map(str::to_string), bw);
    let order: Vec<String> = v["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["rank"].is_null())
        .map(|m| m["hotkey"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(order, border);
}

/// One sample from an unregistered validator with a stray task id moves
/// Leoma's window past every real verdict; improved mode ignores it.
#[test]
fn a_stray_task_id_from_an_unregistered_validator_does_not_move_the_window() {
    let mut samples = record("A", 1..=100, |_| true);
    samples.push(sample(1_000_000, "A", "5Nobody", true));
    let round = Round {
        samples,
        miners: vec![miner("A", 1, Some(1))],
        validators: Some(vec![validator("5V", 1.0)]),
    };
    let r = leoma::rank_round(&round, &RankConfig::default());
    assert_eq!(r.window.as_ref().unwrap().last, 1_000_000);
    assert_eq!(r.winner, None);
    let r = improved::rank_round(&round, &RankConfig::default());
    assert_eq!(r.window.as_ref().unwrap().last, 100);
    assert_eq!(winner(&r), Some("A"));
}
