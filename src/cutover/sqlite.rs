//! A minimal read-only reader of SQLite database files: enough to list the rows of one table.
//!
//! skiff reads Fluent Bit's tail database (`DB` of the tail input) once, at cut-over. Linking
//! SQLite itself (rusqlite and the bundled C library, about 1 MiB) would push the sidecar binary
//! over its 8 MiB budget for a command run once per migration, so this module reads the
//! documented file format (<https://www.sqlite.org/fileformat2.html>) directly:
//! the 100-byte header, table B-tree pages (interior and leaf), varints, the record format and
//! overflow pages, and the committed frames of a write-ahead log (`DB-wal`) left by a writer that
//! was killed. It does not read indexes or UTF-16 text; it refuses, with a reason, whatever it
//! does not understand rather than guessing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A database file could not be read.
#[derive(Debug, Error)]
pub enum SqliteError {
    #[error("cannot read {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("not an SQLite 3 database (bad header)")]
    NotSqlite,
    #[error("unsupported SQLite database: {0}")]
    Unsupported(String),
    #[error("corrupt SQLite database: {0}")]
    Corrupt(String),
    #[error("no table named `{0}` in the database")]
    NoTable(String),
}

/// One value of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    /// The value as an integer, if it is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The value as text, if it is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// One row of a table: its rowid and its columns, in the table's order. A column declared
/// `INTEGER PRIMARY KEY` is stored as NULL; its value is the rowid.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub rowid: i64,
    pub values: Vec<Value>,
}

/// A database file held in memory (tail databases are small: one row per file followed).
pub struct Database {
    bytes: Vec<u8>,
    page_size: usize,
    usable: usize,
}

/// A table's rows and its column names (from its `CREATE TABLE` statement).
#[derive(Debug)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

impl Table {
    /// The index of the column named `name` (case-insensitive, as SQL names are).
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }
}

const HEADER: &[u8; 16] = b"SQLite format 3\0";

impl Database {
    /// Reads the file at `path`, with the committed changes of its write-ahead log
    /// (`PATH-wal`) if there is one.
    pub fn open(path: &Path) -> Result<Database, SqliteError> {
        let io = |error| SqliteError::Io {
            path: path.to_path_buf(),
            error,
        };
        let mut bytes = std::fs::read(path).map_err(io)?;
        let mut wal_path = path.as_os_str().to_owned();
        wal_path.push("-wal");
        match std::fs::read(PathBuf::from(wal_path)) {
            Ok(wal) => apply_wal(&mut bytes, &wal)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(SqliteError::Io {
                    path: path.to_path_buf(),
                    error,
                })
            }
        }
        Database::from_bytes(bytes)
    }

    /// Reads a database from its bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Database, SqliteError> {
        if bytes.len() < 100 || &bytes[..16] != HEADER {
            return Err(SqliteError::NotSqlite);
        }
        let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
            1 => 65536,
            n if n >= 512 && n.is_power_of_two() => usize::from(n),
            n => return Err(SqliteError::Corrupt(format!("page size {n}"))),
        };
        let reserved = usize::from(bytes[20]);
        let usable = page_size
            .checked_sub(reserved)
            .filter(|&u| u >= 480)
            .ok_or_else(|| SqliteError::Corrupt(format!("{reserved} reserved bytes per page")))?;
        let encoding = u32::from_be_bytes([bytes[56], bytes[57], bytes[58], bytes[59]]);
        if encoding > 1 {
            return Err(SqliteError::Unsupported(format!(
                "text encoding {encoding} (only UTF-8 is read)"
            )));
        }
        Ok(Database {
            bytes,
            page_size,
            usable,
        })
    }

    /// Every row of the table named `name`, with its column names.
    pub fn table(&self, name: &str) -> Result<Table, SqliteError> {
        // The schema table: type, name, tbl_name, rootpage, sql; its root is page 1.
        for row in self.rows(1)? {
            let v = &row.values;
            let is_table = v.first().and_then(Value::as_text) == Some("table");
            let matches = v
                .get(1)
                .and_then(Value::as_text)
                .is_some_and(|n| n.eq_ignore_ascii_case(name));
            if !(is_table && matches) {
                continue;
            }
            let root = v
                .get(3)
                .and_then(Value::as_i64)
                .and_then(|r| u32::try_from(r).ok())
                .ok_or_else(|| SqliteError::Corrupt(format!("table `{name}` has no root page")))?;
            let sql = v.get(4).and_then(Value::as_text).unwrap_or_default();
            let columns = column_names(sql);
            let rows = self.rows(root)?;
            return Ok(Table { columns, rows });
        }
        Err(SqliteError::NoTable(name.to_owned()))
    }

    /// Every row of the table B-tree rooted at page `root`, in rowid order.
    pub fn rows(&self, root: u32) -> Result<Vec<Row>, SqliteError> {
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = vec![root];
        // Depth-first, children pushed in reverse so rows come out in key order.
        while let Some(page_no) = stack.pop() {
            if !seen.insert(page_no) {
                return Err(SqliteError::Corrupt(format!(
                    "page {page_no} is reached twice"
                )));
            }
            let (page, hdr) = self.page(page_no)?;
            let kind = page[hdr];
            let cells = usize::from(be16(page, hdr + 3)?);
            match kind {
                0x0d => {
                    for i in 0..cells {
                        let at = usize::from(be16(page, hdr + 8 + 2 * i)?);
                        rows.push(self.leaf_cell(page, at)?);
                    }
                }
                0x05 => {
                    let right = be32(page, hdr + 8)?;
                    stack.push(right);
                    let mut children = Vec::with_capacity(cells);
                    for i in 0..cells {
                        let at = usize::from(be16(page, hdr + 12 + 2 * i)?);
                        children.push(be32(page, at)?);
                    }
                    stack.extend(children.into_iter().rev());
                }
                other => {
                    return Err(SqliteError::Corrupt(format!(
                        "page {page_no} has type {other:#04x}, not a table page"
                    )))
                }
            }
        }
        Ok(rows)
    }

    /// Page `n` (1-based) and the offset of its B-tree header (100 on page 1, after the file
    /// header).
    fn page(&self, n: u32) -> Result<(&[u8], usize), SqliteError> {
        let start = (n as usize)
            .checked_sub(1)
            .map(|i| i * self.page_size)
            .ok_or_else(|| SqliteError::Corrupt("page number 0".into()))?;
        let page = self
            .bytes
            .get(start..start + self.page_size)
            .ok_or_else(|| SqliteError::Corrupt(format!("page {n} is past the end of the file")))?;
        Ok((page, if n == 1 { 100 } else { 0 }))
    }

    /// A table leaf cell: payload size, rowid, the payload's first bytes, then overflow pages.
    fn leaf_cell(&self, page: &[u8], at: usize) -> Result<Row, SqliteError> {
        let (size, n) = varint(page, at)?;
        let (rowid, m) = varint(page, at + n)?;
        let start = at + n + m;
        let size = usize::try_from(size)
            .ok()
            .filter(|&s| s <= self.bytes.len())
            .ok_or_else(|| SqliteError::Corrupt(format!("payload of {size} bytes")))?;
        let u = self.usable;
        let max_local = u - 35;
        let local = if size <= max_local {
            size
        } else {
            let min_local = (u - 12) * 32 / 255 - 23;
            let k = min_local + (size - min_local) % (u - 4);
            if k <= max_local {
                k
            } else {
                min_local
            }
        };
        let mut payload = Vec::with_capacity(size);
        payload.extend_from_slice(slice(page, start, local)?);
        if local < size {
            let mut next = be32(page, start + local)?;
            let mut seen = HashSet::new();
            while payload.len() < size {
                if next == 0 || !seen.insert(next) {
                    return Err(SqliteError::Corrupt("broken overflow chain".into()));
                }
                let (ov, _) = self.page(next)?;
                let take = (size - payload.len()).min(u - 4);
                payload.extend_from_slice(slice(ov, 4, take)?);
                next = be32(ov, 0)?;
            }
        }
        Ok(Row {
            rowid: rowid as i64,
            values: record(&payload)?,
        })
    }
}

/// Applies the committed frames of a write-ahead log to the database's pages, as SQLite does
/// when it reads: a frame counts if its salts match the log's header and its checksum continues
/// the chain, and only frames up to the last such commit frame (one that gives the database's
/// size) are applied. A program killed between checkpoints (Fluent Bit, OOM-killed) leaves its
/// newest offsets there.
fn apply_wal(db: &mut Vec<u8>, wal: &[u8]) -> Result<(), SqliteError> {
    const HEADER: usize = 32;
    const FRAME_HEADER: usize = 24;
    if wal.len() < HEADER {
        return Ok(());
    }
    let magic = be32(wal, 0)?;
    let big_endian = match magic {
        0x377f_0683 => true,
        0x377f_0682 => false,
        _ => return Err(SqliteError::Corrupt("bad write-ahead log header".into())),
    };
    let page_size = match be32(wal, 8)? {
        65536 => 65536,
        n if (512..=32768).contains(&n) && n.is_power_of_two() => n as usize,
        n => {
            return Err(SqliteError::Corrupt(format!(
                "write-ahead log page size {n}"
            )))
        }
    };
    if db.len() >= 18 {
        let db_page = match u16::from_be_bytes([db[16], db[17]]) {
            1 => 65536,
            n => usize::from(n),
        };
        if db_page != page_size {
            return Err(SqliteError::Corrupt(
                "the write-ahead log's page size is not the database's".into(),
            ));
        }
    }
    let (salt1, salt2) = (be32(wal, 16)?, be32(wal, 20)?);
    let mut sum = checksum((0, 0), &wal[..24], big_endian);
    if sum != (be32(wal, 24)?, be32(wal, 28)?) {
        // A log whose header does not check out holds nothing valid (SQLite ignores it).
        return Ok(());
    }
    let mut pending: Vec<(u32, usize)> = Vec::new();
    let mut committed: Vec<(u32, usize)> = Vec::new();
    let mut size_pages = None;
    let mut at = HEADER;
    while at + FRAME_HEADER + page_size <= wal.len() {
        let page_no = be32(wal, at)?;
        let commit = be32(wal, at + 4)?;
        if (be32(wal, at + 8)?, be32(wal, at + 12)?) != (salt1, salt2) || page_no == 0 {
            break;
        }
        sum = checksum(sum, &wal[at..at + 8], big_endian);
        sum = checksum(
            sum,
            &wal[at + FRAME_HEADER..at + FRAME_HEADER + page_size],
            big_endian,
        );
        if sum != (be32(wal, at + 16)?, be32(wal, at + 20)?) {
            break;
        }
        pending.push((page_no, at + FRAME_HEADER));
        if commit != 0 {
            committed.append(&mut pending);
            size_pages = Some(commit as usize);
        }
        at += FRAME_HEADER + page_size;
    }
    let Some(size_pages) = size_pages else {
        return Ok(());
    };
    db.resize(size_pages * page_size, 0);
    for (page_no, data) in committed {
        let start = (page_no as usize - 1) * page_size;
        if let Some(dst) = db.get_mut(start..start + page_size) {
            dst.copy_from_slice(&wal[data..data + page_size]);
        }
    }
    Ok(())
}

/// The write-ahead log's running checksum over `data` (a multiple of 8 bytes).
fn checksum(mut s: (u32, u32), data: &[u8], big_endian: bool) -> (u32, u32) {
    let word = |b: &[u8]| {
        let a = [b[0], b[1], b[2], b[3]];
        if big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    };
    for pair in data.chunks_exact(8) {
        s.0 = s.0.wrapping_add(word(&pair[..4]).wrapping_add(s.1));
        s.1 = s.1.wrapping_add(word(&pair[4..]).wrapping_add(s.0));
    }
    s
}

/// Decodes a record: a header of serial types, then the values.
fn record(payload: &[u8]) -> Result<Vec<Value>, SqliteError> {
    let (header_len, mut pos) = varint(payload, 0)?;
    let header_len = usize::try_from(header_len)
        .ok()
        .filter(|&h| h <= payload.len())
        .ok_or_else(|| SqliteError::Corrupt("record header longer than its record".into()))?;
    let mut body = header_len;
    let mut values = Vec::new();
    while pos < header_len {
        let (serial, n) = varint(payload, pos)?;
        pos += n;
        let (value, len) = match serial {
            0 => (Value::Null, 0),
            1..=6 => {
                let len = [1, 2, 3, 4, 6, 8][serial as usize - 1];
                (Value::Integer(be_signed(slice(payload, body, len)?)), len)
            }
            7 => {
                let b = slice(payload, body, 8)?;
                let mut a = [0; 8];
                a.copy_from_slice(b);
                (Value::Real(f64::from_be_bytes(a)), 8)
            }
            8 => (Value::Integer(0), 0),
            9 => (Value::Integer(1), 0),
            10 | 11 => {
                return Err(SqliteError::Corrupt(format!(
                    "reserved serial type {serial}"
                )))
            }
            n => {
                let len = usize::try_from((n - 12) / 2)
                    .map_err(|_| SqliteError::Corrupt("value too long".into()))?;
                let b = slice(payload, body, len)?;
                if n % 2 == 0 {
                    (Value::Blob(b.to_vec()), len)
                } else {
                    (Value::Text(String::from_utf8_lossy(b).into_owned()), len)
                }
            }
        };
        body += len;
        values.push(value);
    }
    Ok(values)
}

/// The column names of a `CREATE TABLE name (col type ..., ..., constraint)` statement.
fn column_names(sql: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (sql.find('('), sql.rfind(')')) else {
        return Vec::new();
    };
    let Some(body) = sql.get(open + 1..close) else {
        return Vec::new();
    };
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in body.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    const CONSTRAINTS: [&str; 5] = ["constraint", "primary", "unique", "check", "foreign"];
    parts
        .iter()
        .filter_map(|p| {
            let p = p.trim_start();
            let name: String = if let Some(q @ ('"' | '`' | '[')) = p.chars().next() {
                let end = if q == '[' { ']' } else { q };
                p[1..].split(end).next().unwrap_or_default().to_owned()
            } else {
                p.split(|c: char| c.is_whitespace()).next()?.to_owned()
            };
            let constraint = CONSTRAINTS.iter().any(|k| name.eq_ignore_ascii_case(k));
            (!name.is_empty() && !constraint).then_some(name)
        })
        .collect()
}

/// An SQLite varint at `at`: its value and its length (1 to 9 bytes).
fn varint(b: &[u8], at: usize) -> Result<(u64, usize), SqliteError> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let byte = *b
            .get(at + i)
            .ok_or_else(|| SqliteError::Corrupt("varint past the end of its page".into()))?;
        if i == 8 {
            return Ok(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    // The loop returns by its ninth byte at the latest.
    Ok((v, 9))
}

fn slice(b: &[u8], at: usize, len: usize) -> Result<&[u8], SqliteError> {
    at.checked_add(len)
        .and_then(|end| b.get(at..end))
        .ok_or_else(|| SqliteError::Corrupt("a value runs past the end of its page".into()))
}

fn be16(b: &[u8], at: usize) -> Result<u16, SqliteError> {
    let s = slice(b, at, 2)?;
    Ok(u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> Result<u32, SqliteError> {
    let s = slice(b, at, 4)?;
    Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// A big-endian two's complement integer of 1 to 8 bytes.
fn be_signed(b: &[u8]) -> i64 {
    let mut v: i64 = if b.first().is_some_and(|&x| x & 0x80 != 0) {
        -1
    } else {
        0
    };
    for &x in b {
        v = (v << 8) | i64::from(x);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(varint(&[0x05], 0).unwrap(), (5, 1));
        assert_eq!(varint(&[0x81, 0x00], 0).unwrap(), (128, 2));
        assert_eq!(varint(&[0xff; 9], 0).unwrap(), (u64::MAX, 9));
        assert!(varint(&[0x81], 0).is_err());
    }

    #[test]
    fn signed_integers() {
        assert_eq!(be_signed(&[0xff]), -1);
        assert_eq!(be_signed(&[0x01, 0x00]), 256);
        assert_eq!(be_signed(&[0x80, 0, 0, 0, 0, 0]), -(1 << 47));
    }

    #[test]
    fn column_names_of_create_table() {
        let sql = "CREATE TABLE in_tail_files (  id      INTEGER PRIMARY KEY,  name    TEXT NOT NULL,  offset  INTEGER,  inode   INTEGER,  created INTEGER,  rotated INTEGER DEFAULT 0)";
        assert_eq!(
            column_names(sql),
            ["id", "name", "offset", "inode", "created", "rotated"]
        );
        assert_eq!(
            column_names("CREATE TABLE t(\"a b\" TEXT, c DECIMAL(10,2), PRIMARY KEY(c))"),
            ["a b", "c"]
        );
    }

    #[test]
    fn refuses_what_is_not_sqlite() {
        assert!(matches!(
            Database::from_bytes(vec![0; 200]),
            Err(SqliteError::NotSqlite)
        ));
    }

    /// Writes `rows` into a Fluent Bit-shaped table with the `sqlite3` command, at `page_size`.
    fn sqlite3_db(dir: &Path, page_size: u32, rows: &[(String, i64, i64)]) -> PathBuf {
        use std::io::Write;
        let path = dir.join("t.db");
        let _ = std::fs::remove_file(&path);
        let mut sql = format!(
            "PRAGMA page_size={page_size};\nCREATE TABLE in_tail_files (id INTEGER PRIMARY KEY, \
             name TEXT NOT NULL, offset INTEGER, inode INTEGER, created INTEGER, rotated INTEGER DEFAULT 0);\nBEGIN;\n"
        );
        for (name, offset, inode) in rows {
            sql.push_str(&format!(
                "INSERT INTO in_tail_files (name, offset, inode, created) VALUES ('{}', {offset}, {inode}, 1);\n",
                name.replace('\'', "''")
            ));
        }
        sql.push_str("COMMIT;\n");
        let mut child = std::process::Command::new("sqlite3")
            .arg(&path)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("the sqlite3 command (Debian package sqlite3)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(sql.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        path
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Whatever sqlite3 writes (one page or many, interior pages, names spilling onto
        /// overflow pages, any integer size), the reader gives back the same rows.
        #[test]
        fn reads_what_sqlite3_wrote(
            page_size in proptest::sample::select(vec![512u32, 1024, 4096, 65536]),
            rows in proptest::collection::vec(
                ("[a-z/._\\-]{0,40}|[a-zé'✓]{0,3000}", proptest::num::i64::ANY, 0i64..(1 << 40)),
                0..400,
            ),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = sqlite3_db(dir.path(), page_size, &rows);
            let table = Database::open(&path).unwrap().table("in_tail_files").unwrap();
            proptest::prop_assert_eq!(table.rows.len(), rows.len());
            for (i, (row, (name, offset, inode))) in table.rows.iter().zip(&rows).enumerate() {
                proptest::prop_assert_eq!(row.rowid, i as i64 + 1);
                let want = vec![
                    Value::Null,
                    Value::Text(name.clone()),
                    Value::Integer(*offset),
                    Value::Integer(*inode),
                    Value::Integer(1),
                    Value::Integer(0),
                ];
                proptest::prop_assert_eq!(&row.values, &want);
            }
        }
    }

    /// Rows committed to the write-ahead log but not yet copied into the database (the
    /// writer was killed, or never checkpointed) are read, as SQLite reads them.
    #[test]
    fn reads_rows_still_in_the_write_ahead_log() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = sqlite3_db(dir.path(), 4096, &[("first".into(), 1, 2)]);
        let mut child = std::process::Command::new("sqlite3")
            .arg(&path)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut sql = String::from(
            ".dbconfig no_ckpt_on_close on\nPRAGMA journal_mode=WAL;\nPRAGMA wal_autocheckpoint=0;\n\
             UPDATE in_tail_files SET offset=99 WHERE id=1;\n",
        );
        for i in 0..300 {
            sql.push_str(&format!(
                "INSERT INTO in_tail_files (name, offset, inode, created) VALUES ('/var/log/w{i}.log', {i}, {i}, 1);\n"
            ));
        }
        child
            .stdin
            .take()
            .unwrap()
            .write_all(sql.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        assert!(std::fs::metadata(&wal).unwrap().len() > 0, "no WAL left");
        let rows = Database::open(&path)
            .unwrap()
            .table("in_tail_files")
            .unwrap()
            .rows;
        assert_eq!(rows.len(), 301);
        assert_eq!(rows[0].values[2], Value::Integer(99));
        assert_eq!(rows[300].values[1], Value::Text("/var/log/w299.log".into()));
        // Garbage appended after the last commit is not a frame: ignored.
        let mut bytes = std::fs::read(&wal).unwrap();
        bytes.extend_from_slice(&[7; 5000]);
        std::fs::write(&wal, bytes).unwrap();
        assert_eq!(
            Database::open(&path)
                .unwrap()
                .table("in_tail_files")
                .unwrap()
                .rows
                .len(),
            301
        );
    }
}
