//! Qwen3-VL (Hugging Face `Qwen3VLForConditionalGeneration` layout) asked
//! questions about a clip and read deterministically: the clip goes in as a
//! video under the pinned frame policy, the conditioning image as an image;
//! the vision tower and the shared prompt prefix run once per clip (key/value
//! cache), each question then runs only its own tokens, and its answer is read
//! from the next-token probabilities at one position (`reading`).
//!
//! `processor` reproduces transformers' image/video processors, `prompt` the
//! chat template and M-RoPE positions, `vision` and `text` the towers,
//! `questions` the versioned question templates.

mod checkpoint;
pub mod config;
mod policy;
pub mod processor;
pub mod prompt;
pub mod questions;
pub mod reading;
pub mod text;
pub mod torch_resize;
pub mod vision;

pub use checkpoint::Checkpoint;
pub use policy::VlmPolicy;

use super::ModelError;
use crate::frames::RgbFrame;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use config::Config;
use processor::{ProcessorSettings, VisionInput};
use prompt::{rope_positions, Prompt, QwenTokenizer, TokenKind, VisionLayout};
use reading::{Answer, AnswerKind, AnswerTokens};
use serde::Serialize;
use std::collections::BTreeMap;
use text::{DeepstackLevel, KvCache, TextModel};
use vision::{VisionOutput, VisionTower};

/// The default checkpoint; `Qwen/Qwen3-VL-4B-Instruct` and `-8B-` load the same way.
pub const DEFAULT_MODEL: &str = "Qwen/Qwen3-VL-2B-Instruct";

/// A loaded Qwen3-VL: weights load once per process.
pub struct Qwen3Vl {
    pub files: Checkpoint,
    pub config: Config,
    pub settings: ProcessorSettings,
    pub tokenizer: QwenTokenizer,
    answers: AnswerTokens,
    vision: VisionTower,
    text: TextModel,
    device: Device,
}

fn slice(p: &[Vec<u32>; 3], a: usize, b: usize) -> [&[u32]; 3] {
    [&p[0][a..b], &p[1][a..b], &p[2][a..b]]
}

/// What the model is shown of one clip.
pub struct ClipInput<'a> {
    /// The sampled frames, in order, at their decoded size.
    pub frames: &'a [RgbFrame],
    /// Their indices in the clip (for the timestamps).
    pub frame_indices: &'a [usize],
    pub fps: f64,
    pub condition: Option<&'a RgbFrame>,
}

/// One question: the user text after the vision inputs, and what it asks for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Question {
    pub id: String,
    pub kind: AnswerKind,
    pub text: String,
}

/// A question's reading plus the numbers behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reading {
    pub id: String,
    pub answer: Answer,
    /// Tokens of the full prompt and the position read (the last).
    pub tokens: usize,
    /// Logits of the answer tokens (for parity checks and debugging).
    #[serde(skip)]
    pub logits: Vec<f32>,
}

/// A clip encoded once: its vision features, ready for its questions.
pub struct EncodedClip {
    layout: VisionLayout,
    image: Option<VisionOutput>,
    video: Option<VisionOutput>,
    /// The processor's tensors, for parity checks.
    pub image_input: Option<VisionInput>,
    pub video_input: Option<VisionInput>,
}

impl EncodedClip {
    /// Grids and frame times of the vision inputs.
    pub fn layout(&self) -> &VisionLayout {
        &self.layout
    }
}

fn compute(e: impl std::fmt::Display) -> ModelError {
    ModelError::compute("qwen3-vl", e)
}

impl Qwen3Vl {
    /// CPU float32, or CUDA bfloat16 (the `cuda` feature, `device::select`).
    pub fn load(spec: &str, device: &Device, dtype: DType) -> Result<Self, ModelError> {
        let files = Checkpoint::resolve(spec)?;
        let text_cfg = std::fs::read_to_string(&files.config).map_err(|e| ModelError::BadFile {
            path: files.config.clone(),
            detail: e.to_string(),
        })?;
        let config = Config::parse(&text_cfg).map_err(|detail| ModelError::BadFile {
            path: files.config.clone(),
            detail: format!("invalid Qwen3-VL config: {detail}"),
        })?;
        let settings = ProcessorSettings::from_file(&files.processor)?;
        let v = &config.vision_config;
        if (
            settings.patch_size,
            settings.merge_size,
            settings.temporal_patch_size,
        ) != (v.patch_size, v.spatial_merge_size, v.temporal_patch_size)
        {
            return Err(ModelError::BadFile {
                path: files.processor.clone(),
                detail: "patch/merge/temporal sizes differ from config.json's vision_config".into(),
            });
        }
        let tokenizer = QwenTokenizer::from_file(&files.tokenizer)?;
        if (tokenizer.image_pad, tokenizer.video_pad)
            != (config.image_token_id, config.video_token_id)
        {
            return Err(ModelError::BadFile {
                path: files.tokenizer.clone(),
                detail: "vision token ids differ from config.json's".into(),
            });
        }
        let answers = AnswerTokens::new(&tokenizer)?;
        let load_err = |e: candle_core::Error| ModelError::BadFile {
            path: files.weights[0].clone(),
            detail: e.to_string(),
        };
        // SAFETY: the weight files are memory-mapped read-only and not modified while mapped.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&files.weights, dtype, device) }
            .map_err(load_err)?;
        let vision = VisionTower::new(
            &config.vision_config,
            config.vision_rope_theta(),
            vb.pp("model").pp("visual"),
        )
        .map_err(load_err)?;
        let text = TextModel::new(&config, vb).map_err(load_err)?;
        Ok(Self {
            files,
            config,
            settings,
            tokenizer,
            answers,
            vision,
            text,
            device: device.clone(),
        })
    }

    pub fn digests(&self) -> &BTreeMap<String, String> {
        &self.files.digests
    }

    /// Preprocess and encode a clip (and its conditioning image) once.
    pub fn encode(&self, clip: &ClipInput, policy: &VlmPolicy) -> Result<EncodedClip, ModelError> {
        let image_input = clip
            .condition
            .map(|img| {
                self.settings
                    .image(img, policy.image_min_pixels, policy.image_max_pixels)
            })
            .transpose()
            .map_err(compute)?;
        let video_input = if clip.frames.is_empty() {
            None
        } else {
            Some(
                self.settings
                    .video(
                        clip.frames,
                        policy.video_min_pixels,
                        policy.video_max_pixels,
                    )
                    .map_err(compute)?,
            )
        };
        self.encode_inputs(image_input, video_input, clip.frame_indices, clip.fps)
    }

    /// Encode already-preprocessed inputs (parity checks feed the reference's).
    pub fn encode_inputs(
        &self,
        image_input: Option<VisionInput>,
        video_input: Option<VisionInput>,
        frame_indices: &[usize],
        fps: f64,
    ) -> Result<EncodedClip, ModelError> {
        let run = |i: &VisionInput| self.vision.forward(&i.pixels, i.grid).map_err(compute);
        let image = image_input.as_ref().map(run).transpose()?;
        let video = video_input.as_ref().map(run).transpose()?;
        let layout = VisionLayout {
            image_grid: image_input.as_ref().map(|i| i.grid),
            video: video_input.as_ref().map(|i| {
                (
                    i.grid,
                    processor::timestamps(frame_indices, fps, self.settings.temporal_patch_size),
                )
            }),
            merge_size: self.settings.merge_size,
        };
        Ok(EncodedClip {
            layout,
            image,
            video,
            image_input,
            video_input,
        })
    }

    /// The prompt of one question (ids and token kinds), as the processor makes it.
    pub fn prompt(&self, clip: &EncodedClip, text: &str) -> Result<Prompt, ModelError> {
        self.tokenizer.prompt(&clip.layout, text)
    }

    /// Embeddings of `p.ids[..end]` with the vision features in place, and
    /// the deepstack levels for those positions.
    fn prefix_inputs(
        &self,
        clip: &EncodedClip,
        p: &Prompt,
        end: usize,
    ) -> Result<(Tensor, Vec<DeepstackLevel>), ModelError> {
        let text = self.text.embed(&p.ids[..end]).map_err(compute)?;
        let dtype = text.dtype();
        let empty = || Tensor::zeros((0, self.text.hidden), dtype, &self.device);
        let rows = |o: &Option<VisionOutput>| -> candle_core::Result<Tensor> {
            o.as_ref().map_or_else(empty, |o| o.embeds.to_dtype(dtype))
        };
        let (img, vid) = (
            rows(&clip.image).map_err(compute)?,
            rows(&clip.video).map_err(compute)?,
        );
        let (n_img, n_vid) = (img.dim(0).map_err(compute)?, vid.dim(0).map_err(compute)?);
        let mut index = Vec::with_capacity(end);
        let mut vision_positions = Vec::new();
        let mut vision_rows = Vec::new();
        let (mut next_img, mut next_vid) = (0usize, 0usize);
        for (pos, kind) in p.kinds[..end].iter().enumerate() {
            match kind {
                TokenKind::Text => index.push(pos as u32),
                TokenKind::Image => {
                    vision_positions.push(pos);
                    vision_rows.push(next_img as u32);
                    index.push((end + next_img) as u32);
                    next_img += 1;
                }
                TokenKind::Video => {
                    vision_positions.push(pos);
                    vision_rows.push((n_img + next_vid) as u32);
                    index.push((end + n_img + next_vid) as u32);
                    next_vid += 1;
                }
            }
        }
        if next_img != n_img || next_vid != n_vid {
            return Err(compute(format!(
                "the prompt has {next_img} image and {next_vid} video tokens; the vision tower gave {n_img} and {n_vid}"
            )));
        }
        let table = Tensor::cat(&[&text, &img, &vid], 0).map_err(compute)?;
        let index_t = Tensor::new(index.as_slice(), &self.device).map_err(compute)?;
        let embeds = table
            .index_select(&index_t, 0)
            .map_err(compute)?
            .unsqueeze(0)
            .map_err(compute)?;
        let levels = self.config.vision_config.deepstack_visual_indexes.len();
        let mut deepstack = Vec::with_capacity(levels);
        if !vision_positions.is_empty() {
            let rows_t = Tensor::new(vision_rows.as_slice(), &self.device).map_err(compute)?;
            for level in 0..levels {
                let part = |o: &Option<VisionOutput>| -> candle_core::Result<Tensor> {
                    o.as_ref()
                        .map_or_else(empty, |o| o.deepstack[level].to_dtype(dtype))
                };
                let all = Tensor::cat(
                    &[
                        &part(&clip.image).map_err(compute)?,
                        &part(&clip.video).map_err(compute)?,
                    ],
                    0,
                )
                .map_err(compute)?;
                let ordered = all.index_select(&rows_t, 0).map_err(compute)?;
                deepstack
                    .push(DeepstackLevel::new(&ordered, &vision_positions, end).map_err(compute)?);
            }
        }
        Ok((embeds, deepstack))
    }

    /// Ask `questions` about an encoded clip. The token prefix all questions
    /// share (vision inputs included) runs once; each question then runs its
    /// remaining tokens on a copy of that cache.
    pub fn ask(
        &self,
        clip: &EncodedClip,
        questions: &[Question],
    ) -> Result<Vec<Reading>, ModelError> {
        if questions.is_empty() {
            return Ok(Vec::new());
        }
        let prompts: Vec<Prompt> = questions
            .iter()
            .map(|q| self.prompt(clip, &q.text))
            .collect::<Result<_, _>>()?;
        let min_len = prompts.iter().map(|p| p.ids.len()).min().unwrap_or(0);
        let mut shared = prompts[0]
            .ids
            .iter()
            .enumerate()
            .take_while(|(i, id)| prompts.iter().all(|p| p.ids[*i] == **id))
            .count();
        shared = shared.min(min_len.saturating_sub(1));
        let last_vision = prompts[0]
            .kinds
            .iter()
            .rposition(|k| *k != TokenKind::Text)
            .map_or(0, |i| i + 1);
        if shared < last_vision {
            return Err(compute(
                "questions must only differ after the vision inputs",
            ));
        }
        let positions = rope_positions(&prompts[0], &clip.layout).map_err(compute)?;
        let (embeds, deepstack) = self.prefix_inputs(clip, &prompts[0], shared)?;
        let mut prefix = self.text.empty_cache();
        if shared > 0 {
            self.text
                .forward(
                    embeds,
                    slice(&positions, 0, shared),
                    &deepstack,
                    &mut prefix,
                )
                .map_err(compute)?;
        }
        let mut out = Vec::with_capacity(questions.len());
        for (q, p) in questions.iter().zip(&prompts) {
            let pos = rope_positions(p, &clip.layout).map_err(compute)?;
            let own = &p.ids[shared..];
            let embeds = self
                .text
                .embed(own)
                .and_then(|e| e.unsqueeze(0))
                .map_err(compute)?;
            let mut cache: KvCache = prefix.clone();
            let hidden = self
                .text
                .forward(embeds, slice(&pos, shared, p.ids.len()), &[], &mut cache)
                .map_err(compute)?;
            let logits = self.text.logits(&hidden).map_err(compute)?;
            out.push(Reading {
                id: q.id.clone(),
                answer: reading::read(q.kind, &logits, &self.answers),
                tokens: p.ids.len(),
                logits,
            });
        }
        Ok(out)
    }

    /// The answer token ids (yes/no variants and digits), sorted.
    pub fn answer_token_ids(&self) -> Vec<u32> {
        self.answers.all()
    }
}
