//! The old agents' offsets, written as they write them: Fluent Bit's tail database (with the
//! `sqlite3` command and the schema of Fluent Bit's `plugins/in_tail/tail_sql.h`) and Vector's
//! `checkpoints.json`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// One row of `in_tail_files`.
pub struct TailRow {
    pub name: String,
    pub offset: u64,
    pub inode: u64,
    pub rotated: bool,
}

/// Writes a Fluent Bit tail database at `path` holding `rows`, in WAL mode as Fluent Bit opens
/// it, with SQLite pages of `page_size` bytes.
pub fn fluent_bit_db(path: &Path, page_size: u32, rows: &[TailRow]) {
    let mut sql = format!(
        "PRAGMA page_size={page_size};\nPRAGMA journal_mode=WAL;\n\
         CREATE TABLE IF NOT EXISTS in_tail_files (  id      INTEGER PRIMARY KEY,  \
         name    TEXT NOT NULL,  offset  INTEGER,  inode   INTEGER,  created INTEGER,  \
         rotated INTEGER DEFAULT 0);\nBEGIN;\n"
    );
    for r in rows {
        sql.push_str(&format!(
            "INSERT INTO in_tail_files (name, offset, inode, created) VALUES ('{}', {}, {}, 1764633600);\n",
            r.name.replace('\'', "''"),
            r.offset,
            r.inode
        ));
        if r.rotated {
            sql.push_str("UPDATE in_tail_files SET rotated=1 WHERE id=last_insert_rowid();\n");
        }
    }
    sql.push_str("COMMIT;\n");
    let mut child = Command::new("sqlite3")
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the sqlite3 command (Debian package sqlite3)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(sql.as_bytes())
        .expect("write to sqlite3");
    assert!(child.wait().expect("sqlite3").success(), "sqlite3 failed");
}

/// Vector's `checkpoints.json` with `(fingerprint JSON, position)` pairs.
pub fn vector_checkpoints(path: &Path, checkpoints: &[(String, u64)]) {
    let items: Vec<String> = checkpoints
        .iter()
        .map(|(fp, pos)| {
            format!(r#"{{"fingerprint":{fp},"position":{pos},"modified":"2026-12-01T10:00:00Z"}}"#)
        })
        .collect();
    std::fs::write(
        path,
        format!(r#"{{"version":"1","checkpoints":[{}]}}"#, items.join(",")),
    )
    .expect("write checkpoints.json");
}
