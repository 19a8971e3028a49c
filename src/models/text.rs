//! Tokenisation with the checkpoint's `tokenizer.json`, and how a long Leoma
//! prompt is cut into pieces a text tower can read.

use super::ModelError;
use std::path::Path;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// A checkpoint's tokenizer with the model's context length applied.
pub struct TextTokenizer {
    inner: Tokenizer,
    pub context: usize,
}

impl TextTokenizer {
    /// `pad_to_context`: SigLIP reads fixed-length input padded with `pad_id`
    /// (it was trained that way); CLIP reads unpadded sequences.
    pub fn from_file(
        path: &Path,
        context: usize,
        pad_to_context: Option<u32>,
    ) -> Result<Self, ModelError> {
        let bad = |detail: String| ModelError::BadFile {
            path: path.to_path_buf(),
            detail,
        };
        let mut inner =
            Tokenizer::from_file(path).map_err(|e| bad(format!("cannot load tokenizer: {e}")))?;
        inner
            .with_truncation(Some(TruncationParams {
                max_length: context,
                ..Default::default()
            }))
            .map_err(|e| bad(e.to_string()))?;
        match pad_to_context {
            Some(pad_id) => {
                let pad_token = inner.id_to_token(pad_id).unwrap_or_default();
                inner.with_padding(Some(PaddingParams {
                    strategy: PaddingStrategy::Fixed(context),
                    pad_id,
                    pad_token,
                    ..Default::default()
                }));
            }
            None => {
                inner.with_padding(None);
            }
        }
        Ok(Self { inner, context })
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        self.inner
            .encode(text, true)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| ModelError::compute("tokenizer", e))
    }

    /// Tokens `text` needs, special tokens included, before truncation.
    pub fn untruncated_len(&self, text: &str) -> Result<usize, ModelError> {
        let mut t = self.inner.clone();
        t.with_truncation(None)
            .map_err(|e| ModelError::compute("tokenizer", e))?;
        t.with_padding(None);
        t.encode(text, true)
            .map(|e| e.len())
            .map_err(|e| ModelError::compute("tokenizer", e))
    }
}

/// Cut a prompt into pieces that each fit the text tower: first at sentence
/// ends (. ! ? ;), then a piece still too long at clause breaks (commas,
/// " then ", " and ", " while ", " as "), then in halves by words. Nothing is
/// dropped: every word of the prompt lands in exactly one piece.
pub fn chunk_prompt(prompt: &str, fits: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    for sentence in split_keep(prompt, &[". ", "! ", "? ", "; "]) {
        split_to_fit(&sentence, fits, 0, &mut out);
    }
    out.retain(|c| !c.trim().is_empty());
    out
}

fn split_to_fit(piece: &str, fits: &dyn Fn(&str) -> bool, depth: usize, out: &mut Vec<String>) {
    let piece = piece.trim();
    if piece.is_empty() {
        return;
    }
    if fits(piece) {
        out.push(piece.to_string());
        return;
    }
    let parts = if depth == 0 {
        split_keep(piece, &[", ", " then ", " and ", " while ", " as "])
    } else {
        Vec::new()
    };
    if parts.len() > 1 {
        // Re-join neighbouring clauses while they still fit.
        let mut current = String::new();
        for p in parts {
            let candidate = if current.is_empty() {
                p.clone()
            } else {
                format!("{current} {p}")
            };
            if current.is_empty() || fits(&candidate) {
                current = candidate;
            } else {
                split_to_fit(&current, fits, depth + 1, out);
                current = p;
            }
        }
        split_to_fit(&current, fits, depth + 1, out);
        return;
    }
    let words: Vec<&str> = piece.split_whitespace().collect();
    if words.len() <= 1 {
        out.push(piece.to_string()); // a single over-long word: the tokenizer truncates it
        return;
    }
    let (a, b) = words.split_at(words.len() / 2);
    split_to_fit(&a.join(" "), fits, depth + 1, out);
    split_to_fit(&b.join(" "), fits, depth + 1, out);
}

/// Split at each separator: punctuation stays with the left part ("turns,"),
/// a word separator (" then ") starts the right part ("then settles").
fn split_keep(text: &str, seps: &[&str]) -> Vec<String> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        if let Some(sep) = seps.iter().find(|s| text[i..].starts_with(**s)) {
            if sep.starts_with(' ') {
                parts.push(text[start..i].trim().to_string());
                start = i + 1;
                i += sep.len();
            } else {
                let keep = sep.trim_end().len();
                parts.push(text[start..i + keep].trim().to_string());
                i += sep.len();
                start = i;
            }
        } else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    parts.push(text[start..].trim().to_string());
    parts.retain(|p| !p.is_empty());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_prompt_is_one_piece_and_sentences_split() {
        let fits = |s: &str| s.split_whitespace().count() <= 20;
        assert_eq!(chunk_prompt("A bird turns.", &fits), vec!["A bird turns."]);
        assert_eq!(
            chunk_prompt("A bird turns. Then it flies; camera pans.", &fits),
            vec!["A bird turns.", "Then it flies;", "camera pans."]
        );
    }

    #[test]
    fn long_sentences_split_at_clauses_then_words_and_lose_nothing() {
        let fits = |s: &str| s.split_whitespace().count() <= 4;
        let prompt = "the bird lifts its crest, turns right and bobs its head, then settles in profile while the camera drifts";
        let chunks = chunk_prompt(prompt, &fits);
        assert!(chunks.iter().all(|c| fits(c)), "{chunks:?}");
        let rejoined: Vec<&str> = chunks.iter().flat_map(|c| c.split_whitespace()).collect();
        let original: Vec<&str> = prompt.split_whitespace().collect();
        assert_eq!(rejoined, original);
    }

    #[test]
    fn non_ascii_text_is_split_on_char_boundaries() {
        let fits = |s: &str| s.chars().count() <= 12;
        let chunks = chunk_prompt("naïve café — 東京 🙂. 東京の夜; ok", &fits);
        assert!(chunks.concat().contains("東京の夜"), "{chunks:?}");
    }
}
