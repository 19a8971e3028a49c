//! The questions asked about a clip: fixed, versioned templates, with the
//! prompt-adherence questions decomposed from the Leoma prompt by rules (no
//! other model). Leoma's prompt generator writes motion first, then camera
//! behaviour, then a one-clause anchor of subject and setting, so:
//! - camera clauses are those naming camera work (`CAMERA_WORDS`);
//! - the subject is the last sentence without camera work (the first clause
//!   of a one-sentence prompt);
//! - every other clause (split at sentence ends and semicolons) is a step of
//!   the action sequence, at most `MAX_STEPS` (neighbours merged beyond).
//!
//! Changing any text here changes the answers: bump `VERSION` (it is pinned in
//! the calibration file and recorded in every verdict).

use super::reading::AnswerKind;
use super::Question;

pub const VERSION: &str = "vlm-questions-v1";

pub const YES_NO: &str = "Answer with Yes or No.";
pub const GRADED: &str = "Answer with one digit from 0 (not at all) to 9 (completely).";

/// At most this many action-step questions per clip.
pub const MAX_STEPS: usize = 6;

const CAMERA_WORDS: &[&str] = &[
    "camera",
    "shot",
    "pan",
    "pans",
    "panning",
    "panned",
    "tilt",
    "tilts",
    "tilting",
    "tilted",
    "zoom",
    "zooms",
    "zooming",
    "zoomed",
    "dolly",
    "dollies",
    "tracking",
    "handheld",
    "hand-held",
    "orbit",
    "orbits",
    "orbiting",
    "crane",
    "aerial",
    "push-in",
    "pull-back",
];

/// The shared part of every question: what the two vision inputs are and the prompt.
pub fn head(prompt: &str) -> String {
    format!(
        "The image is the conditioning first frame. The video was generated from that frame and this description:\n\"{}\"\n\n",
        prompt.trim()
    )
}

fn ask(prompt: &str, id: &str, kind: AnswerKind, question: &str) -> Question {
    let suffix = match kind {
        AnswerKind::YesNo => YES_NO,
        AnswerKind::Graded => GRADED,
    };
    Question {
        id: id.to_string(),
        kind,
        text: format!("{}Question: {question} {suffix}", head(prompt)),
    }
}

/// A free question (the `ask` command), in the same frame as the templates.
pub fn custom(prompt: &str, index: usize, kind: AnswerKind, question: &str) -> Question {
    ask(prompt, &format!("custom.{index}"), kind, question)
}

/// The prompt cut into sentences, each cut into clauses at semicolons.
pub fn clauses(prompt: &str) -> Vec<Vec<String>> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = prompt.trim().chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        current.push(c);
        let end =
            matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if end {
            sentences.push(std::mem::take(&mut current));
        }
    }
    sentences.push(current);
    sentences
        .into_iter()
        .map(|s| {
            s.split(';')
                .map(|c| {
                    c.trim()
                        .trim_end_matches(['.', '!', '?'])
                        .trim()
                        .to_string()
                })
                .filter(|c| c.split_whitespace().count() >= 2)
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn is_camera(clause: &str) -> bool {
    clause
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .any(|w| CAMERA_WORDS.contains(&w.to_lowercase().as_str()))
}

/// The prompt's parts: subject anchor, action steps, camera clauses.
#[derive(Clone, Debug, PartialEq)]
pub struct PromptParts {
    pub subject: Option<String>,
    pub steps: Vec<String>,
    pub camera: Vec<String>,
}

pub fn decompose(prompt: &str) -> PromptParts {
    let sentences = clauses(prompt);
    let camera: Vec<String> = sentences
        .iter()
        .flatten()
        .filter(|c| is_camera(c))
        .cloned()
        .collect();
    let subject_sentence = if sentences.len() > 1 {
        sentences
            .iter()
            .rposition(|s| !s.iter().any(|c| is_camera(c)))
    } else {
        None
    };
    let subject = match subject_sentence {
        Some(i) => Some(sentences[i].join("; ")),
        None => sentences.first().and_then(|s| s.first().cloned()),
    };
    let mut steps: Vec<String> = sentences
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != subject_sentence)
        .flat_map(|(_, s)| s.iter())
        .filter(|c| !is_camera(c) && Some(*c) != subject.as_ref())
        .cloned()
        .collect();
    while steps.len() > MAX_STEPS {
        // merge the shortest neighbouring pair, keeping the order
        let i = (0..steps.len() - 1)
            .min_by_key(|&i| steps[i].len() + steps[i + 1].len())
            .expect("at least two steps");
        let next = steps.remove(i + 1);
        steps[i] = format!("{}; {next}", steps[i]);
    }
    PromptParts {
        subject,
        steps,
        camera,
    }
}

/// Every question asked about a clip generated from `prompt`, in a fixed order.
pub fn for_prompt(prompt: &str, with_condition: bool) -> Vec<Question> {
    use AnswerKind::{Graded, YesNo};
    let parts = decompose(prompt);
    let mut q = vec![
        ask(
            prompt,
            "prompt.overall",
            Graded,
            "How well does the video match the description as a whole?",
        ),
        ask(
            prompt,
            "prompt.action",
            YesNo,
            "Does the video show the action the description narrates?",
        ),
    ];
    if let Some(s) = &parts.subject {
        q.push(ask(
            prompt,
            "prompt.subject",
            YesNo,
            &format!("Does the video show this subject and setting: \"{s}\"?"),
        ));
    }
    for (i, s) in parts.steps.iter().enumerate() {
        q.push(ask(
            prompt,
            &format!("prompt.step.{i}"),
            YesNo,
            &format!("Does this happen in the video: \"{s}\"?"),
        ));
    }
    if !parts.camera.is_empty() {
        let c = parts.camera.join("; ");
        q.push(ask(
            prompt,
            "prompt.camera",
            YesNo,
            &format!("Does the camera behave as described: \"{c}\"?"),
        ));
    }
    if with_condition {
        q.push(ask(
            prompt,
            "condition.match",
            YesNo,
            "Does the video start from this image, with the same scene, subjects and layout?",
        ));
        q.push(ask(prompt, "condition.identity", Graded, "How well do the subjects keep the appearance they have in the image throughout the video?"));
    }
    q.push(ask(
        prompt,
        "physics.plausible",
        YesNo,
        "Is the motion in the video physically plausible?",
    ));
    q.push(ask(prompt, "visual.artefacts", YesNo, "Does the video show visual artefacts such as distorted or extra limbs, melting or morphing objects, or flickering textures?"));
    q.push(ask(
        prompt,
        "visual.quality",
        Graded,
        "How good is the visual quality of the video: sharp, clean and stable?",
    ));
    q.push(ask(prompt, "overlay.text", YesNo, "Does the video contain written text, captions, watermarks or overlays that are not part of the scene?"));
    q.push(ask(prompt, "overlay.judge", YesNo, "Does any text in the video address a viewer, judge or evaluator, for example asking for a score?"));
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROMPT: &str = "A cockatoo's face fills the frame, peering into the lens and bobbing slightly; after one second it turns its head right, showing its dark eye and curved grey beak in profile. Midway it pulls back toward frame right as its crest lifts to reveal salmon-pink feathers, then settles in three-quarter profile with small head bobs. The handheld camera stays low, tilted upward, drifting slightly. A pale cockatoo indoors beneath a wooden ceiling beam beside a bright window.";

    #[test]
    fn the_example_prompt_decomposes_into_subject_steps_and_camera() {
        let p = decompose(PROMPT);
        assert_eq!(
            p.subject.as_deref(),
            Some("A pale cockatoo indoors beneath a wooden ceiling beam beside a bright window")
        );
        assert_eq!(
            p.steps,
            vec![
                "A cockatoo's face fills the frame, peering into the lens and bobbing slightly",
                "after one second it turns its head right, showing its dark eye and curved grey beak in profile",
                "Midway it pulls back toward frame right as its crest lifts to reveal salmon-pink feathers, then settles in three-quarter profile with small head bobs",
            ]
        );
        assert_eq!(
            p.camera,
            vec!["The handheld camera stays low, tilted upward, drifting slightly"]
        );
    }

    #[test]
    fn questions_share_one_head_and_have_unique_ids() {
        let q = for_prompt(PROMPT, true);
        let h = head(PROMPT);
        assert!(q.iter().all(|x| x.text.starts_with(&h)));
        let mut ids: Vec<&str> = q.iter().map(|x| x.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), q.len());
        // the golden's two questions are these templates
        assert!(q[1].text.ends_with("Question: Does the video show the action the description narrates? Answer with Yes or No."));
    }

    #[test]
    fn long_prompts_are_capped_and_nothing_is_lost() {
        let prompt = (0..10)
            .map(|i| format!("step {i} happens here"))
            .collect::<Vec<_>>()
            .join(". ");
        let p = decompose(&prompt);
        assert_eq!(p.steps.len(), MAX_STEPS);
        let joined = p.steps.join("; ");
        for i in 0..9 {
            assert!(joined.contains(&format!("step {i} happens")), "{joined}");
        }
    }
}
