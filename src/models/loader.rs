//! Finding a checkpoint's files: a local directory in Hugging Face layout, or a
//! hub id (`org/name` or `org/name@revision`) through `hf-hub` and its cache
//! (`HF_HOME`, default `~/.cache/huggingface`; with `HF_HUB_OFFLINE=1` only the
//! cache is read). Every file used is hashed; the digests go into verdicts.

use super::ModelError;
use crate::verdict::calibration::sha256_hex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The files of one checkpoint and their sha256.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelFiles {
    /// What the user named: a directory or a hub id.
    pub spec: String,
    #[serde(skip)]
    pub config: PathBuf,
    #[serde(skip)]
    pub weights: PathBuf,
    #[serde(skip)]
    pub preprocessor: PathBuf,
    #[serde(skip)]
    pub tokenizer: Option<PathBuf>,
    pub digests: BTreeMap<String, String>,
}

pub const CONFIG: &str = "config.json";
pub const WEIGHTS: &str = "model.safetensors";
pub const PREPROCESSOR: &str = "preprocessor_config.json";
pub const TOKENIZER: &str = "tokenizer.json";

fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "yes" | "ON" | "on"))
}

fn split_revision(spec: &str) -> (String, String) {
    match spec.split_once('@') {
        Some((id, rev)) if !rev.is_empty() => (id.to_string(), rev.to_string()),
        _ => (spec.trim_end_matches('@').to_string(), "main".to_string()),
    }
}

/// Where a hub file lives in (or is fetched into) the cache.
fn hub_file(id: &str, revision: &str, file: &str) -> Result<PathBuf, ModelError> {
    let repo = hf_hub::Repo::with_revision(
        id.to_string(),
        hf_hub::RepoType::Model,
        revision.to_string(),
    );
    if let Some(p) = hf_hub::Cache::from_env().repo(repo.clone()).get(file) {
        return Ok(p);
    }
    if offline() {
        return Err(ModelError::Hub {
            id: id.to_string(),
            detail: format!(
                "{file} is not in the hub cache ({}) and HF_HUB_OFFLINE is set",
                hf_hub::Cache::from_env().path().display()
            ),
        });
    }
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(false)
        .build()
        .map_err(|e| ModelError::Hub {
            id: id.to_string(),
            detail: e.to_string(),
        })?;
    api.repo(repo).get(file).map_err(|e| ModelError::Hub {
        id: id.to_string(),
        detail: format!("cannot fetch {file}: {e}"),
    })
}

/// Where one file of checkpoint `spec` (directory or hub id) is.
pub fn locate(spec: &str, file: &str) -> Result<PathBuf, ModelError> {
    let local = Path::new(spec);
    if local.is_dir() {
        let p = local.join(file);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(ModelError::MissingFile {
                path: p,
                what: format!("{file} is required in a model directory"),
            })
        };
    }
    if local.components().count() > 2 || spec.starts_with('.') || spec.starts_with('/') {
        return Err(ModelError::MissingFile {
            path: local.to_path_buf(),
            what: "no such model directory".into(),
        });
    }
    let (id, rev) = split_revision(spec);
    hub_file(&id, &rev, file)
}

/// sha256 of a file, named in errors.
pub fn file_digest(p: &Path) -> Result<String, ModelError> {
    let bytes = std::fs::read(p).map_err(|e| ModelError::BadFile {
        path: p.to_path_buf(),
        detail: e.to_string(),
    })?;
    Ok(sha256_hex(&bytes))
}

/// Resolve `spec` (directory or hub id) to the checkpoint's files.
pub fn resolve(spec: &str, needs_tokenizer: bool) -> Result<ModelFiles, ModelError> {
    let get = |file: &str| locate(spec, file);
    let config = get(CONFIG)?;
    let weights = get(WEIGHTS)?;
    let preprocessor = get(PREPROCESSOR)?;
    let tokenizer = if needs_tokenizer {
        Some(get(TOKENIZER)?)
    } else {
        None
    };
    let mut digests = BTreeMap::new();
    for p in [
        Some(&config),
        Some(&weights),
        Some(&preprocessor),
        tokenizer.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        digests.insert(name, file_digest(p)?);
    }
    Ok(ModelFiles {
        spec: spec.to_string(),
        config,
        weights,
        preprocessor,
        tokenizer,
        digests,
    })
}

/// Read and parse a JSON file, naming it in errors.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::BadFile {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| ModelError::BadFile {
        path: path.to_path_buf(),
        detail: format!("invalid JSON: {e}"),
    })
}

/// Hub models present in the cache: (id, snapshot revisions).
pub fn cached_models() -> Vec<(String, Vec<String>)> {
    let root = hf_hub::Cache::from_env().path().clone();
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&root) else {
        return out;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let Some(id) = name.strip_prefix("models--") else {
            continue;
        };
        let mut revs: Vec<String> = std::fs::read_dir(root.join(&name).join("snapshots"))
            .map(|it| {
                it.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        revs.sort();
        out.push((id.replace("--", "/"), revs));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_suffix_is_split() {
        assert_eq!(
            split_revision("openai/clip-vit-base-patch32"),
            ("openai/clip-vit-base-patch32".into(), "main".into())
        );
        assert_eq!(
            split_revision("org/m@abc123"),
            ("org/m".into(), "abc123".into())
        );
    }

    #[test]
    fn missing_files_in_a_local_dir_are_named() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(CONFIG), "{}").unwrap();
        let e = resolve(d.path().to_str().unwrap(), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("model.safetensors"), "{e}");
    }
}
