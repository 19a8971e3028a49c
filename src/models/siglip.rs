//! SigLIP (Hugging Face `SiglipModel` layout) on candle-transformers' towers.
//! Text is padded to the full context with the pad token, as SigLIP was
//! trained; image-text agreement is the model's own sigmoid probability
//! σ(exp(logit_scale)·cos + logit_bias), an absolute scale.

use super::loader::{read_json, resolve, ModelFiles};
use super::preprocess::ProcessorConfig;
use super::text::TextTokenizer;
use super::{normalize_rows, Family, ImageEmbedder, ModelError, TextEmbedder};
use crate::frames::RgbFrame;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::siglip;

/// Texts per forward pass.
const TEXT_BATCH: usize = 32;

fn strip_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|_, x| !x.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

pub struct SiglipEmbedder {
    files: ModelFiles,
    processor: ProcessorConfig,
    tokenizer: TextTokenizer,
    model: siglip::Model,
    logit_scale: f32,
    logit_bias: f32,
    device: Device,
    dtype: DType,
}

impl SiglipEmbedder {
    pub fn load(spec: &str, device: &Device, dtype: DType) -> Result<Self, ModelError> {
        let files = resolve(spec, true)?;
        let bad = |detail: String| ModelError::BadFile {
            path: files.config.clone(),
            detail,
        };
        // transformers writes unset token ids as null; candle's config wants them absent.
        let mut raw: serde_json::Value = read_json(&files.config)?;
        strip_nulls(&mut raw);
        let projection = raw["text_config"]["projection_size"].as_u64();
        let cfg: siglip::Config =
            serde_json::from_value(raw).map_err(|e| bad(format!("invalid SigLIP config: {e}")))?;
        if projection.is_some_and(|p| p as usize != cfg.text_config.hidden_size) {
            return Err(bad("text_config.projection_size differs from hidden_size (SigLIP 2 style heads are not supported)".into()));
        }
        let processor = ProcessorConfig::from_file(&files.preprocessor)?;
        let t = &cfg.text_config;
        let tokenizer = TextTokenizer::from_file(
            files.tokenizer.as_ref().expect("resolved with tokenizer"),
            t.max_position_embeddings,
            Some(t.pad_token_id),
        )?;
        let load_err = |e: candle_core::Error| ModelError::BadFile {
            path: files.weights.clone(),
            detail: e.to_string(),
        };
        // SAFETY: the weights file is memory-mapped read-only and not modified while mapped.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(std::slice::from_ref(&files.weights), dtype, device)
        }
        .map_err(load_err)?;
        let model = siglip::Model::new(&cfg, vb.clone()).map_err(load_err)?;
        let scalar = |name: &str| -> Result<f32, ModelError> {
            vb.get(&[1], name)
                .and_then(|t| t.to_dtype(DType::F32))
                .and_then(|t| t.to_vec1::<f32>())
                .map(|v| v[0])
                .map_err(load_err)
        };
        Ok(Self {
            logit_scale: scalar("logit_scale")?.exp(),
            logit_bias: scalar("logit_bias")?,
            files,
            processor,
            tokenizer,
            model,
            device: device.clone(),
            dtype,
        })
    }

    fn compute<T>(&self, r: candle_core::Result<T>) -> Result<T, ModelError> {
        r.map_err(|e| ModelError::compute("siglip", e))
    }
}

impl ImageEmbedder for SiglipEmbedder {
    fn family(&self) -> Family {
        Family::Siglip
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

impl TextEmbedder for SiglipEmbedder {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(TEXT_BATCH) {
            let ids: Vec<Vec<u32>> = chunk
                .iter()
                .map(|t| self.token_ids(t))
                .collect::<Result<_, _>>()?;
            out.extend(self.text_features(&ids)?);
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

    fn probability(&self, cosine: f32) -> Option<f32> {
        Some(1.0 / (1.0 + (-(self.logit_scale * cosine + self.logit_bias)).exp()))
    }
}

impl SiglipEmbedder {
    /// Unnormalised image features of preprocessed pixels (N, C, H, W).
    pub fn image_features(&self, pixels: &Tensor) -> Result<Vec<Vec<f32>>, ModelError> {
        let feats = self.compute(self.model.get_image_features(pixels))?;
        super::rows(&feats, "siglip")
    }

    /// Unnormalised text features of equally long (padded) token sequences.
    pub fn text_features(&self, ids: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, ModelError> {
        let len = ids.first().map_or(0, Vec::len);
        if ids.iter().any(|r| r.len() != len) {
            return Err(ModelError::compute(
                "siglip",
                "token sequences differ in length",
            ));
        }
        let input = self.compute(Tensor::from_vec(
            ids.concat(),
            (ids.len(), len),
            &self.device,
        ))?;
        let feats = self.compute(self.model.get_text_features(&input))?;
        super::rows(&feats, "siglip")
    }
}
