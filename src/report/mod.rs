//! Rendering verdicts for people (table, HTML) and the task-level JSON report.

pub mod html;
pub mod table;

use crate::rank::RankEntry;
use crate::verdict::{EvaluatorInfo, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;

/// What `leoma-gpu evaluate` prints: one verdict per miner and the ranking.
#[derive(Clone, Debug, Serialize)]
pub struct TaskReport {
    pub task_id: u64,
    pub prompt: String,
    pub evaluator: EvaluatorInfo,
    pub ranking: Vec<RankEntry>,
    pub verdicts: BTreeMap<String, Verdict>,
}
