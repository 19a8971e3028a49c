//! A Leoma task directory: `metadata.json`, `first_frame.png`,
//! `generated_videos/{hotkey}.mp4` (hotkey with `/` and `\` replaced by `_`).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("{path}: not a task directory (missing or unreadable: {detail})")]
    Missing { path: PathBuf, detail: String },
    #[error("{path}: malformed metadata: {detail}")]
    Metadata { path: PathBuf, detail: String },
}

/// `metadata.prompt` is an object with `text` in current tasks, a plain string in old ones.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum PromptField {
    Object { text: String },
    Text(String),
}

#[derive(Debug, Deserialize)]
struct RawMetadata {
    task_id: serde_json::Value,
    prompt: PromptField,
    miners: Vec<String>,
    #[serde(default)]
    miner_latencies_ms: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug)]
pub struct Task {
    pub dir: PathBuf,
    pub task_id: u64,
    pub prompt: String,
    pub first_frame: PathBuf,
    /// (hotkey, path of its clip), in metadata order.
    pub miners: Vec<(String, PathBuf)>,
    pub latencies_ms: BTreeMap<String, u64>,
}

/// Leoma's `safe()` for object keys.
pub fn safe_hotkey(hotkey: &str) -> String {
    hotkey.replace(['/', '\\'], "_")
}

impl Task {
    pub fn load(dir: &Path) -> Result<Self, TaskError> {
        let meta_path = dir.join("metadata.json");
        let text = std::fs::read_to_string(&meta_path).map_err(|e| TaskError::Missing {
            path: meta_path.clone(),
            detail: e.to_string(),
        })?;
        let bad = |detail: String| TaskError::Metadata {
            path: meta_path.clone(),
            detail,
        };
        let raw: RawMetadata = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let task_id = match &raw.task_id {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| {
            bad(format!(
                "task_id must be a non-negative integer, found {}",
                raw.task_id
            ))
        })?;
        let prompt = match raw.prompt {
            PromptField::Object { text } | PromptField::Text(text) => text.trim().to_string(),
        };
        if prompt.is_empty() {
            return Err(bad("prompt text is empty".into()));
        }
        if raw.miners.is_empty() {
            return Err(bad("miners list is empty".into()));
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &raw.miners {
            if m.trim().is_empty() || m.len() > 256 || m.chars().any(char::is_control) {
                return Err(bad(format!("invalid miner hotkey {m:?}")));
            }
            if !seen.insert(m.as_str()) {
                return Err(bad(format!("miner {m} is listed twice")));
            }
        }
        let first_frame = dir.join("first_frame.png");
        if !first_frame.is_file() {
            return Err(TaskError::Missing {
                path: first_frame,
                detail: "first_frame.png not found".into(),
            });
        }
        let miners = raw
            .miners
            .iter()
            .map(|h| {
                (
                    h.clone(),
                    dir.join("generated_videos")
                        .join(format!("{}.mp4", safe_hotkey(h))),
                )
            })
            .collect();
        let latencies_ms = raw
            .miner_latencies_ms
            .iter()
            .filter_map(|(k, v)| v.as_u64().map(|n| (k.clone(), n)))
            .collect();
        Ok(Self {
            dir: dir.to_path_buf(),
            task_id,
            prompt,
            first_frame,
            miners,
            latencies_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_task(meta: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("metadata.json"), meta).unwrap();
        std::fs::write(d.path().join("first_frame.png"), b"png").unwrap();
        d
    }

    #[test]
    fn loads_object_and_string_prompts() {
        let d = write_task(r#"{"task_id": 7, "prompt": {"text": " a bird "}, "miners": ["5F/x"]}"#);
        let t = Task::load(d.path()).unwrap();
        assert_eq!((t.task_id, t.prompt.as_str()), (7, "a bird"));
        assert!(t.miners[0].1.ends_with("generated_videos/5F_x.mp4"));
        let d = write_task(r#"{"task_id": "8", "prompt": "old style", "miners": ["a"]}"#);
        assert_eq!(Task::load(d.path()).unwrap().prompt, "old style");
    }

    #[test]
    fn rejects_malformed_metadata_with_the_reason() {
        for (meta, want) in [
            ("{", "malformed metadata"),
            (r#"{"task_id": 1, "miners": ["a"]}"#, "prompt"),
            (
                r#"{"task_id": -1, "prompt": "p", "miners": ["a"]}"#,
                "task_id",
            ),
            (
                r#"{"task_id": 1, "prompt": "p", "miners": []}"#,
                "miners list is empty",
            ),
            (
                r#"{"task_id": 1, "prompt": "p", "miners": ["a", "a"]}"#,
                "listed twice",
            ),
            (
                r#"{"task_id": 1, "prompt": "  ", "miners": ["a"]}"#,
                "empty",
            ),
        ] {
            let d = write_task(meta);
            let e = Task::load(d.path()).unwrap_err().to_string();
            assert!(e.contains(want), "{meta}: {e}");
        }
    }
}
