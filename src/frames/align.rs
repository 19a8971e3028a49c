//! Aligning the conditioning first frame to the clip's geometry.
//!
//! The reference miner template resizes the task image to the generation size
//! (832x480) without cropping, so the source image (often 1280x720) is stretched
//! to the clip's width and height. We do the same, with the filter the frame
//! policy pins, and record what was done.

use super::resize::{filter_by_name, resize_rgb, UnknownFilter};
use super::RgbFrame;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alignment {
    pub method: &'static str,
    pub filter: String,
    pub from: [usize; 2],
    pub to: [usize; 2],
    /// Relative aspect-ratio change the stretch applied (0 = none).
    pub aspect_change: f64,
}

/// Resize `condition` to `(width, height)` as the reference miner does.
pub fn align_condition(
    condition: &RgbFrame,
    width: usize,
    height: usize,
    filter_name: &str,
) -> Result<(RgbFrame, Alignment), UnknownFilter> {
    let filter = filter_by_name(filter_name)?;
    let aligned = resize_rgb(condition, width, height, filter);
    let src_aspect = condition.width as f64 / condition.height as f64;
    let dst_aspect = width as f64 / height as f64;
    let alignment = Alignment {
        method: "stretch",
        filter: filter_name.to_string(),
        from: [condition.width, condition.height],
        to: [width, height],
        aspect_change: (dst_aspect / src_aspect - 1.0).abs(),
    };
    Ok((aligned, alignment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_720p_to_clip_size_and_reports_aspect_change() {
        let c = RgbFrame::new(1280, 720, vec![10; 1280 * 720 * 3]);
        let (a, info) = align_condition(&c, 832, 480, "catmull-rom").unwrap();
        assert_eq!((a.width, a.height), (832, 480));
        assert_eq!(info.from, [1280, 720]);
        assert!(
            (info.aspect_change - 0.025).abs() < 1e-3,
            "{}",
            info.aspect_change
        );
    }
}
