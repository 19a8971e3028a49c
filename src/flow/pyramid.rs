//! Image pyramids: level 0 is the frame with intensities in [0, 1]; each next
//! level is blurred with [1 4 6 4 1]/16 and decimated by two, so a pixel x of
//! level l + 1 sits exactly on the pixel 2x of level l.

use super::{ops, FlowParams};
use crate::frames::Plane;

/// (width, height) of each level, finest first.
pub fn level_sizes(width: usize, height: usize, p: &FlowParams) -> Vec<(usize, usize)> {
    let mut sizes = vec![(width, height)];
    while sizes.len() < p.max_levels {
        let (w, h) = *sizes.last().expect("level 0 exists");
        let (w2, h2) = (w.div_ceil(2), h.div_ceil(2));
        if w2.min(h2) < p.min_size {
            break;
        }
        sizes.push((w2, h2));
    }
    sizes
}

/// One frame at every level.
#[derive(Clone, Debug)]
pub struct Pyramid {
    pub levels: Vec<Vec<f32>>,
    pub sizes: Vec<(usize, usize)>,
}

impl Pyramid {
    pub fn build(frame: &Plane, p: &FlowParams) -> Self {
        let sizes = level_sizes(frame.width, frame.height, p);
        let mut levels = vec![frame.data.iter().map(|v| v / 255.0).collect::<Vec<f32>>()];
        for &(w, h) in &sizes[..sizes.len() - 1] {
            let (next, _, _) = ops::downsample(levels.last().expect("level 0"), w, h);
            levels.push(next);
        }
        Self { levels, sizes }
    }

    /// Level 0, intensities in [0, 1].
    pub fn base(&self) -> &[f32] {
        &self.levels[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leoma_temporal_size_has_five_levels() {
        let p = FlowParams {
            max_levels: 6,
            min_size: 10,
            ..FlowParams::default()
        };
        assert_eq!(
            level_sizes(416, 240, &p),
            vec![(416, 240), (208, 120), (104, 60), (52, 30), (26, 15)]
        );
    }
}
