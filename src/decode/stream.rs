//! Frame-by-frame decoding: one RGB frame in memory at a time.

use super::{DecodeError, Limits, VideoInfo};
use crate::frames::RgbFrame;
use std::path::PathBuf;
use video_rs::{Decoder, DecoderBuilder, Location};

/// One decoded frame in presentation order.
pub struct DecodedFrame {
    pub index: usize,
    pub rgb: RgbFrame,
}

/// Iterator over a clip's frames, enforcing the frame-count limit while it runs
/// and reporting truncation (fewer frames than declared) at the end.
pub struct FrameStream {
    decoder: Decoder,
    path: PathBuf,
    size: (usize, usize),
    next_index: usize,
    declared: Option<u64>,
    max_frames: u64,
    finished: bool,
    pub backend: &'static str,
}

impl FrameStream {
    pub fn open(info: &VideoInfo, limits: &Limits) -> Result<Self, DecodeError> {
        let path = info.path.clone();
        let (decoder, backend) = build_decoder(&path)?;
        Ok(Self {
            decoder,
            path,
            size: (info.width as usize, info.height as usize),
            next_index: 0,
            declared: info.declared_frames,
            max_frames: limits.max_frames,
            finished: false,
            backend,
        })
    }

    fn fail(&mut self, e: DecodeError) -> Option<Result<DecodedFrame, DecodeError>> {
        self.finished = true;
        Some(Err(e))
    }
}

#[cfg(feature = "cuda")]
fn build_decoder(path: &std::path::Path) -> Result<(Decoder, &'static str), DecodeError> {
    use video_rs::hwaccel::HardwareAccelerationDeviceType as Hw;
    if Hw::Cuda.is_available() {
        match DecoderBuilder::new(Location::File(path.to_path_buf()))
            .with_hardware_acceleration(Hw::Cuda)
            .build()
        {
            Ok(d) => return Ok((d, "cuda")),
            Err(e) => tracing::info!(
                "GPU decode unavailable for {}: {e}; using CPU",
                path.display()
            ),
        }
    }
    cpu_decoder(path).map(|d| (d, "cpu"))
}

#[cfg(not(feature = "cuda"))]
fn build_decoder(path: &std::path::Path) -> Result<(Decoder, &'static str), DecodeError> {
    cpu_decoder(path).map(|d| (d, "cpu"))
}

fn cpu_decoder(path: &std::path::Path) -> Result<Decoder, DecodeError> {
    DecoderBuilder::new(Location::File(path.to_path_buf()))
        .build()
        .map_err(|e| DecodeError::NotAVideo {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
}

impl Iterator for FrameStream {
    type Item = Result<DecodedFrame, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.decoder.decode() {
            Ok((_time, frame)) => {
                let index = self.next_index;
                if index as u64 >= self.max_frames {
                    let e = DecodeError::TooManyFrames {
                        path: self.path.clone(),
                        limit: self.max_frames,
                    };
                    return self.fail(e);
                }
                let (h, w, c) = frame.dim();
                if (w, h) != self.size || c != 3 {
                    let e = DecodeError::SizeChanged {
                        path: self.path.clone(),
                        frame: index,
                        expected: self.size,
                        found: (w, h),
                    };
                    return self.fail(e);
                }
                let data = match frame.as_slice() {
                    Some(s) => s.to_vec(),
                    None => frame.iter().copied().collect(),
                };
                self.next_index += 1;
                Some(Ok(DecodedFrame {
                    index,
                    rgb: RgbFrame::new(w, h, data),
                }))
            }
            Err(video_rs::Error::DecodeExhausted) | Err(video_rs::Error::ReadExhausted) => {
                self.finished = true;
                let decoded = self.next_index;
                match self.declared {
                    // Containers round their declared counts; a shortfall of more than
                    // one frame means the stream ended early.
                    Some(declared) if (decoded as u64) + 1 < declared => {
                        Some(Err(DecodeError::Truncated {
                            path: self.path.clone(),
                            decoded,
                            declared,
                        }))
                    }
                    _ => None,
                }
            }
            Err(e) => {
                let e = DecodeError::Corrupt {
                    path: self.path.clone(),
                    frame: self.next_index,
                    detail: e.to_string(),
                };
                self.fail(e)
            }
        }
    }
}
