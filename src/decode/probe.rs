//! Container and stream facts, read before any frame is decoded.

use super::{init_ffmpeg, DecodeError, Limits};
use serde::Serialize;
use std::path::{Path, PathBuf};
use video_rs::ffmpeg;

/// What the container says about a clip.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VideoInfo {
    #[serde(skip)]
    pub path: PathBuf,
    pub container: String,
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// Average frame rate from the container (frames per second).
    pub fps: f64,
    pub duration_seconds: Option<f64>,
    /// Frame count declared by the container, when it declares one.
    pub declared_frames: Option<u64>,
    pub file_bytes: u64,
    pub has_audio: bool,
}

const STILL_IMAGE_CODECS: &[&str] = &[
    "png", "mjpeg", "bmp", "gif", "webp", "tiff", "jpeg2000", "ppm", "pgm", "pam", "qoi",
];

/// Open `path`, read its headers and check them against `limits`.
pub fn probe(path: &Path, limits: &Limits) -> Result<VideoInfo, DecodeError> {
    init_ffmpeg();
    let p = || path.to_path_buf();
    let meta = std::fs::metadata(path).map_err(|source| DecodeError::Io { path: p(), source })?;
    if !meta.is_file() {
        return Err(DecodeError::NotAVideo {
            path: p(),
            detail: "not a regular file".into(),
        });
    }
    let file_bytes = meta.len();
    if file_bytes == 0 {
        return Err(DecodeError::Empty { path: p() });
    }
    if file_bytes > limits.max_file_bytes {
        return Err(DecodeError::FileTooLarge {
            path: p(),
            bytes: file_bytes,
            limit: limits.max_file_bytes,
        });
    }

    let input = ffmpeg::format::input(&path).map_err(|e| DecodeError::NotAVideo {
        path: p(),
        detail: e.to_string(),
    })?;
    let container = input.format().name().to_string();
    let mut kinds = Vec::new();
    let mut has_audio = false;
    for s in input.streams() {
        let kind = s.parameters().medium();
        has_audio |= kind == ffmpeg::media::Type::Audio;
        kinds.push(format!("{kind:?}").to_lowercase());
    }
    let stream = input
        .streams()
        .best(ffmpeg::media::Type::Video)
        .ok_or_else(|| DecodeError::NoVideoStream {
            path: p(),
            streams: if kinds.is_empty() {
                "none".into()
            } else {
                kinds.join(", ")
            },
        })?;
    let params = stream.parameters();
    let codec = params.id().name().to_string();
    // SAFETY: `params` wraps a valid AVCodecParameters owned by `input`, alive here.
    let (width, height) = unsafe {
        let raw = params.as_ptr();
        ((*raw).width.max(0) as u32, (*raw).height.max(0) as u32)
    };
    if STILL_IMAGE_CODECS.contains(&codec.as_str())
        && (container.contains("pipe") || container.starts_with("image2") || stream.frames() <= 1)
    {
        return Err(DecodeError::StillImage {
            path: p(),
            codec,
            container,
        });
    }
    if width < limits.min_side
        || height < limits.min_side
        || width > limits.max_width
        || height > limits.max_height
    {
        return Err(DecodeError::BadDimensions {
            path: p(),
            width,
            height,
            min: limits.min_side,
            max_w: limits.max_width,
            max_h: limits.max_height,
        });
    }

    let rate = stream.avg_frame_rate();
    let rate = if rate.denominator() > 0 && rate.numerator() > 0 {
        rate
    } else {
        stream.rate()
    };
    let fps = if rate.denominator() > 0 {
        rate.numerator() as f64 / rate.denominator() as f64
    } else {
        0.0
    };

    let tb = stream.time_base();
    let stream_duration = (stream.duration() > 0 && tb.denominator() > 0)
        .then(|| stream.duration() as f64 * tb.numerator() as f64 / tb.denominator() as f64);
    let container_duration =
        (input.duration() > 0).then(|| input.duration() as f64 / ffmpeg::ffi::AV_TIME_BASE as f64);
    let duration_seconds = stream_duration.or(container_duration);
    if let Some(seconds) = duration_seconds {
        if seconds > limits.max_duration_seconds {
            return Err(DecodeError::TooLong {
                path: p(),
                seconds,
                limit: limits.max_duration_seconds,
            });
        }
    }
    let declared_frames = (stream.frames() > 0).then_some(stream.frames() as u64);
    if let Some(n) = declared_frames {
        if n > limits.max_frames {
            return Err(DecodeError::TooManyFrames {
                path: p(),
                limit: limits.max_frames,
            });
        }
    }
    Ok(VideoInfo {
        path: p(),
        container,
        codec,
        width,
        height,
        fps,
        duration_seconds,
        declared_frames,
        file_bytes,
        has_audio,
    })
}
