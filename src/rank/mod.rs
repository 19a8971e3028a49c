//! Ranking the clips of one task, best first.
//!
//! Order: passed before failed; then the unrounded overall score (higher
//! first); then confidence; then hotkey, so ties resolve the same way on every
//! machine. Unusable clips (input errors) come last.

pub mod improved;
pub mod leoma;

use crate::verdict::Verdict;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RankEntry {
    pub rank: usize,
    pub hotkey: String,
    pub passed: bool,
    pub overall_score: u8,
    pub confidence: u8,
    /// Points behind the entry above (unrounded overall), None for the first.
    pub margin_to_previous: Option<f64>,
}

pub fn rank_task<'a>(
    verdicts: impl IntoIterator<Item = (&'a String, &'a Verdict)>,
) -> Vec<RankEntry> {
    let mut v: Vec<(&String, &Verdict)> = verdicts.into_iter().collect();
    v.sort_by(|(ha, a), (hb, b)| {
        a.error
            .is_some()
            .cmp(&b.error.is_some())
            .then(b.passed.cmp(&a.passed))
            .then(b.overall_exact.total_cmp(&a.overall_exact))
            .then(b.confidence.cmp(&a.confidence))
            .then(ha.cmp(hb))
    });
    let mut out: Vec<RankEntry> = Vec::with_capacity(v.len());
    for (i, (hotkey, verdict)) in v.iter().enumerate() {
        let margin = (i > 0).then(|| v[i - 1].1.overall_exact - verdict.overall_exact);
        out.push(RankEntry {
            rank: i + 1,
            hotkey: (*hotkey).clone(),
            passed: verdict.passed,
            overall_score: verdict.overall_score,
            confidence: verdict.confidence,
            margin_to_previous: margin.map(|m| (m * 1000.0).round() / 1000.0),
        });
    }
    out
}
