//! CLIP (Hugging Face `CLIPModel` layout) on candle: `text_model.*`,
//! `vision_model.*`, `text_projection`, `visual_projection`.
//! The towers are candle-transformers'; configuration comes from the
//! checkpoint's `config.json`, and text is pooled at the first end-of-text
//! token as transformers does (argmax of ids for legacy configs with eos id 2).

use super::loader::{read_json, resolve, ModelFiles};
use super::preprocess::ProcessorConfig;
use super::text::TextTokenizer;
use super::{normalize_rows, Family, ImageEmbedder, ModelError, TextEmbedder};
use crate::frames::RgbFrame;
use candle_core::{DType, Device, IndexOp, Module, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::clip::{
    text_model::{Activation, ClipTextConfig, ClipTextTransformer},
    vision_model::{ClipVisionConfig, ClipVisionTransformer},
};
use serde::Deserialize;

#[derive(Deserialize)]
struct HfTower {
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    #[serde(default = "quick_gelu")]
    hidden_act: String,
    #[serde(default = "eps")]
    layer_norm_eps: f64,
    // text
    vocab_size: Option<usize>,
    max_position_embeddings: Option<usize>,
    eos_token_id: Option<u32>,
    // vision
    image_size: Option<usize>,
    patch_size: Option<usize>,
    num_channels: Option<usize>,
}

fn quick_gelu() -> String {
    "quick_gelu".into()
}
fn eps() -> f64 {
    1e-5
}

#[derive(Deserialize)]
struct HfConfig {
    text_config: HfTower,
    vision_config: HfTower,
    projection_dim: usize,
}

pub struct ClipEmbedder {
    files: ModelFiles,
    processor: ProcessorConfig,
    tokenizer: TextTokenizer,
    text: ClipTextTransformer,
    vision: ClipVisionTransformer,
    text_projection: candle_nn::Linear,
    visual_projection: candle_nn::Linear,
    eos_id: u32,
    device: Device,
    dtype: DType,
}

impl ClipEmbedder {
    pub fn load(spec: &str, device: &Device, dtype: DType) -> Result<Self, ModelError> {
        let files = resolve(spec, true)?;
        let cfg: HfConfig = read_json(&files.config)?;
        let bad = |detail: String| ModelError::BadFile {
            path: files.config.clone(),
            detail,
        };
        for (name, t) in [
            ("text_config", &cfg.text_config),
            ("vision_config", &cfg.vision_config),
        ] {
            if t.hidden_act != "quick_gelu" || (t.layer_norm_eps - 1e-5).abs() > 1e-12 {
                return Err(bad(format!(
                    "{name}: only quick_gelu with layer_norm_eps 1e-5 is supported (found {} / {})",
                    t.hidden_act, t.layer_norm_eps
                )));
            }
        }
        let t = &cfg.text_config;
        let v = &cfg.vision_config;
        let need =
            |o: Option<usize>, what: &str| o.ok_or_else(|| bad(format!("{what} is missing")));
        let text_cfg = ClipTextConfig {
            vocab_size: need(t.vocab_size, "text_config.vocab_size")?,
            embed_dim: t.hidden_size,
            activation: Activation::QuickGelu,
            intermediate_size: t.intermediate_size,
            max_position_embeddings: need(
                t.max_position_embeddings,
                "text_config.max_position_embeddings",
            )?,
            pad_with: None,
            num_hidden_layers: t.num_hidden_layers,
            num_attention_heads: t.num_attention_heads,
            projection_dim: cfg.projection_dim,
        };
        let vision_cfg = ClipVisionConfig {
            embed_dim: v.hidden_size,
            activation: Activation::QuickGelu,
            intermediate_size: v.intermediate_size,
            num_hidden_layers: v.num_hidden_layers,
            num_attention_heads: v.num_attention_heads,
            projection_dim: cfg.projection_dim,
            num_channels: v.num_channels.unwrap_or(3),
            image_size: need(v.image_size, "vision_config.image_size")?,
            patch_size: need(v.patch_size, "vision_config.patch_size")?,
        };
        let processor = ProcessorConfig::from_file(&files.preprocessor)?;
        let tokenizer = TextTokenizer::from_file(
            files.tokenizer.as_ref().expect("resolved with tokenizer"),
            text_cfg.max_position_embeddings,
            None,
        )?;
        // SAFETY: the weights file is memory-mapped read-only and not modified while mapped.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(std::slice::from_ref(&files.weights), dtype, device)
        }
        .map_err(|e| ModelError::BadFile {
            path: files.weights.clone(),
            detail: e.to_string(),
        })?;
        let load_err = |e: candle_core::Error| ModelError::BadFile {
            path: files.weights.clone(),
            detail: e.to_string(),
        };
        let text = ClipTextTransformer::new(vb.pp("text_model"), &text_cfg).map_err(load_err)?;
        let vision =
            ClipVisionTransformer::new(vb.pp("vision_model"), &vision_cfg).map_err(load_err)?;
        let text_projection =
            candle_nn::linear_no_bias(t.hidden_size, cfg.projection_dim, vb.pp("text_projection"))
                .map_err(load_err)?;
        let visual_projection = candle_nn::linear_no_bias(
            v.hidden_size,
            cfg.projection_dim,
            vb.pp("visual_projection"),
        )
        .map_err(load_err)?;
        Ok(Self {
            eos_id: t.eos_token_id.unwrap_or(2),
            files,
            processor,
            tokenizer,
            text,
            vision,
            text_projection,
            visual_projection,
            device: device.clone(),
            dtype,
        })
    }

    fn compute<T>(&self, r: candle_core::Result<T>) -> Result<T, ModelError> {
        r.map_err(|e| ModelError::compute("clip", e))
    }

    /// Position of the pooled token: the first end-of-text token, or the
    /// largest id for legacy configurations (eos id 2), as transformers does.
    fn pool_index(&self, ids: &[u32]) -> usize {
        if self.eos_id == 2 {
            let max = ids.iter().copied().max().unwrap_or(0);
            ids.iter().position(|&i| i == max).unwrap_or(0)
        } else {
            ids.iter()
                .position(|&i| i == self.eos_id)
                .unwrap_or(ids.len().saturating_sub(1))
        }
    }
}

impl ImageEmbedder for ClipEmbedder {
    fn family(&self) -> Family {
        Family::Clip
    }

    fn source(&self) -> &ModelFiles {
        &self.files
    }

    fn embed_images(&self, images: &[RgbFrame]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut out = super::in_batches(&self.processor, images, &self.device, self.dtype, |p| {
            self.image_features(p)
        })?;
        normalize_rows(&mut out);
        Ok(out)
    }
}

impl TextEmbedder for ClipEmbedder {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut out = Vec::with_capacity(texts.len());
        for text in texts {
            out.push(self.text_features(&self.token_ids(text)?)?);
        }
        normalize_rows(&mut out);
        Ok(out)
    }

    fn token_ids(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        self.tokenizer.encode(text)
    }

    fn context_length(&self) -> usize {
        self.tokenizer.context
    }

    fn untruncated_tokens(&self, text: &str) -> Result<usize, ModelError> {
        self.tokenizer.untruncated_len(text)
    }

    fn probability(&self, _cosine: f32) -> Option<f32> {
        None
    }
}

impl ClipEmbedder {
    /// Projected, unnormalised image features of preprocessed pixels (N, C, H, W).
    pub fn image_features(&self, pixels: &Tensor) -> Result<Vec<Vec<f32>>, ModelError> {
        let feats = self.compute(
            self.vision
                .forward(pixels)
                .and_then(|h| self.visual_projection.forward(&h)),
        )?;
        super::rows(&feats, "clip")
    }

    /// Projected, unnormalised text features of one token sequence.
    pub fn text_features(&self, ids: &[u32]) -> Result<Vec<f32>, ModelError> {
        let pool = self.pool_index(ids);
        let input = self.compute(Tensor::new(ids, &self.device).and_then(|t| t.unsqueeze(0)))?;
        let hidden = self.compute(self.text.forward_with_mask(&input, usize::MAX))?;
        let pooled = self.compute(
            hidden
                .i((.., pool, ..))
                .and_then(|h| self.text_projection.forward(&h)),
        )?;
        Ok(super::rows(&pooled, "clip")?.remove(0))
    }
}
