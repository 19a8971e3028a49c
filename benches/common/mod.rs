//! Helpers shared by the bench binaries.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The example media (`scripts/fetch-examples.sh`).
pub fn examples() -> PathBuf {
    let dir = std::env::var_os("LEOMA_EXAMPLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"));
    assert!(
        dir.join("task").is_dir(),
        "run scripts/fetch-examples.sh first ({} missing)",
        dir.display()
    );
    dir
}

/// leoma-gpu's cache: `$LEOMA_CACHE_DIR`, default `~/.cache/leoma-gpu`
/// (where the reference scripts put their venvs and generated weights).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("LEOMA_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/leoma-gpu")
        })
}

/// The process's peak resident memory (VmHWM), MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Median wall time of `runs` calls, and the last call's result.
pub fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], last.expect("at least one run"))
}
