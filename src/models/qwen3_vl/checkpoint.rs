//! The files of a Qwen3-VL checkpoint (local directory in Hugging Face layout
//! or hub id), single-file or sharded weights, and their sha256.

use crate::models::loader::{file_digest, locate, read_json};
use crate::models::ModelError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The files of a Qwen3-VL checkpoint and their sha256.
#[derive(Clone, Debug, Serialize)]
pub struct Checkpoint {
    pub spec: String,
    #[serde(skip)]
    pub config: PathBuf,
    #[serde(skip)]
    pub processor: PathBuf,
    #[serde(skip)]
    pub tokenizer: PathBuf,
    #[serde(skip)]
    pub weights: Vec<PathBuf>,
    pub digests: BTreeMap<String, String>,
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl Checkpoint {
    /// Find the files of `spec` (directory or hub id): config, tokenizer,
    /// processor settings (`processor_config.json` or
    /// `preprocessor_config.json`), and weights (one `model.safetensors` or
    /// the shards its index lists).
    pub fn resolve(spec: &str) -> Result<Self, ModelError> {
        let first_of = |names: &[&str]| -> Result<PathBuf, ModelError> {
            let mut last = None;
            for n in names {
                match locate(spec, n) {
                    Ok(p) => return Ok(p),
                    Err(e) => last = Some(e),
                }
            }
            Err(last.expect("at least one name"))
        };
        let config = locate(spec, "config.json")?;
        let tokenizer = locate(spec, "tokenizer.json")?;
        let processor = first_of(&["processor_config.json", "preprocessor_config.json"])?;
        let weights_or_index = first_of(&["model.safetensors", "model.safetensors.index.json"])?;
        let mut listed = vec![config.clone(), tokenizer.clone(), processor.clone()];
        let weights = if file_name(&weights_or_index).ends_with(".index.json") {
            #[derive(Deserialize)]
            struct Index {
                weight_map: BTreeMap<String, String>,
            }
            let index: Index = read_json(&weights_or_index)?;
            let mut shards: Vec<String> = index.weight_map.into_values().collect();
            shards.sort();
            shards.dedup();
            listed.push(weights_or_index.clone());
            shards
                .iter()
                .map(|s| locate(spec, s))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            vec![weights_or_index]
        };
        listed.extend(weights.iter().cloned());
        let mut digests = BTreeMap::new();
        for p in &listed {
            digests.insert(file_name(p), file_digest(p)?);
        }
        Ok(Self {
            spec: spec.to_string(),
            config,
            processor,
            tokenizer,
            weights,
            digests,
        })
    }
}
