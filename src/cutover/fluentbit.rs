//! Fluent Bit's tail database: the `in_tail_files` table its tail input keeps with `DB`.
//!
//! The schema (Fluent Bit's `plugins/in_tail/tail_sql.h`): `id INTEGER PRIMARY KEY, name TEXT,
//! offset INTEGER, inode INTEGER, created INTEGER, rotated INTEGER DEFAULT 0`. A row is one file
//! Fluent Bit follows: `name` is its path (its rotated name once `rotated` is 1), `offset` the
//! byte below which every line was read. Columns are looked up by name, so the older schema
//! without `rotated` reads too.

use std::path::{Path, PathBuf};

use super::sqlite::{Database, Value};
use super::{Identity, ImportError, OldOffset};

/// The table Fluent Bit's tail input writes.
pub const TABLE: &str = "in_tail_files";

/// The offsets in the tail database at `path`.
pub fn read(path: &Path) -> Result<Vec<OldOffset>, ImportError> {
    let err = |message: String| ImportError::Old {
        path: path.to_path_buf(),
        message,
    };
    let db = Database::open(path).map_err(|e| err(e.to_string()))?;
    let table = db.table(TABLE).map_err(|e| err(e.to_string()))?;
    let col = |name: &str| {
        table
            .column(name)
            .ok_or_else(|| err(format!("table {TABLE} has no column `{name}`")))
    };
    let (name_col, offset_col, inode_col) = (col("name")?, col("offset")?, col("inode")?);
    let rotated_col = table.column("rotated");
    let mut out = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let get = |i: usize| row.values.get(i).unwrap_or(&Value::Null);
        let name = get(name_col)
            .as_text()
            .ok_or_else(|| err(format!("row {} of {TABLE} has no file name", row.rowid)))?;
        let number = |i: usize, what: &str| {
            get(i)
                .as_i64()
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(|| {
                    err(format!(
                        "row {} of {TABLE} ({name}) has no valid {what}",
                        row.rowid
                    ))
                })
        };
        let offset = number(offset_col, "offset")?;
        let ino = number(inode_col, "inode")?;
        let rotated = rotated_col.and_then(|i| get(i).as_i64()).unwrap_or(0) != 0;
        out.push(OldOffset {
            identity: Identity::Inode {
                ino,
                name: PathBuf::from(name),
            },
            offset,
            label: format!(
                "{name} (inode {ino}, offset {offset}{})",
                if rotated { ", rotated" } else { "" }
            ),
        });
    }
    Ok(out)
}
