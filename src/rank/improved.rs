//! Opt-in improved round ranking (`leoma-gpu rank --mode improved`).
//!
//! Same inputs, same stake-weighted vote and the same commit-order dominance
//! idea as [`leoma`](super::leoma), with the weaknesses of the reference that a
//! ranker can fix (reference §6.3, "Failure attribution" and "Ranking
//! quirks") fixed. Every rule below is also written into the report's `why`
//! list with this round's numbers. It is deterministic: integer counts, one
//! f64 formula, and ties broken by commit block then hotkey.
//!
//! 1. **Counted verdicts.** A (task, miner) counts only if at least one of its
//!    verdicts comes from a validator with positive stake. Leoma counts a task
//!    judged only by unknown or zero-stake validators as evaluated, and that
//!    task can never pass its vote: the miner is charged a failure for the
//!    validator's registration state.
//! 2. **Outages are excluded.** A window id without any counted verdict for
//!    *any* miner is a validator/sampler outage. It is dropped from every
//!    denominator. In Leoma it lowers every miner's completeness, and 21 such
//!    ids in a window make every miner ineligible: miners pay for validator
//!    outages.
//! 3. **Window.** The window ends at the highest task id with a counted
//!    verdict, so one sample from an unregistered validator with a stray id
//!    cannot move it (in Leoma it can, and then no miner is eligible).
//!    While that id is below the window size, Leoma scores nothing (the
//!    weight burns); here the window is `[1, max]` (Leoma's own dashboard
//!    window), and rules 5 and 6 price the small sample.
//! 4. **Completeness against the live window.** `completeness = counted /
//!    live`, where `live` = window ids that are not outages. The threshold is
//!    Leoma's.
//! 5. **Missed tasks count as failures.** A live id after the miner's first
//!    counted task that has no counted verdict for it is a failed trial.
//!    Leoma divides by the evaluated count only, so a miner can skip up to
//!    20 % of the tasks (for example, refuse prompts it expects to fail) at no
//!    cost. Ids before the miner's first counted task are not charged, so a
//!    newly registered miner is not punished for tasks that predate it.
//!    `pass_rate = passed / (counted + missed)`.
//! 6. **Rank by a lower confidence bound.** The score is the Wilson score
//!    lower bound of the pass rate at `z` (default 1.96). A raw rate from
//!    few trials is noisy: 9/10 (bound 0.596) does not beat 85/100 (bound
//!    0.767). A miner evaluated on fewer tasks must show more.
//! 7. **Dominance on the bound, strictly.** Committers are walked latest
//!    first, as in Leoma. A later committer takes rank 1 only if its *lower
//!    bound* is strictly greater than every earlier committer's pass rate plus
//!    `DOMINANCE_THRESHOLD`. A copy of an earlier miner (an identical pass
//!    record, a later commit) has the same rate and a bound below it, so it can
//!    never win, whatever the margin (Leoma with threshold 0 crowns it).
//!    The strict comparison also avoids Leoma's float boundary, where 0.75 vs
//!    0.70 dominates but 0.85 vs 0.80 does not. The earliest committer still
//!    qualifies by default: that is the incumbent protection the rule exists
//!    for, and the bound makes displacing it require evidence.
//! 8. **Ranks 2..** follow by `(-lower bound, commit block, hotkey)`. Leoma
//!    orders them by passed count, which rewards being evaluated more rather
//!    than passing more.
//!
//! Not fixable here: the earliest-commit anchor itself (a policy), the weight
//! setter's exact-epoch check, unused latency, and the dead plagiarism check
//! (these need chain or model data that verdicts do not carry).

use super::leoma::{
    ballots, commit_order, completeness_check, not_valid, vote, winner_of, RankConfig, RankMode,
    RankReport, RankedMiner, Round, StakeTable, Why, WindowInfo,
};
use std::collections::{BTreeMap, BTreeSet};

/// Wilson score interval lower bound for `passed` successes in `trials`
/// trials at `z`; 0 when there are no trials.
pub fn wilson_lower_bound(passed: u64, trials: u64, z: f64) -> f64 {
    if trials == 0 {
        return 0.0;
    }
    let n = trials as f64;
    let p = passed.min(trials) as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = p + z2 / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half) / denom).clamp(0.0, 1.0)
}

/// The improved rules (module docs).
pub fn rank_round(round: &Round, config: &RankConfig) -> RankReport {
    let w = config.window;
    let z = config.wilson_z;
    let d = config.dominance;
    let stakes = StakeTable::new(round.validators.as_deref());
    let Some(max_tid) = round
        .samples
        .iter()
        .filter(|s| stakes.stake(&s.validator_hotkey) > 0.0)
        .map(|s| s.task_id)
        .max()
    else {
        return RankReport::empty(
            RankMode::Improved,
            *config,
            "no verdict from a validator with positive stake: there is nothing to rank".into(),
        );
    };
    let partial = max_tid < w;
    let (first, last) = if partial {
        (1.min(max_tid), max_tid)
    } else {
        (max_tid - w + 1, max_tid)
    };
    let size = last - first + 1;

    // miner -> task -> passed, for counted (positive-stake) ballots in the window
    let mut counted: BTreeMap<&str, BTreeMap<u64, bool>> = BTreeMap::new();
    let mut live: BTreeSet<u64> = BTreeSet::new();
    let mut uncounted = 0u64;
    let all = ballots(&round.samples);
    for ((task, miner), ballot) in &all {
        if *task < first || *task > last {
            continue;
        }
        let (total, passes) = vote(ballot, &stakes);
        if total > 0.0 {
            counted
                .entry(miner.as_str())
                .or_default()
                .insert(*task, passes);
            live.insert(*task);
        } else {
            uncounted += 1;
        }
    }
    let outages: Vec<u64> = (first..=last).filter(|t| !live.contains(t)).collect();
    let n_live = live.len() as u64;

    let why = vec![
        Why {
            rule: if partial {
                format!(
                    "window [{first}, {last}]: the highest task id with a counted verdict, \
                     {max_tid}, is below SCORER_TASK_WINDOW={w}, so every id so far is scored"
                )
            } else {
                format!(
                    "window [{first}, {last}]: the last {w} consecutive task ids up to the \
                     highest id with a counted verdict"
                )
            },
            why: if partial {
                "Leoma scores nothing until the window is full (the weight burns); here the \
                 lower bound prices the small sample instead"
                    .into()
            } else {
                "Leoma's window, except that its end ignores verdicts from validators without \
                 stake: in Leoma one such sample with a stray task id moves the window past \
                 every real verdict and no miner is eligible"
                    .into()
            },
        },
        Why {
            rule: format!(
                "{uncounted} (task, miner) ballot(s) in the window had no validator with positive \
                 stake and are not counted as evaluated"
            ),
            why: "such a task can never pass the stake vote, so Leoma charges the miner a failure \
                  for the validators' registration state"
                .into(),
        },
        Why {
            rule: format!(
                "{} of the {size} window ids have no counted verdict for any miner (outages) and \
                 are excluded from every denominator; {n_live} ids are live",
                outages.len()
            ),
            why: "in Leoma a validator or sampler outage lowers every miner's completeness (and \
                  can make all of them ineligible): miners pay for outages they did not cause"
                .into(),
        },
        Why {
            rule: format!(
                "completeness = counted tasks / {n_live} live ids, eligible at >= \
                 SCORER_COMPLETENESS_THRESHOLD={}",
                config.completeness
            ),
            why: "measured against the tasks that were actually judged".into(),
        },
        Why {
            rule: "a live id after a miner's first counted task with no counted verdict for it \
                   is a failed trial; pass_rate = passed / (counted + missed)"
                .into(),
            why: "Leoma divides by the evaluated count, so a miner can skip up to 20% of tasks \
                  (e.g. refuse prompts it expects to fail) for free; ids before its first verdict \
                  are not charged, so a new miner is not punished for tasks that predate it"
                .into(),
        },
        Why {
            rule: format!("miners are scored by the Wilson lower bound of the pass rate, z={z}"),
            why: format!(
                "a raw rate from few trials is noisy: 9/10 has bound {:.3}, below 85/100's {:.3}; \
                 a miner evaluated on fewer tasks must show more",
                wilson_lower_bound(9, 10, z),
                wilson_lower_bound(85, 100, z)
            ),
        },
        Why {
            rule: format!(
                "latest committer first, a miner takes rank 1 if its lower bound is strictly \
                 greater than every earlier committer's pass rate + DOMINANCE_THRESHOLD={d}; the \
                 earliest committer qualifies by default"
            ),
            why: "a copy of an earlier miner has the same rate and a lower bound below it, so it \
                  can never win; the strict comparison avoids Leoma's float boundary (0.75 vs \
                  0.70 dominates, 0.85 vs 0.80 does not)"
                .into(),
        },
        Why {
            rule: "ranks 2.. by lower bound, then earlier commit block, then hotkey".into(),
            why: "Leoma orders by passed count, which rewards being evaluated more rather than \
                  passing more"
                .into(),
        },
    ];

    if n_live == 0 {
        let mut r = RankReport::empty(
            RankMode::Improved,
            *config,
            format!(
                "every id of the window [{first}, {last}] is an outage (no verdict from a \
                 validator with positive stake), so there is no winner"
            ),
        );
        r.window = Some(WindowInfo {
            first,
            last,
            size,
            live: Some(0),
            outages: Some(outages),
        });
        r.ineligible = not_valid(round, (first, last));
        r.why = why;
        return r;
    }

    let mut ineligible = not_valid(round, (first, last));
    let mut entries: Vec<RankedMiner> = Vec::new();
    for m in round.miners.iter().filter(|m| m.is_valid) {
        let record = counted.get(m.hotkey.as_str());
        let evaluated = record.map_or(0, |r| r.len() as u64);
        let passed = record.map_or(0, |r| r.values().filter(|p| **p).count() as u64);
        let missed = match record.and_then(|r| r.keys().next()) {
            Some(&start) => live.range(start..).count() as u64 - evaluated,
            None => 0,
        };
        let trials = evaluated + missed;
        let (completeness, eligible) = completeness_check(
            &m.hotkey,
            evaluated,
            n_live,
            "counted verdict",
            "live window tasks",
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
            pass_rate: if trials > 0 {
                passed as f64 / trials as f64
            } else {
                0.0
            },
            eligible,
            commit_block: m.commit_block,
            lower_bound: Some(wilson_lower_bound(passed, trials, z)),
            missed: Some(missed),
        });
    }
    ineligible.sort_by(|a, b| a.hotkey.cmp(&b.hotkey));

    let (eligible, mut others): (Vec<RankedMiner>, Vec<RankedMiner>) =
        entries.into_iter().partition(|e| e.eligible);
    let lb = |e: &RankedMiner| e.lower_bound.unwrap_or(0.0);
    let order = commit_order(&eligible, |e| e.commit_block, |e| &e.hotkey);
    let winner_idx = (0..order.len())
        .rev()
        .map(|i| (i, order[i]))
        .find(|&(pos, i)| {
            order[..pos]
                .iter()
                .all(|&j| lb(&eligible[i]) > eligible[j].pass_rate + d)
        });

    let by_bound = |a: &RankedMiner, b: &RankedMiner| {
        lb(b)
            .total_cmp(&lb(a))
            .then_with(|| {
                a.commit_block
                    .unwrap_or(super::leoma::NO_BLOCK)
                    .cmp(&b.commit_block.unwrap_or(super::leoma::NO_BLOCK))
            })
            .then_with(|| a.hotkey.cmp(&b.hotkey))
    };
    let mut rest: Vec<&RankedMiner> = eligible
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != winner_idx.map(|(_, w)| w))
        .map(|(_, e)| e)
        .collect();
    rest.sort_by(|a, b| by_bound(a, b));
    let mut ranking: Vec<RankedMiner> = winner_idx
        .map(|(_, i)| &eligible[i])
        .into_iter()
        .chain(rest)
        .enumerate()
        .map(|(r, e)| RankedMiner {
            rank: Some(r + 1),
            ..e.clone()
        })
        .collect();
    others.sort_by(by_bound);
    ranking.extend(others);

    let (winner, reason) = match winner_idx {
        None => (
            None,
            format!(
                "no miner is eligible: none of the {} valid miners has counted verdicts on at \
                 least SCORER_COMPLETENESS_THRESHOLD={} of the {n_live} live ids of the window \
                 [{first}, {last}], so there is no winner",
                round.miners.iter().filter(|m| m.is_valid).count(),
                config.completeness
            ),
        ),
        Some((pos, i)) => {
            let e = &eligible[i];
            let block = e
                .commit_block
                .map_or_else(|| "no commit block".to_string(), |b| format!("block {b}"));
            let later = order.len() - 1 - pos;
            let later_text = if later == 0 {
                String::new()
            } else {
                format!(
                    "; no later committer ({later}) has a lower bound > every earlier \
                     committer's pass rate + {d}"
                )
            };
            let head = format!(
                "{} ({block}, {}/{} passed, pass rate {}, lower bound {})",
                e.hotkey,
                e.passed,
                e.evaluated + e.missed.unwrap_or(0),
                e.pass_rate,
                lb(e)
            );
            let why_won = if order.len() == 1 {
                format!("{head} is the only eligible miner")
            } else if pos == 0 {
                format!(
                    "{head} is the earliest committer among the eligible miners, which qualifies \
                     by default{later_text}"
                )
            } else {
                let best = order[..pos]
                    .iter()
                    .map(|&j| &eligible[j])
                    .max_by(|a, b| a.pass_rate.total_cmp(&b.pass_rate))
                    .expect("pos > 0");
                format!(
                    "{head} has a lower bound > every earlier committer's pass rate + {d} (best \
                     earlier: {} at {}){later_text}",
                    best.hotkey, best.pass_rate
                )
            };
            match winner_of(round, &e.hotkey) {
                Ok(win) => (Some(win), why_won),
                Err(err) => (None, format!("{why_won}; {err}")),
            }
        }
    };
    RankReport {
        mode: RankMode::Improved,
        config: *config,
        window: Some(WindowInfo {
            first,
            last,
            size,
            live: Some(n_live),
            outages: Some(outages),
        }),
        winner,
        reason,
        ranking,
        ineligible,
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_known_values() {
        // Textbook value: 9/10 at z=1.96 -> 0.5958.
        assert!((wilson_lower_bound(9, 10, 1.96) - 0.5958).abs() < 1e-4);
        assert!((wilson_lower_bound(85, 100, 1.96) - 0.7672).abs() < 1e-4);
        assert_eq!(wilson_lower_bound(0, 0, 1.96), 0.0);
        assert_eq!(wilson_lower_bound(0, 10, 1.96), 0.0);
        assert!((wilson_lower_bound(7, 10, 0.0) - 0.7).abs() < 1e-15);
        assert!(wilson_lower_bound(10, 10, 1.96) < 1.0);
    }
}
