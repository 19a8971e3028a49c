//! The hosted cross-check against a local HTTP server started here, which
//! records each request and replays Gemini-format responses: a valid JSON
//! reply, a fenced one, malformed JSON, missing aspects, 429 and 500 (then
//! success, or until the attempts run out), and a server that never answers
//! (the deadline). No network: the server listens on 127.0.0.1.

mod common;

use leoma_gpu::crosscheck::gemini::{ApiKey, GeminiConfig};
use leoma_gpu::crosscheck::{self, Status};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "test-key-0123456789-never-printed";

/// One scripted reply: HTTP status and body, or silence (never answer).
#[derive(Clone)]
enum Reply {
    Http(u16, String),
    Silent,
}

struct Recorded {
    path: String,
    api_key: Option<String>,
    body: Value,
}

/// A local server replaying `script` in order (the last reply repeats).
struct ReplayServer {
    url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let (mut len, mut api_key) = (0usize, None);
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => len = value.trim().parse().ok()?,
            "x-goog-api-key" => api_key = Some(value.trim().to_string()),
            _ => {}
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        path,
        api_key,
        body: serde_json::from_slice(&body).ok()?,
    })
}

impl ReplayServer {
    fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for (i, stream) in listener.incoming().enumerate().take(16) {
                let Ok(mut stream) = stream else { return };
                let Some(req) = read_request(&mut stream) else {
                    continue;
                };
                seen.lock().unwrap().push(req);
                match &script[i.min(script.len() - 1)] {
                    Reply::Http(code, body) => {
                        let head = format!(
                            "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = stream.write_all(head.as_bytes());
                        let _ = stream.write_all(body.as_bytes());
                    }
                    Reply::Silent => std::thread::sleep(Duration::from_secs(5)),
                }
            }
        });
        Self { url, requests }
    }
}

/// A Gemini `generateContent` reply whose text is `text`.
fn gemini(text: &str) -> Reply {
    Reply::Http(
        200,
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
               "usageMetadata": {"promptTokenCount": 1}})
        .to_string(),
    )
}

const GOOD: &str = r#"{"overall_score": 86, "confidence": 80, "aspect_scores": {"first_frame_fidelity": 88, "prompt_adherence": 84, "motion_quality": 82, "temporal_consistency": 85, "visual_quality": 87, "camera_composition": 80}, "major_issues": [], "strengths": ["sharp"], "reasoning": "Fine."}"#;

fn config(url: &str) -> GeminiConfig {
    let mut c = GeminiConfig::new(ApiKey::new(KEY.into()).unwrap());
    c.endpoint = url.to_string();
    c.retry_sleep = Duration::from_millis(50);
    c.attempt_timeout = Duration::from_secs(5);
    c.deadline = Duration::from_secs(20);
    c
}

/// Our verdict on the clean example clip (no models: measured metrics only).
fn our_verdict() -> leoma_gpu::verdict::Verdict {
    let condition =
        leoma_gpu::pipeline::load_image(&common::task_dir().join("first_frame.png")).unwrap();
    leoma_gpu::pipeline::Evaluator::with_defaults()
        .judge_clip(&common::clip("miner-clean"), &condition, &common::prompt())
        .unwrap()
}

/// The cross-check of the clean example clip against `ours`.
fn run_on_clean(cfg: &GeminiConfig, ours: &leoma_gpu::verdict::Verdict) -> crosscheck::CrossCheck {
    crosscheck::run(
        cfg,
        &common::prompt(),
        &common::task_dir().join("first_frame.png"),
        &common::clip("miner-clean"),
        ours,
        75.0,
        50.0,
    )
}

fn check(
    script: Vec<Reply>,
) -> (
    crosscheck::CrossCheck,
    Vec<Recorded>,
    leoma_gpu::verdict::Verdict,
) {
    let server = ReplayServer::start(script);
    let ours = our_verdict();
    let cc = run_on_clean(&config(&server.url), &ours);
    let reqs = std::mem::take(&mut *server.requests.lock().unwrap());
    (cc, reqs, ours)
}

#[test]
fn the_request_is_leomas_and_a_valid_reply_is_compared() {
    let (cc, reqs, ours) = check(vec![gemini(GOOD)]);
    assert_eq!(cc.status, Status::Ok, "{cc:?}");
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        r.path,
        "/v1beta/models/gemini-3.1-flash-lite:generateContent"
    );
    assert_eq!(r.api_key.as_deref(), Some(KEY));
    let parts = r.body["contents"][0]["parts"].as_array().unwrap();
    assert_eq!(r.body["contents"].as_array().unwrap().len(), 1);
    assert_eq!(parts.len(), 5);
    let instructions = parts[0]["text"].as_str().unwrap();
    assert!(instructions.starts_with(
        "You are a strict benchmark evaluator for first-frame-conditioned video generation."
    ));
    assert!(instructions.contains(&format!("Benchmark prompt:\n\"{}\"", common::prompt())));
    assert_eq!(parts[1]["text"], "CONDITIONING FIRST FRAME:");
    assert_eq!(parts[2]["inlineData"]["mimeType"], "image/jpeg");
    let image = std::fs::read(common::task_dir().join("first_frame.png")).unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(
        b64.decode(parts[2]["inlineData"]["data"].as_str().unwrap())
            .unwrap(),
        image
    );
    assert_eq!(parts[3]["text"], "GENERATED VIDEO:");
    assert_eq!(parts[4]["inlineData"]["mimeType"], "video/mp4");
    assert_eq!(
        b64.decode(parts[4]["inlineData"]["data"].as_str().unwrap())
            .unwrap(),
        std::fs::read(common::clip("miner-clean")).unwrap()
    );
    assert_eq!(parts[4]["videoMetadata"]["fps"], 16.0);
    let g = &r.body["generationConfig"];
    assert_eq!(g["temperature"], 0.1);
    assert_eq!(g["maxOutputTokens"], 450);
    assert_eq!(g["responseMimeType"], "application/json");
    assert_eq!(g["mediaResolution"], "MEDIA_RESOLUTION_HIGH");
    assert!(r.body["systemInstruction"]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("You are a strict benchmark evaluator for video quality."));

    let result = cc.result.as_ref().unwrap();
    assert!(result.passed);
    assert_eq!(result.overall_score, 86);
    let a = cc.agreement.as_ref().unwrap();
    assert_eq!(a.overall_difference, 86 - ours.overall_score as i32);
    assert_eq!(a.pass_fail_agree, ours.passed, "the judge passed the clip");
    let ffi = a
        .aspect_differences
        .iter()
        .find(|(k, _)| k == "first_frame_fidelity")
        .unwrap();
    assert_eq!(
        ffi.1,
        ours.aspect_scores
            .first_frame_fidelity
            .map(|o| 88 - o as i32)
    );
    // the key appears nowhere in what is reported
    assert!(!serde_json::to_string(&cc).unwrap().contains(KEY));
}

#[test]
fn fenced_and_missing_aspects_follow_leomas_rules() {
    let fenced = format!("```json\n{GOOD}\n```");
    let (cc, _, _) = check(vec![gemini(&fenced)]);
    assert_eq!(cc.status, Status::Ok);
    assert_eq!(cc.result.unwrap().overall_score, 86);

    let missing = r#"{"overall_score": 90, "confidence": 70, "aspect_scores": {"prompt_adherence": 95, "motion_quality": 93.5}}"#;
    let (cc, _, _) = check(vec![gemini(missing)]);
    let r = cc.result.unwrap();
    assert_eq!(
        r.aspect(leoma_gpu::verdict::aspects::Aspect::FirstFrameFidelity),
        0
    );
    assert_eq!(
        r.aspect(leoma_gpu::verdict::aspects::Aspect::MotionQuality),
        94
    );
    assert!(
        !r.passed,
        "a missing critical aspect is 0 and fails the floor"
    );
}

#[test]
fn malformed_json_gives_leomas_fail_safe_result() {
    let (cc, reqs, ours) = check(vec![gemini("{\"overall_score\": 80, \"aspect_scores\": {")]);
    assert_eq!(
        reqs.len(),
        1,
        "a parse error is not retried (Leoma does not)"
    );
    assert_eq!(cc.status, Status::ParseError);
    let r = cc.result.unwrap();
    assert!(!r.passed && r.overall_score == 0 && r.confidence == 0);
    assert!(r
        .reasoning
        .starts_with("Parse error: {\"overall_score\": 80"));
    assert_eq!(cc.agreement.unwrap().pass_fail_agree, !ours.passed);
}

#[test]
fn rate_limits_and_server_errors_are_retried_within_bounds() {
    let (cc, reqs, _) = check(vec![
        Reply::Http(
            429,
            r#"{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}"#.into(),
        ),
        Reply::Http(500, r#"{"error": {"code": 500}}"#.into()),
        gemini(GOOD),
    ]);
    assert_eq!(reqs.len(), 3);
    assert_eq!(cc.status, Status::Ok);
    assert_eq!(cc.attempts, 3);

    let (cc, reqs, _) = check(vec![Reply::Http(500, r#"{"error": {"code": 500}}"#.into())]);
    assert_eq!(reqs.len(), 3, "Leoma's 3 attempts, no more");
    assert_eq!(cc.status, Status::Failed);
    assert!(cc.error.as_deref().unwrap().contains("HTTP 500"), "{cc:?}");
    assert!(cc.result.is_none() && cc.agreement.is_none());
    assert!(!format!("{cc:?}").contains(KEY));
}

#[test]
fn a_silent_server_costs_at_most_the_deadline() {
    let server = ReplayServer::start(vec![Reply::Silent]);
    let mut cfg = config(&server.url);
    cfg.deadline = Duration::from_millis(1500);
    cfg.attempt_timeout = Duration::from_secs(60);
    let ours = our_verdict();
    let before = serde_json::to_string(&ours).unwrap();
    let t = Instant::now();
    let cc = run_on_clean(&cfg, &ours);
    let took = t.elapsed();
    assert_eq!(cc.status, Status::Failed);
    assert!(took < Duration::from_millis(3000), "took {took:?}");
    assert_eq!(
        serde_json::to_string(&ours).unwrap(),
        before,
        "our verdict is untouched"
    );
}

#[test]
fn score_with_cross_check_only_adds_the_block() {
    let server = ReplayServer::start(vec![gemini(GOOD)]);
    let clip = common::clip("miner-clean");
    let ff = common::task_dir().join("first_frame.png");
    let prompt = common::prompt();
    let args = common::score_args(clip.to_str().unwrap(), ff.to_str().unwrap(), &prompt);
    let plain = common::run(&args);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leoma-gpu"))
        .args(&args)
        .arg("--cross-check")
        .env("GEMINI_API_KEY", KEY)
        .env("LEOMA_GEMINI_ENDPOINT", &server.url)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY));
    let mut with: Value = serde_json::from_str(&stdout).unwrap();
    let block = with
        .as_object_mut()
        .unwrap()
        .remove("cross_check")
        .expect("cross_check block");
    assert_eq!(block["status"], "ok");
    let without: Value = serde_json::from_str(&plain.stdout).unwrap();
    assert_eq!(with, without, "the cross-check changed our verdict");

    // without a key it refuses up front, exit 2
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leoma-gpu"))
        .args(&args)
        .arg("--cross-check")
        .env_remove("GEMINI_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GEMINI_API_KEY"));
}
