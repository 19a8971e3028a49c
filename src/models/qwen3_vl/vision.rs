//! The Qwen3-VL vision tower (`model.visual.*`, transformers'
//! `Qwen3VLVisionModel`): Conv3d patch embedding, the learned 2-D position
//! table resampled bilinearly (align_corners) to each grid, 2-D axial rotary
//! attention within each temporal patch, the patch merger, and the deepstack
//! mergers whose outputs are added to the first text layers.

use super::config::VisionConfig;
use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{layer_norm, linear, LayerNorm, LayerNormConfig, Linear, VarBuilder};

type Result<T> = candle_core::Result<T>;

/// What the tower gives the text model for one image or clip.
pub struct VisionOutput {
    /// (tokens, out_hidden): merged tokens in placeholder order.
    pub embeds: Tensor,
    /// One (tokens, out_hidden) tensor per deepstack level.
    pub deepstack: Vec<Tensor>,
}

struct Mlp {
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    fn new(cfg: &VisionConfig, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            fc1: linear(cfg.hidden_size, cfg.intermediate_size, vb.pp("linear_fc1"))?,
            fc2: linear(cfg.intermediate_size, cfg.hidden_size, vb.pp("linear_fc2"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc2.forward(&self.fc1.forward(x)?.gelu()?) // gelu_pytorch_tanh
    }
}

fn rotate_half(x: &Tensor) -> Result<Tensor> {
    let half = x.dim(D::Minus1)? / 2;
    let x1 = x.narrow(D::Minus1, 0, half)?;
    let x2 = x.narrow(D::Minus1, half, half)?;
    Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)
}

/// q * cos + rotate_half(q) * sin in float32; `x` is (seq, heads, head_dim),
/// `cos`/`sin` are (seq, head_dim).
pub(super) fn apply_rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let dtype = x.dtype();
    let x = x.to_dtype(DType::F32)?;
    let cos = cos.unsqueeze(D::Minus2)?;
    let sin = sin.unsqueeze(D::Minus2)?;
    (x.broadcast_mul(&cos)? + rotate_half(&x)?.broadcast_mul(&sin)?)?.to_dtype(dtype)
}

struct Attention {
    qkv: Linear,
    proj: Linear,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    fn new(cfg: &VisionConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.hidden_size;
        Ok(Self {
            qkv: linear(d, 3 * d, vb.pp("qkv"))?,
            proj: linear(d, d, vb.pp("proj"))?,
            heads: cfg.num_heads,
            head_dim: d / cfg.num_heads,
        })
    }

    fn forward(
        &self,
        x: &Tensor,
        cu_seqlens: &[usize],
        cos: &Tensor,
        sin: &Tensor,
    ) -> Result<Tensor> {
        let n = x.dim(0)?;
        let qkv = self
            .qkv
            .forward(x)?
            .reshape((n, 3, self.heads, self.head_dim))?;
        let q = apply_rope(&qkv.narrow(1, 0, 1)?.squeeze(1)?, cos, sin)?;
        let k = apply_rope(&qkv.narrow(1, 1, 1)?.squeeze(1)?, cos, sin)?;
        let v = qkv.narrow(1, 2, 1)?.squeeze(1)?;
        let scale = (self.head_dim as f64).powf(-0.5);
        let mut outs = Vec::with_capacity(cu_seqlens.len());
        for w in cu_seqlens.windows(2) {
            let (start, len) = (w[0], w[1] - w[0]);
            // (heads, len, head_dim)
            let q = q.narrow(0, start, len)?.transpose(0, 1)?.contiguous()?;
            let k = k.narrow(0, start, len)?.transpose(0, 1)?.contiguous()?;
            let v = v.narrow(0, start, len)?.transpose(0, 1)?.contiguous()?;
            let scores = (q.matmul(&k.t()?)? * scale)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores.to_dtype(DType::F32)?)?
                .to_dtype(q.dtype())?;
            outs.push(probs.matmul(&v)?.transpose(0, 1)?);
        }
        let out = Tensor::cat(&outs, 0)?.reshape((n, self.heads * self.head_dim))?;
        self.proj.forward(&out)
    }
}

struct Block {
    norm1: LayerNorm,
    norm2: LayerNorm,
    attn: Attention,
    mlp: Mlp,
}

fn ln(dim: usize, vb: VarBuilder) -> Result<LayerNorm> {
    layer_norm(
        dim,
        LayerNormConfig {
            eps: 1e-6,
            ..Default::default()
        },
        vb,
    )
}

impl Block {
    fn new(cfg: &VisionConfig, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            norm1: ln(cfg.hidden_size, vb.pp("norm1"))?,
            norm2: ln(cfg.hidden_size, vb.pp("norm2"))?,
            attn: Attention::new(cfg, vb.pp("attn"))?,
            mlp: Mlp::new(cfg, vb.pp("mlp"))?,
        })
    }

    fn forward(&self, x: &Tensor, cu: &[usize], cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        let x = (x + self.attn.forward(&self.norm1.forward(x)?, cu, cos, sin)?)?;
        &x + self.mlp.forward(&self.norm2.forward(&x)?)?
    }
}

struct Merger {
    norm: LayerNorm,
    postshuffle: bool,
    merged: usize,
    fc1: Linear,
    fc2: Linear,
}

impl Merger {
    fn new(cfg: &VisionConfig, postshuffle: bool, vb: VarBuilder) -> Result<Self> {
        let merged = cfg.hidden_size * cfg.spatial_merge_size * cfg.spatial_merge_size;
        Ok(Self {
            norm: ln(
                if postshuffle { merged } else { cfg.hidden_size },
                vb.pp("norm"),
            )?,
            postshuffle,
            merged,
            fc1: linear(merged, merged, vb.pp("linear_fc1"))?,
            fc2: linear(merged, cfg.out_hidden_size, vb.pp("linear_fc2"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let n = x.dim(0)? * x.dim(1)? / self.merged;
        let x = if self.postshuffle {
            self.norm.forward(&x.reshape((n, self.merged))?)?
        } else {
            self.norm.forward(x)?.reshape((n, self.merged))?
        };
        self.fc2.forward(&self.fc1.forward(&x)?.gelu_erf()?)
    }
}

pub struct VisionTower {
    patch_w: Tensor,
    patch_b: Tensor,
    /// The learned position table on the CPU (side*side, hidden), for resampling.
    pos_table: Vec<f32>,
    side: usize,
    blocks: Vec<Block>,
    merger: Merger,
    deepstack: Vec<(usize, Merger)>,
    inv_freq: Vec<f32>,
    cfg: VisionConfig,
    device: Device,
    dtype: DType,
}

impl VisionTower {
    pub fn new(cfg: &VisionConfig, rope_theta: f64, vb: VarBuilder) -> Result<Self> {
        let row = cfg.in_channels * cfg.temporal_patch_size * cfg.patch_size * cfg.patch_size;
        let patch_w = vb
            .get(
                (
                    cfg.hidden_size,
                    cfg.in_channels,
                    cfg.temporal_patch_size,
                    cfg.patch_size,
                    cfg.patch_size,
                ),
                "patch_embed.proj.weight",
            )?
            .reshape((cfg.hidden_size, row))?;
        let patch_b = vb.get(cfg.hidden_size, "patch_embed.proj.bias")?;
        let pos = vb.get(
            (cfg.num_position_embeddings, cfg.hidden_size),
            "pos_embed.weight",
        )?;
        let pos_table = pos.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        let side = (cfg.num_position_embeddings as f64).sqrt() as usize;
        let blocks = (0..cfg.depth)
            .map(|i| Block::new(cfg, vb.pp(format!("blocks.{i}"))))
            .collect::<Result<Vec<_>>>()?;
        let deepstack = cfg
            .deepstack_visual_indexes
            .iter()
            .enumerate()
            .map(|(i, &layer)| {
                Ok((
                    layer,
                    Merger::new(cfg, true, vb.pp(format!("deepstack_merger_list.{i}")))?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        // axial rope: head_dim / 2 per axis, frequencies over that half
        let spatial = cfg.hidden_size / cfg.num_heads / 2;
        let inv_freq = (0..spatial)
            .step_by(2)
            .map(|i| 1.0 / (rope_theta as f32).powf(i as f32 / spatial as f32))
            .collect();
        Ok(Self {
            patch_w,
            patch_b,
            pos_table,
            side,
            blocks,
            merger: Merger::new(cfg, false, vb.pp("merger"))?,
            deepstack,
            inv_freq,
            cfg: cfg.clone(),
            device: vb.device().clone(),
            dtype: vb.dtype(),
        })
    }

    /// (row, col) of each patch in the processor's order: merge blocks, then
    /// the patches inside a block, repeated for every temporal patch.
    fn patch_coords(&self, grid: [usize; 3]) -> Vec<(usize, usize)> {
        let m = self.cfg.spatial_merge_size;
        let [t, h, w] = grid;
        let mut one = Vec::with_capacity(h * w);
        for bh in 0..h / m {
            for bw in 0..w / m {
                for ih in 0..m {
                    for iw in 0..m {
                        one.push((bh * m + ih, bw * m + iw));
                    }
                }
            }
        }
        one.iter().copied().cycle().take(t * h * w).collect()
    }

    /// Bilinear (align_corners) resampling of the position table to an h x w
    /// grid, as transformers' `get_vision_interpolation_indices_and_weights`.
    fn positions(&self, grid: [usize; 3], coords: &[(usize, usize)]) -> Result<Tensor> {
        let side = self.side;
        let hidden = self.cfg.hidden_size;
        let taps = |index: usize, size: usize| -> ([usize; 2], [f32; 2]) {
            let src = index as f32 * (side - 1) as f32 / (size.max(2) - 1) as f32;
            let floor = src.floor();
            let d = src - floor;
            let f = floor as usize;
            (
                [f.min(side - 1), (f + 1).min(side - 1)],
                [1.0 - d, 1.0 - (d - 1.0).abs()],
            )
        };
        let mut out = vec![0f32; coords.len() * hidden];
        for (n, &(r, c)) in coords.iter().enumerate() {
            let (hi, hw) = taps(r, grid[1]);
            let (wi, ww) = taps(c, grid[2]);
            let row = &mut out[n * hidden..(n + 1) * hidden];
            let mut first = true;
            for a in 0..2 {
                for b in 0..2 {
                    let weight = hw[a].max(0.0) * ww[b].max(0.0);
                    let base = (hi[a] * side + wi[b]) * hidden;
                    let src = &self.pos_table[base..base + hidden];
                    for (o, s) in row.iter_mut().zip(src) {
                        let v = s * weight;
                        *o = if first { v } else { *o + v };
                    }
                    first = false;
                }
            }
        }
        Tensor::from_vec(out, (coords.len(), hidden), &self.device)?.to_dtype(self.dtype)
    }

    /// cos and sin (tokens, head_dim) of the 2-D axial rotary embedding.
    fn rope(&self, coords: &[(usize, usize)]) -> Result<(Tensor, Tensor)> {
        let q = self.inv_freq.len();
        let head_dim = 4 * q;
        let mut cos = Vec::with_capacity(coords.len() * head_dim);
        let mut sin = Vec::with_capacity(coords.len() * head_dim);
        for &(r, c) in coords {
            let freqs: Vec<f32> = self
                .inv_freq
                .iter()
                .map(|f| r as f32 * f)
                .chain(self.inv_freq.iter().map(|f| c as f32 * f))
                .collect();
            for _ in 0..2 {
                cos.extend(freqs.iter().map(|v| v.cos()));
                sin.extend(freqs.iter().map(|v| v.sin()));
            }
        }
        let shape = (coords.len(), head_dim);
        Ok((
            Tensor::from_vec(cos, shape, &self.device)?,
            Tensor::from_vec(sin, shape, &self.device)?,
        ))
    }

    /// Encode one image or clip: `pixels` are the processor's rows for `grid`.
    pub fn forward(&self, pixels: &[f32], grid: [usize; 3]) -> Result<VisionOutput> {
        let rows: usize = grid.iter().product();
        let row_len = self.patch_w.dim(1)?;
        if pixels.len() != rows * row_len {
            candle_core::bail!(
                "{} pixel values do not fill a {grid:?} grid of {row_len}-value patches",
                pixels.len()
            );
        }
        let m = self.cfg.spatial_merge_size;
        if grid[1] % m != 0 || grid[2] % m != 0 {
            candle_core::bail!("grid {grid:?} is not a multiple of the merge size {m}");
        }
        let x = Tensor::from_slice(pixels, (rows, row_len), &self.device)?.to_dtype(self.dtype)?;
        let x = x.matmul(&self.patch_w.t()?)?.broadcast_add(&self.patch_b)?;
        let coords = self.patch_coords(grid);
        let mut x = (x + self.positions(grid, &coords)?)?;
        let (cos, sin) = self.rope(&coords)?;
        let cu: Vec<usize> = (0..=grid[0]).map(|t| t * grid[1] * grid[2]).collect();
        let mut deepstack = Vec::with_capacity(self.deepstack.len());
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward(&x, &cu, &cos, &sin)?;
            for (layer, merger) in &self.deepstack {
                if *layer == i {
                    deepstack.push(merger.forward(&x)?);
                }
            }
        }
        Ok(VisionOutput {
            embeds: self.merger.forward(&x)?,
            deepstack,
        })
    }
}
