//! The token sequence Qwen3-VL reads: Qwen3-VL-Instruct's chat template for
//! one user turn (image, video, text) and the generation prompt, with the
//! vision placeholders expanded as transformers' `Qwen3VLProcessor` (5.24)
//! expands them, and the 3-axis M-RoPE positions of `get_rope_index`.
//!
//! transformers 5.24 replaces only `<|video_pad|>` by the per-frame
//! placeholder `<t seconds><|vision_start|><|video_pad|>xN<|vision_end|>`, so
//! the template's own `<|vision_start|>`/`<|vision_end|>` stay around it;
//! 4.57 replaced them too. We mirror 5.24, the pinned reference.

use crate::models::ModelError;
use std::path::Path;
use tokenizers::Tokenizer;

pub const IM_START: &str = "<|im_start|>";
pub const IM_END: &str = "<|im_end|>";
pub const VISION_START: &str = "<|vision_start|>";
pub const VISION_END: &str = "<|vision_end|>";
pub const IMAGE_PAD: &str = "<|image_pad|>";
pub const VIDEO_PAD: &str = "<|video_pad|>";

/// Token kinds, as the processor's `mm_token_type_ids`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Text = 0,
    Image = 1,
    Video = 2,
}

/// Vision placeholders of one prompt: merged-token grids and frame times.
#[derive(Clone, Debug)]
pub struct VisionLayout {
    /// (t, h, w) patch grid of the image, if any.
    pub image_grid: Option<[usize; 3]>,
    /// (t, h, w) patch grid of the video and one timestamp per temporal patch.
    pub video: Option<([usize; 3], Vec<f64>)>,
    pub merge_size: usize,
}

/// A tokenised prompt.
#[derive(Clone, Debug, PartialEq)]
pub struct Prompt {
    pub ids: Vec<u32>,
    pub kinds: Vec<TokenKind>,
}

/// The checkpoint's tokenizer and the ids of the vision tokens.
pub struct QwenTokenizer {
    inner: Tokenizer,
    pub image_pad: u32,
    pub video_pad: u32,
}

impl QwenTokenizer {
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let bad = |detail: String| ModelError::BadFile {
            path: path.to_path_buf(),
            detail,
        };
        let inner =
            Tokenizer::from_file(path).map_err(|e| bad(format!("cannot load tokenizer: {e}")))?;
        let id = |t: &str| {
            inner.token_to_id(t).ok_or_else(|| {
                bad(format!(
                    "{t} is not in the vocabulary (not a Qwen tokenizer?)"
                ))
            })
        };
        for t in [IM_START, IM_END, VISION_START, VISION_END] {
            id(t)?;
        }
        Ok(Self {
            image_pad: id(IMAGE_PAD)?,
            video_pad: id(VIDEO_PAD)?,
            inner,
        })
    }

    /// The id of a single-token string, if it is one token.
    pub fn single_token(&self, text: &str) -> Option<u32> {
        let enc = self.inner.encode(text, false).ok()?;
        match enc.get_ids() {
            [id] => Some(*id),
            _ => None,
        }
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        self.inner
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| ModelError::compute("qwen tokenizer", e))
    }

    /// The chat-template text of one user turn (image, then video, then
    /// `text`) with the generation prompt, placeholders expanded.
    pub fn render(&self, layout: &VisionLayout, text: &str) -> String {
        let merge = layout.merge_size * layout.merge_size;
        let mut s = format!("{IM_START}user\n");
        if let Some(g) = layout.image_grid {
            s.push_str(VISION_START);
            s.push_str(&IMAGE_PAD.repeat(g.iter().product::<usize>() / merge));
            s.push_str(VISION_END);
        }
        if let Some((g, times)) = &layout.video {
            let per_frame = g[1] * g[2] / merge;
            s.push_str(VISION_START);
            for t in times.iter().take(g[0]) {
                s.push_str(&format!("<{} seconds>", format_one_decimal(*t)));
                s.push_str(VISION_START);
                s.push_str(&VIDEO_PAD.repeat(per_frame));
                s.push_str(VISION_END);
            }
            s.push_str(VISION_END);
        }
        s.push_str(text);
        s.push_str(&format!("{IM_END}\n{IM_START}assistant\n"));
        s
    }

    pub fn prompt(&self, layout: &VisionLayout, text: &str) -> Result<Prompt, ModelError> {
        let ids = self.encode(&self.render(layout, text))?;
        let kinds = ids
            .iter()
            .map(|&i| {
                if i == self.image_pad {
                    TokenKind::Image
                } else if i == self.video_pad {
                    TokenKind::Video
                } else {
                    TokenKind::Text
                }
            })
            .collect();
        Ok(Prompt { ids, kinds })
    }
}

/// Python's `f"{x:.1f}"`: the exact binary value rounded to one decimal, ties
/// to even (Rust's formatting rounds the exact value the same way).
pub fn format_one_decimal(x: f64) -> String {
    format!("{x:.1}")
}

/// `Qwen3VLModel.get_rope_index` for one sequence: (t, h, w) positions per
/// token. Text advances all three together; each vision run (an image, or one
/// temporal patch of the video: the timestamps split the video into runs)
/// lays its merged grid out from the current position, which then moves past
/// the larger of its height and width.
pub fn rope_positions(p: &Prompt, layout: &VisionLayout) -> Result<[Vec<u32>; 3], String> {
    let m = layout.merge_size;
    let mut images = layout.image_grid.into_iter();
    let mut frames = layout
        .video
        .as_ref()
        .map(|(g, _)| std::iter::repeat_n([1, g[1], g[2]], g[0]))
        .into_iter()
        .flatten();
    let mut out: [Vec<u32>; 3] = Default::default();
    let mut pos = 0u32;
    let mut i = 0;
    while i < p.kinds.len() {
        let kind = p.kinds[i];
        let run = p.kinds[i..].iter().take_while(|k| **k == kind).count();
        match kind {
            TokenKind::Text => {
                for k in 0..run as u32 {
                    out.iter_mut().for_each(|axis| axis.push(pos + k));
                }
                pos += run as u32;
            }
            TokenKind::Image | TokenKind::Video => {
                let g = if kind == TokenKind::Image {
                    images.next()
                } else {
                    frames.next()
                }
                .ok_or("more vision runs in the prompt than inputs")?;
                let (gh, gw) = ((g[1] / m) as u32, (g[2] / m) as u32);
                if (g[0] * (gh * gw) as usize) != run {
                    return Err(format!(
                        "a vision run of {run} tokens does not match its grid {g:?}"
                    ));
                }
                for t in 0..g[0] as u32 {
                    for h in 0..gh {
                        for w in 0..gw {
                            out[0].push(pos + t);
                            out[1].push(pos + h);
                            out[2].push(pos + w);
                        }
                    }
                }
                pos += gh.max(gw);
            }
        }
        i += run;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_like_python() {
        assert_eq!(format_one_decimal(0.15625), "0.2");
        assert_eq!(format_one_decimal(0.25), "0.2");
        assert_eq!(format_one_decimal(0.75), "0.8");
        assert_eq!(format_one_decimal(4.84375), "4.8");
    }

    #[test]
    fn positions_of_text_image_text() {
        let kinds = [
            vec![TokenKind::Text; 3],
            vec![TokenKind::Image; 6],
            vec![TokenKind::Text; 2],
        ]
        .concat();
        let p = Prompt {
            ids: vec![0; kinds.len()],
            kinds,
        };
        let layout = VisionLayout {
            image_grid: Some([1, 4, 6]),
            video: None,
            merge_size: 2,
        };
        let [t, h, w] = rope_positions(&p, &layout).unwrap();
        assert_eq!(t, vec![0, 1, 2, 3, 3, 3, 3, 3, 3, 6, 7]);
        assert_eq!(h, vec![0, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7]);
        assert_eq!(w, vec![0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7]);
    }
}
