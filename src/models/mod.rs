//! Image and text towers through candle: CLIP, SigLIP and DINOv2, loaded from
//! a local directory in Hugging Face layout or from the hub (cache honoured).
//! Each model file mirrors its checkpoint's layout; `loader` finds the files,
//! `preprocess` reproduces the checkpoint's image processor, `text` its
//! tokenizer, and `semantic` (in metrics) turns embeddings into evidence.
//! `qwen3_vl` is the VLM asked about each clip (`metrics::vlm` reads it).

pub mod clip;
pub mod device;
pub mod dinov2;
pub mod loader;
pub mod preprocess;
pub mod qwen3_vl;
pub mod siglip;
pub mod text;

use crate::frames::RgbFrame;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: missing model file ({what})")]
    MissingFile { path: PathBuf, what: String },
    #[error("{path}: {detail}")]
    BadFile { path: PathBuf, detail: String },
    #[error("model {id}: {detail}")]
    Hub { id: String, detail: String },
    #[error("{model}: {detail}")]
    Compute { model: String, detail: String },
    #[error(transparent)]
    Preprocess(#[from] preprocess::PreprocessError),
}

impl ModelError {
    pub fn compute(model: &str, e: impl std::fmt::Display) -> Self {
        ModelError::Compute {
            model: model.to_string(),
            detail: e.to_string(),
        }
    }
}

/// Which family a checkpoint belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Clip,
    Siglip,
    Dinov2,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Clip => "clip",
            Family::Siglip => "siglip",
            Family::Dinov2 => "dinov2",
        }
    }
}

/// An image tower: L2-normalised embeddings of RGB images, in input order.
pub trait ImageEmbedder: Send + Sync {
    fn family(&self) -> Family;
    /// Where the weights came from (directory or hub id) and their sha256 by file name.
    fn source(&self) -> &loader::ModelFiles;
    fn embed_images(&self, images: &[RgbFrame]) -> Result<Vec<Vec<f32>>, ModelError>;
}

/// A text tower sharing the image tower's embedding space.
pub trait TextEmbedder: ImageEmbedder {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError>;
    /// Token ids exactly as the model sees them (after truncation and padding).
    fn token_ids(&self, text: &str) -> Result<Vec<u32>, ModelError>;
    /// Tokens the text tower reads at most.
    fn context_length(&self) -> usize;
    /// Tokens `text` needs (special tokens included) before any truncation.
    fn untruncated_tokens(&self, text: &str) -> Result<usize, ModelError>;
    /// The model's own image-text probability for a cosine, when it has one
    /// (SigLIP's sigmoid with its learned scale and bias); CLIP has none.
    fn probability(&self, cosine: f32) -> Option<f32>;
}

/// The models a run uses, loaded once per process and shared by all clips.
#[derive(Default, Clone)]
pub struct ModelSet {
    pub clip: Option<std::sync::Arc<clip::ClipEmbedder>>,
    pub siglip: Option<std::sync::Arc<siglip::SiglipEmbedder>>,
    pub dinov2: Option<std::sync::Arc<dinov2::Dinov2Embedder>>,
    pub vlm: Option<std::sync::Arc<qwen3_vl::Qwen3Vl>>,
}

impl ModelSet {
    pub fn is_empty(&self) -> bool {
        self.clip.is_none() && self.siglip.is_none() && self.dinov2.is_none() && self.vlm.is_none()
    }

    /// sha256 of every weight and configuration file, keyed `family/file`.
    pub fn digests(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut add = |f: Family, files: &loader::ModelFiles| {
            for (name, digest) in &files.digests {
                out.insert(format!("{}/{name}", f.name()), digest.clone());
            }
        };
        if let Some(m) = &self.clip {
            add(Family::Clip, m.source());
        }
        if let Some(m) = &self.siglip {
            add(Family::Siglip, m.source());
        }
        if let Some(m) = &self.dinov2 {
            add(Family::Dinov2, m.source());
        }
        if let Some(m) = &self.vlm {
            for (name, digest) in m.digests() {
                out.insert(format!("qwen3_vl/{name}"), digest.clone());
            }
        }
        out
    }
}

/// L2-normalise rows in place (zero rows stay zero).
pub fn normalize_rows(rows: &mut [Vec<f32>]) {
    for r in rows {
        let n = r
            .iter()
            .map(|v| (*v as f64) * (*v as f64))
            .sum::<f64>()
            .sqrt() as f32;
        if n > 0.0 {
            r.iter_mut().for_each(|v| *v /= n);
        }
    }
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// (N, C, H, W) tensor from already-preprocessed pixel data (parity checks feed
/// the reference processor's output straight to the towers).
pub fn pixel_tensor(
    data: Vec<f32>,
    shape: [usize; 4],
    device: &candle_core::Device,
    dtype: candle_core::DType,
) -> Result<candle_core::Tensor, ModelError> {
    candle_core::Tensor::from_vec(data, (shape[0], shape[1], shape[2], shape[3]), device)
        .and_then(|t| t.to_dtype(dtype))
        .map_err(|e| ModelError::compute("pixels", e))
}

/// Rows of an (N, D) tensor as f32 vectors.
pub fn rows(t: &candle_core::Tensor, model: &str) -> Result<Vec<Vec<f32>>, ModelError> {
    t.to_dtype(candle_core::DType::F32)
        .and_then(|t| t.to_vec2::<f32>())
        .map_err(|e| ModelError::compute(model, e))
}

/// Images per forward pass of an image tower.
pub const IMAGE_BATCH: usize = 32;

/// Run `tower` over `images` in batches of `IMAGE_BATCH` (preprocessed with the
/// checkpoint's processor), rows in input order, unnormalised.
pub fn in_batches(
    processor: &preprocess::ProcessorConfig,
    images: &[RgbFrame],
    device: &candle_core::Device,
    dtype: candle_core::DType,
    tower: impl Fn(&candle_core::Tensor) -> Result<Vec<Vec<f32>>, ModelError>,
) -> Result<Vec<Vec<f32>>, ModelError> {
    let mut out = Vec::with_capacity(images.len());
    for chunk in images.chunks(IMAGE_BATCH) {
        out.extend(tower(&pixel_batch(processor, chunk, device, dtype)?)?);
    }
    Ok(out)
}

/// Preprocess images (in parallel, order kept) into one (N, C, H, W) tensor.
pub fn pixel_batch(
    processor: &preprocess::ProcessorConfig,
    images: &[RgbFrame],
    device: &candle_core::Device,
    dtype: candle_core::DType,
) -> Result<candle_core::Tensor, ModelError> {
    use rayon::prelude::*;
    let done: Vec<(Vec<f32>, [usize; 3])> = images
        .par_iter()
        .map(|img| processor.preprocess(img))
        .collect::<Result<_, _>>()?;
    let shape = done.first().map(|d| d.1).unwrap_or([3, 1, 1]);
    let data: Vec<f32> = done.into_iter().flat_map(|d| d.0).collect();
    pixel_tensor(
        data,
        [images.len(), shape[0], shape[1], shape[2]],
        device,
        dtype,
    )
}
