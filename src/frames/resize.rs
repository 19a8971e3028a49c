//! Resizing with a named, pinned filter (the name goes into the frame policy).

use super::{Plane, RgbFrame};
use image::imageops::FilterType;

#[derive(Debug, thiserror::Error)]
#[error("unknown resize filter '{0}' (expected triangle, catmull-rom or lanczos3)")]
pub struct UnknownFilter(pub String);

pub fn filter_by_name(name: &str) -> Result<FilterType, UnknownFilter> {
    match name {
        "triangle" => Ok(FilterType::Triangle),
        "catmull-rom" => Ok(FilterType::CatmullRom),
        "lanczos3" => Ok(FilterType::Lanczos3),
        other => Err(UnknownFilter(other.to_string())),
    }
}

/// Resize an RGB frame; returns a clone when the size already matches.
pub fn resize_rgb(frame: &RgbFrame, width: usize, height: usize, filter: FilterType) -> RgbFrame {
    if frame.width == width && frame.height == height {
        return frame.clone();
    }
    let out = image::imageops::resize(&frame.to_image(), width as u32, height as u32, filter);
    RgbFrame::from_image(&out)
}

/// Resize a plane of 8-bit-unit values (0..=255), kept as f32 without rounding.
/// (The image crate treats f32 pixels as 0..=1 and clamps to that range, hence
/// the scaling around the call.)
pub fn resize_plane(plane: &Plane, width: usize, height: usize, filter: FilterType) -> Plane {
    if plane.width == width && plane.height == height {
        return plane.clone();
    }
    let img = image::ImageBuffer::<image::Luma<f32>, Vec<f32>>::from_raw(
        plane.width as u32,
        plane.height as u32,
        plane.data.iter().map(|v| v / 255.0).collect(),
    )
    .expect("Plane dimensions match its buffer");
    let out = image::imageops::resize(&img, width as u32, height as u32, filter);
    Plane::new(
        width,
        height,
        out.into_raw().into_iter().map(|v| v * 255.0).collect(),
    )
}

/// Shrink `(w, h)` to fit `(max_w, max_h)` keeping the aspect ratio; never enlarges.
pub fn fit_within(w: usize, h: usize, max_w: usize, max_h: usize) -> (usize, usize) {
    if w <= max_w && h <= max_h {
        return (w, h);
    }
    let s = (max_w as f64 / w as f64).min(max_h as f64 / h as f64);
    (
        ((w as f64 * s).round() as usize).max(1),
        ((h as f64 * s).round() as usize).max(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_keeps_constant_images_constant() {
        let f = RgbFrame::new(64, 32, vec![77; 64 * 32 * 3]);
        for name in ["triangle", "catmull-rom", "lanczos3"] {
            let r = resize_rgb(&f, 20, 10, filter_by_name(name).unwrap());
            assert_eq!((r.width, r.height), (20, 10));
            assert!(r.data.iter().all(|&v| v == 77), "{name}");
        }
    }

    #[test]
    fn plane_resize_keeps_8_bit_units() {
        let p = Plane::new(
            4,
            2,
            vec![0.0, 100.0, 200.0, 255.0, 0.0, 100.0, 200.0, 255.0],
        );
        let r = resize_plane(&p, 2, 1, FilterType::Triangle);
        assert!(r.data.iter().all(|v| (0.0..=255.0).contains(v)));
        assert!((r.mean() - p.mean()).abs() < 3.0, "{:?}", r.data);
        assert!(r.data[1] > 150.0, "{:?}", r.data);
    }

    #[test]
    fn unknown_filter_is_an_error() {
        assert!(filter_by_name("nearest-ish").is_err());
    }

    #[test]
    fn fit_within_keeps_aspect() {
        assert_eq!(fit_within(1920, 1080, 832, 480), (832, 468));
        assert_eq!(fit_within(320, 240, 832, 480), (320, 240));
    }
}
