//! The verdict history: every verdict a validator stored, in one embedded
//! SQLite file (`verdicts.sqlite3` under the data directory).
//!
//! One row per (validator hotkey, task id, miner hotkey); storing the same
//! triple again replaces it, as Leoma's API upserts. A task's verdicts are
//! written in one transaction: they land together or not at all.
//!
//! Durability: the journal is a write-ahead log (WAL) and `synchronous=FULL`,
//! so the WAL is fsynced on every commit. Killing the process (or losing power)
//! after `store_task` returned loses nothing; a kill during it leaves the
//! database exactly as before the call. `NORMAL` would be as safe against a
//! killed process but could lose the last commits on power loss; the cost of
//! `FULL` is one fsync per task, negligible next to the seconds a task takes to
//! evaluate. WAL also lets readers (ranking, reports) run while a task is
//! being written, without blocking it or seeing half of it.

mod schema;

/// One stored verdict as the ranking reads it: the ranking's own type.
pub use crate::rank::leoma::Sample;
pub use schema::{APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION};

use crate::report::TaskReport;
use crate::verdict::Verdict;
use rusqlite::{named_params, Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The database file's name inside the data directory.
pub const DB_FILE_NAME: &str = "verdicts.sqlite3";
/// Environment variable naming the data directory.
pub const DATA_DIR_ENV: &str = "LEOMA_DATA_DIR";
/// How long a write waits for another process's write to finish.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "no data directory for the verdict store: set {DATA_DIR_ENV} or HOME, or pass --data-dir"
    )]
    NoDataDir,
    #[error("{}: cannot create the verdict store's directory: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: verdict store: {what}: {source}", .path.display())]
    Sqlite {
        path: PathBuf,
        what: &'static str,
        source: rusqlite::Error,
    },
    #[error(
        "{}: verdict store has schema version {found}, newer than this leoma-gpu knows ({supported}); \
         use a newer leoma-gpu or another data directory", .path.display()
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{}: not a leoma-gpu verdict store ({reason})", .path.display())]
    NotAStore { path: PathBuf, reason: String },
    #[error("{}: verdict store migration to schema version {version} failed: {source}", .path.display())]
    Migration {
        path: PathBuf,
        version: i64,
        source: rusqlite::Error,
    },
    #[error("{}: cannot store task {task_id}: {reason}", .path.display())]
    Invalid {
        path: PathBuf,
        task_id: u64,
        reason: String,
    },
    #[error("{}: stored verdict is not valid JSON: {source}", .path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// The data directory: `$LEOMA_DATA_DIR`, else `$XDG_DATA_HOME/leoma-gpu`,
/// else `~/.local/share/leoma-gpu`.
pub fn default_data_dir() -> Result<PathBuf, StoreError> {
    data_dir_from(
        std::env::var_os(DATA_DIR_ENV),
        std::env::var_os("XDG_DATA_HOME"),
        std::env::var_os("HOME"),
    )
    .ok_or(StoreError::NoDataDir)
}

/// The database file in `data_dir`, or in the default data directory.
pub fn db_path(data_dir: Option<&Path>) -> Result<PathBuf, StoreError> {
    Ok(match data_dir {
        Some(dir) => dir.to_path_buf(),
        None => default_data_dir()?,
    }
    .join(DB_FILE_NAME))
}

fn data_dir_from(
    leoma: Option<OsString>,
    xdg: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    let set = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(leoma) {
        return Some(dir);
    }
    // The XDG spec: a relative XDG_DATA_HOME is invalid and ignored.
    let base = set(xdg)
        .filter(|p| p.is_absolute())
        .or_else(|| set(home).map(|h| h.join(".local/share")))?;
    Some(base.join("leoma-gpu"))
}

/// An open verdict store. Each handle is one SQLite connection; open one per
/// thread or process (readers and the writer never block each other).
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

const UPSERT: &str = "
INSERT INTO verdicts (
    validator_hotkey, task_id, miner_hotkey, passed, overall_score, confidence,
    first_frame_fidelity, prompt_adherence, motion_quality, temporal_consistency,
    visual_quality, camera_composition, degraded, error_kind, evaluator_version,
    calibration_version, config_digest, model_digests, video_sha256, evaluated_at, verdict_json
) VALUES (
    :validator, :task_id, :miner, :passed, :overall, :confidence,
    :first_frame_fidelity, :prompt_adherence, :motion_quality, :temporal_consistency,
    :visual_quality, :camera_composition, :degraded, :error_kind, :evaluator_version,
    :calibration_version, :config_digest, :model_digests, :video_sha256, :evaluated_at, :verdict_json
)
ON CONFLICT (validator_hotkey, task_id, miner_hotkey) DO UPDATE SET
    passed = excluded.passed,
    overall_score = excluded.overall_score,
    confidence = excluded.confidence,
    first_frame_fidelity = excluded.first_frame_fidelity,
    prompt_adherence = excluded.prompt_adherence,
    motion_quality = excluded.motion_quality,
    temporal_consistency = excluded.temporal_consistency,
    visual_quality = excluded.visual_quality,
    camera_composition = excluded.camera_composition,
    degraded = excluded.degraded,
    error_kind = excluded.error_kind,
    evaluator_version = excluded.evaluator_version,
    calibration_version = excluded.calibration_version,
    config_digest = excluded.config_digest,
    model_digests = excluded.model_digests,
    video_sha256 = excluded.video_sha256,
    evaluated_at = excluded.evaluated_at,
    verdict_json = excluded.verdict_json";

/// A verdict serialized ahead of the transaction, so that nothing fallible
/// but SQLite itself runs while the write lock is held.
struct Row<'a> {
    miner: &'a str,
    verdict: &'a Verdict,
    model_digests: String,
    json: String,
}

impl Store {
    /// Open (creating it and its directory if needed) the store at `path`,
    /// migrating its schema to this binary's version.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            what: "opening",
            source,
        };
        // No SQLITE_OPEN_URI: the path is a file name, never a URI.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        let store = Store { conn, path };
        // Check whose file this is before changing anything in it.
        store.check_ownership()?;
        let conn = &store.conn;
        let mode = store.set_wal()?;
        if !mode.eq_ignore_ascii_case("wal") {
            // E.g. a file system without shared memory: still crash-safe with a
            // rollback journal, but readers then wait for writers.
            tracing::warn!(path = %store.path.display(), mode, "verdict store: WAL unavailable");
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .and_then(|()| conn.pragma_update(None, "foreign_keys", true))
            .map_err(store.err("setting synchronous and foreign_keys"))?;
        schema::migrate(conn, &store.path, MIGRATIONS)?;
        Ok(store)
    }

    /// Switch the file to WAL (persistent; a no-op once done). Switching a new
    /// file needs it to itself, and SQLite answers BUSY at once, without its
    /// busy handler, while another connection has it open (several processes
    /// creating the store together): retry up to `BUSY_TIMEOUT`.
    fn set_wal(&self) -> Result<String, StoreError> {
        let deadline = Instant::now() + BUSY_TIMEOUT;
        loop {
            match self
                .conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == ErrorCode::DatabaseBusy && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                r => return r.map_err(self.err("setting the WAL journal mode")),
            }
        }
    }

    /// Refuse another program's SQLite file and a schema from the future.
    fn check_ownership(&self) -> Result<(), StoreError> {
        // One statement, so one snapshot: another process may be creating
        // the schema right now.
        let (app_id, version, objects): (i32, i64, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id()),
                        (SELECT user_version FROM pragma_user_version()),
                        (SELECT count(*) FROM sqlite_schema)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(self.err("reading the header"))?;
        let not_ours = |reason: String| {
            Err(StoreError::NotAStore {
                path: self.path.clone(),
                reason,
            })
        };
        if app_id != 0 && app_id != APPLICATION_ID {
            return not_ours(format!("application_id {app_id:#x}"));
        }
        if version > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                path: self.path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if app_id == 0 && objects > 0 {
            return not_ours(format!(
                "an existing database with {objects} schema object(s)"
            ));
        }
        Ok(())
    }

    fn err(&self, what: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.clone(),
            what,
            source,
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema::user_version(&self.conn).map_err(self.err("reading the schema version"))
    }

    /// Store every verdict of a task under `validator_hotkey`, in one
    /// transaction, replacing earlier verdicts for the same (validator, task,
    /// miner). `evaluated_at` is in unix seconds. Returns the rows written.
    pub fn store_task(
        &self,
        validator_hotkey: &str,
        report: &TaskReport,
        evaluated_at: i64,
    ) -> Result<usize, StoreError> {
        let invalid = |reason: String| StoreError::Invalid {
            path: self.path.clone(),
            task_id: report.task_id,
            reason,
        };
        if validator_hotkey.trim().is_empty() {
            return Err(invalid("the validator hotkey is empty".into()));
        }
        let task_id = i64::try_from(report.task_id)
            .map_err(|_| invalid("the task id does not fit a signed 64-bit integer".into()))?;
        let json = |r: serde_json::Result<String>| {
            r.map_err(|e| invalid(format!("cannot serialize a verdict: {e}")))
        };
        let mut rows = Vec::with_capacity(report.verdicts.len());
        for (miner, verdict) in &report.verdicts {
            if miner.trim().is_empty() {
                return Err(invalid("a miner hotkey is empty".into()));
            }
            rows.push(Row {
                miner,
                verdict,
                model_digests: json(serde_json::to_string(&verdict.evaluator.model_digests))?,
                json: json(serde_json::to_string(verdict))?,
            });
        }

        // IMMEDIATE: take the write lock now (waiting up to BUSY_TIMEOUT for
        // another writer) rather than fail halfway when upgrading a read lock.
        let tx = Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)
            .map_err(self.err("starting a write transaction"))?;
        {
            let mut stmt = tx
                .prepare_cached(UPSERT)
                .map_err(self.err("storing a task"))?;
            for r in &rows {
                let v = r.verdict;
                let s = &v.aspect_scores;
                stmt.execute(named_params! {
                    ":validator": validator_hotkey,
                    ":task_id": task_id,
                    ":miner": r.miner,
                    ":passed": v.passed,
                    ":overall": v.overall_score,
                    ":confidence": v.confidence,
                    ":first_frame_fidelity": s.first_frame_fidelity,
                    ":prompt_adherence": s.prompt_adherence,
                    ":motion_quality": s.motion_quality,
                    ":temporal_consistency": s.temporal_consistency,
                    ":visual_quality": s.visual_quality,
                    ":camera_composition": s.camera_composition,
                    ":degraded": v.degraded,
                    ":error_kind": v.error.as_ref().map(|e| e.kind.as_str()),
                    ":evaluator_version": v.evaluator.version,
                    ":calibration_version": v.evaluator.calibration_version,
                    ":config_digest": v.evaluator.config_digest,
                    ":model_digests": r.model_digests,
                    ":video_sha256": v.input.sha256,
                    ":evaluated_at": evaluated_at,
                    ":verdict_json": r.json,
                })
                .map_err(self.err("storing a task"))?;
            }
        }
        tx.commit().map_err(self.err("committing a task"))?;
        Ok(rows.len())
    }

    /// Every stored verdict as (task, miner, validator, passed), ordered by
    /// task, miner, validator.
    pub fn samples(&self) -> Result<Vec<Sample>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT task_id, miner_hotkey, validator_hotkey, passed FROM verdicts
                 ORDER BY task_id, miner_hotkey, validator_hotkey",
            )
            .map_err(self.err("reading samples"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Sample {
                    task_id: r.get::<_, i64>(0)? as u64, // CHECK (task_id >= 0)
                    miner_hotkey: r.get(1)?,
                    validator_hotkey: r.get(2)?,
                    passed: r.get(3)?,
                })
            })
            .map_err(self.err("reading samples"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.err("reading samples"))
    }

    /// The stored verdict for (validator, task, miner), if any, parsed.
    ///
    /// serde_json (without its `float_roundtrip` feature) may parse a float
    /// 1 ulp off the value that was written; [`Store::verdict_json`] gives the
    /// exact text.
    pub fn verdict(
        &self,
        validator_hotkey: &str,
        task_id: u64,
        miner_hotkey: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        self.verdict_json(validator_hotkey, task_id, miner_hotkey)?
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|source| StoreError::Json {
                path: self.path.clone(),
                source,
            })
    }

    /// The stored verdict for (validator, task, miner), if any, as the exact
    /// JSON text that was stored (compact, the verdict's field order).
    pub fn verdict_json(
        &self,
        validator_hotkey: &str,
        task_id: u64,
        miner_hotkey: &str,
    ) -> Result<Option<String>, StoreError> {
        let Ok(task_id) = i64::try_from(task_id) else {
            return Ok(None);
        };
        self.conn
            .query_row(
                "SELECT verdict_json FROM verdicts
                 WHERE validator_hotkey = ?1 AND task_id = ?2 AND miner_hotkey = ?3",
                (validator_hotkey, task_id, miner_hotkey),
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err("reading a verdict"))
    }

    /// How many verdicts are stored.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM verdicts", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(self.err("counting verdicts"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> Option<OsString> {
        Some(s.into())
    }

    #[test]
    fn data_dir_precedence() {
        assert_eq!(
            data_dir_from(os("/d"), os("/x"), os("/h")),
            Some(PathBuf::from("/d"))
        );
        assert_eq!(
            data_dir_from(None, os("/x"), os("/h")),
            Some(PathBuf::from("/x/leoma-gpu"))
        );
        assert_eq!(
            data_dir_from(os(""), os(""), os("/h")),
            Some(PathBuf::from("/h/.local/share/leoma-gpu"))
        );
        // A relative XDG_DATA_HOME is invalid per the spec and ignored.
        assert_eq!(
            data_dir_from(None, os("rel"), os("/h")),
            Some(PathBuf::from("/h/.local/share/leoma-gpu"))
        );
        assert_eq!(data_dir_from(None, None, None), None);
    }

    #[test]
    fn db_path_joins_the_file_name() {
        assert_eq!(
            db_path(Some(Path::new("/var/lib/leoma"))).unwrap(),
            PathBuf::from("/var/lib/leoma/verdicts.sqlite3")
        );
    }

    #[test]
    fn open_sets_the_durability_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("a/b").join(DB_FILE_NAME)).unwrap();
        let q = |p: &str| -> String {
            store
                .conn
                .pragma_query_value(None, p, |r| r.get::<_, rusqlite::types::Value>(0))
                .map(|v| format!("{v:?}"))
                .unwrap()
        };
        assert_eq!(q("journal_mode"), "Text(\"wal\")");
        assert_eq!(q("synchronous"), "Integer(2)"); // FULL
        assert_eq!(q("foreign_keys"), "Integer(1)");
        assert_eq!(q("busy_timeout"), "Integer(15000)");
        assert_eq!(q("application_id"), format!("Integer({APPLICATION_ID})"));
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }
}
