//! Semantic evidence from image and text towers (CLIP, SigLIP, DINOv2), on the
//! conditioning image and the sampled frames (frame policy: `quality_samples`
//! frames at the canonical size, frame 0 and the last included), embedded as
//! one batch per clip. Not one batch per task: matrix kernels give slightly
//! different bits for different batch shapes (measured on candle's CPU gemm),
//! and a miner's verdict must not depend on who else is in the task. Clips are
//! judged in parallel instead, each as soon as it is decoded (so a task's
//! clips never sit in memory together), and each prompt is embedded once per
//! process (cached).
//!
//! For a model `m` (clip, siglip, dinov2):
//! - `semantic.m_first_frame`: cosine of frame 0 and the conditioning image
//!   (CLIP-I / DINO-I);
//! - `semantic.m_identity_min`: lowest cosine of any sampled frame to the
//!   conditioning image (identity drift), with curves `semantic.m_to_condition`,
//!   `semantic.m_to_first` and `semantic.m_to_previous` over the samples (a
//!   curve, not only a mean that saturates near 1);
//! - with a text tower, prompt adherence. Leoma prompts run 50-90 words and
//!   describe motion over time, past CLIP's 77 tokens, so the prompt is cut
//!   into sentence/clause pieces that fit (`models::text::chunk_prompt`,
//!   nothing dropped). Each piece is scored by the mean of its best third of
//!   frames (a piece describes part of the clip, and one bad frame cannot
//!   sink or carry it); the prompt's score is the mean over pieces.
//!   `semantic.clip_prompt` is in cosine units; `semantic.siglip_prompt` is
//!   SigLIP's own sigmoid probability (absolute scale). Curve
//!   `semantic.m_prompt_frames`: per sampled frame, the best piece's score.

use super::{Measurements, Metric};
use crate::features::ClipFeatures;
use crate::frames::RgbFrame;
use crate::models::text::chunk_prompt;
use crate::models::{cosine, ImageEmbedder, TextEmbedder};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// A prompt's pieces embedded, or why they could not be.
type PromptEmbeds = Arc<Result<Vec<Vec<f32>>, String>>;

pub struct Semantic {
    image: Arc<dyn ImageEmbedder>,
    text: Option<Arc<dyn TextEmbedder>>,
    /// Prompt pieces' embeddings by prompt text.
    prompts: Mutex<BTreeMap<String, PromptEmbeds>>,
}

impl Semantic {
    pub fn new(image: Arc<dyn ImageEmbedder>, text: Option<Arc<dyn TextEmbedder>>) -> Self {
        Self {
            image,
            text,
            prompts: Mutex::new(BTreeMap::new()),
        }
    }

    /// The prompt's pieces, embedded once per process.
    fn prompt_embeds(
        &self,
        text: &dyn TextEmbedder,
        prompt: &str,
    ) -> Arc<Result<Vec<Vec<f32>>, String>> {
        let mut cache = self
            .prompts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .entry(prompt.to_string())
            .or_insert_with(|| {
                let pieces = chunk_prompt(prompt, &|s: &str| fits_untruncated(text, s));
                let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
                Arc::new(text.embed_texts(&refs).map_err(|e| e.to_string()))
            })
            .clone()
    }
}

impl Semantic {
    fn key(&self, what: &str) -> String {
        format!("semantic.{}_{what}", self.image.family().name())
    }

    fn measure_one(
        &self,
        clip: &ClipFeatures,
        embeds: &[Vec<f32>],
        prompt_embeds: Option<&[Vec<f32>]>,
        out: &mut Measurements,
    ) {
        let (cond, frames) = embeds.split_first().expect("condition is embedded first");
        if frames.is_empty() {
            out.skip(&self.key("first_frame"), "no sampled frames");
            return;
        }
        let to_cond: Vec<f64> = frames.iter().map(|f| cosine(f, cond) as f64).collect();
        let to_first: Vec<f64> = frames
            .iter()
            .map(|f| cosine(f, &frames[0]) as f64)
            .collect();
        let to_prev: Vec<f64> = frames
            .windows(2)
            .map(|w| cosine(&w[0], &w[1]) as f64)
            .collect();
        if clip.samples.first().is_some_and(|s| s.index == 0) {
            out.set(&self.key("first_frame"), to_cond[0]);
        }
        out.set(
            &self.key("identity_min"),
            to_cond.iter().copied().fold(f64::INFINITY, f64::min),
        );
        out.curve(&self.key("to_condition"), to_cond);
        out.curve(&self.key("to_first"), to_first);
        out.curve(&self.key("to_previous"), to_prev);

        let (Some(text), Some(pieces)) = (&self.text, prompt_embeds) else {
            return;
        };
        if pieces.is_empty() {
            return;
        }
        let score = |c: f32| text.probability(c).unwrap_or(c) as f64;
        let k = frames.len().div_ceil(3).max(1);
        let mut piece_scores = Vec::with_capacity(pieces.len());
        let mut per_frame = vec![f64::NEG_INFINITY; frames.len()];
        for p in pieces {
            let mut s: Vec<f64> = frames.iter().map(|f| score(cosine(f, p))).collect();
            for (best, v) in per_frame.iter_mut().zip(&s) {
                *best = best.max(*v);
            }
            s.sort_by(|a, b| b.total_cmp(a));
            piece_scores.push(super::mean(&s[..k]));
        }
        out.set(&self.key("prompt"), super::mean(&piece_scores));
        out.set(&self.key("prompt_pieces"), pieces.len() as f64);
        out.curve(&self.key("prompt_frames"), per_frame);
    }
}

impl Metric for Semantic {
    fn name(&self) -> &'static str {
        self.image.family().name()
    }

    fn measure(&self, clip: &ClipFeatures, out: &mut Measurements) {
        // One batch: the conditioning image, then the clip's samples.
        let mut images: Vec<RgbFrame> = vec![clip.condition.clone()];
        images.extend(clip.samples.iter().map(|s| s.canonical.clone()));
        let embeds = match self.image.embed_images(&images) {
            Ok(e) => e,
            Err(e) => {
                out.skip(&self.key("first_frame"), e.to_string());
                return;
            }
        };
        let prompt = self
            .text
            .as_ref()
            .map(|t| self.prompt_embeds(t.as_ref(), &clip.prompt));
        if let Some(Err(e)) = prompt.as_deref() {
            out.skip(&self.key("prompt"), e.clone());
        }
        let prompt_embeds = prompt
            .as_deref()
            .and_then(|p| p.as_ref().ok())
            .map(Vec::as_slice);
        self.measure_one(clip, &embeds, prompt_embeds, out);
    }
}

/// Whether `s` fits the text tower without truncation.
fn fits_untruncated(text: &dyn TextEmbedder, s: &str) -> bool {
    text.untruncated_tokens(s)
        .is_ok_and(|n| n <= text.context_length())
}
