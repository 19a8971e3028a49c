use serde::{Deserialize, Serialize};

/// Hard limits checked before (and while) decoding. Defaults suit Leoma's
/// 5 s, 832x480 clips with generous headroom.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_duration_seconds: f64,
    pub max_frames: u64,
    pub min_frames: usize,
    pub min_side: u32,
    pub max_width: u32,
    pub max_height: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 256 * 1024 * 1024,
            max_duration_seconds: 60.0,
            max_frames: 1200,
            min_frames: 2,
            min_side: 32,
            max_width: 3840,
            max_height: 2160,
        }
    }
}
