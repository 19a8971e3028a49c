//! Frames as plain data: what decoding hands to the metrics.
//!
//! `RgbFrame` is 8-bit interleaved RGB; `Plane` is one float channel (luma or a
//! chroma difference) in 8-bit units (0..=255), row-major.

pub mod align;
pub mod policy;
pub mod resize;

pub use policy::FramePolicy;

/// 8-bit RGB image, row-major, interleaved `[r, g, b, r, g, b, ...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RgbFrame {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

/// One float channel, row-major, values in 8-bit units.
#[derive(Clone, Debug, PartialEq)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl RgbFrame {
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Self {
        assert_eq!(data.len(), width * height * 3, "RgbFrame buffer size");
        Self {
            width,
            height,
            data,
        }
    }

    pub fn from_image(img: &image::RgbImage) -> Self {
        Self::new(
            img.width() as usize,
            img.height() as usize,
            img.as_raw().clone(),
        )
    }

    pub fn to_image(&self) -> image::RgbImage {
        image::RgbImage::from_raw(self.width as u32, self.height as u32, self.data.clone())
            .expect("RgbFrame dimensions match its buffer")
    }

    /// BT.601 full-range luma, the plane every luminance metric uses.
    pub fn luma(&self) -> Plane {
        let data = self
            .data
            .chunks_exact(3)
            .map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32)
            .collect();
        Plane {
            width: self.width,
            height: self.height,
            data,
        }
    }

    /// Luma rounded to 8 bits, as ffmpeg's `gray` pixel format holds it.
    pub fn luma_u8(&self) -> Vec<u8> {
        self.luma()
            .data
            .iter()
            .map(|v| v.round().clamp(0.0, 255.0) as u8)
            .collect()
    }

    /// BT.601 chroma differences (Cb, Cr), centred on 0.
    pub fn chroma(&self) -> (Plane, Plane) {
        let n = self.width * self.height;
        let (mut cb, mut cr) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for p in self.data.chunks_exact(3) {
            let (r, g, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
            cb.push(-0.168_736 * r - 0.331_264 * g + 0.5 * b);
            cr.push(0.5 * r - 0.418_688 * g - 0.081_312 * b);
        }
        let plane = |data| Plane {
            width: self.width,
            height: self.height,
            data,
        };
        (plane(cb), plane(cr))
    }

    /// Mean of each channel.
    pub fn channel_means(&self) -> [f64; 3] {
        let mut s = [0f64; 3];
        for p in self.data.chunks_exact(3) {
            for c in 0..3 {
                s[c] += p[c] as f64;
            }
        }
        let n = (self.width * self.height).max(1) as f64;
        [s[0] / n, s[1] / n, s[2] / n]
    }
}

impl Plane {
    pub fn new(width: usize, height: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), width * height, "Plane buffer size");
        Self {
            width,
            height,
            data,
        }
    }

    pub fn filled(width: usize, height: usize, value: f32) -> Self {
        Self::new(width, height, vec![value; width * height])
    }

    #[inline]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    pub fn mean(&self) -> f64 {
        self.data.iter().map(|&v| v as f64).sum::<f64>() / self.data.len().max(1) as f64
    }

    pub fn std(&self) -> f64 {
        let m = self.mean();
        let var = self
            .data
            .iter()
            .map(|&v| (v as f64 - m).powi(2))
            .sum::<f64>()
            / self.data.len().max(1) as f64;
        var.sqrt()
    }

    /// Mean absolute difference to another plane of the same size.
    pub fn mean_abs_diff(&self, other: &Plane) -> f64 {
        debug_assert_eq!((self.width, self.height), (other.width, other.height));
        self.data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| (a - b).abs() as f64)
            .sum::<f64>()
            / self.data.len().max(1) as f64
    }
}
