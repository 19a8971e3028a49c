//! The verdict store: schema migrations, idempotent upserts, concurrent
//! readers, crash safety under SIGKILL, and `evaluate --store`.

mod common;

use leoma_gpu::rank::rank_task;
use leoma_gpu::report::TaskReport;
use leoma_gpu::store::{Sample, Store, StoreError, APPLICATION_ID, DB_FILE_NAME, SCHEMA_VERSION};
use leoma_gpu::verdict::{self, EvaluatorInfo, InputInfo, Verdict};
use rusqlite::Connection;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const VALIDATOR: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const T0: i64 = 1_760_000_000;

fn info() -> EvaluatorInfo {
    EvaluatorInfo {
        version: "leoma-gpu test".into(),
        calibration_version: "cal-test-1".into(),
        config_digest: "ab".repeat(32),
        frame_policy: serde_json::json!({"sample": "all"}),
        model_digests: BTreeMap::from([("calibration".to_string(), "cd".repeat(32))]),
        decode_backend: "cpu".into(),
        flow_backend: "cpu".into(),
    }
}

/// A judged-looking verdict whose values depend on (task, miner, variant);
/// `curve` values make it as large as a real one.
fn make_verdict(task_id: u64, miner: usize, variant: u8, curve: usize) -> Verdict {
    let video = PathBuf::from(format!("/tasks/{task_id}/miner-{miner:02}.mp4"));
    let mut v = verdict::unusable(InputInfo::path_only(&video), info(), "x", String::new());
    let score = ((task_id as usize * 7 + miner * 13 + variant as usize) % 101) as u8;
    v.error = None;
    v.major_issues.clear();
    v.reasoning = format!("variant {variant}");
    v.passed = score >= 75;
    v.overall_score = score;
    v.overall_exact = score as f64 + 0.25;
    v.confidence = 100 - score / 2;
    v.aspect_scores.motion_quality = Some(score);
    v.aspect_scores.prompt_adherence = None;
    v.degraded = true;
    v.input.sha256 = Some(format!("{:064x}", task_id * 1000 + miner as u64));
    v.metrics.insert("ssim".into(), 0.5 + score as f64 / 1000.0);
    v.curves.insert(
        "luma".into(),
        (0..curve)
            .map(|i| (i as f64).sqrt() + score as f64)
            .collect(),
    );
    v
}

fn report(task_id: u64, miners: usize, variant: u8, curve: usize) -> TaskReport {
    let verdicts: BTreeMap<String, Verdict> = (0..miners)
        .map(|m| {
            (
                format!("miner-{m:02}"),
                make_verdict(task_id, m, variant, curve),
            )
        })
        .collect();
    TaskReport {
        task_id,
        prompt: "a cockatoo".into(),
        evaluator: info(),
        ranking: rank_task(&verdicts),
        verdicts,
    }
}

/// The verdict's JSON exactly as stored (byte for byte), and as `verdict()`
/// parses it.
fn assert_stored(store: &Store, validator: &str, task_id: u64, miner: &str, v: &Verdict) {
    let text = serde_json::to_string(v).unwrap();
    let stored = store.verdict_json(validator, task_id, miner).unwrap();
    assert!(
        stored.as_deref() == Some(text.as_str()),
        "task {task_id} {miner}: stored JSON differs"
    );
    let parsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        store.verdict(validator, task_id, miner).unwrap(),
        Some(parsed)
    );
}

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join(DB_FILE_NAME)
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

fn pragma_i64(c: &Connection, name: &str) -> i64 {
    c.pragma_query_value(None, name, |r| r.get(0)).unwrap()
}

#[test]
fn store_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(db(&dir)).unwrap();
    assert_eq!(store.count().unwrap(), 0);
    let r = report(42, 3, 0, 10);
    assert_eq!(store.store_task(VALIDATOR, &r, T0).unwrap(), 3);
    assert_eq!(store.count().unwrap(), 3);

    for (miner, v) in &r.verdicts {
        assert_stored(&store, VALIDATOR, 42, miner, v);
    }
    assert_eq!(store.verdict(VALIDATOR, 42, "nobody").unwrap(), None);
    assert_eq!(store.verdict("other", 42, "miner-00").unwrap(), None);
    assert_eq!(
        store.verdict(VALIDATOR, u64::MAX, "miner-00").unwrap(),
        None
    );

    // The columns hold the verdict's values; unmeasured aspects are NULL.
    use rusqlite::types::Value as Sql;
    let row: Vec<Sql> = raw(&db(&dir))
        .query_row(
            "SELECT passed, overall_score, motion_quality, prompt_adherence, degraded, error_kind,
                    model_digests, video_sha256, evaluated_at
             FROM verdicts WHERE task_id = 42 AND miner_hotkey = 'miner-01'",
            [],
            |r| (0..9).map(|i| r.get(i)).collect(),
        )
        .unwrap();
    let v = &r.verdicts["miner-01"];
    assert_eq!(
        row,
        vec![
            Sql::Integer(v.passed as i64),
            Sql::Integer(v.overall_score as i64),
            Sql::Integer(v.aspect_scores.motion_quality.unwrap() as i64),
            Sql::Null,
            Sql::Integer(1),
            Sql::Null,
            Sql::Text(serde_json::to_string(&v.evaluator.model_digests).unwrap()),
            Sql::Text(v.input.sha256.clone().unwrap()),
            Sql::Integer(T0),
        ]
    );
}

#[test]
fn unusable_clips_keep_their_error_kind() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(db(&dir)).unwrap();
    let mut r = report(5, 2, 0, 0);
    let bad = verdict::unusable(
        InputInfo::path_only(Path::new("/x.mp4")),
        info(),
        "missing_video",
        "no video".into(),
    );
    r.verdicts.insert("miner-01".into(), bad);
    store.store_task(VALIDATOR, &r, T0).unwrap();
    let kind: Option<String> = raw(&db(&dir))
        .query_row(
            "SELECT error_kind FROM verdicts WHERE miner_hotkey = 'miner-01'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kind.as_deref(), Some("missing_video"));
    let v = store.verdict(VALIDATOR, 5, "miner-01").unwrap().unwrap();
    assert_eq!(v["error"]["kind"], "missing_video");
}

#[test]
fn storing_again_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(db(&dir)).unwrap();
    store
        .store_task(VALIDATOR, &report(7, 4, 0, 5), T0)
        .unwrap();
    let again = report(7, 4, 3, 5);
    assert_eq!(store.store_task(VALIDATOR, &again, T0 + 60).unwrap(), 4);
    assert_eq!(
        store.count().unwrap(),
        4,
        "same triples: replaced, not added"
    );
    for (miner, v) in &again.verdicts {
        let got = store.verdict(VALIDATOR, 7, miner).unwrap().unwrap();
        assert_eq!(got["reasoning"], "variant 3");
        assert_stored(&store, VALIDATOR, 7, miner, v);
    }
    let (overall, at): (i64, i64) = raw(&db(&dir))
        .query_row(
            "SELECT overall_score, evaluated_at FROM verdicts WHERE miner_hotkey = 'miner-02'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(overall, again.verdicts["miner-02"].overall_score as i64);
    assert_eq!(at, T0 + 60);

    // Another validator's verdicts on the same task are rows of their own.
    store.store_task("5Other", &again, T0).unwrap();
    assert_eq!(store.count().unwrap(), 8);
}

#[test]
fn samples_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(db(&dir)).unwrap();
    let mut expected = Vec::new();
    for (validator, task, miners) in [("5B", 10u64, 2), ("5A", 1, 3), ("5A", 10, 2)] {
        let r = report(task, miners, 0, 0);
        store.store_task(validator, &r, T0).unwrap();
        for (miner, v) in &r.verdicts {
            expected.push(Sample {
                task_id: task,
                miner_hotkey: miner.clone(),
                validator_hotkey: validator.into(),
                passed: v.passed,
            });
        }
    }
    assert!(expected.iter().any(|s| s.passed) && expected.iter().any(|s| !s.passed));
    expected.sort_by(|a, b| {
        (a.task_id, &a.miner_hotkey, &a.validator_hotkey).cmp(&(
            b.task_id,
            &b.miner_hotkey,
            &b.validator_hotkey,
        ))
    });
    assert_eq!(store.samples().unwrap(), expected);
    drop(store);
    assert_eq!(Store::open(db(&dir)).unwrap().samples().unwrap(), expected);
}

#[test]
fn bad_keys_are_refused_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(db(&dir)).unwrap();
    let err = store.store_task(" ", &report(1, 2, 0, 0), T0).unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    let err = store
        .store_task(VALIDATOR, &report(u64::MAX, 2, 0, 0), T0)
        .unwrap_err();
    assert!(err.to_string().contains(&db(&dir).display().to_string()));
    let mut r = report(1, 2, 0, 0);
    r.verdicts.insert(String::new(), make_verdict(1, 9, 0, 0));
    assert!(store.store_task(VALIDATOR, &r, T0).is_err());
    assert_eq!(store.count().unwrap(), 0);
}

#[test]
fn migrations_on_a_fresh_database_and_on_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dirs").join(DB_FILE_NAME);
    let store = Store::open(&path).unwrap();
    assert_eq!(SCHEMA_VERSION, leoma_gpu::store::MIGRATIONS.len() as i64);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    store
        .store_task(VALIDATOR, &report(1, 2, 0, 0), T0)
        .unwrap();
    drop(store);

    let c = raw(&path);
    assert_eq!(pragma_i64(&c, "user_version"), SCHEMA_VERSION);
    assert_eq!(pragma_i64(&c, "application_id"), APPLICATION_ID as i64);
    let journal: String = c
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal", "WAL mode is persistent");
    let index: String = c
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'verdicts'
             AND sql LIKE '%(task_id, miner_hotkey)%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(index.contains("task_id"));
    drop(c);

    // Reopening migrates nothing and keeps the data, however many times.
    for _ in 0..3 {
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(store.count().unwrap(), 2);
    }
}

#[test]
fn connections_opening_a_new_database_at_once_all_succeed() {
    // Racing to create the schema: one migrates, the others wait and see it.
    for _ in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let path = db(&dir);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let handles: Vec<_> = (0..6u64)
            .map(|i| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let store = Store::open(&path).unwrap();
                    store
                        .store_task(VALIDATOR, &report(i, 3, 0, 0), T0)
                        .unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.count().unwrap(), 18);
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }
}

#[test]
fn a_database_from_a_newer_version_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    Store::open(&path)
        .unwrap()
        .store_task(VALIDATOR, &report(1, 2, 0, 0), T0)
        .unwrap();
    raw(&path)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = Store::open(&path).err().expect("a newer schema is refused");
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, supported, .. }
            if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string())
            && msg.contains(&format!("version {}", SCHEMA_VERSION + 1))
            && msg.contains("newer"),
        "{msg}"
    );
    // Nothing was touched.
    let c = raw(&path);
    assert_eq!(pragma_i64(&c, "user_version"), SCHEMA_VERSION + 1);
    let n: i64 = c
        .query_row("SELECT count(*) FROM verdicts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn other_files_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();

    let junk = dir.path().join("junk.sqlite3");
    std::fs::write(&junk, vec![b'x'; 8192]).unwrap();
    let msg = Store::open(&junk).err().unwrap().to_string();
    assert!(msg.contains(&junk.display().to_string()), "{msg}");
    assert_eq!(std::fs::read(&junk).unwrap(), vec![b'x'; 8192]);

    let foreign = dir.path().join("foreign.sqlite3");
    raw(&foreign)
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep');")
        .unwrap();
    let err = Store::open(&foreign).err().unwrap();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err:?}");
    assert!(err.to_string().contains(&foreign.display().to_string()));
    let c = raw(&foreign);
    let journal: String = c
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(
        journal, "delete",
        "the foreign file was not switched to WAL"
    );
    assert_eq!(pragma_i64(&c, "user_version"), 0);

    // A data directory that cannot be created names itself.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let msg = Store::open(file.join(DB_FILE_NAME))
        .err()
        .unwrap()
        .to_string();
    assert!(msg.contains(&file.display().to_string()), "{msg}");
}

#[test]
fn readers_are_not_blocked_by_an_open_write_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let store = Store::open(&path).unwrap();
    store
        .store_task(VALIDATOR, &report(1, 5, 0, 0), T0)
        .unwrap();

    // Another process is in the middle of a write (uncommitted).
    let writer = raw(&path);
    writer
        .execute_batch("BEGIN IMMEDIATE; DELETE FROM verdicts;")
        .unwrap();
    let t = Instant::now();
    let reader = Store::open(&path).unwrap();
    assert_eq!(reader.count().unwrap(), 5);
    assert_eq!(reader.samples().unwrap().len(), 5);
    assert!(reader.verdict(VALIDATOR, 1, "miner-03").unwrap().is_some());
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "readers waited for the writer: {:?}",
        t.elapsed()
    );
    writer.execute_batch("COMMIT").unwrap();
    assert_eq!(reader.count().unwrap(), 0);
}

#[test]
fn a_concurrent_reader_sees_whole_tasks_only() {
    const MINERS: usize = 4;
    const TASKS: u64 = 150;
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let writer_store = Store::open(&path).unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    let writer = std::thread::spawn(move || {
        for task in 0..TASKS {
            writer_store
                .store_task(VALIDATOR, &report(task, MINERS, 0, 200), T0)
                .unwrap();
        }
        done_tx.send(()).unwrap();
    });
    let reader = Store::open(&path).unwrap();
    let (mut reads, mut last) = (0, 0);
    loop {
        let finished = done_rx.try_recv().is_ok();
        let samples = reader.samples().unwrap();
        let mut per_task: BTreeMap<u64, usize> = BTreeMap::new();
        for s in &samples {
            *per_task.entry(s.task_id).or_default() += 1;
        }
        assert!(
            per_task.values().all(|&n| n == MINERS),
            "half a task visible: {per_task:?}"
        );
        // Tasks are committed in order: what is visible is a prefix.
        assert!(per_task.keys().copied().eq(0..per_task.len() as u64));
        assert!(samples.len() >= last, "went backwards");
        last = samples.len();
        reads += 1;
        if finished {
            break;
        }
    }
    writer.join().unwrap();
    assert_eq!(reader.count().unwrap(), TASKS * MINERS as u64);
    eprintln!("{reads} consistent reads while {TASKS} tasks were written");
}

// ---------------------------------------------------------------------------
// Crash safety: a child process stores tasks in a loop and is SIGKILLed.

const CHILD_DB_ENV: &str = "LEOMA_STORE_TEST_CRASH_DB";
const CHILD_START_ENV: &str = "LEOMA_STORE_TEST_CRASH_START";
const CRASH_MINERS: usize = 12;
/// Samples per curve: about 400 KiB of JSON per verdict, 5 MiB per task,
/// more than SQLite's page cache (2 MiB): a task's pages spill into the WAL
/// before its commit, so a kill can leave a torn, uncommitted tail there.
const CRASH_CURVE: usize = 20_000;
/// The child stops by itself after this many tasks (bounded if never killed).
const CRASH_MAX_TASKS: u64 = 100;

/// Not a test of its own: the child of `killing_the_writer_loses_nothing_committed`
/// (a no-op unless that test runs this binary with `CHILD_DB_ENV` set).
#[test]
fn crash_child_helper() {
    let Some(path) = std::env::var_os(CHILD_DB_ENV) else {
        return;
    };
    let start: u64 = std::env::var(CHILD_START_ENV).unwrap().parse().unwrap();
    let store = Store::open(PathBuf::from(path)).unwrap();
    let mut out = std::io::stdout().lock();
    for task in start..start + CRASH_MAX_TASKS {
        let r = report(task, CRASH_MINERS, 0, CRASH_CURVE);
        store.store_task(VALIDATOR, &r, T0 + task as i64).unwrap();
        writeln!(out, "committed {task}").unwrap();
        out.flush().unwrap();
    }
}

/// Whether the write-ahead log ends in frames of a transaction that never
/// committed, i.e. the writer was killed in the middle of writing a task:
/// walks the frames as SQLite's recovery does (salts and checksum chain) and
/// says whether the last valid frame is not a commit frame.
fn wal_has_uncommitted_tail(db: &Path) -> bool {
    let mut wal_path = db.as_os_str().to_owned();
    wal_path.push("-wal");
    let Ok(wal) = std::fs::read(&wal_path) else {
        return false;
    };
    let be = |b: &[u8]| u32::from_be_bytes(b[..4].try_into().unwrap());
    if wal.len() < 32 || be(&wal) & !1 != 0x377f_0682 {
        return false;
    }
    let little = be(&wal) & 1 == 0;
    let checksum = |data: &[u8], (mut s0, mut s1): (u32, u32)| {
        for w in data.chunks_exact(8) {
            let word = |b: &[u8]| {
                let b: [u8; 4] = b.try_into().unwrap();
                if little {
                    u32::from_le_bytes(b)
                } else {
                    u32::from_be_bytes(b)
                }
            };
            s0 = s0.wrapping_add(word(&w[..4]).wrapping_add(s1));
            s1 = s1.wrapping_add(word(&w[4..]).wrapping_add(s0));
        }
        (s0, s1)
    };
    let mut sum = checksum(&wal[..24], (0, 0));
    if sum != (be(&wal[24..]), be(&wal[28..])) {
        return false;
    }
    let page_size = be(&wal[8..]) as usize;
    let (mut at, mut pending) = (32, false);
    while at + 24 + page_size <= wal.len() {
        let header = &wal[at..at + 24];
        if header[8..16] != wal[16..24] {
            break; // a frame of an earlier WAL generation
        }
        let s = checksum(
            &wal[at + 24..at + 24 + page_size],
            checksum(&header[..8], sum),
        );
        if s != (be(&header[16..]), be(&header[20..])) {
            break;
        }
        sum = s;
        pending = be(&header[4..]) == 0; // a commit frame holds the database size
        at += 24 + page_size;
    }
    pending
}

/// When to kill the child once it has reported enough commits.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// After this fraction of its time per task.
    After(f64),
    /// As soon as its WAL shows an uncommitted tail (pages of a task spilled
    /// before the commit), or after 20 s.
    MidWrite,
}

/// Start a child storing tasks from `start`; SIGKILL it as `kill` says after
/// it reported `kill_after` commits. Returns the task ids it reported as
/// committed.
fn run_and_kill_child(path: &Path, start: u64, kill_after: usize, kill: Kill) -> BTreeSet<u64> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child_helper", "--exact", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(CHILD_DB_ENV, path)
        .env(CHILD_START_ENV, start.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let lines = std::thread::spawn(move || {
        let mut committed = BTreeSet::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(id) = line.strip_prefix("committed ") {
                committed.insert(id.parse::<u64>().unwrap());
                let _ = tx.send(Instant::now());
            }
        }
        committed
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut times = Vec::new();
    while times.len() < kill_after {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(t) => times.push(t),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the child did not commit {kill_after} tasks in time");
            }
        }
    }
    match kill {
        Kill::After(fraction) => {
            let per_task = (times[times.len() - 1] - times[0]) / (times.len() as u32 - 1);
            std::thread::sleep(per_task.mul_f64(fraction));
        }
        Kill::MidWrite => {
            let until = Instant::now() + Duration::from_secs(20);
            while !wal_has_uncommitted_tail(path) && Instant::now() < until {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }
    child.kill().unwrap(); // SIGKILL, while it is storing the next task
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "the child must die by SIGKILL, not finish: {status:?}"
    );
    lines.join().unwrap()
}

#[test]
fn killing_the_writer_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    Store::open(&path).unwrap();
    let mut all_committed = BTreeSet::new();
    // Kill at varied points of a task, and while a task's pages are in the
    // WAL uncommitted; at least one kill must tear a write.
    let kills = [
        (2, Kill::MidWrite),
        (3, Kill::After(0.5)),
        (4, Kill::MidWrite),
        (2, Kill::After(0.9)),
        (3, Kill::MidWrite),
        (5, Kill::After(0.2)),
    ];
    let mut torn = 0;
    for (round, (kill_after, kill)) in kills.into_iter().enumerate() {
        let start = round as u64 * 10_000;
        let committed = run_and_kill_child(&path, start, kill_after, kill);
        assert!(committed.len() >= kill_after);
        let mid_write = wal_has_uncommitted_tail(&path);
        torn += mid_write as usize;
        eprintln!(
            "round {round} ({kill:?}): {} task(s) reported committed, killed mid-write: {mid_write}",
            committed.len()
        );

        // Opening recovers the WAL; the file is sound.
        let c = raw(&path);
        let check: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {round}");
        drop(c);

        let store = Store::open(&path).unwrap();
        let mut per_task: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
        for s in store.samples().unwrap() {
            per_task
                .entry(s.task_id)
                .or_default()
                .insert(s.miner_hotkey);
        }
        for (task, miners) in &per_task {
            assert_eq!(
                miners.len(),
                CRASH_MINERS,
                "round {round}: task {task} is half-present"
            );
        }
        for task in &committed {
            assert!(
                per_task.contains_key(task),
                "round {round}: task {task} was reported committed and is lost"
            );
        }
        // This round's tasks form a prefix: at most the one being written when
        // killed (committed, not yet reported) beyond what was reported.
        let this_round: Vec<u64> = per_task
            .keys()
            .copied()
            .filter(|&t| t >= start && t < start + 10_000)
            .collect();
        assert!(this_round
            .iter()
            .copied()
            .eq(start..start + this_round.len() as u64));
        let reported_last = *committed.last().unwrap();
        assert!(*this_round.last().unwrap() <= reported_last + 1);
        if mid_write {
            // The torn task is the one after the last reported: rolled back.
            assert_eq!(*this_round.last().unwrap(), reported_last, "round {round}");
        }
        // Whole and intact: every verdict is the one the child wrote.
        for &task in this_round.iter().step_by(3) {
            let expected = report(task, CRASH_MINERS, 0, CRASH_CURVE);
            for (miner, v) in &expected.verdicts {
                assert_stored(&store, VALIDATOR, task, miner, v);
            }
        }
        all_committed.extend(committed);
    }
    assert!(torn > 0, "no kill landed in the middle of a write");
    // Earlier rounds' tasks survived the later kills, and the store still writes.
    let store = Store::open(&path).unwrap();
    let present: BTreeSet<u64> = store.samples().unwrap().iter().map(|s| s.task_id).collect();
    assert!(all_committed.is_subset(&present));
    let before = store.count().unwrap();
    store
        .store_task(VALIDATOR, &report(99_999, 2, 0, 0), T0)
        .unwrap();
    assert_eq!(store.count().unwrap(), before + 2);
}

// ---------------------------------------------------------------------------
// `leoma-gpu evaluate --store` on the example task.

#[test]
fn evaluate_store_without_a_validator_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_leoma-gpu"))
        .args(["evaluate", common::task_dir().to_str().unwrap(), "--store"])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("LEOMA_VALIDATOR_HOTKEY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--validator") && stderr.contains("LEOMA_VALIDATOR_HOTKEY"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing evaluated");
}

#[test]
fn evaluate_store_records_every_miner_once() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let path = data_dir.join(DB_FILE_NAME);
    let task = common::task_dir();
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(task.join("metadata.json")).unwrap())
            .unwrap();
    let task_id = meta["task_id"].as_u64().unwrap();
    let miners: BTreeSet<String> = meta["miners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    assert!(miners.len() >= 10, "{miners:?}");
    let args = [
        "evaluate",
        task.to_str().unwrap(),
        "--store",
        "--validator",
        VALIDATOR,
        "--data-dir",
        data_dir.to_str().unwrap(),
    ];

    // A store that fails while writing: exit 1 naming the file, report still printed.
    Store::open(&path).unwrap();
    raw(&path)
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON verdicts
             BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
        )
        .unwrap();
    let out = common::run(&args);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&path.display().to_string()) && out.stderr.contains("disk on fire"),
        "{}",
        out.stderr
    );
    let printed: Value = serde_json::from_str(&out.stdout).expect("the report is printed");
    assert_eq!(printed["verdicts"].as_object().unwrap().len(), miners.len());
    assert_eq!(Store::open(&path).unwrap().count().unwrap(), 0);
    raw(&path).execute_batch("DROP TRIGGER refuse").unwrap();

    // Stored: one row per miner, each the verdict that was printed.
    let out = common::run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("stored {} verdict(s)", miners.len())),
        "{}",
        out.stderr
    );
    let printed: Value = serde_json::from_str(&out.stdout).unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count().unwrap(), miners.len() as u64);
    let samples = store.samples().unwrap();
    assert!(samples
        .iter()
        .all(|s| s.task_id == task_id && s.validator_hotkey == VALIDATOR));
    let stored_miners: BTreeSet<String> = samples.iter().map(|s| s.miner_hotkey.clone()).collect();
    assert_eq!(stored_miners, miners);
    for s in &samples {
        let v = store
            .verdict(VALIDATOR, task_id, &s.miner_hotkey)
            .unwrap()
            .unwrap();
        assert_eq!(
            v, printed["verdicts"][&s.miner_hotkey],
            "{}",
            s.miner_hotkey
        );
        assert_eq!(s.passed, v["passed"].as_bool().unwrap());
    }
    drop(store);

    // Again: replaced, still one per miner.
    let out = common::run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count().unwrap(), miners.len() as u64);
    assert_eq!(store.samples().unwrap(), samples);
}
