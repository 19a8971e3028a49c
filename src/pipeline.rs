//! One clip through every stage: probe -> decode -> features -> metrics -> verdict.

use crate::decode::{probe, DecodeError, FrameStream, Limits, VideoInfo};
use crate::features::FeatureBuilder;
use crate::flow::FlowEngine;
use crate::frames::{align::align_condition, Plane, RgbFrame};
use crate::metrics::{niqe::NiqeModel, Registry};
use crate::models::ModelSet;
use crate::verdict::calibration::{sha256_hex, Calibration};
use crate::verdict::{self, Check, EvaluatorInfo, InputInfo, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Largest conditioning image accepted (guards against decompression bombs).
pub const MAX_IMAGE_SIDE: u32 = 8192;

/// A clip or image that cannot be judged; the CLI maps it to exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("{path}: cannot read image: {detail}")]
    Image { path: String, detail: String },
}

impl InputError {
    pub fn kind(&self) -> &'static str {
        match self {
            InputError::Decode(DecodeError::Io { .. }) => "io",
            InputError::Decode(DecodeError::Empty { .. }) => "empty_file",
            InputError::Decode(DecodeError::FileTooLarge { .. }) => "file_too_large",
            InputError::Decode(DecodeError::NotAVideo { .. }) => "not_a_video",
            InputError::Decode(DecodeError::NoVideoStream { .. }) => "no_video_stream",
            InputError::Decode(DecodeError::StillImage { .. }) => "still_image",
            InputError::Decode(DecodeError::BadDimensions { .. }) => "bad_dimensions",
            InputError::Decode(DecodeError::TooLong { .. }) => "too_long",
            InputError::Decode(DecodeError::TooManyFrames { .. }) => "too_many_frames",
            InputError::Decode(DecodeError::TooFewFrames { .. }) => "too_few_frames",
            InputError::Decode(DecodeError::Truncated { .. }) => "truncated",
            InputError::Decode(DecodeError::Corrupt { .. }) => "corrupt",
            InputError::Decode(DecodeError::SizeChanged { .. }) => "size_changed",
            InputError::Image { .. } => "bad_image",
        }
    }
}

/// Load an image file (the conditioning first frame) as RGB.
pub fn load_image(path: &Path) -> Result<RgbFrame, InputError> {
    let img = decode_image(path)?;
    Ok(RgbFrame::from_image(&img.to_rgb8()))
}

/// Load an image file as BT.601 luma (gray images exactly as stored).
pub fn load_luma(path: &Path) -> Result<Plane, InputError> {
    Ok(match decode_image(path)? {
        image::DynamicImage::ImageLuma8(g) => Plane::new(
            g.width() as usize,
            g.height() as usize,
            g.as_raw().iter().map(|&v| v as f32).collect(),
        ),
        img => RgbFrame::from_image(&img.to_rgb8()).luma(),
    })
}

fn decode_image(path: &Path) -> Result<image::DynamicImage, InputError> {
    let err = |detail: String| InputError::Image {
        path: path.display().to_string(),
        detail,
    };
    let mut reader = image::ImageReader::open(path).map_err(|e| err(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    reader.limits(limits);
    let img = reader
        .with_guessed_format()
        .map_err(|e| err(e.to_string()))?
        .decode()
        .map_err(|e| err(e.to_string()))?;
    if img.width() < 16 || img.height() < 16 {
        return Err(err(format!(
            "{}x{} is too small (at least 16x16)",
            img.width(),
            img.height()
        )));
    }
    Ok(img)
}

/// Effective configuration; its digest goes into every verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Config {
    pub calibration: Calibration,
    pub limits: Limits,
}

/// Shared, read-only state for judging clips: built once per process.
pub struct Evaluator {
    pub config: Config,
    registry: Registry,
    flow: Box<dyn FlowEngine>,
    calibration_sha256: String,
    config_digest: String,
    model_digests: BTreeMap<String, String>,
    /// Whether a VLM is registered (its frames must be kept).
    vlm: bool,
}

impl Evaluator {
    /// No models; optical flow on the best engine available.
    pub fn new(calibration: Calibration, calibration_text: &str, limits: Limits) -> Self {
        let flow = crate::flow::default_engine(&calibration.flow);
        Self::with_models(
            calibration,
            calibration_text,
            limits,
            ModelSet::default(),
            flow,
        )
    }

    /// An evaluator whose registry also runs the given models, and whose
    /// optical flow runs on `flow`.
    pub fn with_models(
        calibration: Calibration,
        calibration_text: &str,
        limits: Limits,
        models: ModelSet,
        flow: Box<dyn FlowEngine>,
    ) -> Self {
        let config = Config {
            calibration,
            limits,
        };
        let config_digest = sha256_hex(&serde_json::to_vec(&config).expect("config serialises"));
        let mut model_digests = BTreeMap::new();
        model_digests.insert(
            "niqe_params".to_string(),
            NiqeModel::params_digest().to_string(),
        );
        model_digests.extend(models.digests());
        let mut registry = Registry::builtin();
        for metric in semantic_metrics(&models) {
            registry.push(metric);
        }
        let vlm = match (&models.vlm, &config.calibration.vlm) {
            (Some(m), Some(policy)) => {
                registry.push(Box::new(crate::metrics::vlm::Vlm::new(
                    m.clone(),
                    policy.clone(),
                )));
                true
            }
            _ => false,
        };
        Self {
            flow,
            config,
            registry,
            calibration_sha256: sha256_hex(calibration_text.as_bytes()),
            config_digest,
            model_digests,
            vlm,
        }
    }

    pub fn with_defaults() -> Self {
        Self::new(
            Calibration::embedded(),
            crate::verdict::calibration::EMBEDDED,
            Limits::default(),
        )
    }

    pub fn info(&self, decode_backend: &str) -> EvaluatorInfo {
        let mut digests = self.model_digests.clone();
        digests.insert("calibration".to_string(), self.calibration_sha256.clone());
        let mut frame_policy =
            serde_json::to_value(&self.config.calibration.frame_policy).expect("policy serialises");
        if let (true, Some(v), Some(map)) = (
            self.vlm,
            &self.config.calibration.vlm,
            frame_policy.as_object_mut(),
        ) {
            map.insert(
                "vlm".into(),
                serde_json::to_value(v).expect("policy serialises"),
            );
        }
        EvaluatorInfo {
            version: verdict::EVALUATOR_VERSION.to_string(),
            calibration_version: self.config.calibration.version.clone(),
            config_digest: self.config_digest.clone(),
            frame_policy,
            model_digests: digests,
            decode_backend: decode_backend.to_string(),
            flow_backend: self.flow.name().to_string(),
        }
    }

    /// Decode a clip and build its features: everything before the metrics.
    pub fn prepare(
        &self,
        video: &Path,
        condition: &RgbFrame,
        prompt: &str,
    ) -> Result<Prepared, InputError> {
        let limits = &self.config.limits;
        let info = probe(video, limits)?;
        let sha256 = file_sha256(video).map_err(|source| DecodeError::Io {
            path: video.to_path_buf(),
            source,
        })?;
        let policy = &self.config.calibration.frame_policy;
        let native = (info.width as usize, info.height as usize);
        let (aligned, alignment) =
            align_condition(condition, native.0, native.1, &policy.condition_filter)
                .expect("calibration validated the filter names");
        let expected = expected_frames(&info);
        let mut builder = FeatureBuilder::new(policy, info.fps, native, expected, &aligned, prompt)
            .expect("calibration validated the filter names");
        if let (true, Some(v)) = (self.vlm, &self.config.calibration.vlm) {
            let at = crate::models::qwen3_vl::processor::uniform_indices(expected, v.frames);
            builder = builder.with_vlm(at, &aligned);
        }
        let mut stream = FrameStream::open(&info, limits)?;
        let mut decoded = 0usize;
        for frame in stream.by_ref() {
            let frame = frame?;
            builder.push(frame.index, &frame.rgb);
            decoded += 1;
        }
        if decoded < limits.min_frames {
            return Err(DecodeError::TooFewFrames {
                path: video.to_path_buf(),
                frames: decoded,
                min: limits.min_frames,
            }
            .into());
        }
        let mut checks = conformance_checks(&self.config.calibration, &info, decoded);
        checks.push(Check {
            name: "first_frame_alignment".into(),
            passed: alignment.aspect_change <= 0.05,
            detail: format!(
                "conditioning image {}x{} stretched to {}x{} ({}, aspect change {:.1}%)",
                alignment.from[0],
                alignment.from[1],
                alignment.to[0],
                alignment.to[1],
                alignment.filter,
                alignment.aspect_change * 100.0
            ),
        });
        let input = InputInfo {
            video: video.display().to_string(),
            sha256: Some(sha256),
            probe: Some(info),
            decoded_frames: Some(decoded),
        };
        Ok(Prepared {
            features: builder.finish(self.flow.as_ref()),
            checks,
            input,
            backend: stream.backend,
        })
    }

    /// Measure and judge a prepared clip.
    pub fn judge_prepared(&self, p: Prepared) -> Verdict {
        let m = self.registry.measure(&p.features);
        let mut v = verdict::judge(
            &self.config.calibration,
            m,
            p.checks,
            p.input,
            self.info(p.backend),
        );
        v.thumbnails = thumbnails(&p.features);
        v
    }

    /// Judge one clip against its conditioning image and prompt.
    pub fn judge_clip(
        &self,
        video: &Path,
        condition: &RgbFrame,
        prompt: &str,
    ) -> Result<Verdict, InputError> {
        Ok(self.judge_prepared(self.prepare(video, condition, prompt)?))
    }

    /// The failed verdict for a clip that could not be prepared.
    pub fn unusable(&self, video: &Path, e: &InputError) -> Verdict {
        tracing::warn!("{e}");
        verdict::unusable(
            InputInfo::path_only(video),
            self.info("none"),
            e.kind(),
            e.to_string(),
        )
    }
}

/// A decoded clip, ready for the metrics.
pub struct Prepared {
    pub features: crate::features::ClipFeatures,
    checks: Vec<Check>,
    input: InputInfo,
    backend: &'static str,
}

/// Width of report thumbnails.
pub const THUMB_WIDTH: usize = 256;

/// PNG thumbnail of a frame, `THUMB_WIDTH` wide.
pub fn thumbnail(frame: &RgbFrame) -> Vec<u8> {
    let h = (frame.height * THUMB_WIDTH / frame.width.max(1)).max(1);
    let small = crate::frames::resize::resize_rgb(
        frame,
        THUMB_WIDTH,
        h,
        image::imageops::FilterType::Triangle,
    );
    let mut png = Vec::new();
    small
        .to_image()
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("PNG encoding to memory");
    png
}

/// Four sampled frames, first and last included.
fn thumbnails(f: &crate::features::ClipFeatures) -> Vec<verdict::Thumbnail> {
    let picks = crate::frames::policy::evenly_spaced(f.samples.len(), 4);
    picks
        .into_iter()
        .map(|i| verdict::Thumbnail {
            frame: f.samples[i].index,
            png: thumbnail(&f.samples[i].canonical),
        })
        .collect()
}

/// One semantic metric per configured model (text towers also score the prompt).
fn semantic_metrics(models: &ModelSet) -> Vec<Box<dyn crate::metrics::Metric>> {
    use crate::metrics::semantic::Semantic;
    let mut out: Vec<Box<dyn crate::metrics::Metric>> = Vec::new();
    if let Some(m) = &models.clip {
        out.push(Box::new(Semantic::new(m.clone(), Some(m.clone()))));
    }
    if let Some(m) = &models.siglip {
        out.push(Box::new(Semantic::new(m.clone(), Some(m.clone()))));
    }
    if let Some(m) = &models.dinov2 {
        out.push(Box::new(Semantic::new(m.clone(), None)));
    }
    out
}

fn expected_frames(info: &VideoInfo) -> usize {
    info.declared_frames
        .map(|n| n as usize)
        .or_else(|| {
            info.duration_seconds
                .map(|d| (d * info.fps).round() as usize)
        })
        .unwrap_or(81)
        .max(1)
}

fn conformance_checks(cal: &Calibration, info: &VideoInfo, decoded: usize) -> Vec<Check> {
    let g = &cal.resolution_gate;
    let within = |v: u32, t: u32| v.abs_diff(t) <= g.tolerance;
    vec![
        Check {
            name: "resolution".into(),
            passed: within(info.width, g.width) && within(info.height, g.height),
            detail: format!(
                "{}x{} (Leoma accepts {}x{} ± {} px)",
                info.width, info.height, g.width, g.height, g.tolerance
            ),
        },
        Check {
            name: "frame_rate".into(),
            passed: (info.fps - g.fps).abs() < 0.5,
            detail: format!("{:.3} fps (requested {})", info.fps, g.fps),
        },
        Check {
            name: "frame_count".into(),
            passed: decoded as u64 == g.frames,
            detail: format!("{decoded} frames decoded (requested {})", g.frames),
        },
    ]
}

pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(format!("{:x}", h.finalize()))
}
