//! Decoding miner clips: probe and enforce limits first, then stream RGB frames.

mod limits;
mod probe;
mod stream;

pub use limits::Limits;
pub use probe::{probe, VideoInfo};
pub use stream::{DecodedFrame, FrameStream};

use std::path::PathBuf;

/// Everything that can make a clip unusable. Each variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{path}: cannot read file: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: file is empty (0 bytes)")]
    Empty { path: PathBuf },
    #[error("{path}: file is {bytes} bytes, over the limit of {limit} bytes")]
    FileTooLarge {
        path: PathBuf,
        bytes: u64,
        limit: u64,
    },
    #[error("{path}: not a readable video container ({detail})")]
    NotAVideo { path: PathBuf, detail: String },
    #[error("{path}: no video stream (streams: {streams})")]
    NoVideoStream { path: PathBuf, streams: String },
    #[error("{path}: a still image ({codec} in {container}), not a video")]
    StillImage {
        path: PathBuf,
        codec: String,
        container: String,
    },
    #[error("{path}: frame size {width}x{height} is outside the accepted range {min}x{min} to {max_w}x{max_h}")]
    BadDimensions {
        path: PathBuf,
        width: u32,
        height: u32,
        min: u32,
        max_w: u32,
        max_h: u32,
    },
    #[error("{path}: duration {seconds:.1} s is over the limit of {limit:.1} s")]
    TooLong {
        path: PathBuf,
        seconds: f64,
        limit: f64,
    },
    #[error("{path}: more than {limit} frames")]
    TooManyFrames { path: PathBuf, limit: u64 },
    #[error("{path}: only {frames} decodable frame(s); at least {min} are needed")]
    TooFewFrames {
        path: PathBuf,
        frames: usize,
        min: usize,
    },
    #[error(
        "{path}: stream is truncated or corrupt: decoded {decoded} of {declared} declared frames"
    )]
    Truncated {
        path: PathBuf,
        decoded: usize,
        declared: u64,
    },
    #[error("{path}: decoding failed at frame {frame}: {detail}")]
    Corrupt {
        path: PathBuf,
        frame: usize,
        detail: String,
    },
    #[error("{path}: frame {frame} changed size from {expected:?} to {found:?}")]
    SizeChanged {
        path: PathBuf,
        frame: usize,
        expected: (usize, usize),
        found: (usize, usize),
    },
}

pub(crate) fn init_ffmpeg() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        if let Err(e) = video_rs::init() {
            tracing::warn!("ffmpeg initialisation reported: {e}");
        }
    });
}
