//! `config.json` of a Qwen3-VL checkpoint, in both layouts the hub carries:
//! transformers 4.57 (`rope_theta` + `rope_scaling` in `text_config`) and 5.x
//! (`rope_parameters`). Only what the forward pass needs is read.

use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
pub struct Config {
    pub text_config: TextConfig,
    pub vision_config: VisionConfig,
    #[serde(default = "image_token")]
    pub image_token_id: u32,
    #[serde(default = "video_token")]
    pub video_token_id: u32,
    #[serde(default = "vision_start")]
    pub vision_start_token_id: u32,
    #[serde(default = "vision_end")]
    pub vision_end_token_id: u32,
    #[serde(default)]
    pub tie_word_embeddings: Option<bool>,
}

fn image_token() -> u32 {
    151655
}
fn video_token() -> u32 {
    151656
}
fn vision_start() -> u32 {
    151652
}
fn vision_end() -> u32 {
    151653
}

#[derive(Clone, Debug, Deserialize)]
pub struct RopeParameters {
    #[serde(default)]
    pub rope_type: Option<String>,
    #[serde(default)]
    pub rope_theta: Option<f64>,
    #[serde(default)]
    pub mrope_section: Option<Vec<usize>>,
    #[serde(default)]
    pub mrope_interleaved: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TextConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    #[serde(default)]
    pub head_dim: Option<usize>,
    #[serde(default = "rms_eps")]
    pub rms_norm_eps: f64,
    #[serde(default = "silu")]
    pub hidden_act: String,
    #[serde(default)]
    pub attention_bias: bool,
    #[serde(default)]
    pub tie_word_embeddings: Option<bool>,
    #[serde(default)]
    pub rope_parameters: Option<RopeParameters>,
    #[serde(default)]
    pub rope_scaling: Option<RopeParameters>,
    #[serde(default)]
    pub rope_theta: Option<f64>,
}

fn rms_eps() -> f64 {
    1e-6
}
fn silu() -> String {
    "silu".into()
}

#[derive(Clone, Debug, Deserialize)]
pub struct VisionConfig {
    pub depth: usize,
    pub hidden_size: usize,
    #[serde(default = "gelu_tanh")]
    pub hidden_act: String,
    pub intermediate_size: usize,
    pub num_heads: usize,
    #[serde(default = "three")]
    pub in_channels: usize,
    pub patch_size: usize,
    #[serde(default = "two")]
    pub spatial_merge_size: usize,
    #[serde(default = "two")]
    pub temporal_patch_size: usize,
    pub out_hidden_size: usize,
    pub num_position_embeddings: usize,
    #[serde(default)]
    pub deepstack_visual_indexes: Vec<usize>,
    #[serde(default)]
    pub rope_parameters: Option<RopeParameters>,
}

fn gelu_tanh() -> String {
    "gelu_pytorch_tanh".into()
}
fn three() -> usize {
    3
}
fn two() -> usize {
    2
}

/// The text model's rotary settings, resolved from either layout.
#[derive(Clone, Debug, PartialEq)]
pub struct TextRope {
    pub theta: f64,
    /// Frequencies (of head_dim / 2) given to the t, h and w axes.
    pub mrope_section: [usize; 3],
}

impl Config {
    pub fn parse(text: &str) -> Result<Self, String> {
        let cfg: Config = serde_json::from_str(text).map_err(|e| e.to_string())?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn tied_embeddings(&self) -> bool {
        self.text_config
            .tie_word_embeddings
            .or(self.tie_word_embeddings)
            .unwrap_or(false)
    }

    pub fn head_dim(&self) -> usize {
        let t = &self.text_config;
        t.head_dim.unwrap_or(t.hidden_size / t.num_attention_heads)
    }

    pub fn kv_heads(&self) -> usize {
        let t = &self.text_config;
        t.num_key_value_heads.unwrap_or(t.num_attention_heads)
    }

    pub fn rope(&self) -> Result<TextRope, String> {
        let t = &self.text_config;
        let params = t.rope_parameters.as_ref().or(t.rope_scaling.as_ref());
        let theta = params
            .and_then(|p| p.rope_theta)
            .or(t.rope_theta)
            .unwrap_or(500000.0);
        if let Some(kind) = params.and_then(|p| p.rope_type.as_deref()) {
            if kind != "default" && kind != "mrope" {
                return Err(format!("rope type {kind:?} is not supported"));
            }
        }
        if params.and_then(|p| p.mrope_interleaved) == Some(false) {
            return Err("only interleaved M-RoPE (Qwen3-VL) is supported".into());
        }
        let section = params
            .and_then(|p| p.mrope_section.clone())
            .unwrap_or_else(|| vec![24, 20, 20]);
        let [a, b, c] = section[..] else {
            return Err(format!("mrope_section {section:?} must have 3 entries"));
        };
        if a + b + c != self.head_dim() / 2 {
            return Err(format!(
                "mrope_section {section:?} must sum to head_dim / 2 = {}",
                self.head_dim() / 2
            ));
        }
        Ok(TextRope {
            theta,
            mrope_section: [a, b, c],
        })
    }

    pub fn vision_rope_theta(&self) -> f64 {
        self.vision_config
            .rope_parameters
            .as_ref()
            .and_then(|p| p.rope_theta)
            .unwrap_or(10000.0)
    }

    fn validate(&self) -> Result<(), String> {
        let t = &self.text_config;
        let v = &self.vision_config;
        if t.num_attention_heads == 0 || self.kv_heads() == 0 {
            return Err("text_config needs attention heads".into());
        }
        if t.num_attention_heads % self.kv_heads() != 0 {
            return Err("num_attention_heads must be a multiple of num_key_value_heads".into());
        }
        if t.hidden_act != "silu" {
            return Err(format!(
                "text hidden_act {:?} is not supported",
                t.hidden_act
            ));
        }
        if v.hidden_act != "gelu_pytorch_tanh" {
            return Err(format!(
                "vision hidden_act {:?} is not supported",
                v.hidden_act
            ));
        }
        if v.num_heads == 0 || v.hidden_size % v.num_heads != 0 {
            return Err("vision hidden_size must be a multiple of num_heads".into());
        }
        let side = (v.num_position_embeddings as f64).sqrt() as usize;
        if side * side != v.num_position_embeddings {
            return Err("vision num_position_embeddings must be a square".into());
        }
        if let Some(i) = v.deepstack_visual_indexes.iter().find(|&&i| i >= v.depth) {
            return Err(format!("deepstack index {i} is beyond the vision depth"));
        }
        if v.deepstack_visual_indexes.len() > t.num_hidden_layers {
            return Err("more deepstack levels than text layers".into());
        }
        self.rope().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Qwen/Qwen3-VL-2B-Instruct's config.json as published (4.57 layout).
    const HUB_2B: &str = r#"{
      "architectures": ["Qwen3VLForConditionalGeneration"],
      "image_token_id": 151655, "model_type": "qwen3_vl",
      "text_config": {"attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 151643,
        "dtype": "bfloat16", "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
        "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 6144,
        "max_position_embeddings": 262144, "model_type": "qwen3_vl_text", "num_attention_heads": 16,
        "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
        "rope_scaling": {"mrope_interleaved": true, "mrope_section": [24, 20, 20], "rope_type": "default"},
        "rope_theta": 5000000, "tie_word_embeddings": true, "use_cache": true, "vocab_size": 151936},
      "tie_word_embeddings": true, "video_token_id": 151656,
      "vision_config": {"deepstack_visual_indexes": [5, 11, 17], "depth": 24, "hidden_act": "gelu_pytorch_tanh",
        "hidden_size": 1024, "in_channels": 3, "initializer_range": 0.02, "intermediate_size": 4096,
        "model_type": "qwen3_vl", "num_heads": 16, "num_position_embeddings": 2304, "out_hidden_size": 2048,
        "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2},
      "vision_end_token_id": 151653, "vision_start_token_id": 151652
    }"#;

    #[test]
    fn hub_layout_parses() {
        let c = Config::parse(HUB_2B).unwrap();
        assert!(c.tied_embeddings());
        assert_eq!(c.kv_heads(), 8);
        assert_eq!(
            c.rope().unwrap(),
            TextRope {
                theta: 5_000_000.0,
                mrope_section: [24, 20, 20]
            }
        );
        assert_eq!(c.vision_rope_theta(), 10000.0);
    }

    #[test]
    fn a_bad_section_is_refused() {
        let bad = HUB_2B.replace("[24, 20, 20]", "[24, 20, 21]");
        assert!(Config::parse(&bad).unwrap_err().contains("mrope_section"));
    }
}
