//! The store's schema as an ordered list of migrations.
//!
//! `PRAGMA user_version` holds how many migrations a database has had. Each
//! migration runs in a transaction of its own that also bumps
//! `user_version`, so a database is always exactly at one version: a failed
//! or interrupted migration leaves it at the previous one. Migrations are
//! only ever appended; a released one is never edited. They must be
//! transactional SQL (no `VACUUM`, no `PRAGMA journal_mode`).

use super::StoreError;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::Path;

/// Marks a database as a leoma-gpu verdict store (`PRAGMA application_id`,
/// "LEOM"), so that another program's SQLite file is never taken for one.
pub const APPLICATION_ID: i32 = 0x4C45_4F4D;

/// Migration `i` takes a database from version `i` to version `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: the verdict history.
    r#"
    PRAGMA application_id = 1279610701;
    CREATE TABLE verdicts (
        id                   INTEGER PRIMARY KEY,
        validator_hotkey     TEXT    NOT NULL CHECK (validator_hotkey <> ''),
        task_id              INTEGER NOT NULL CHECK (task_id >= 0),
        miner_hotkey         TEXT    NOT NULL CHECK (miner_hotkey <> ''),
        passed               INTEGER NOT NULL CHECK (passed IN (0, 1)),
        overall_score        INTEGER NOT NULL CHECK (overall_score BETWEEN 0 AND 100),
        confidence           INTEGER NOT NULL CHECK (confidence BETWEEN 0 AND 100),
        first_frame_fidelity INTEGER CHECK (first_frame_fidelity BETWEEN 0 AND 100),
        prompt_adherence     INTEGER CHECK (prompt_adherence BETWEEN 0 AND 100),
        motion_quality       INTEGER CHECK (motion_quality BETWEEN 0 AND 100),
        temporal_consistency INTEGER CHECK (temporal_consistency BETWEEN 0 AND 100),
        visual_quality       INTEGER CHECK (visual_quality BETWEEN 0 AND 100),
        camera_composition   INTEGER CHECK (camera_composition BETWEEN 0 AND 100),
        degraded             INTEGER NOT NULL CHECK (degraded IN (0, 1)),
        error_kind           TEXT,
        evaluator_version    TEXT    NOT NULL,
        calibration_version  TEXT    NOT NULL,
        config_digest        TEXT    NOT NULL,
        model_digests        TEXT    NOT NULL CHECK (json_valid(model_digests)),
        video_sha256         TEXT,
        evaluated_at         INTEGER NOT NULL,
        verdict_json         TEXT    NOT NULL CHECK (json_valid(verdict_json)),
        UNIQUE (validator_hotkey, task_id, miner_hotkey)
    ) STRICT;
    CREATE INDEX verdicts_by_task_miner ON verdicts (task_id, miner_hotkey);
    "#,
];

/// The schema version this binary writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Bring the database up to `steps.len()`, one transaction per step.
pub(crate) fn migrate(conn: &Connection, path: &Path, steps: &[&str]) -> Result<(), StoreError> {
    let known = steps.len() as i64;
    let sql = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        what: "migrating the schema",
        source,
    };
    let too_new = |found| StoreError::SchemaTooNew {
        path: path.to_path_buf(),
        found,
        supported: known,
    };
    let current = user_version(conn).map_err(sql)?;
    if current > known {
        return Err(too_new(current));
    }
    for (i, step) in steps.iter().enumerate().skip(current.max(0) as usize) {
        let version = i as i64 + 1;
        // IMMEDIATE takes the write lock first: two processes opening the same
        // new database migrate one after the other, never both.
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(sql)?;
        let now = user_version(&tx).map_err(sql)?;
        if now > known {
            return Err(too_new(now));
        }
        if now >= version {
            continue; // another process got there first (the drop rolls back)
        }
        tx.execute_batch(step)
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .map_err(|source| StoreError::Migration {
                path: path.to_path_buf(),
                version,
                source,
            })?;
        tx.commit().map_err(sql)?;
        tracing::debug!(path = %path.display(), version, "migrated the verdict store");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_id_in_the_first_migration_matches_the_constant() {
        assert_eq!(APPLICATION_ID, 1_279_610_701);
        assert!(MIGRATIONS[0].contains(&format!("application_id = {APPLICATION_ID};")));
        assert_eq!(&APPLICATION_ID.to_be_bytes(), b"LEOM");
    }

    #[test]
    fn steps_apply_once_each_in_order() {
        let conn = Connection::open_in_memory().unwrap();
        let p = Path::new(":memory:");
        let steps = [
            "CREATE TABLE a (x INTEGER);",
            "ALTER TABLE a ADD COLUMN y TEXT;",
        ];
        migrate(&conn, p, &steps[..1]).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 1);
        migrate(&conn, p, &steps).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 2);
        // Applying again is a no-op (the ALTER would fail if it ran twice).
        migrate(&conn, p, &steps).unwrap();
        conn.execute("INSERT INTO a (x, y) VALUES (1, 'one')", [])
            .unwrap();
    }

    #[test]
    fn a_failing_step_leaves_the_previous_version_and_nothing_of_itself() {
        let conn = Connection::open_in_memory().unwrap();
        let p = Path::new("/data/verdicts.sqlite3");
        let steps = [
            "CREATE TABLE a (x INTEGER);",
            "CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);",
        ];
        let err = migrate(&conn, p, &steps).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("/data/verdicts.sqlite3") && msg.contains("version 2"),
            "{msg}"
        );
        assert_eq!(user_version(&conn).unwrap(), 1);
        let b: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(b, 0, "the failed step's table must be rolled back");
    }

    #[test]
    fn a_newer_database_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 7).unwrap();
        let err = migrate(&conn, Path::new("/x/verdicts.sqlite3"), MIGRATIONS).unwrap_err();
        assert!(matches!(
            err,
            StoreError::SchemaTooNew {
                found: 7,
                supported: SCHEMA_VERSION,
                ..
            }
        ));
    }
}
