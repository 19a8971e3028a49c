//! DINOv2 in the Hugging Face `Dinov2Model` layout (`embeddings.*`,
//! `encoder.layer.N.*`, `layernorm`), written here because candle-transformers'
//! DINOv2 follows the original torch-hub layout. The embedding is the
//! final-layer-normed CLS token (`pooler_output`), as DINO-I uses.
//! Position embeddings are resized to the input grid with torch's bicubic
//! interpolation (A = -0.75, align_corners = False, no antialias), as
//! transformers' `interpolate_pos_encoding` does.

use super::loader::{read_json, resolve, ModelFiles};
use super::preprocess::ProcessorConfig;
use super::{normalize_rows, Family, ImageEmbedder, ModelError};
use crate::frames::RgbFrame;
use candle_core::{DType, Device, IndexOp, Module, Tensor};
use candle_nn::{layer_norm, linear, Conv2dConfig, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
pub struct Config {
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    #[serde(default = "mlp_ratio")]
    pub mlp_ratio: f64,
    #[serde(default = "gelu")]
    pub hidden_act: String,
    #[serde(default = "eps")]
    pub layer_norm_eps: f64,
    pub image_size: usize,
    pub patch_size: usize,
    #[serde(default = "channels")]
    pub num_channels: usize,
    #[serde(default)]
    pub use_swiglu_ffn: bool,
}

fn mlp_ratio() -> f64 {
    4.0
}
fn gelu() -> String {
    "gelu".into()
}
fn eps() -> f64 {
    1e-6
}
fn channels() -> usize {
    3
}

struct Layer {
    norm1: LayerNorm,
    query: Linear,
    key: Linear,
    value: Linear,
    output: Linear,
    scale1: Tensor,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    scale2: Tensor,
    heads: usize,
}

impl Layer {
    fn new(cfg: &Config, vb: VarBuilder) -> candle_core::Result<Self> {
        let h = cfg.hidden_size;
        let inner = (h as f64 * cfg.mlp_ratio) as usize;
        let att = vb.pp("attention");
        Ok(Self {
            norm1: layer_norm(h, cfg.layer_norm_eps, vb.pp("norm1"))?,
            query: linear(h, h, att.pp("attention").pp("query"))?,
            key: linear(h, h, att.pp("attention").pp("key"))?,
            value: linear(h, h, att.pp("attention").pp("value"))?,
            output: linear(h, h, att.pp("output").pp("dense"))?,
            scale1: vb.pp("layer_scale1").get(h, "lambda1")?,
            norm2: layer_norm(h, cfg.layer_norm_eps, vb.pp("norm2"))?,
            fc1: linear(h, inner, vb.pp("mlp").pp("fc1"))?,
            fc2: linear(inner, h, vb.pp("mlp").pp("fc2"))?,
            scale2: vb.pp("layer_scale2").get(h, "lambda1")?,
            heads: cfg.num_attention_heads,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (b, n, c) = x.dims3()?;
        let hd = c / self.heads;
        let y = self.norm1.forward(x)?;
        let split = |t: Tensor| {
            t.reshape((b, n, self.heads, hd))?
                .transpose(1, 2)?
                .contiguous()
        };
        let (q, k, v) = (
            split(self.query.forward(&y)?)?,
            split(self.key.forward(&y)?)?,
            split(self.value.forward(&y)?)?,
        );
        let att = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?;
        let att = candle_nn::ops::softmax_last_dim(&att)?;
        let y = att.matmul(&v)?.transpose(1, 2)?.reshape((b, n, c))?;
        let y = self.output.forward(&y)?.broadcast_mul(&self.scale1)?;
        let x = (x + y)?;
        let y = self.norm2.forward(&x)?;
        let y = self
            .fc2
            .forward(&self.fc1.forward(&y)?.gelu_erf()?)?
            .broadcast_mul(&self.scale2)?;
        x + y
    }
}

/// torch `interpolate(mode="bicubic", align_corners=False, antialias=False)`
/// of a (C, H, W) grid to (C, oh, ow), in f64.
pub fn bicubic_resize(src: &[f32], c: usize, h: usize, w: usize, oh: usize, ow: usize) -> Vec<f32> {
    const A: f64 = -0.75;
    let cubic = |x: f64| {
        let x = x.abs();
        if x <= 1.0 {
            ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
        } else if x < 2.0 {
            ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A
        } else {
            0.0
        }
    };
    // Per output coordinate: the 4 source indices (clamped) and their weights.
    let taps = |out: usize, inp: usize| -> Vec<([usize; 4], [f64; 4])> {
        let scale = inp as f64 / out as f64;
        (0..out)
            .map(|o| {
                let x = (o as f64 + 0.5) * scale - 0.5;
                let x0 = x.floor();
                let t = x - x0;
                let idx =
                    [-1i64, 0, 1, 2].map(|k| (x0 as i64 + k).clamp(0, inp as i64 - 1) as usize);
                let wts = [cubic(t + 1.0), cubic(t), cubic(1.0 - t), cubic(2.0 - t)];
                (idx, wts)
            })
            .collect()
    };
    let (ty, tx) = (taps(oh, h), taps(ow, w));
    let mut out = vec![0f32; c * oh * ow];
    for ch in 0..c {
        let plane = &src[ch * h * w..(ch + 1) * h * w];
        for (oy, (iy, wy)) in ty.iter().enumerate() {
            for (ox, (ix, wx)) in tx.iter().enumerate() {
                let mut acc = 0f64;
                for a in 0..4 {
                    let mut row = 0f64;
                    for b in 0..4 {
                        row += wx[b] * plane[iy[a] * w + ix[b]] as f64;
                    }
                    acc += wy[a] * row;
                }
                out[ch * oh * ow + oy * ow + ox] = acc as f32;
            }
        }
    }
    out
}

pub struct Dinov2 {
    cfg: Config,
    patch: candle_nn::Conv2d,
    cls_token: Tensor,
    position: Tensor,
    layers: Vec<Layer>,
    norm: LayerNorm,
}

impl Dinov2 {
    pub fn new(cfg: &Config, vb: VarBuilder) -> candle_core::Result<Self> {
        let h = cfg.hidden_size;
        let emb = vb.pp("embeddings");
        let grid = cfg.image_size / cfg.patch_size;
        let conv = Conv2dConfig {
            stride: cfg.patch_size,
            ..Default::default()
        };
        Ok(Self {
            patch: candle_nn::conv2d(
                cfg.num_channels,
                h,
                cfg.patch_size,
                conv,
                emb.pp("patch_embeddings").pp("projection"),
            )?,
            cls_token: emb.get((1, 1, h), "cls_token")?,
            position: emb.get((1, grid * grid + 1, h), "position_embeddings")?,
            layers: (0..cfg.num_hidden_layers)
                .map(|i| Layer::new(cfg, vb.pp("encoder").pp("layer").pp(i)))
                .collect::<Result<_, _>>()?,
            norm: layer_norm(h, cfg.layer_norm_eps, vb.pp("layernorm"))?,
            cfg: cfg.clone(),
        })
    }

    fn positions(&self, gh: usize, gw: usize) -> candle_core::Result<Tensor> {
        let n = self.position.dim(1)? - 1;
        let side = (n as f64).sqrt().round() as usize;
        if gh == side && gw == side {
            return Ok(self.position.clone());
        }
        let h = self.cfg.hidden_size;
        let dtype = self.position.dtype();
        let patch = self
            .position
            .i((.., 1.., ..))?
            .to_dtype(DType::F32)?
            .reshape((side, side, h))?
            .permute((2, 0, 1))?;
        let data = patch.flatten_all()?.to_vec1::<f32>()?;
        let resized = bicubic_resize(&data, h, side, side, gh, gw);
        let patch = Tensor::from_vec(resized, (h, gh * gw), self.position.device())?
            .t()?
            .unsqueeze(0)?
            .to_dtype(dtype)?;
        Tensor::cat(&[self.position.i((.., 0..1, ..))?, patch], 1)
    }

    /// Final-layer-normed tokens (B, 1 + patches, hidden).
    pub fn forward(&self, pixels: &Tensor) -> candle_core::Result<Tensor> {
        let (b, _, ih, iw) = pixels.dims4()?;
        let x = self
            .patch
            .forward(pixels)?
            .flatten_from(2)?
            .transpose(1, 2)?;
        let cls = self.cls_token.broadcast_as((b, 1, self.cfg.hidden_size))?;
        let mut x = Tensor::cat(&[cls, x], 1)?
            .broadcast_add(&self.positions(ih / self.cfg.patch_size, iw / self.cfg.patch_size)?)?;
        for layer in &self.layers {
            x = layer.forward(&x)?;
        }
        self.norm.forward(&x)
    }
}

pub struct Dinov2Embedder {
    files: ModelFiles,
    processor: ProcessorConfig,
    model: Dinov2,
    device: Device,
    dtype: DType,
}

impl Dinov2Embedder {
    pub fn load(spec: &str, device: &Device, dtype: DType) -> Result<Self, ModelError> {
        let files = resolve(spec, false)?;
        let cfg: Config = read_json(&files.config)?;
        if cfg.use_swiglu_ffn || cfg.hidden_act != "gelu" {
            return Err(ModelError::BadFile {
                path: files.config.clone(),
                detail: "only the GELU MLP variant (dinov2-small/base/large) is supported".into(),
            });
        }
        let processor = ProcessorConfig::from_file(&files.preprocessor)?;
        let load_err = |e: candle_core::Error| ModelError::BadFile {
            path: files.weights.clone(),
            detail: e.to_string(),
        };
        // SAFETY: the weights file is memory-mapped read-only and not modified while mapped.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(std::slice::from_ref(&files.weights), dtype, device)
        }
        .map_err(load_err)?;
        let model = Dinov2::new(&cfg, vb).map_err(load_err)?;
        Ok(Self {
            files,
            processor,
            model,
            device: device.clone(),
            dtype,
        })
    }

    /// Raw CLS (pooler) outputs, not normalised, for parity checks.
    pub fn pooled(&self, images: &[RgbFrame]) -> Result<Vec<Vec<f32>>, ModelError> {
        super::in_batches(&self.processor, images, &self.device, self.dtype, |p| {
            self.pooled_from_pixels(p)
        })
    }

    /// CLS outputs (`pooler_output`) of preprocessed pixels (N, C, H, W).
    pub fn pooled_from_pixels(&self, pixels: &Tensor) -> Result<Vec<Vec<f32>>, ModelError> {
        let cls = self
            .model
            .forward(pixels)
            .and_then(|t| t.i((.., 0, ..)))
            .map_err(|e| ModelError::compute("dinov2", e))?;
        super::rows(&cls, "dinov2")
    }
}

impl ImageEmbedder for Dinov2Embedder {
    fn family(&self) -> Family {
        Family::Dinov2
    }

    fn source(&self) -> &ModelFiles {
        &self.files
    }

    fn embed_images(&self, images: &[RgbFrame]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut out = self.pooled(images)?;
        normalize_rows(&mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bicubic_keeps_constants_and_identity() {
        let src: Vec<f32> = (0..16).map(|i| i as f32).collect();
        assert_eq!(bicubic_resize(&src, 1, 4, 4, 4, 4), src);
        let flat = vec![3.0f32; 9];
        assert!(bicubic_resize(&flat, 1, 3, 3, 5, 7)
            .iter()
            .all(|v| (v - 3.0).abs() < 1e-6));
    }
}
