//! Image preprocessing for the CLIP, SigLIP and DINOv2 image towers,
//! reproducing Hugging Face `transformers`' image processors bit for bit.
//!
//! The processors this mirrors are the Pillow/NumPy ones:
//! `CLIPImageProcessor`, `SiglipImageProcessor` and `BitImageProcessor`
//! (DINOv2 uses the last) in transformers 4.x, and their `*Pil` twins
//! (`PilBackend`) in transformers 5.x. For one uint8 RGB image they do:
//!
//! 1. **resize** (`do_resize`): the target size comes from `size`:
//!    `{"shortest_edge": N}` makes the short side N and the long side
//!    `int(N * long / short)` (Python true division, then truncation;
//!    `get_resize_output_image_size(default_to_square=False)`), and
//!    `{"height": H, "width": W}` is taken as is. The uint8 image goes
//!    through `PIL.Image.resize((w, h), resample)` with no `reducing_gap`;
//!    [`pillow_resize`] is a port of Pillow's 8-bit resampler
//!    (`libImaging/Resample.c`) and of its nearest-neighbour path
//!    (`ImagingScaleAffine` in `libImaging/Geometry.c`), bit-exact.
//! 2. **center crop** (`do_center_crop`, `crop_size`): offsets
//!    `(orig - crop) // 2`; a crop larger than the image pads with zero
//!    pixels, the image placed at `ceil((crop - orig) / 2)`
//!    (`image_transforms.center_crop`). This runs on the uint8 pixels, so
//!    padding is black *before* normalisation.
//! 3. **rescale** (`do_rescale`): `float32(float64(x) * rescale_factor)`
//!    (`image_transforms.rescale` upcasts to float64, then casts down).
//! 4. **normalize** (`do_normalize`): `(x - mean) / std` in float32, with
//!    mean and std cast to float32 (`image_transforms.normalize`).
//!
//! The output is channel-first (CHW) float32, as `pixel_values` is for one
//! image. Because every output value depends only on the channel and the
//! uint8 pixel after the crop, steps 3 and 4 are a 256-entry table per
//! channel holding exactly the float32 values NumPy computes.
//!
//! Verified bit for bit (every output float32 identical) against
//! transformers 4.57.1's slow processors and 5.24.0's `*ImageProcessorPil`
//! with Pillow 13.0.0 / NumPy 2.4.6, and [`pillow_resize`] against
//! Pillow's `Image.resize` on 600+ images (every filter, up- and
//! downscaling, up to 1280x720); the unit tests keep small cases of both.
//!
//! Not covered: transformers 5.x picks the torchvision ("fast") backend by
//! default when torchvision is installed; that backend resizes with
//! `torchvision.transforms.functional.resize` on tensors, a different
//! implementation, not reproduced here. What is reproduced is the Pillow
//! path (`CLIPImageProcessorPil` etc. in 5.x, and every transformers 4.x
//! slow processor). Configs whose meaning differs between
//! transformers versions (`{"shortest_edge", "longest_edge"}`) or that this
//! module does not implement (`max_height`/`max_width`) are rejected with an
//! error instead of being guessed.

use crate::frames::RgbFrame;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// Largest output side (after resize or crop) accepted; real processors use
/// at most a few hundred pixels. Guards against absurd configs and extreme
/// aspect ratios turning into multi-gigabyte allocations.
pub const MAX_OUTPUT_SIDE: usize = 16_384;
/// Largest input side accepted (Pillow's box is `float`, exact below 2^24).
pub const MAX_INPUT_SIDE: usize = 1 << 20;

/// What can go wrong reading a config or preprocessing an image.
#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    #[error("cannot read image processor config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("image processor config {}: not valid JSON: {source}", Origin(.path))]
    Json {
        path: Option<PathBuf>,
        source: serde_json::Error,
    },
    /// A field is missing, mistyped or holds a value that cannot be used.
    #[error("image processor config {}: field `{field}`: {message}", Origin(.path))]
    Field {
        path: Option<PathBuf>,
        field: &'static str,
        message: String,
    },
    /// The config as a whole is not usable (e.g. not a JSON object).
    #[error("image processor config {}: {message}", Origin(.path))]
    Config {
        path: Option<PathBuf>,
        message: String,
    },
    /// The input image cannot be processed (empty, inconsistent buffer, too big).
    #[error("cannot preprocess image: {0}")]
    Image(String),
}

/// Displays where a config came from: its path, or "(in memory)".
struct Origin<'a>(&'a Option<PathBuf>);

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, "{}", p.display()),
            None => f.write_str("(in memory)"),
        }
    }
}

/// `size` / `crop_size` as they appear in `preprocessor_config.json`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum SizeSpec {
    /// A bare integer: `{"shortest_edge": n}` for `size`, `{"height": n,
    /// "width": n}` for `crop_size` (transformers' `get_size_dict` with
    /// `default_to_square` False resp. True).
    Int(u64),
    /// `[height, width]`.
    Pair(Vec<u64>),
    Dict(SizeDict),
}

/// The dictionary form of a size. transformers accepts exactly one of these
/// key sets: `{height, width}`, `{shortest_edge}`, `{shortest_edge,
/// longest_edge}`, `{longest_edge}`, `{max_height, max_width}`; only the first
/// two are implemented here.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct SizeDict {
    #[serde(default)]
    pub shortest_edge: Option<u64>,
    #[serde(default)]
    pub longest_edge: Option<u64>,
    #[serde(default)]
    pub height: Option<u64>,
    #[serde(default)]
    pub width: Option<u64>,
    #[serde(default)]
    pub max_height: Option<u64>,
    #[serde(default)]
    pub max_width: Option<u64>,
}

/// `image_mean` / `image_std`: one value for every channel, or one per channel.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ChannelValues {
    One(f64),
    PerChannel(Vec<f64>),
}

/// Parsed `preprocessor_config.json` (the fields of `CLIPImageProcessor`,
/// `SiglipImageProcessor` and `BitImageProcessor` that affect the pixels;
/// unknown fields are ignored). Defaults for absent fields: resize on,
/// bicubic, no center crop, rescale by 1/255, normalize on. `size` is
/// required when `do_resize`, `crop_size` when `do_center_crop`, and
/// `image_mean`/`image_std` when `do_normalize` (their class defaults differ
/// between processors, so they are never guessed). [`ProcessorConfig::from_file`]
/// treats a JSON `null` like an absent field.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ProcessorConfig {
    #[serde(default = "default_true")]
    pub do_resize: bool,
    #[serde(default)]
    pub size: Option<SizeSpec>,
    /// PIL resampling code: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic,
    /// 4 box, 5 hamming (6, 7: Pillow's MKS 2013 / 2021).
    #[serde(default = "default_resample")]
    pub resample: u32,
    #[serde(default)]
    pub do_center_crop: bool,
    #[serde(default)]
    pub crop_size: Option<SizeSpec>,
    #[serde(default = "default_true")]
    pub do_rescale: bool,
    #[serde(default = "default_rescale_factor")]
    pub rescale_factor: f64,
    #[serde(default = "default_true")]
    pub do_normalize: bool,
    #[serde(default)]
    pub image_mean: Option<ChannelValues>,
    #[serde(default)]
    pub image_std: Option<ChannelValues>,
    /// Parsed for completeness; an [`RgbFrame`] is RGB already.
    #[serde(default)]
    pub do_convert_rgb: Option<bool>,
}

fn default_true() -> bool {
    true
}

fn default_resample() -> u32 {
    Resample::Bicubic as u32
}

fn default_rescale_factor() -> f64 {
    1.0 / 255.0
}

/// The fields [`ProcessorConfig`] reads, with the shape each must have (used
/// to name the culprit when deserialization fails).
const FIELDS: [(&str, &str); 11] = [
    ("do_resize", "expected true or false"),
    (
        "size",
        "expected an integer, [height, width], {\"shortest_edge\": N} or {\"height\": H, \"width\": W} (non-negative integers)",
    ),
    (
        "resample",
        "expected a PIL resampling code (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming)",
    ),
    ("do_center_crop", "expected true or false"),
    (
        "crop_size",
        "expected an integer, [height, width] or {\"height\": H, \"width\": W} (non-negative integers)",
    ),
    ("do_rescale", "expected true or false"),
    ("rescale_factor", "expected a number"),
    ("do_normalize", "expected true or false"),
    ("image_mean", "expected a number or a list of 3 numbers"),
    ("image_std", "expected a number or a list of 3 numbers"),
    ("do_convert_rgb", "expected true or false"),
];

/// Pillow's resampling filters, by their PIL codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resample {
    Nearest = 0,
    Lanczos = 1,
    Bilinear = 2,
    Bicubic = 3,
    Box = 4,
    Hamming = 5,
    Mks2013 = 6,
    Mks2021 = 7,
}

impl Resample {
    pub fn from_pil_code(code: u32) -> Option<Self> {
        Some(match code {
            0 => Self::Nearest,
            1 => Self::Lanczos,
            2 => Self::Bilinear,
            3 => Self::Bicubic,
            4 => Self::Box,
            5 => Self::Hamming,
            6 => Self::Mks2013,
            7 => Self::Mks2021,
            _ => return None,
        })
    }

    /// Filter support in input pixels at scale 1 (`struct filter` in Resample.c).
    fn support(self) -> f64 {
        match self {
            Self::Nearest | Self::Box => 0.5,
            Self::Bilinear | Self::Hamming => 1.0,
            Self::Bicubic => 2.0,
            Self::Mks2013 => 2.5,
            Self::Lanczos => 3.0,
            Self::Mks2021 => 4.5,
        }
    }

    /// The filter kernels of Resample.c, same expressions, same order.
    fn eval(self, x: f64) -> f64 {
        match self {
            Self::Nearest | Self::Box => {
                if x > -0.5 && x <= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            Self::Bilinear => {
                let x = x.abs();
                if x < 1.0 {
                    1.0 - x
                } else {
                    0.0
                }
            }
            Self::Hamming => {
                let x = x.abs();
                if x == 0.0 {
                    1.0
                } else if x >= 1.0 {
                    0.0
                } else {
                    let x = x * std::f64::consts::PI;
                    // `0.54f` and `0.46f` are float literals in the C source.
                    x.sin() / x * (0.54f32 as f64 + 0.46f32 as f64 * x.cos())
                }
            }
            Self::Bicubic => {
                const A: f64 = -0.5;
                let x = x.abs();
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
            Self::Lanczos => {
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
            Self::Mks2013 => {
                let x = x.abs();
                if x < 0.5 {
                    17.0 / 16.0 - 7.0 / 4.0 * x.powi(2)
                } else if x < 1.5 {
                    (1.0 - x) * (7.0 / 4.0 - x)
                } else if x < 2.5 {
                    -1.0 / 8.0 * (x - 5.0 / 2.0).powi(2)
                } else {
                    0.0
                }
            }
            Self::Mks2021 => {
                let x = x.abs();
                if x < 0.5 {
                    577.0 / 576.0 - 239.0 / 144.0 * x.powi(2)
                } else if x < 1.5 {
                    35.0 / 36.0 * (x - 1.0) * (x - 239.0 / 140.0)
                } else if x < 2.5 {
                    1.0 / 6.0 * (x - 2.0) * (65.0 / 24.0 - x)
                } else if x < 3.5 {
                    1.0 / 36.0 * (x - 3.0) * (x - 15.0 / 4.0)
                } else if x < 4.5 {
                    -1.0 / 288.0 * (x - 9.0 / 2.0).powi(2)
                } else {
                    0.0
                }
            }
        }
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let x = x * std::f64::consts::PI;
        x.sin() / x
    }
}

/// How the resize step picks its output size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ResizeRule {
    ShortestEdge(usize),
    Exact { height: usize, width: usize },
}

/// A validated config, ready to run.
struct Plan {
    resize: Option<(ResizeRule, Resample)>,
    /// (height, width)
    crop: Option<(usize, usize)>,
    /// Output value per channel and uint8 input value (rescale + normalize).
    lut: [[f32; 256]; 3],
}

impl ProcessorConfig {
    /// Reads and validates a `preprocessor_config.json`. Errors name the file
    /// and, where one is at fault, the field.
    pub fn from_file(path: &Path) -> Result<Self, PreprocessError> {
        let text = std::fs::read_to_string(path).map_err(|source| PreprocessError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, Some(path))
    }

    /// Like [`ProcessorConfig::from_file`], from the JSON text.
    pub fn from_json_str(text: &str) -> Result<Self, PreprocessError> {
        Self::parse(text, None)
    }

    fn parse(text: &str, path: Option<&Path>) -> Result<Self, PreprocessError> {
        let owned_path = || path.map(Path::to_path_buf);
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|source| PreprocessError::Json {
                path: owned_path(),
                source,
            })?;
        let Some(obj) = value.as_object_mut() else {
            return Err(PreprocessError::Config {
                path: owned_path(),
                message: "expected a JSON object at the top level".into(),
            });
        };
        obj.retain(|_, v| !v.is_null());
        let config: Self = match serde_json::from_value(value.clone()) {
            Ok(c) => c,
            Err(e) => return Err(Self::diagnose(&value, e, owned_path())),
        };
        config.plan_at(owned_path())?;
        Ok(config)
    }

    /// Finds which field made deserialization fail: every field has a
    /// default, so a one-field object fails exactly when that field is bad.
    fn diagnose(
        value: &serde_json::Value,
        err: serde_json::Error,
        path: Option<PathBuf>,
    ) -> PreprocessError {
        for (field, hint) in FIELDS {
            let Some(v) = value.get(field) else { continue };
            let single = serde_json::json!({ field: v });
            if let Err(e) = serde_json::from_value::<Self>(single) {
                let mut shown = v.to_string();
                if shown.len() > 80 {
                    let cut = (0..=80).rev().find(|&i| shown.is_char_boundary(i));
                    shown.truncate(cut.unwrap_or(0));
                    shown.push_str("...");
                }
                return PreprocessError::Field {
                    path,
                    field,
                    message: format!("{hint}, got {shown} ({e})"),
                };
            }
        }
        PreprocessError::Config {
            path,
            message: err.to_string(),
        }
    }

    /// Checks the config without an image (what `from_file` runs).
    pub fn validate(&self) -> Result<(), PreprocessError> {
        self.plan_at(None).map(|_| ())
    }

    fn plan_at(&self, path: Option<PathBuf>) -> Result<Plan, PreprocessError> {
        let field_err = |field: &'static str, message: String| PreprocessError::Field {
            path: path.clone(),
            field,
            message,
        };

        let resize = if self.do_resize {
            let spec = self
                .size
                .as_ref()
                .ok_or_else(|| field_err("size", "missing, but do_resize is true".into()))?;
            let rule = resize_rule(spec).map_err(|m| field_err("size", m))?;
            let resample = Resample::from_pil_code(self.resample).ok_or_else(|| {
                field_err(
                    "resample",
                    format!(
                        "unknown PIL resampling code {} (expected 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming, 6/7 MKS)",
                        self.resample
                    ),
                )
            })?;
            Some((rule, resample))
        } else {
            None
        };

        let crop = if self.do_center_crop {
            let spec = self.crop_size.as_ref().ok_or_else(|| {
                field_err("crop_size", "missing, but do_center_crop is true".into())
            })?;
            Some(crop_dims(spec).map_err(|m| field_err("crop_size", m))?)
        } else {
            None
        };

        if self.do_rescale && !self.rescale_factor.is_finite() {
            return Err(field_err(
                "rescale_factor",
                format!("must be a finite number, got {}", self.rescale_factor),
            ));
        }

        let (mean, std) = if self.do_normalize {
            let mean = channel_values(self.image_mean.as_ref(), "image_mean")
                .map_err(|m| field_err("image_mean", m))?;
            let std = channel_values(self.image_std.as_ref(), "image_std")
                .map_err(|m| field_err("image_std", m))?;
            if let Some(c) = std.iter().position(|&s| s as f32 == 0.0) {
                return Err(field_err(
                    "image_std",
                    format!("channel {c} is zero (division by zero)"),
                ));
            }
            (mean, std)
        } else {
            ([0.0; 3], [1.0; 3])
        };

        let mut lut = [[0f32; 256]; 3];
        for (c, table) in lut.iter_mut().enumerate() {
            // NumPy's dtypes: normalize casts mean/std to the image's float32.
            let (m, s) = (mean[c] as f32, std[c] as f32);
            for (x, out) in table.iter_mut().enumerate() {
                let mut v = if self.do_rescale {
                    (x as f64 * self.rescale_factor) as f32
                } else {
                    x as f32
                };
                if self.do_normalize {
                    v = (v - m) / s;
                }
                *out = v;
            }
        }

        Ok(Plan { resize, crop, lut })
    }

    /// Runs the processor on one RGB image. Returns CHW float32 data and its
    /// `[channels, height, width]` (channels is always 3).
    pub fn preprocess(&self, image: &RgbFrame) -> Result<(Vec<f32>, [usize; 3]), PreprocessError> {
        let plan = self.plan_at(None)?;
        check_frame(image)?;

        let resized;
        let img = match plan.resize {
            Some((rule, resample)) => {
                let (h, w) = resize_output_size(image.width, image.height, rule)?;
                resized = pillow_resize(image, w, h, resample)?;
                &resized
            }
            None => image,
        };

        let (out_h, out_w) = plan.crop.unwrap_or((img.height, img.width));
        if out_h > MAX_OUTPUT_SIDE || out_w > MAX_OUTPUT_SIDE {
            return Err(PreprocessError::Image(format!(
                "output {out_w}x{out_h} exceeds {MAX_OUTPUT_SIDE} pixels per side"
            )));
        }
        let (src_top, dst_top, rows) = crop_span(img.height, out_h);
        let (src_left, dst_left, cols) = crop_span(img.width, out_w);

        let plane = out_h * out_w;
        let mut out = vec![0f32; 3 * plane];
        // Pixels outside the image (padding) are uint8 zeros before rescaling.
        for c in 0..3 {
            out[c * plane..(c + 1) * plane].fill(plan.lut[c][0]);
        }
        for r in 0..rows {
            let src_row = &img.data[((src_top + r) * img.width + src_left) * 3..][..cols * 3];
            let dst = (dst_top + r) * out_w + dst_left;
            for (i, px) in src_row.chunks_exact(3).enumerate() {
                for c in 0..3 {
                    out[c * plane + dst + i] = plan.lut[c][px[c] as usize];
                }
            }
        }
        Ok((out, [3, out_h, out_w]))
    }
}

fn check_frame(image: &RgbFrame) -> Result<(), PreprocessError> {
    if image.width == 0 || image.height == 0 {
        return Err(PreprocessError::Image(format!(
            "empty image ({}x{})",
            image.width, image.height
        )));
    }
    if image.width > MAX_INPUT_SIDE || image.height > MAX_INPUT_SIDE {
        return Err(PreprocessError::Image(format!(
            "image {}x{} exceeds {MAX_INPUT_SIDE} pixels per side",
            image.width, image.height
        )));
    }
    // Both sides are at most 2^20 here, so this cannot overflow a u64.
    let needed = image.width as u64 * image.height as u64 * 3;
    if image.data.len() as u64 != needed {
        return Err(PreprocessError::Image(format!(
            "buffer holds {} bytes, but a {}x{} RGB image needs {needed}",
            image.data.len(),
            image.width,
            image.height,
        )));
    }
    Ok(())
}

fn side(v: u64, what: &str) -> Result<usize, String> {
    if v == 0 {
        return Err(format!("{what} must be positive, got 0"));
    }
    if v > MAX_OUTPUT_SIDE as u64 {
        return Err(format!(
            "{what} = {v} exceeds the supported {MAX_OUTPUT_SIDE}"
        ));
    }
    Ok(v as usize)
}

fn resize_rule(spec: &SizeSpec) -> Result<ResizeRule, String> {
    match spec {
        SizeSpec::Int(n) => Ok(ResizeRule::ShortestEdge(side(*n, "size")?)),
        SizeSpec::Pair(v) => match v[..] {
            [h, w] => Ok(ResizeRule::Exact {
                height: side(h, "height")?,
                width: side(w, "width")?,
            }),
            _ => Err(format!("a list must be [height, width], got {} items", v.len())),
        },
        SizeSpec::Dict(d) => match *d {
            SizeDict {
                shortest_edge: Some(n),
                longest_edge: None,
                height: None,
                width: None,
                max_height: None,
                max_width: None,
            } => Ok(ResizeRule::ShortestEdge(side(n, "shortest_edge")?)),
            SizeDict {
                shortest_edge: None,
                longest_edge: None,
                height: Some(h),
                width: Some(w),
                max_height: None,
                max_width: None,
            } => Ok(ResizeRule::Exact {
                height: side(h, "height")?,
                width: side(w, "width")?,
            }),
            SizeDict {
                shortest_edge: Some(_),
                longest_edge: Some(_),
                ..
            } => Err(
                "{shortest_edge, longest_edge} is not supported: transformers 4.x ignores longest_edge for these processors, 5.x applies it"
                    .into(),
            ),
            SizeDict {
                longest_edge: Some(_),
                ..
            }
            | SizeDict {
                max_height: Some(_),
                ..
            }
            | SizeDict {
                max_width: Some(_),
                ..
            } => Err("longest_edge / max_height / max_width sizes are not supported".into()),
            _ => Err(
                "expected {\"shortest_edge\": N} or {\"height\": H, \"width\": W} (exactly those keys)"
                    .into(),
            ),
        },
    }
}

/// `crop_size` as (height, width).
fn crop_dims(spec: &SizeSpec) -> Result<(usize, usize), String> {
    match spec {
        SizeSpec::Int(n) => {
            let n = side(*n, "crop_size")?;
            Ok((n, n))
        }
        SizeSpec::Pair(v) => match v[..] {
            [h, w] => Ok((side(h, "height")?, side(w, "width")?)),
            _ => Err(format!(
                "a list must be [height, width], got {} items",
                v.len()
            )),
        },
        SizeSpec::Dict(d) => match (d.height, d.width) {
            (Some(h), Some(w)) => Ok((side(h, "height")?, side(w, "width")?)),
            _ => Err("expected {\"height\": H, \"width\": W}".into()),
        },
    }
}

fn channel_values(v: Option<&ChannelValues>, name: &str) -> Result<[f64; 3], String> {
    let vals = match v {
        None => {
            return Err(format!(
                "missing, but do_normalize is true ({name} has no common default)"
            ))
        }
        Some(ChannelValues::One(x)) => [*x; 3],
        Some(ChannelValues::PerChannel(v)) => match v[..] {
            [a, b, c] => [a, b, c],
            _ => return Err(format!("expected 3 values (R, G, B), got {}", v.len())),
        },
    };
    if let Some(x) = vals
        .iter()
        .find(|&&x| !x.is_finite() || !(x as f32).is_finite())
    {
        return Err(format!("values must be finite float32 numbers, got {x}"));
    }
    Ok(vals)
}

/// Output (height, width) of the resize step for a `width` x `height` input.
fn resize_output_size(
    width: usize,
    height: usize,
    rule: ResizeRule,
) -> Result<(usize, usize), PreprocessError> {
    let (h, w) = match rule {
        ResizeRule::Exact { height, width } => (height, width),
        ResizeRule::ShortestEdge(n) => {
            // get_resize_output_image_size(default_to_square=False):
            // short, long = (w, h) if w <= h else (h, w);
            // new_long = int(n * long / short)  (float64 true division).
            let (short, long) = if width <= height {
                (width, height)
            } else {
                (height, width)
            };
            if short == 0 {
                return Err(PreprocessError::Image("empty image".into()));
            }
            let new_long = ((n as u64 * long as u64) as f64 / short as f64) as u64;
            if new_long > MAX_OUTPUT_SIDE as u64 {
                return Err(PreprocessError::Image(format!(
                    "resizing the short side of {width}x{height} to {n} makes the long side {new_long}, over {MAX_OUTPUT_SIDE}"
                )));
            }
            let new_long = new_long as usize;
            if width <= height {
                (new_long, n)
            } else {
                (n, new_long)
            }
        }
    };
    Ok((h, w))
}

/// (first source index, first destination index, count) along one axis of
/// transformers' `center_crop` (with its zero padding when `crop > orig`).
fn crop_span(orig: usize, crop: usize) -> (usize, usize, usize) {
    if crop <= orig {
        ((orig - crop) / 2, 0, crop)
    } else {
        (0, (crop - orig).div_ceil(2), orig)
    }
}

/// `PIL.Image.resize((width, height), resample)` on an 8-bit RGB image, with
/// Pillow's defaults (whole image as the box, no `reducing_gap`), bit-exact
/// with Pillow's `libImaging` (checked against Pillow 13.0.0; the algorithm
/// has been the same since Pillow 4.x's fixed-point 8-bit resampler).
pub fn pillow_resize(
    image: &RgbFrame,
    width: usize,
    height: usize,
    resample: Resample,
) -> Result<RgbFrame, PreprocessError> {
    check_frame(image)?;
    if width == 0 || height == 0 {
        return Err(PreprocessError::Image(format!(
            "resize target {width}x{height} is empty"
        )));
    }
    if width > MAX_OUTPUT_SIDE || height > MAX_OUTPUT_SIDE {
        return Err(PreprocessError::Image(format!(
            "resize target {width}x{height} exceeds {MAX_OUTPUT_SIDE} pixels per side"
        )));
    }
    if width == image.width && height == image.height {
        return Ok(image.clone()); // Image.resize returns a copy
    }
    if resample == Resample::Nearest {
        return Ok(nearest_resize(image, width, height));
    }
    Ok(resample_8bpc(image, width, height, resample))
}

/// `ImagingScaleAffine`: nearest neighbour with the source coordinate
/// accumulated in float64, exactly as Pillow does it.
fn nearest_resize(image: &RgbFrame, width: usize, height: usize) -> RgbFrame {
    let a0 = image.width as f64 / width as f64;
    let a4 = image.height as f64 / height as f64;
    let coord = |v: f64| -> Option<usize> {
        if v < 0.0 {
            None
        } else {
            Some(v as usize)
        }
    };

    let mut xin = Vec::with_capacity(width);
    let mut xo = a0 * 0.5;
    for _ in 0..width {
        xin.push(coord(xo).filter(|&x| x < image.width));
        xo += a0;
    }
    let mut data = vec![0u8; width * height * 3];
    let mut yo = a4 * 0.5;
    for row in data.chunks_exact_mut(width * 3) {
        if let Some(yi) = coord(yo).filter(|&y| y < image.height) {
            let src = &image.data[yi * image.width * 3..][..image.width * 3];
            for (px, x) in row.chunks_exact_mut(3).zip(&xin) {
                if let Some(x) = *x {
                    px.copy_from_slice(&src[x * 3..x * 3 + 3]);
                }
            }
        }
        yo += a4;
    }
    RgbFrame {
        width,
        height,
        data,
    }
}

const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Per output index: first input index, tap count; and `ksize` fixed-point
/// taps per output index (`precompute_coeffs` + `normalize_coeffs_8bpc`).
struct Coeffs {
    bounds: Vec<(usize, usize)>,
    taps: Vec<i32>,
    ksize: usize,
}

impl Coeffs {
    fn new(in_size: usize, out_size: usize, filter: Resample) -> Self {
        // in0 = 0, in1 = in_size (Pillow's box holds floats: exact here).
        let scale = in_size as f64 / out_size as f64;
        let filterscale = if scale < 1.0 { 1.0 } else { scale };
        let support = filter.support() * filterscale;
        let ksize = support.ceil() as usize * 2 + 1;
        let inv_filterscale = 1.0 / filterscale;

        let mut bounds = Vec::with_capacity(out_size);
        let mut taps = vec![0i32; out_size * ksize];
        let mut k = vec![0f64; ksize];
        for xx in 0..out_size {
            let center = (xx as f64 + 0.5) * scale;
            // C's (int) casts truncate toward zero, as `as i64` does.
            let xmin = ((center - support + 0.5) as i64).max(0);
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64);
            let count = (xmax - xmin).clamp(0, ksize as i64) as usize;
            let xmin = xmin as usize;
            let mut ww = 0.0;
            for (x, kx) in k[..count].iter_mut().enumerate() {
                let w = filter.eval((((x + xmin) as f64) - center + 0.5) * inv_filterscale);
                *kx = w;
                ww += w;
            }
            let row = &mut taps[xx * ksize..][..count];
            for (t, &kx) in row.iter_mut().zip(&k[..count]) {
                let kx = if ww != 0.0 { kx / ww } else { kx };
                let scaled = kx * (1u32 << PRECISION_BITS) as f64;
                *t = if kx < 0.0 {
                    (-0.5 + scaled) as i32
                } else {
                    (0.5 + scaled) as i32
                };
            }
            bounds.push((xmin, count));
        }
        Self {
            bounds,
            taps,
            ksize,
        }
    }

    fn taps(&self, i: usize) -> (usize, &[i32]) {
        let (start, count) = self.bounds[i];
        (start, &self.taps[i * self.ksize..][..count])
    }
}

#[inline]
fn clip8(ss: i32) -> u8 {
    (ss >> PRECISION_BITS).clamp(0, 255) as u8
}

const HALF: i32 = 1 << (PRECISION_BITS - 1);

/// Horizontal pass over rows `rows` of `src` (width `in_w`), into a buffer of
/// `rows.len()` rows of `out_w` pixels.
fn pass_horizontal(
    src: &[u8],
    in_w: usize,
    rows: std::ops::Range<usize>,
    out_w: usize,
    coeffs: &Coeffs,
) -> Vec<u8> {
    let mut out = vec![0u8; rows.len() * out_w * 3];
    for (line_out, y) in out.chunks_exact_mut(out_w * 3).zip(rows) {
        let line_in = &src[y * in_w * 3..][..in_w * 3];
        for (xx, px) in line_out.chunks_exact_mut(3).enumerate() {
            let (xmin, k) = coeffs.taps(xx);
            let (mut s0, mut s1, mut s2) = (HALF, HALF, HALF);
            for (p, &kx) in line_in[xmin * 3..][..k.len() * 3].chunks_exact(3).zip(k) {
                s0 = s0.wrapping_add((p[0] as i32).wrapping_mul(kx));
                s1 = s1.wrapping_add((p[1] as i32).wrapping_mul(kx));
                s2 = s2.wrapping_add((p[2] as i32).wrapping_mul(kx));
            }
            px[0] = clip8(s0);
            px[1] = clip8(s1);
            px[2] = clip8(s2);
        }
    }
    out
}

/// Vertical pass: `src` has rows of `w` pixels; output row `yy` reads source
/// rows `start - row_offset ..` per `coeffs`.
fn pass_vertical(
    src: &[u8],
    w: usize,
    out_h: usize,
    row_offset: usize,
    coeffs: &Coeffs,
) -> Vec<u8> {
    let stride = w * 3;
    let mut out = vec![0u8; out_h * stride];
    let mut acc = vec![0i32; stride];
    for (yy, line_out) in out.chunks_exact_mut(stride).enumerate() {
        let (ymin, k) = coeffs.taps(yy);
        acc.fill(HALF);
        for (y, &ky) in k.iter().enumerate() {
            let line_in = &src[(ymin + y - row_offset) * stride..][..stride];
            for (a, &p) in acc.iter_mut().zip(line_in) {
                *a = a.wrapping_add((p as i32).wrapping_mul(ky));
            }
        }
        for (o, &a) in line_out.iter_mut().zip(&acc) {
            *o = clip8(a);
        }
    }
    out
}

/// `ImagingResampleInner` with the 8-bpc passes, whole-image box.
fn resample_8bpc(image: &RgbFrame, out_w: usize, out_h: usize, filter: Resample) -> RgbFrame {
    let (in_w, in_h) = (image.width, image.height);
    let need_horizontal = out_w != in_w;
    let need_vertical = out_h != in_h;
    // "If height is being scaled down more than twice the amount the width
    // is, run the vertical pass first". The order matters: each pass rounds
    // and clips to 8 bits.
    let dh = in_h as i64 - out_h as i64;
    let dw = in_w as i64 - out_w as i64;
    let horizontal_first = !(dh > 0 && dh > dw * 2);

    let data = if horizontal_first {
        let vert = Coeffs::new(in_h, out_h, filter);
        if !need_horizontal {
            pass_vertical(&image.data, in_w, out_h, 0, &vert)
        } else {
            let horiz = Coeffs::new(in_w, out_w, filter);
            // Only the source rows the vertical pass reads.
            let (first, _) = vert.bounds[0];
            let (last_start, last_count) = vert.bounds[out_h - 1];
            let rows = if need_vertical {
                first..(last_start + last_count).max(first)
            } else {
                0..in_h
            };
            let tmp = pass_horizontal(&image.data, in_w, rows, out_w, &horiz);
            if need_vertical {
                pass_vertical(&tmp, out_w, out_h, first, &vert)
            } else {
                tmp
            }
        }
    } else {
        // Here need_vertical holds (dh > 0).
        let vert = Coeffs::new(in_h, out_h, filter);
        let tmp = pass_vertical(&image.data, in_w, out_h, 0, &vert);
        if need_horizontal {
            let horiz = Coeffs::new(in_w, out_w, filter);
            pass_horizontal(&tmp, in_w, 0..out_h, out_w, &horiz)
        } else {
            tmp
        }
    };
    RgbFrame {
        width: out_w,
        height: out_h,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // CLIPImageProcessor({'size': {'shortest_edge': 4}, 'crop_size': {'height': 3, 'width': 3}, 'do_center_crop': True, 'resample': 3, 'image_mean': [0.48145466, 0.4578275, 0.40821073], 'image_std': [0.26862954, 0.26130258, 0.27577711]}) on a 7x5 image; output shape [3, 3, 3]
    const CLIP_SMALL_IN: &str = "76f680bfa5e42f0f482b56e5a5d5da36053f834f97fadbcfae36b49fa193448f737b761b68e544d6e69d9974c22e6c6169d5dea8d397ad08d357766faadcf2941629fd9eb07ed6a547da1d70af69ef1ee5fefb338b8fd49c7a1f801d9b1231bf5ff8c4a441af65f6ff";
    const CLIP_SMALL_OUT: &str = "cbfb923ca5d966bf6c1d03becbfb923c0415413d8189acbdf5a7633e6c1d03befc5df83eb48b1cbf843f53bec9ffaa3e4c94843ec7a71a3fc3ce793b5253963f43e7b83f591228bfb445113f73cd8d3f7ea6893e3a145a3f7094ef3e9b9399be7d7b7e3fd8d17ebcc9eb6f3f";
    // BitImageProcessor({'size': {'shortest_edge': 3}, 'crop_size': {'height': 5, 'width': 4}, 'do_center_crop': True, 'resample': 2, 'image_mean': [0.485, 0.456, 0.406], 'image_std': [0.229, 0.224, 0.225]}) on a 6x4 image; output shape [3, 5, 4]
    const BIT_PADDED_IN: &str = "fa43a8a9bbe01c2d39a27e93d3e590da41cf67a6c414abd08542bf64ae9d4c7837509a8a34e0de544adf9c71f3a6614139aca58d9d51eedc7e7eb6a4284e4b78459e91a7430cee2a";
    const BIT_PADDED_OUT: &str = "bd8b07c0bd8b07c0bd8b07c0bd8b07c0b763653fc23e0fbf6f70a93e239f5c3f601374bfb4313bbeb4313bbe366bfbbef5b50d3fe51702bfc0faeabc130151bfbd8b07c0bd8b07c0bd8b07c0bd8b07c0244902c0244902c0244902c0244902c0a308643eed374abef0a4123fadf1833e60cc673f924a38beb5d59e3ef416203f4367b03fdc6f14be818202be9ae2b43f244902c0244902c0244902c0244902c009f8e6bf09f8e6bf09f8e6bf09f8e6bf199ac73f7392343fd17d033f49f67b3f5ffdf13f895fe23fd2bead3e5df2e63dbe22893fb108393f6d20813e4a9b15bf09f8e6bf09f8e6bf09f8e6bf09f8e6bf";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn frame(w: usize, h: usize, data: Vec<u8>) -> RgbFrame {
        RgbFrame {
            width: w,
            height: h,
            data,
        }
    }

    /// A grey (single-value-per-row-position) image from per-pixel levels.
    fn grey(w: usize, h: usize, levels: &[u8]) -> RgbFrame {
        frame(w, h, levels.iter().flat_map(|&v| [v, v, v]).collect())
    }

    fn red(f: &RgbFrame) -> Vec<u8> {
        f.data.chunks_exact(3).map(|p| p[0]).collect()
    }

    const CLIP_MEAN: [f64; 3] = [0.48145466, 0.4578275, 0.40821073];
    const CLIP_STD: [f64; 3] = [0.26862954, 0.26130258, 0.27577711];

    /// openai/clip-vit-base-patch32's preprocessor_config.json (the legacy
    /// form with bare integers, as published).
    const CLIP_LEGACY_JSON: &str = r#"{
        "crop_size": 224, "do_center_crop": true, "do_normalize": true, "do_resize": true,
        "feature_extractor_type": "CLIPFeatureExtractor",
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "resample": 3, "size": 224}"#;
    /// The same in today's dictionary form.
    const CLIP_JSON: &str = r#"{
        "crop_size": {"height": 224, "width": 224}, "do_center_crop": true,
        "do_convert_rgb": true, "do_normalize": true, "do_rescale": true, "do_resize": true,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_processor_type": "CLIPImageProcessor",
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "resample": 3, "rescale_factor": 0.00392156862745098,
        "size": {"shortest_edge": 224}}"#;
    /// A SigLIP (google/siglip-base-patch16-224 style) config.
    const SIGLIP_JSON: &str = r#"{
        "do_normalize": true, "do_rescale": true, "do_resize": true,
        "image_mean": [0.5, 0.5, 0.5], "image_processor_type": "SiglipImageProcessor",
        "image_std": [0.5, 0.5, 0.5], "processor_class": "SiglipProcessor",
        "resample": 3, "rescale_factor": 0.00392156862745098,
        "size": {"height": 224, "width": 224}}"#;
    /// A DINOv2 (facebook/dinov2-small style) config.
    const DINO_JSON: &str = r#"{
        "crop_size": {"height": 224, "width": 224}, "do_center_crop": true,
        "do_convert_rgb": true, "do_normalize": true, "do_rescale": true, "do_resize": true,
        "image_mean": [0.485, 0.456, 0.406], "image_processor_type": "BitImageProcessor",
        "image_std": [0.229, 0.224, 0.225], "resample": 3,
        "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 256}}"#;

    // ------------------------------------------------------------ resampling

    #[test]
    fn box_halving_rounds_half_up() {
        // Box 4 -> 2: each output is the mean of two inputs; fixed point adds
        // 2^21 before the >> 22, so 35.5 becomes 36.
        let out = pillow_resize(&grey(4, 1, &[10, 20, 30, 41]), 2, 1, Resample::Box).unwrap();
        assert_eq!(red(&out), [15, 36]);
    }

    #[test]
    fn bilinear_doubling_by_hand() {
        // 2 -> 4, scale 0.5, support 1. Centers 0.25, 0.75, 1.25, 1.75:
        // out0: window [0, 1) only pixel 0 (weight renormalised to 1) -> 0
        // out1: weights 0.75, 0.25 -> 25; out2: 0.25, 0.75 -> 75;
        // out3: window [1, 2) -> 100.
        let out = pillow_resize(&grey(2, 1, &[0, 100]), 4, 1, Resample::Bilinear).unwrap();
        assert_eq!(red(&out), [0, 25, 75, 100]);
        // The same vertically.
        let out = pillow_resize(&grey(1, 2, &[0, 100]), 1, 4, Resample::Bilinear).unwrap();
        assert_eq!(red(&out), [0, 25, 75, 100]);
    }

    #[test]
    fn bicubic_coefficients_by_hand() {
        // Downscale 4 -> 2 (scale 2, support 2 * 2 = 4): output 0 has center
        // 1.0 and reads inputs 0..4 at (x - 1 + 0.5) / 2 = -0.25, 0.25, 0.75,
        // 1.25 -> Keys' kernel (a = -0.5): 0.8671875, 0.8671875, 0.2265625,
        // -0.0703125, then divided by their sum 1.890625 and put in 22-bit
        // fixed point, rounding half away from zero.
        let c = Coeffs::new(4, 2, Resample::Bicubic);
        assert_eq!(c.bounds[0], (0, 4));
        assert_eq!(c.bounds[1], (0, 4));
        let raw = [0.8671875f64, 0.8671875, 0.2265625, -0.0703125];
        let sum: f64 = raw.iter().sum();
        assert_eq!(sum, 1.890625);
        let want: Vec<i32> = raw
            .iter()
            .map(|w| {
                let f = w / sum * (1 << 22) as f64;
                (f + f.signum() * 0.5) as i32
            })
            .collect();
        assert_eq!(c.taps(0).1, &want[..]);
        assert_eq!(want, [1923834, 1923834, 502623, -155987]);
    }

    #[test]
    fn constant_images_stay_constant() {
        let img = frame(37, 23, [17u8, 128, 250].repeat(37 * 23));
        for code in 0..8 {
            let f = Resample::from_pil_code(code).unwrap();
            for (w, h) in [(10, 50), (5, 5), (37, 7), (80, 23), (1, 1)] {
                let out = pillow_resize(&img, w, h, f).unwrap();
                assert_eq!((out.width, out.height), (w, h));
                assert!(
                    out.data.chunks_exact(3).all(|p| p == [17, 128, 250]),
                    "{f:?} {w}x{h}"
                );
            }
        }
    }

    #[test]
    fn same_size_is_a_copy() {
        let img = frame(3, 2, (0..18).collect());
        for code in 0..8 {
            let f = Resample::from_pil_code(code).unwrap();
            assert_eq!(pillow_resize(&img, 3, 2, f).unwrap(), img);
        }
    }

    /// Outputs of Pillow 13.0.0's `Image.fromarray(rgb).resize((out_w,
    /// out_h), resample)` on small random images, one per code path. (The
    /// port was also checked against Pillow on 600+ images, up to 1280x720,
    /// every filter, up- and downscaling: all bit-identical.)
    #[test]
    fn matches_pillow_bit_for_bit() {
        // (filter, in w, in h, input RGB hex, out w, out h, Pillow 13.0.0 output hex)
        const PILLOW_CASES: &[(Resample, usize, usize, &str, usize, usize, &str)] = &[
            // bicubic, both passes, horizontal first
            (Resample::Bicubic, 7, 5, "e8cad43d564803add9d0a317a4e2dd36e1605151903f384fe43b9fe863cfa9cc72a553eae7e2ecfe08ec1a14e34d692467a630de485b2714462e7e2a2e784a2ec4e2efe995d1115cc8608a43ca2a6c2b28545f7535eeb8961c91d9cce318e79d5fb76afc4f8efa1af4", 3, 4, "7f809690b48e7ca3a57c427aaa7a869d6dab798f919d5b4a3662338d98b478b793c45198"),
            // bicubic, vertical pass first (height shrinks > 2x more than width)
            (Resample::Bicubic, 6, 9, "010cc4250abb540bb9780bac9e07a1ca099e0125c02e20b35126ae7a219ea12095ce2394043bb62f3aa8583ba07e3c97aa3a92cb38830756a42e59a15959947d5888a85585ce5376086b9e346d955b7288866c82ad7277d06d700c8b913788895e877e8b8b76ab866bd88761139c82369e815ea170869e68b19c65da9c5517b87b3fba7462bb6c8db85eb4bc58dab74b17d06d41d46664d15c8fcf51b5d54ce0cf45", 5, 3, "0626bc3725b16726a6972399c823920e6e9c3e6f91707084a16e7bce6c6f19b67a47b87176b763a8b75ad7b64f"),
            // lanczos upscale: negative lobes clip at 0 and 255
            (Resample::Lanczos, 4, 3, "eaa54cc0a6a0faeee9bca547a395fe02ef60cff7626930e4273aab900ee86dfe80998516", 9, 7, "f2aa24ed9e3ae38e6ae296baf4cafffdebffeae2a9d2c344c2af06f3a759dda664b9a674aab99bd2ddd2f8f0dee5d0acbea36fa58849f0a0b2bfb0aa70ca854bf06b98fa78eef89bdcb2af9d6eb47547b6c288ff889fec2dc3a604f65860ff38caff5abfa29d7d48d55213f66a66ea5467e7346cc52f959261d06797ff5c98bb727d628e6b2ba1264fae3a37c05e17d47f2fd77f9db875fb7f7fde4f8e9035965d290042882d1ba87800dcb000ff927fe963f99670f23b98ad00b07c00"),
            // bilinear downscale
            (Resample::Bilinear, 5, 5, "010bc5250abe5007b5760aaea00aa20025c12c21b35322a87e229ea61f97053fb42f3caa5940a27e3994a53d8b0a58aa3052a256569985568ba657820a6d99316d945b6a88806a7fad6d74", 3, 2, "1324ba5422aa93229b1955a5585496985585"),
            // nearest (ImagingScaleAffine)
            (Resample::Nearest, 5, 3, "904230900dff37ebe4e811e8f4e7bbe3b2c90f3b92516dd4327c3726fef45e4f76a45522a0647fca574bcd1295", 7, 2, "904230900dff900dff37ebe4e811e8e811e8f4e7bb5e4f76a45522a45522a0647fca574bca574bcd1295"),
            // hamming
            (Resample::Hamming, 6, 4, "8a7bab27e52226ed1ad05938ec4e0377ae20baf291abfe86243aa5dfa3c111f744fd0d2411412aa85466bac79f602adb383bac01aa932bed2674f8a951782045a5fb0850243e4047", 4, 3, "7aa6862fd631cc683b9d881b799e65808b977d75b6666d643ed648689d553a7fbf2a4f4b"),
            // box
            (Resample::Box, 6, 4, "000ec6250bc1540db9760dafa00ca8cb0d9e0421c12d1fb05023af7d20a39f1f98cb258c073db22a3ea5593e9c7e4093a73891cb3c860753a435579c56559884528ea55585cd5577", 4, 3, "130dc4540db98b0daccb0d9e192fb35531a6912e98cb31891e55a056559895548acd5577"),
            // vertical pass only
            (Resample::Bicubic, 9, 4, "f6c3642ed8860ec8f33ed809cbbac7c551d7ad484591e5beec71baddb69a57f9f246dc5f69e693f6694963c5d1b9e6e570f2c1fc043523ef2c2409d04603515fb70dacfc635e57e27492677ccc7d8e18ead78cf3a92f58aa3e8e1432cd79ae30bb2fe830e57f486e90cdcfb1", 9, 2, "d2c4713bd5c229bf9f57e141de9d878c88d5b0939082ecb9e9318384bc92672fa07631693f7e759cc9458552e35bc58262a58bb566bc"),
            // MKS2021, horizontal pass only
            (Resample::Mks2021, 3, 5, "1c236839100e6cf761368a04f62058a493615ca9a6679d92ab3bb2bf174c5ddd6e0feb7745265c4630bd6d6675", 8, 5, "1a2c761d2064230a403000154433135ba03b6aee5d72ff6f1a9b003e8507845a22df264afb2961d16064a98e6194a5605ca8aa5ca9a55bac9c5fa892738c95935ea5a93fb1b42eb7ca0048bc1e4da15f5874bc6847f27324f57611ec7707e77746264d4526604226864229b44c3aba5f53976c6478726d69"),
        ];
        for &(filter, w, h, input, ow, oh, expected) in PILLOW_CASES {
            let out = pillow_resize(&frame(w, h, hex(input)), ow, oh, filter).unwrap();
            assert_eq!(out.data, hex(expected), "{filter:?} {w}x{h} -> {ow}x{oh}");
        }
    }

    #[test]
    fn matches_transformers_bit_for_bit() {
        // Outputs of transformers 4.57.1's slow image processors (Pillow
        // 13.0.0, NumPy 2.4.6): `pixel_values[0]` as little-endian float32.
        let check = |config: &str, w, h, input: &str, shape: [usize; 3], expected: &str| {
            let cfg = ProcessorConfig::from_json_str(config).unwrap();
            let (v, s) = cfg.preprocess(&frame(w, h, hex(input))).unwrap();
            assert_eq!(s, shape);
            let bits: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            assert_eq!(bits, hex(expected), "{config}");
        };
        check(
            r#"{"size": {"shortest_edge": 4}, "crop_size": {"height": 3, "width": 3},
                "do_center_crop": true, "resample": 3,
                "image_mean": [0.48145466, 0.4578275, 0.40821073],
                "image_std": [0.26862954, 0.26130258, 0.27577711]}"#,
            7,
            5,
            CLIP_SMALL_IN,
            [3, 3, 3],
            CLIP_SMALL_OUT,
        );
        // Resize 6x4 -> 4x3 (bilinear), then a 5x4 crop pads one black row
        // above and one below.
        check(
            r#"{"size": {"shortest_edge": 3}, "crop_size": {"height": 5, "width": 4},
                "do_center_crop": true, "resample": 2,
                "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}"#,
            6,
            4,
            BIT_PADDED_IN,
            [3, 5, 4],
            BIT_PADDED_OUT,
        );
    }

    // ------------------------------------------------------------ geometry

    #[test]
    fn shortest_edge_sizes() {
        let se = |w, h, n| resize_output_size(w, h, ResizeRule::ShortestEdge(n)).unwrap();
        // (height, width); long side int(n * long / short).
        assert_eq!(se(450, 655, 224), (326, 224)); // 326.04
        assert_eq!(se(1280, 720, 224), (224, 398)); // 398.2
        assert_eq!(se(720, 1280, 224), (398, 224));
        assert_eq!(se(300, 300, 224), (224, 224));
        assert_eq!(se(640, 480, 256), (256, 341)); // 341.33
        assert_eq!(se(3, 2, 224), (224, 336));
        assert_eq!(se(7, 3, 224), (224, 522)); // 522.67: truncated, not rounded
        assert_eq!(se(999, 1000, 224), (224, 224)); // 224.22
        assert_eq!(se(1, 1, 224), (224, 224));
        // Too long a long side is an error, not a huge allocation.
        assert!(resize_output_size(1, 5000, ResizeRule::ShortestEdge(224)).is_err());
        let exact = ResizeRule::Exact {
            height: 384,
            width: 200,
        };
        assert_eq!(resize_output_size(7, 9, exact).unwrap(), (384, 200));
    }

    #[test]
    fn center_crop_offsets() {
        // (source start, destination start, count)
        assert_eq!(crop_span(224, 224), (0, 0, 224));
        assert_eq!(crop_span(326, 224), (51, 0, 224));
        assert_eq!(crop_span(7, 4), (1, 0, 4)); // (7 - 4) // 2
        assert_eq!(crop_span(8, 5), (1, 0, 5));
        assert_eq!(crop_span(3, 6), (0, 2, 3)); // pad ceil(3 / 2) before
        assert_eq!(crop_span(4, 6), (0, 1, 4));
    }

    #[test]
    fn crop_and_pad_without_resize() {
        let cfg = ProcessorConfig::from_json_str(
            r#"{"do_resize": false, "do_center_crop": true, "crop_size": [4, 2],
                "do_rescale": false, "do_normalize": false}"#,
        )
        .unwrap();
        // 3x2 image, levels 1..=6 (grey); crop 4 rows x 2 columns: columns
        // 0..2 ((3 - 2) // 2 = 0), one zero row above and one below.
        let (v, shape) = cfg.preprocess(&grey(3, 2, &[1, 2, 3, 4, 5, 6])).unwrap();
        assert_eq!(shape, [3, 4, 2]);
        let plane = [0.0, 0.0, 1.0, 2.0, 4.0, 5.0, 0.0, 0.0];
        assert_eq!(v, plane.repeat(3));
    }

    // ------------------------------------------------------------ values

    #[test]
    fn rescale_and_normalize_like_numpy() {
        let cfg = ProcessorConfig::from_json_str(CLIP_JSON).unwrap();
        let plan = cfg.plan_at(None).unwrap();
        for c in 0..3 {
            for x in [0usize, 1, 127, 128, 254, 255] {
                // float32(float64(x) * (1/255)), then float32 (v - m) / s.
                let v = (x as f64 * 0.00392156862745098) as f32;
                let want = (v - CLIP_MEAN[c] as f32) / CLIP_STD[c] as f32;
                assert_eq!(plan.lut[c][x].to_bits(), want.to_bits());
            }
        }
        assert_eq!(plan.lut[0][255], (1.0 - 0.48145466f32) / 0.26862954f32);
        // Without rescale: raw levels, normalised with a scalar mean/std.
        let cfg = ProcessorConfig::from_json_str(
            r#"{"do_resize": false, "do_rescale": false, "image_mean": 0.5, "image_std": 2}"#,
        )
        .unwrap();
        let (v, shape) = cfg.preprocess(&frame(1, 1, vec![0, 100, 255])).unwrap();
        assert_eq!(shape, [3, 1, 1]);
        assert_eq!(v, [-0.25, 49.75, 127.25]);
    }

    #[test]
    fn output_is_channel_first() {
        let cfg = ProcessorConfig::from_json_str(
            r#"{"do_resize": false, "do_normalize": false, "rescale_factor": 1.0}"#,
        )
        .unwrap();
        let (v, shape) = cfg
            .preprocess(&frame(2, 1, vec![1, 2, 3, 4, 5, 6]))
            .unwrap();
        assert_eq!(shape, [3, 1, 2]);
        assert_eq!(v, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }

    #[test]
    fn real_configs_parse_and_run() {
        let img = frame(
            64,
            40,
            (0..64 * 40 * 3).map(|i| (i * 7 % 256) as u8).collect(),
        );
        let legacy = ProcessorConfig::from_json_str(CLIP_LEGACY_JSON).unwrap();
        let clip = ProcessorConfig::from_json_str(CLIP_JSON).unwrap();
        assert_eq!(
            legacy.preprocess(&img).unwrap(),
            clip.preprocess(&img).unwrap()
        );
        let (_, s) = clip.preprocess(&img).unwrap();
        assert_eq!(s, [3, 224, 224]);
        let (_, s) = ProcessorConfig::from_json_str(SIGLIP_JSON)
            .unwrap()
            .preprocess(&img)
            .unwrap();
        assert_eq!(s, [3, 224, 224]);
        let dino = ProcessorConfig::from_json_str(DINO_JSON).unwrap();
        assert_eq!(dino.do_convert_rgb, Some(true));
        let (_, s) = dino.preprocess(&img).unwrap();
        assert_eq!(s, [3, 224, 224]);
        // Defaults: rescale 1/255, bicubic, no crop.
        let d = ProcessorConfig::from_json_str(r#"{"size": 8, "image_mean": 0, "image_std": 1}"#)
            .unwrap();
        assert_eq!(
            (
                d.do_resize,
                d.resample,
                d.do_center_crop,
                d.do_rescale,
                d.do_normalize
            ),
            (true, 3, false, true, true)
        );
        assert_eq!(d.rescale_factor, 1.0 / 255.0);
        // null is "absent".
        let n = ProcessorConfig::from_json_str(
            r#"{"size": 8, "crop_size": null, "resample": null, "image_mean": 0, "image_std": 1}"#,
        )
        .unwrap();
        assert_eq!((n.crop_size, n.resample), (None, 3));
    }

    // ------------------------------------------------------------ errors

    fn config_err(json: &str) -> String {
        ProcessorConfig::from_json_str(json)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn config_errors_name_the_field() {
        let ok = r#""image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]"#;
        let cases = [
            (format!("{{{ok}}}"), "`size`"),
            (format!(r#"{{"size": 0, {ok}}}"#), "`size`"),
            (
                format!(r#"{{"size": {{"shortest_edge": 0}}, {ok}}}"#),
                "`size`",
            ),
            (format!(r#"{{"size": {{"height": 5}}, {ok}}}"#), "`size`"),
            (
                format!(r#"{{"size": {{"wdth": 5, "height": 5}}, {ok}}}"#),
                "`size`",
            ),
            (format!(r#"{{"size": [1, 2, 3], {ok}}}"#), "`size`"),
            (format!(r#"{{"size": -3, {ok}}}"#), "`size`"),
            (format!(r#"{{"size": "224", {ok}}}"#), "`size`"),
            (format!(r#"{{"size": 99999999, {ok}}}"#), "`size`"),
            (
                format!(r#"{{"size": {{"shortest_edge": 224, "longest_edge": 448}}, {ok}}}"#),
                "`size`",
            ),
            (
                format!(r#"{{"size": 8, "resample": 9, {ok}}}"#),
                "`resample`",
            ),
            (
                format!(r#"{{"size": 8, "resample": "bicubic", {ok}}}"#),
                "`resample`",
            ),
            (
                format!(r#"{{"size": 8, "do_center_crop": true, {ok}}}"#),
                "`crop_size`",
            ),
            (
                format!(
                    r#"{{"size": 8, "do_center_crop": true, "crop_size": {{"height": 0, "width": 3}}, {ok}}}"#
                ),
                "`crop_size`",
            ),
            (
                format!(r#"{{"size": 8, "do_resize": "yes", {ok}}}"#),
                "`do_resize`",
            ),
            (
                r#"{"size": 8, "image_std": [1, 1, 1]}"#.to_string(),
                "`image_mean`",
            ),
            (
                r#"{"size": 8, "image_mean": [1, 1]}"#.to_string(),
                "`image_mean`",
            ),
            (
                r#"{"size": 8, "image_mean": 0, "image_std": [1, 0, 1]}"#.to_string(),
                "`image_std`",
            ),
            (
                r#"{"size": 8, "image_mean": 0, "image_std": "x"}"#.to_string(),
                "`image_std`",
            ),
            (
                r#"{"size": 8, "image_mean": 1e300, "image_std": 1}"#.to_string(),
                "`image_mean`",
            ),
            (
                format!(r#"{{"size": 8, "rescale_factor": "x", {ok}}}"#),
                "`rescale_factor`",
            ),
        ];
        for (json, field) in cases {
            let msg = config_err(&json);
            assert!(msg.contains(field), "{json}\n -> {msg}");
        }
        assert!(config_err("[1, 2]").contains("JSON object"));
        assert!(config_err("{").contains("not valid JSON"));
    }

    #[test]
    fn from_file_names_the_file() {
        let dir = std::env::temp_dir().join(format!("leoma-preprocess-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.json");
        let msg = ProcessorConfig::from_file(&missing)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("missing.json"), "{msg}");

        let bad = dir.join("preprocessor_config.json");
        std::fs::write(&bad, r#"{"size": {"shortest_edge": 224}, "resample": 11}"#).unwrap();
        let msg = ProcessorConfig::from_file(&bad).unwrap_err().to_string();
        assert!(
            msg.contains("preprocessor_config.json") && msg.contains("`resample`"),
            "{msg}"
        );

        std::fs::write(&bad, CLIP_JSON).unwrap();
        let cfg = ProcessorConfig::from_file(&bad).unwrap();
        assert_eq!(cfg, ProcessorConfig::from_json_str(CLIP_JSON).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hostile_images_are_errors_not_panics() {
        let clip = ProcessorConfig::from_json_str(CLIP_JSON).unwrap();
        for img in [
            frame(0, 0, vec![]),
            frame(0, 5, vec![]),
            frame(5, 0, vec![]),
            frame(2, 2, vec![0; 11]),
            frame(usize::MAX, 3, vec![0; 9]),
            frame(1, 5000, vec![0; 15000]), // long side would be 1.12 M pixels
        ] {
            assert!(
                clip.preprocess(&img).is_err(),
                "{}x{}",
                img.width,
                img.height
            );
        }
        assert!(pillow_resize(&frame(1, 1, vec![0; 3]), 0, 3, Resample::Bicubic).is_err());
        // Tiny inputs are fine: a 1x1 image upscales to 224 and crops.
        let (v, s) = clip.preprocess(&frame(1, 1, vec![255, 0, 9])).unwrap();
        assert_eq!(s, [3, 224, 224]);
        assert!(v.iter().all(|x| x.is_finite()));
        // A struct built by hand is validated too.
        let mut bad = clip.clone();
        bad.size = Some(SizeSpec::Int(0));
        assert!(bad.preprocess(&frame(1, 1, vec![0; 3])).is_err());
        assert!(bad.validate().is_err());
    }
}
