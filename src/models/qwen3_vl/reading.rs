//! Answers read from the next-token distribution at one position, never
//! sampled: P(yes) for a yes/no question (the probability mass of the yes
//! tokens against the no tokens), the expected value over the ten digit
//! tokens for a graded 0-9 question. The softmax is over the whole vocabulary
//! in float64, so the mass the answer tokens hold (how much the model answers
//! in the asked form at all) is reported too.

use super::prompt::QwenTokenizer;
use crate::models::ModelError;
use serde::Serialize;

pub const YES_TOKENS: [&str; 3] = ["Yes", "yes", "YES"];
pub const NO_TOKENS: [&str; 3] = ["No", "no", "NO"];

/// What a question asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    YesNo,
    /// A digit from 0 (not at all) to 9 (completely).
    Graded,
}

/// Token ids of the answers, checked to be single tokens of the vocabulary.
#[derive(Clone, Debug)]
pub struct AnswerTokens {
    yes: Vec<u32>,
    no: Vec<u32>,
    digits: [u32; 10],
}

impl AnswerTokens {
    pub fn new(tok: &QwenTokenizer) -> Result<Self, ModelError> {
        let one = |t: &str| {
            tok.single_token(t).ok_or_else(|| {
                ModelError::compute("qwen tokenizer", format!("{t:?} is not a single token"))
            })
        };
        let mut digits = [0u32; 10];
        for (d, slot) in digits.iter_mut().enumerate() {
            *slot = one(&d.to_string())?;
        }
        Ok(Self {
            yes: YES_TOKENS
                .iter()
                .map(|t| one(t))
                .collect::<Result<_, _>>()?,
            no: NO_TOKENS.iter().map(|t| one(t)).collect::<Result<_, _>>()?,
            digits,
        })
    }

    pub fn all(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .yes
            .iter()
            .chain(&self.no)
            .chain(&self.digits)
            .copied()
            .collect();
        v.sort_unstable();
        v
    }
}

/// One question's reading.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Answer {
    pub kind: AnswerKind,
    /// P(yes) in [0, 1] for yes/no; the expected digit divided by 9 for graded.
    pub value: f64,
    /// Probability mass of the answer tokens (yes + no, or the ten digits).
    pub mass: f64,
    /// Yes/no: [P(yes tokens), P(no tokens)]; graded: P(0) .. P(9).
    pub probs: Vec<f64>,
}

/// Softmax probabilities (float64) of `ids` under `logits`.
pub fn probabilities(logits: &[f32], ids: &[u32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    ids.iter()
        .map(|&i| (logits[i as usize] as f64 - max).exp() / sum)
        .collect()
}

pub fn read(kind: AnswerKind, logits: &[f32], tokens: &AnswerTokens) -> Answer {
    match kind {
        AnswerKind::YesNo => {
            let yes: f64 = probabilities(logits, &tokens.yes).iter().sum();
            let no: f64 = probabilities(logits, &tokens.no).iter().sum();
            let mass = yes + no;
            Answer {
                kind,
                value: if mass > 0.0 { yes / mass } else { 0.5 },
                mass,
                probs: vec![yes, no],
            }
        }
        AnswerKind::Graded => {
            let p = probabilities(logits, &tokens.digits);
            let mass: f64 = p.iter().sum();
            let expected: f64 = p.iter().enumerate().map(|(d, v)| d as f64 * v).sum::<f64>()
                / if mass > 0.0 { mass } else { 1.0 };
            Answer {
                kind,
                value: if mass > 0.0 { expected / 9.0 } else { 0.5 },
                mass,
                probs: p,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_normalise_over_the_whole_vocabulary() {
        // exp: 1, 1, 2, 1 (ln 2 rounded to f32: within 1e-7)
        let logits = vec![0.0f32, 0.0, (2f32).ln(), 0.0];
        let p = probabilities(&logits, &[2, 0]);
        assert!(
            (p[0] - 0.4).abs() < 1e-7 && (p[1] - 0.2).abs() < 1e-7,
            "{p:?}"
        );
    }
}
