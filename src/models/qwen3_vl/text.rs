//! The Qwen3-VL text model (`model.language_model.*` and `lm_head`,
//! transformers' `Qwen3VLTextModel`): Qwen3 decoder layers (q/k RMS norms,
//! grouped-query attention) with interleaved multimodal RoPE, deepstack
//! visual features added to the first layers' outputs at the vision
//! positions, and a key/value cache so a clip's shared prefix is computed
//! once and each question only runs its own tokens.
//!
//! candle-transformers' `qwen3_vl` text model uses 1-D RoPE and keeps its
//! cache private, so it can neither reproduce transformers' logits nor fork a
//! prefix; this file implements the same checkpoint layout with both.

use super::config::{Config, TextRope};
use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{embedding, linear_no_bias, rms_norm, Embedding, Linear, RmsNorm, VarBuilder};

type Result<T> = candle_core::Result<T>;

/// Keys and values of every layer for the tokens seen so far.
#[derive(Clone)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    pub len: usize,
}

struct Mlp {
    gate: Linear,
    up: Linear,
    down: Linear,
}

impl Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let g = self.gate.forward(x)?.silu()?;
        self.down.forward(&(g * self.up.forward(x)?)?)
    }
}

struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    q_norm: RmsNorm,
    k_norm: RmsNorm,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

fn rotate_half(x: &Tensor) -> Result<Tensor> {
    let half = x.dim(D::Minus1)? / 2;
    Tensor::cat(
        &[
            &x.narrow(D::Minus1, half, half)?.neg()?,
            &x.narrow(D::Minus1, 0, half)?,
        ],
        D::Minus1,
    )
}

impl Attention {
    /// `x`: (1, n, hidden); `cos`/`sin`: (n, head_dim); `mask`: (n, past + n).
    fn forward(
        &self,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: &Tensor,
        cache: &mut Option<(Tensor, Tensor)>,
    ) -> Result<Tensor> {
        let n = x.dim(1)?;
        let shape = |t: Tensor, h: usize| t.reshape((1, n, h, self.head_dim));
        let q = self
            .q_norm
            .forward(&shape(self.q.forward(x)?, self.heads)?)?;
        let k = self
            .k_norm
            .forward(&shape(self.k.forward(x)?, self.kv_heads)?)?;
        let v = shape(self.v.forward(x)?, self.kv_heads)?;
        let (q, k, v) = (q.transpose(1, 2)?, k.transpose(1, 2)?, v.transpose(1, 2)?);
        let cos = cos.unsqueeze(0)?.unsqueeze(0)?;
        let sin = sin.unsqueeze(0)?.unsqueeze(0)?;
        let q = (q.broadcast_mul(&cos)? + rotate_half(&q)?.broadcast_mul(&sin)?)?;
        let k = (k.broadcast_mul(&cos)? + rotate_half(&k)?.broadcast_mul(&sin)?)?;
        let (k, v) = match cache.take() {
            Some((pk, pv)) => (
                Tensor::cat(&[&pk, &k.contiguous()?], 2)?,
                Tensor::cat(&[&pv, &v.contiguous()?], 2)?,
            ),
            None => (k.contiguous()?, v.contiguous()?),
        };
        *cache = Some((k.clone(), v.clone()));
        let groups = self.heads / self.kv_heads;
        let k = candle_transformers::utils::repeat_kv(k, groups)?.contiguous()?;
        let v = candle_transformers::utils::repeat_kv(v, groups)?.contiguous()?;
        let scale = (self.head_dim as f64).powf(-0.5);
        let scores = (q.contiguous()?.matmul(&k.t()?)? * scale)?;
        let scores = scores.to_dtype(DType::F32)?.broadcast_add(mask)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?.to_dtype(v.dtype())?;
        let out = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((1, n, self.heads * self.head_dim))?;
        self.o.forward(&out)
    }
}

struct Layer {
    attn: Attention,
    mlp: Mlp,
    input_norm: RmsNorm,
    post_norm: RmsNorm,
}

pub struct TextModel {
    embed: Embedding,
    layers: Vec<Layer>,
    norm: RmsNorm,
    lm_head: Linear,
    inv_freq: Vec<f32>,
    rope: TextRope,
    pub hidden: usize,
    device: Device,
    dtype: DType,
}

/// Positions (t, h, w) of the tokens run in one call.
pub type Positions<'a> = [&'a [u32]; 3];

impl TextModel {
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let t = &cfg.text_config;
        let lm = vb.pp("model").pp("language_model");
        let embed = embedding(t.vocab_size, t.hidden_size, lm.pp("embed_tokens"))?;
        let head_dim = cfg.head_dim();
        let kv_heads = cfg.kv_heads();
        if t.attention_bias {
            candle_core::bail!("attention_bias is not supported");
        }
        let layers = (0..t.num_hidden_layers)
            .map(|i| {
                let l = lm.pp(format!("layers.{i}"));
                let a = l.pp("self_attn");
                let m = l.pp("mlp");
                Ok(Layer {
                    attn: Attention {
                        q: linear_no_bias(
                            t.hidden_size,
                            t.num_attention_heads * head_dim,
                            a.pp("q_proj"),
                        )?,
                        k: linear_no_bias(t.hidden_size, kv_heads * head_dim, a.pp("k_proj"))?,
                        v: linear_no_bias(t.hidden_size, kv_heads * head_dim, a.pp("v_proj"))?,
                        o: linear_no_bias(
                            t.num_attention_heads * head_dim,
                            t.hidden_size,
                            a.pp("o_proj"),
                        )?,
                        q_norm: rms_norm(head_dim, t.rms_norm_eps, a.pp("q_norm"))?,
                        k_norm: rms_norm(head_dim, t.rms_norm_eps, a.pp("k_norm"))?,
                        heads: t.num_attention_heads,
                        kv_heads,
                        head_dim,
                    },
                    mlp: Mlp {
                        gate: linear_no_bias(
                            t.hidden_size,
                            t.intermediate_size,
                            m.pp("gate_proj"),
                        )?,
                        up: linear_no_bias(t.hidden_size, t.intermediate_size, m.pp("up_proj"))?,
                        down: linear_no_bias(
                            t.intermediate_size,
                            t.hidden_size,
                            m.pp("down_proj"),
                        )?,
                    },
                    input_norm: rms_norm(t.hidden_size, t.rms_norm_eps, l.pp("input_layernorm"))?,
                    post_norm: rms_norm(
                        t.hidden_size,
                        t.rms_norm_eps,
                        l.pp("post_attention_layernorm"),
                    )?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let norm = rms_norm(t.hidden_size, t.rms_norm_eps, lm.pp("norm"))?;
        let lm_head = if cfg.tied_embeddings() {
            Linear::new(embed.embeddings().clone(), None)
        } else {
            linear_no_bias(t.hidden_size, t.vocab_size, vb.pp("lm_head"))?
        };
        let rope = cfg.rope().map_err(candle_core::Error::msg)?;
        let inv_freq = (0..head_dim)
            .step_by(2)
            .map(|i| 1.0 / (rope.theta as f32).powf(i as f32 / head_dim as f32))
            .collect();
        Ok(Self {
            embed,
            layers,
            norm,
            lm_head,
            inv_freq,
            rope,
            hidden: t.hidden_size,
            device: vb.device().clone(),
            dtype: vb.dtype(),
        })
    }

    pub fn empty_cache(&self) -> KvCache {
        KvCache {
            layers: vec![None; self.layers.len()],
            len: 0,
        }
    }

    pub fn embed(&self, ids: &[u32]) -> Result<Tensor> {
        let ids = Tensor::new(ids, &self.device)?;
        self.embed.forward(&ids)
    }

    /// cos/sin (n, head_dim) of interleaved M-RoPE: frequency i takes its
    /// position from the h axis when i % 3 == 1 (i < 3·section_h), from w when
    /// i % 3 == 2 (i < 3·section_w), else from t.
    fn rope(&self, pos: Positions) -> Result<(Tensor, Tensor)> {
        let n = pos[0].len();
        let half = self.inv_freq.len();
        let [_, sh, sw] = self.rope.mrope_section;
        let axis = |i: usize| -> usize {
            if i % 3 == 1 && i < 3 * sh {
                1
            } else if i % 3 == 2 && i < 3 * sw {
                2
            } else {
                0
            }
        };
        let mut cos = Vec::with_capacity(n * half * 2);
        let mut sin = Vec::with_capacity(n * half * 2);
        for j in 0..n {
            let freqs: Vec<f32> = (0..half)
                .map(|i| pos[axis(i)][j] as f32 * self.inv_freq[i])
                .collect();
            for _ in 0..2 {
                cos.extend(freqs.iter().map(|f| f.cos()));
                sin.extend(freqs.iter().map(|f| f.sin()));
            }
        }
        Ok((
            Tensor::from_vec(cos, (n, 2 * half), &self.device)?.to_dtype(self.dtype)?,
            Tensor::from_vec(sin, (n, 2 * half), &self.device)?.to_dtype(self.dtype)?,
        ))
    }

    /// Run `embeds` (1, n, hidden) after the cached tokens. `deepstack`: for
    /// the first layers, (token index within this call, features) to add after
    /// each layer. Returns the final-normed hidden state of the last token.
    pub fn forward(
        &self,
        embeds: Tensor,
        pos: Positions,
        deepstack: &[DeepstackLevel],
        cache: &mut KvCache,
    ) -> Result<Tensor> {
        let n = embeds.dim(1)?;
        let past = cache.len;
        let (cos, sin) = self.rope(pos)?;
        let mask: Vec<f32> = (0..n)
            .flat_map(|i| {
                (0..past + n).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 })
            })
            .collect();
        let mask = Tensor::from_vec(mask, (n, past + n), &self.device)?;
        let mut x = embeds;
        for (i, layer) in self.layers.iter().enumerate() {
            let a = layer.attn.forward(
                &layer.input_norm.forward(&x)?,
                &cos,
                &sin,
                &mask,
                &mut cache.layers[i],
            )?;
            x = (x + a)?;
            x = (&x + layer.mlp.forward(&layer.post_norm.forward(&x)?)?)?;
            if let Some(level) = deepstack.get(i) {
                x = level.add_to(&x)?;
            }
        }
        cache.len = past + n;
        self.norm.forward(&x.narrow(1, n - 1, 1)?)?.squeeze(0)
    }

    /// Logits (vocab,) in float32 from a final hidden state (1, hidden).
    pub fn logits(&self, hidden: &Tensor) -> Result<Vec<f32>> {
        self.lm_head
            .forward(hidden)?
            .to_dtype(DType::F32)?
            .squeeze(0)?
            .to_vec1::<f32>()
    }
}

/// Deepstack features of one level, scattered onto the vision positions.
pub struct DeepstackLevel {
    /// (n, hidden): zero except at vision positions.
    pub dense: Tensor,
}

impl DeepstackLevel {
    /// Place `rows` (one per vision position, in sequence order) at
    /// `positions` of an n-token call.
    pub fn new(rows: &Tensor, positions: &[usize], n: usize) -> Result<Self> {
        let hidden = rows.dim(1)?;
        let idx: Vec<u32> = positions.iter().map(|&p| p as u32).collect();
        let idx = Tensor::new(idx.as_slice(), rows.device())?
            .unsqueeze(1)?
            .repeat((1, hidden))?;
        let dense =
            Tensor::zeros((n, hidden), rows.dtype(), rows.device())?.scatter_add(&idx, rows, 0)?;
        Ok(Self { dense })
    }

    fn add_to(&self, x: &Tensor) -> Result<Tensor> {
        x.broadcast_add(&self.dense.unsqueeze(0)?)
    }
}
