//! The request Leoma's evaluator makes (google-genai `generate_content`, as
//! REST JSON): one user turn with, in order, the instructions, the label
//! `CONDITIONING FIRST FRAME:`, the first frame's bytes labelled
//! `image/jpeg` (Leoma labels its PNG so), the label `GENERATED VIDEO:`, and
//! the whole MP4 inline with `videoMetadata.fps`; the system instruction;
//! temperature 0.1, 450 output tokens, JSON response, media resolution.
//! Sent with bounded attempts and a total deadline.

use super::rubric;
use base64::Engine;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// An API key: never printed, logged or serialised.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: String) -> Option<Self> {
        let key = key.trim().to_string();
        (!key.is_empty()).then_some(Self(key))
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Where and how to ask the hosted judge.
#[derive(Clone, Debug)]
pub struct GeminiConfig {
    pub api_key: ApiKey,
    /// Base URL (`https://generativelanguage.googleapis.com`).
    pub endpoint: String,
    /// Leoma's `GEMINI_EVAL_MODEL`.
    pub model: String,
    /// `EVALUATION_VIDEO_FPS` (16).
    pub video_fps: f64,
    /// `EVALUATION_MEDIA_RESOLUTION`: low, medium or high (unknown values: high).
    pub media_resolution: String,
    /// Leoma's `GEMINI_EVAL_MAX_ATTEMPTS` (3).
    pub max_attempts: u32,
    /// Pause between attempts (Leoma sleeps 300 s; ours is bounded by `deadline`).
    pub retry_sleep: Duration,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
    /// The whole cross-check never takes longer than this.
    pub deadline: Duration,
}

pub const DEFAULT_ENDPOINT: &str = "https://generativelanguage.googleapis.com";
pub const DEFAULT_MODEL: &str = "gemini-3.1-flash-lite";

impl GeminiConfig {
    pub fn new(api_key: ApiKey) -> Self {
        Self {
            api_key,
            endpoint: DEFAULT_ENDPOINT.into(),
            model: DEFAULT_MODEL.into(),
            video_fps: 16.0,
            media_resolution: "high".into(),
            max_attempts: 3,
            retry_sleep: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(90),
            deadline: Duration::from_secs(240),
        }
    }

    fn media_resolution_enum(&self) -> &'static str {
        match self.media_resolution.trim().to_lowercase().as_str() {
            "low" => "MEDIA_RESOLUTION_LOW",
            "medium" => "MEDIA_RESOLUTION_MEDIUM",
            _ => "MEDIA_RESOLUTION_HIGH",
        }
    }
}

/// The `generateContent` body.
pub fn request_body(cfg: &GeminiConfig, prompt: &str, first_frame: &[u8], video: &[u8]) -> Value {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    json!({
        "contents": [{
            "role": "user",
            "parts": [
                {"text": rubric::instructions(prompt)},
                {"text": rubric::FIRST_FRAME_LABEL},
                {"inlineData": {"mimeType": "image/jpeg", "data": b64(first_frame)}},
                {"text": rubric::VIDEO_LABEL},
                {"inlineData": {"mimeType": "video/mp4", "data": b64(video)},
                 "videoMetadata": {"fps": cfg.video_fps}},
            ],
        }],
        "systemInstruction": {"role": "user", "parts": [{"text": rubric::SYSTEM_INSTRUCTION}]},
        "generationConfig": {
            "temperature": 0.1,
            "maxOutputTokens": 450,
            "responseMimeType": "application/json",
            "mediaResolution": cfg.media_resolution_enum(),
        },
    })
}

/// `response.text`: the text parts of the first candidate, joined.
pub fn response_text(reply: &Value) -> String {
    reply["candidates"][0]["content"]["parts"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .filter(|p| p["thought"].as_bool() != Some(true))
                .filter_map(|p| p["text"].as_str())
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// How the exchange went.
#[derive(Debug)]
pub struct Exchange {
    pub attempts: u32,
    pub elapsed: Duration,
    /// The reply's text, or the last failure.
    pub result: Result<String, String>,
}

/// POST the request, retrying any failure (as Leoma does) while attempts and
/// the deadline allow.
pub fn send(cfg: &GeminiConfig, body: &Value) -> Exchange {
    let start = Instant::now();
    let url = format!(
        "{}/v1beta/models/{}:generateContent",
        cfg.endpoint.trim_end_matches('/'),
        cfg.model
    );
    let payload = body.to_string();
    let mut last = String::from("no attempt made");
    let mut attempts = 0;
    while attempts < cfg.max_attempts.max(1) {
        let left = cfg.deadline.saturating_sub(start.elapsed());
        if left.is_zero() {
            last = format!("deadline of {:?} reached ({last})", cfg.deadline);
            break;
        }
        attempts += 1;
        let timeout = cfg.attempt_timeout.min(left);
        let agent = ureq::AgentBuilder::new().timeout(timeout).build();
        let outcome = agent
            .post(&url)
            .set("x-goog-api-key", &cfg.api_key.0)
            .set("content-type", "application/json")
            .send_string(&payload);
        match outcome {
            Ok(resp) => match resp.into_string() {
                Ok(text) => match serde_json::from_str::<Value>(&text) {
                    Ok(v) => {
                        return Exchange {
                            attempts,
                            elapsed: start.elapsed(),
                            result: Ok(response_text(&v)),
                        }
                    }
                    Err(e) => last = format!("the API's reply is not JSON: {e}"),
                },
                Err(e) => last = format!("reading the reply: {e}"),
            },
            Err(ureq::Error::Status(code, resp)) => {
                let detail: String = resp
                    .into_string()
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect();
                last = format!("HTTP {code}: {}", detail.trim());
            }
            Err(ureq::Error::Transport(t)) => last = format!("transport: {t}"),
        }
        tracing::warn!(
            attempt = attempts,
            "Gemini cross-check attempt failed: {last}"
        );
        if attempts < cfg.max_attempts {
            let pause = cfg
                .retry_sleep
                .min(cfg.deadline.saturating_sub(start.elapsed()));
            std::thread::sleep(pause);
        }
    }
    Exchange {
        attempts,
        elapsed: start.elapsed(),
        result: Err(last),
    }
}
