//! Pixels for Qwen3-VL, as transformers' `Qwen2VLImageProcessor` (the image
//! processor Qwen3-VL uses) and `Qwen3VLVideoProcessor` make them with
//! torchvision: `smart_resize` to multiples of patch x merge within a pixel
//! budget, torch's uint8 bicubic antialiased resize (ported below, bit-exact:
//! int16 weights with torch's precision rule, horizontal pass then vertical),
//! the fused rescale + normalisation in float32, and the patch layout the
//! vision tower's Conv3d reads (an image repeated over the temporal patch, a
//! clip padded with its last frame to a whole temporal patch).

use super::torch_resize::resize_bicubic_aa;
use crate::frames::RgbFrame;
use crate::models::ModelError;
use std::path::Path;

/// A preprocessed image or clip: rows of `C * T * P * P` values, in the order
/// the vision tower reads them, and the patch grid (t, h, w).
#[derive(Clone, Debug)]
pub struct VisionInput {
    pub pixels: Vec<f32>,
    pub grid: [usize; 3],
    /// Width and height the frames were resized to.
    pub resized: (usize, usize),
}

impl VisionInput {
    pub fn rows(&self) -> usize {
        self.grid.iter().product()
    }
}

/// The processor settings a checkpoint fixes (its pixel budgets are replaced
/// by the frame policy's).
#[derive(Clone, Debug, PartialEq)]
pub struct ProcessorSettings {
    pub patch_size: usize,
    pub merge_size: usize,
    pub temporal_patch_size: usize,
    pub image_mean: [f32; 3],
    pub image_std: [f32; 3],
    pub rescale_factor: f64,
}

#[derive(serde::Deserialize)]
struct RawSettings {
    #[serde(default)]
    patch_size: Option<usize>,
    #[serde(default)]
    merge_size: Option<usize>,
    #[serde(default)]
    temporal_patch_size: Option<usize>,
    #[serde(default)]
    image_mean: Option<Vec<f64>>,
    #[serde(default)]
    image_std: Option<Vec<f64>>,
    #[serde(default)]
    rescale_factor: Option<f64>,
    #[serde(default)]
    resample: Option<u32>,
    #[serde(default)]
    do_normalize: Option<bool>,
    #[serde(default)]
    do_rescale: Option<bool>,
}

impl ProcessorSettings {
    /// Read `processor_config.json` (transformers 5: `image_processor` and
    /// `video_processor` inside) or `preprocessor_config.json` (the hub's
    /// layout); both processors must agree on what matters here.
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let bad = |detail: String| ModelError::BadFile {
            path: path.to_path_buf(),
            detail,
        };
        let v: serde_json::Value = crate::models::loader::read_json(path)?;
        let parts: Vec<&serde_json::Value> =
            match (v.get("image_processor"), v.get("video_processor")) {
                (None, None) => vec![&v],
                (a, b) => [a, b].into_iter().flatten().collect(),
            };
        let mut out: Option<Self> = None;
        for part in parts {
            let raw: RawSettings = serde_json::from_value(part.clone())
                .map_err(|e| bad(format!("invalid processor settings: {e}")))?;
            let s = Self::from_raw(raw).map_err(bad)?;
            match &out {
                Some(prev) if *prev != s => {
                    return Err(bad(
                        "image and video processors disagree on patching or normalisation".into(),
                    ))
                }
                _ => out = Some(s),
            }
        }
        out.ok_or_else(|| bad("no processor settings".into()))
    }

    fn from_raw(r: RawSettings) -> Result<Self, String> {
        if r.resample.is_some_and(|m| m != 3) {
            return Err("only bicubic resampling (3) is supported".into());
        }
        if r.do_normalize == Some(false) || r.do_rescale == Some(false) {
            return Err("rescaling and normalisation must be on".into());
        }
        let three = |v: Option<Vec<f64>>, name: &str| -> Result<[f32; 3], String> {
            let v = v.unwrap_or_else(|| vec![0.5; 3]);
            match v[..] {
                [a, b, c] => Ok([a as f32, b as f32, c as f32]),
                _ => Err(format!("{name} needs 3 values")),
            }
        };
        let s = Self {
            patch_size: r.patch_size.unwrap_or(16),
            merge_size: r.merge_size.unwrap_or(2),
            temporal_patch_size: r.temporal_patch_size.unwrap_or(2),
            image_mean: three(r.image_mean, "image_mean")?,
            image_std: three(r.image_std, "image_std")?,
            rescale_factor: r.rescale_factor.unwrap_or(1.0 / 255.0),
        };
        if s.patch_size == 0 || s.merge_size == 0 || s.temporal_patch_size == 0 {
            return Err("patch, merge and temporal patch sizes must be positive".into());
        }
        if s.image_std.iter().any(|v| *v == 0.0) || s.rescale_factor <= 0.0 {
            return Err("image_std and rescale_factor must be non-zero".into());
        }
        Ok(s)
    }

    fn factor(&self) -> usize {
        self.patch_size * self.merge_size
    }

    /// Resize `img` for the image path (`Qwen2VLImageProcessor`).
    pub fn image(
        &self,
        img: &RgbFrame,
        min_pixels: usize,
        max_pixels: usize,
    ) -> Result<VisionInput, String> {
        let (h, w) =
            smart_resize_image(img.height, img.width, self.factor(), min_pixels, max_pixels)?;
        let resized = resize_bicubic_aa(img, w, h);
        Ok(self.patchify(std::slice::from_ref(&resized), self.temporal_patch_size))
    }

    /// Resize `frames` (already sampled) for the video path (`Qwen3VLVideoProcessor`).
    pub fn video(
        &self,
        frames: &[RgbFrame],
        min_pixels: usize,
        max_pixels: usize,
    ) -> Result<VisionInput, String> {
        let first = frames.first().ok_or("a video needs frames")?;
        if frames
            .iter()
            .any(|f| (f.width, f.height) != (first.width, first.height))
        {
            return Err("video frames differ in size".into());
        }
        let (h, w) = smart_resize_video(
            frames.len(),
            first.height,
            first.width,
            self.temporal_patch_size,
            self.factor(),
            min_pixels,
            max_pixels,
        )?;
        let resized: Vec<RgbFrame> = frames.iter().map(|f| resize_bicubic_aa(f, w, h)).collect();
        Ok(self.patchify(&resized, 1))
    }

    /// Normalise and lay out patches. `repeat` > 1: each frame stands for
    /// `repeat` identical frames (an image over the temporal patch); else the
    /// frames are padded with the last one to a whole temporal patch.
    fn patchify(&self, frames: &[RgbFrame], repeat: usize) -> VisionInput {
        let (p, m, tp) = (self.patch_size, self.merge_size, self.temporal_patch_size);
        let (w, h) = (frames[0].width, frames[0].height);
        let inv = (1.0 / self.rescale_factor) as f32;
        let mean: Vec<f32> = self.image_mean.iter().map(|v| v * inv).collect();
        let std: Vec<f32> = self.image_std.iter().map(|v| v * inv).collect();
        // frames in temporal order, each repeated `repeat` times, padded to a multiple of tp
        let mut order: Vec<usize> = (0..frames.len())
            .flat_map(|i| std::iter::repeat_n(i, repeat))
            .collect();
        while order.len() % tp != 0 {
            order.push(order[order.len() - 1]);
        }
        let normalised: Vec<Vec<f32>> = frames
            .iter()
            .map(|f| {
                // planar C, H, W
                let mut out = vec![0f32; 3 * h * w];
                for (i, px) in f.data.chunks_exact(3).enumerate() {
                    for c in 0..3 {
                        out[c * h * w + i] = (px[c] as f32 - mean[c]) / std[c];
                    }
                }
                out
            })
            .collect();
        let (gt, gh, gw) = (order.len() / tp, h / p, w / p);
        let row = 3 * tp * p * p;
        let mut pixels = Vec::with_capacity(gt * gh * gw * row);
        for t in 0..gt {
            for bh in 0..gh / m {
                for bw in 0..gw / m {
                    for ih in 0..m {
                        for iw in 0..m {
                            let (y0, x0) = ((bh * m + ih) * p, (bw * m + iw) * p);
                            for c in 0..3 {
                                for k in 0..tp {
                                    let plane = &normalised[order[t * tp + k]][c * h * w..];
                                    for y in 0..p {
                                        let start = (y0 + y) * w + x0;
                                        pixels.extend_from_slice(&plane[start..start + p]);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        VisionInput {
            pixels,
            grid: [gt, gh, gw],
            resized: (w, h),
        }
    }
}

/// Python's `round` on a float: half to even.
fn py_round(x: f64) -> f64 {
    x.round_ties_even()
}

fn check_aspect(height: usize, width: usize) -> Result<(), String> {
    let (a, b) = (height.max(width) as f64, height.min(width).max(1) as f64);
    if a / b > 200.0 {
        return Err(format!(
            "absolute aspect ratio must be smaller than 200, got {}",
            a / b
        ));
    }
    Ok(())
}

/// transformers' `qwen2_vl.image_processing_qwen2_vl.smart_resize`: (height, width).
pub fn smart_resize_image(
    height: usize,
    width: usize,
    factor: usize,
    min_pixels: usize,
    max_pixels: usize,
) -> Result<(usize, usize), String> {
    check_aspect(height, width)?;
    let f = factor as f64;
    let (hf, wf) = (height as f64, width as f64);
    let mut h_bar = py_round(hf / f) * f;
    let mut w_bar = py_round(wf / f) * f;
    if h_bar * w_bar > max_pixels as f64 {
        let beta = ((hf * wf) / max_pixels as f64).sqrt();
        h_bar = f.max((hf / beta / f).floor() * f);
        w_bar = f.max((wf / beta / f).floor() * f);
    } else if h_bar * w_bar < min_pixels as f64 {
        let beta = (min_pixels as f64 / (hf * wf)).sqrt();
        h_bar = (hf * beta / f).ceil() * f;
        w_bar = (wf * beta / f).ceil() * f;
    }
    Ok((h_bar as usize, w_bar as usize))
}

/// transformers' `qwen3_vl.video_processing_qwen3_vl.smart_resize`: (height, width).
pub fn smart_resize_video(
    num_frames: usize,
    height: usize,
    width: usize,
    temporal_factor: usize,
    factor: usize,
    min_pixels: usize,
    max_pixels: usize,
) -> Result<(usize, usize), String> {
    if num_frames < temporal_factor {
        return Err(format!(
            "t:{num_frames} must be larger than temporal_factor:{temporal_factor}"
        ));
    }
    let (mut height, mut width) = (height, width);
    if height < factor || width < factor {
        let scale = (factor as f64 / height as f64).max(factor as f64 / width as f64);
        height = (height as f64 * scale) as usize;
        width = (width as f64 * scale) as usize;
    }
    check_aspect(height, width)?;
    let f = factor as f64;
    let (hf, wf, nf) = (height as f64, width as f64, num_frames as f64);
    let mut h_bar = py_round(hf / f) * f;
    let mut w_bar = py_round(wf / f) * f;
    let t_bar = py_round(nf / temporal_factor as f64) * temporal_factor as f64;
    if t_bar * h_bar * w_bar > max_pixels as f64 {
        let beta = ((nf * hf * wf) / max_pixels as f64).sqrt();
        h_bar = f.max((hf / beta / f).floor() * f);
        w_bar = f.max((wf / beta / f).floor() * f);
    } else if t_bar * h_bar * w_bar < min_pixels as f64 {
        let beta = (min_pixels as f64 / (nf * hf * wf)).sqrt();
        h_bar = (hf * beta / f).ceil() * f;
        w_bar = (wf * beta / f).ceil() * f;
    }
    Ok((h_bar as usize, w_bar as usize))
}

/// Frame timestamps the processor prints before each temporal patch: the mean
/// of the first and last frame time within the patch (the index list padded
/// with its last index to a whole patch).
pub fn timestamps(indices: &[usize], fps: f64, temporal_patch_size: usize) -> Vec<f64> {
    let mut idx: Vec<usize> = indices.to_vec();
    while !idx.is_empty() && idx.len() % temporal_patch_size != 0 {
        idx.push(idx[idx.len() - 1]);
    }
    let t: Vec<f64> = idx.iter().map(|&i| i as f64 / fps).collect();
    t.chunks(temporal_patch_size)
        .map(|c| (c[0] + c[c.len() - 1]) / 2.0)
        .collect()
}

/// `numpy.linspace(0, total - 1, n).round()`: the pinned uniform sampling.
pub fn uniform_indices(total: usize, n: usize) -> Vec<usize> {
    if n == 0 || total == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![0];
    }
    let stop = (total - 1) as f64;
    let step = stop / (n - 1) as f64;
    (0..n)
        .map(|i| {
            let v = if i == n - 1 { stop } else { i as f64 * step };
            py_round(v) as usize
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_resize_matches_the_policy_sizes() {
        // 832x480 clip, 16 frames, 16 x 114688 pixels: 416x256 (see the golden)
        assert_eq!(
            smart_resize_video(16, 480, 832, 2, 32, 4096, 16 * 114688).unwrap(),
            (256, 416)
        );
        // 1280x720 first frame, 114688 pixels: 448x224
        assert_eq!(
            smart_resize_image(720, 1280, 32, 4096, 114688).unwrap(),
            (224, 448)
        );
        // 22.5 rounds half to even, as Python's round does
        assert_eq!(
            smart_resize_image(720, 1280, 32, 4096, 1 << 30).unwrap(),
            (704, 1280)
        );
        assert!(smart_resize_image(10, 4000, 32, 4096, 1 << 20).is_err());
    }

    #[test]
    fn uniform_sampling_rounds_half_to_even() {
        assert_eq!(
            uniform_indices(81, 16),
            vec![0, 5, 11, 16, 21, 27, 32, 37, 43, 48, 53, 59, 64, 69, 75, 80]
        );
        assert_eq!(uniform_indices(5, 2), vec![0, 4]);
        // linspace gives 2.5, which rounds to 2
        assert_eq!(uniform_indices(6, 3), vec![0, 2, 5]);
    }

    #[test]
    fn timestamps_average_each_temporal_patch() {
        let t = timestamps(&[0, 5, 11], 16.0, 2);
        assert_eq!(t, vec![5.0 / 32.0, 11.0 / 16.0]);
    }
}
