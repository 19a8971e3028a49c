//! The CPU engine: rayon-parallel over frame pairs (and clips); each flow
//! field is solved on one thread, so the result never depends on the thread
//! count.

use super::analysis::{self, ClipFlow, PairStats, TripleStats};
use super::pyramid::Pyramid;
use super::{check_pair, solver, FlowEngine, FlowError, FlowField, FlowParams};
use crate::frames::Plane;
use rayon::prelude::*;

pub struct CpuFlow {
    params: FlowParams,
}

impl CpuFlow {
    pub fn new(params: FlowParams) -> Self {
        Self { params }
    }

    fn analyze_clip(&self, frames: &[&Plane]) -> Result<ClipFlow, FlowError> {
        let (w, h) = frames
            .first()
            .map(|f| (f.width, f.height))
            .unwrap_or((0, 0));
        for pair in frames.windows(2) {
            check_pair(pair[0], pair[1])?;
        }
        let pyramids: Vec<Pyramid> = frames
            .par_iter()
            .map(|f| Pyramid::build(f, &self.params))
            .collect();
        let pairs = frames.len().saturating_sub(1);
        // Pairs are solved in chunks so that only a chunk's flow fields are held.
        let chunk = (2 * rayon::current_num_threads()).max(4);
        let mut stats: Vec<PairStats> = Vec::with_capacity(pairs);
        let mut triples: Vec<TripleStats> = Vec::with_capacity(pairs.saturating_sub(1));
        let mut previous: Option<(FlowField, Vec<bool>)> = None;
        for start in (0..pairs).step_by(chunk) {
            let solved: Vec<(PairStats, FlowField, Vec<bool>)> = (start
                ..(start + chunk).min(pairs))
                .into_par_iter()
                .map(|t| {
                    let (a, b) = (&pyramids[t], &pyramids[t + 1]);
                    let forward = solver::solve(a, b, &self.params);
                    let backward = solver::solve(b, a, &self.params);
                    let (s, mask) = analysis::pair_stats(a.base(), b.base(), &forward, &backward);
                    (s, forward, mask)
                })
                .collect();
            let mut follow: Vec<(&FlowField, &Vec<bool>, &FlowField)> = Vec::new();
            if let (Some((f1, m1)), Some((_, f2, _))) = (&previous, solved.first()) {
                follow.push((f1, m1, f2));
            }
            for w in solved.windows(2) {
                follow.push((&w[0].1, &w[0].2, &w[1].1));
            }
            triples.extend(
                follow
                    .par_iter()
                    .map(|(f1, m1, f2)| analysis::triple_stats(f1, m1, f2))
                    .collect::<Vec<_>>(),
            );
            for (s, f, m) in solved {
                stats.push(s);
                previous = Some((f, m));
            }
        }
        Ok(ClipFlow {
            width: w,
            height: h,
            blocks: analysis::block_grid(w, h),
            pairs: stats,
            triples,
        })
    }
}

impl FlowEngine for CpuFlow {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn flow_pairs(&self, pairs: &[(&Plane, &Plane)]) -> Result<Vec<FlowField>, FlowError> {
        for (a, b) in pairs {
            check_pair(a, b)?;
        }
        Ok(pairs
            .par_iter()
            .map(|(a, b)| {
                solver::solve(
                    &Pyramid::build(a, &self.params),
                    &Pyramid::build(b, &self.params),
                    &self.params,
                )
            })
            .collect())
    }

    fn analyze_clips(&self, clips: &[&[&Plane]]) -> Result<Vec<ClipFlow>, FlowError> {
        clips.par_iter().map(|c| self.analyze_clip(c)).collect()
    }
}
