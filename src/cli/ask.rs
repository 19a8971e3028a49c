use super::{output, CliError, Format, EXIT_OK};
use clap::Args;
use leoma_gpu::decode::{probe, FrameStream, Limits};
use leoma_gpu::models::qwen3_vl::processor::uniform_indices;
use leoma_gpu::models::qwen3_vl::reading::{Answer, AnswerKind};
use leoma_gpu::models::qwen3_vl::{questions, ClipInput, Question, Qwen3Vl};
use leoma_gpu::pipeline::load_image;
use leoma_gpu::verdict::calibration::Calibration;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct AskArgs {
    /// The clip, shown to the model as a video under the calibration's [vlm] frame policy.
    pub video: PathBuf,
    /// Qwen3-VL checkpoint (directory in HF layout or hub id, e.g. Qwen/Qwen3-VL-2B-Instruct).
    #[arg(long, env = "LEOMA_VLM", value_name = "DIR_OR_ID")]
    pub vlm: String,
    /// Conditioning image, shown before the video.
    #[arg(long, value_name = "IMG")]
    pub first_frame: Option<PathBuf>,
    /// The generation prompt, quoted in each question as the production questions quote it.
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
    /// Yes/no questions, read as P(yes).
    #[arg(long = "question", value_name = "TEXT", num_args = 1..)]
    pub questions: Vec<String>,
    /// Graded questions, read as the expected digit on a 0-9 scale.
    #[arg(long = "graded-question", value_name = "TEXT", num_args = 1..)]
    pub graded: Vec<String>,
    /// Ask the production question set for --prompt as well (vlm-questions-v1).
    #[arg(long)]
    pub standard: bool,
    /// Calibration file whose [vlm] table gives the frame policy (default: the embedded one).
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write the output to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Run on the CPU even when a GPU is available.
    #[arg(long)]
    pub cpu: bool,
}

#[derive(Serialize)]
struct AskedQuestion {
    id: String,
    question: String,
    kind: AnswerKind,
    /// P(yes) for yes/no questions.
    #[serde(skip_serializing_if = "Option::is_none")]
    p_yes: Option<f64>,
    /// Expected digit (0-9) for graded questions.
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_digit: Option<f64>,
    answer: Answer,
    prompt_tokens: usize,
}

#[derive(Serialize)]
struct AskOutput {
    model: String,
    digests: std::collections::BTreeMap<String, String>,
    video: String,
    frame_indices: Vec<usize>,
    policy: leoma_gpu::models::qwen3_vl::VlmPolicy,
    questions: Vec<AskedQuestion>,
}

fn user_text(prompt: Option<&str>, kind: AnswerKind, q: &str) -> String {
    let suffix = match kind {
        AnswerKind::YesNo => questions::YES_NO,
        AnswerKind::Graded => questions::GRADED,
    };
    let head = prompt.map(questions::head).unwrap_or_default();
    format!("{head}Question: {} {suffix}", q.trim())
}

pub fn run(a: AskArgs) -> Result<u8, CliError> {
    let input = |e: String| CliError::Input(e);
    let prompt = a.prompt.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let mut qs: Vec<Question> = Vec::new();
    for (kind, list) in [
        (AnswerKind::YesNo, &a.questions),
        (AnswerKind::Graded, &a.graded),
    ] {
        for q in list.iter().filter(|q| !q.trim().is_empty()) {
            qs.push(Question {
                id: format!("custom.{}", qs.len()),
                kind,
                text: user_text(prompt, kind, q),
            });
        }
    }
    if a.standard {
        let p = prompt.ok_or_else(|| input("--standard needs --prompt".into()))?;
        qs.extend(questions::for_prompt(p, a.first_frame.is_some()));
    }
    if qs.is_empty() {
        return Err(input(
            "give at least one --question, --graded-question or --standard".into(),
        ));
    }
    let cal = match &a.calibration {
        Some(p) => {
            Calibration::from_file(p)
                .map_err(|e| input(e.to_string()))?
                .0
        }
        None => Calibration::embedded(),
    };
    let policy = cal
        .vlm
        .clone()
        .ok_or_else(|| input("the calibration file has no [vlm] table".into()))?;
    let condition = a
        .first_frame
        .as_ref()
        .map(|p| load_image(p).map_err(|e| input(e.to_string())))
        .transpose()?;
    let limits = Limits::default();
    let info = probe(&a.video, &limits).map_err(|e| input(e.to_string()))?;
    let total = info
        .declared_frames
        .map(|n| n as usize)
        .or_else(|| {
            info.duration_seconds
                .map(|d| (d * info.fps).round() as usize)
        })
        .unwrap_or(1)
        .max(1);
    let wanted = uniform_indices(total, policy.frames);
    let (mut frames, mut indices) = (Vec::new(), Vec::new());
    for f in FrameStream::open(&info, &limits).map_err(|e| input(e.to_string()))? {
        let f = f.map_err(|e| input(e.to_string()))?;
        if wanted.binary_search(&f.index).is_ok() {
            indices.push(f.index);
            frames.push(f.rgb);
        }
    }
    if frames.len() < 2 {
        return Err(input(format!(
            "{}: only {} frame(s) could be sampled",
            a.video.display(),
            frames.len()
        )));
    }
    let (device, _) = leoma_gpu::models::device::select(a.cpu);
    let dtype = leoma_gpu::models::device::vlm_dtype(&device);
    let model = Qwen3Vl::load(&a.vlm, &device, dtype).map_err(|e| input(e.to_string()))?;
    let clip = ClipInput {
        frames: &frames,
        frame_indices: &indices,
        fps: info.fps,
        condition: condition.as_ref(),
    };
    let internal = |e: leoma_gpu::models::ModelError| CliError::Internal(e.to_string());
    let encoded = model.encode(&clip, &policy).map_err(internal)?;
    let readings = model.ask(&encoded, &qs).map_err(internal)?;
    let out = AskOutput {
        model: a.vlm.clone(),
        digests: model.digests().clone(),
        video: a.video.display().to_string(),
        frame_indices: indices,
        policy,
        questions: qs
            .iter()
            .zip(readings)
            .map(|(q, r)| AskedQuestion {
                id: q.id.clone(),
                question: q.text.clone(),
                kind: q.kind,
                p_yes: (q.kind == AnswerKind::YesNo).then_some(r.answer.value),
                expected_digit: (q.kind == AnswerKind::Graded).then_some(r.answer.value * 9.0),
                answer: r.answer,
                prompt_tokens: r.tokens,
            })
            .collect(),
    };
    let text = match a.format {
        Format::Json => output::to_json(&out)?,
        Format::Table | Format::Html => {
            let mut s = format!(
                "{} on {} (frames {:?})\n",
                out.model, out.video, out.frame_indices
            );
            for q in &out.questions {
                let value = match q.kind {
                    AnswerKind::YesNo => format!("P(yes) {:.4}", q.answer.value),
                    AnswerKind::Graded => format!("E[digit] {:.3}", q.answer.value * 9.0),
                };
                let last = q
                    .question
                    .rsplit("Question: ")
                    .next()
                    .unwrap_or(&q.question);
                s.push_str(&format!(
                    "{:<22} {value}  (answer mass {:.2e})  {last}\n",
                    q.id, q.answer.mass
                ));
            }
            s
        }
    };
    output::emit(&text, a.out.as_deref())?;
    Ok(EXIT_OK)
}
