//! Vector's file source checkpoints: `DATA_DIR/SOURCE/checkpoints.json`.
//!
//! The format (Vector's `lib/file-source/src/checkpointer.rs`): `{"version": "1",
//! "checkpoints": [{"fingerprint": F, "position": N, "modified": TIME}]}` where `position` is the
//! byte below which the file was read and F one of `{"first_lines_checksum": CRC}` (Vector's
//! default `checksum` strategy; older files say `first_line_checksum`), `{"dev_inode": [DEV,
//! INO]}`, or legacy forms (`checksum` over bytes, `unknown`) that are reported, not imported.
//! The checksum is CRC-64/ECMA-182 over the file's first `lines` lines (newlines included)
//! after `ignored_header_bytes`, as Vector's fingerprinter computes it.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use super::{Identity, ImportError, OldOffset};

/// Vector's fingerprint settings (`fingerprint.lines`, `fingerprint.ignored_header_bytes`).
#[derive(Debug, Clone, Copy)]
pub struct FingerprintSettings {
    pub lines: usize,
    pub ignored_header_bytes: u64,
}

impl Default for FingerprintSettings {
    fn default() -> Self {
        FingerprintSettings {
            lines: 1,
            ignored_header_bytes: 0,
        }
    }
}

#[derive(Deserialize)]
struct State {
    version: String,
    checkpoints: Vec<Checkpoint>,
}

#[derive(Deserialize)]
struct Checkpoint {
    fingerprint: serde_json::Map<String, serde_json::Value>,
    position: u64,
}

/// What Vector reads of a line at most when fingerprinting (its `max_line_bytes` default).
const MAX_FINGERPRINT_BYTES: usize = 100 * 1024;

/// The offsets in Vector's `checkpoints.json` at `path`. Fingerprint kinds skiff cannot match
/// (legacy ones) are returned as errors in the second list, with their reason.
pub fn read(
    path: &Path,
    settings: FingerprintSettings,
) -> Result<(Vec<OldOffset>, Vec<String>), ImportError> {
    let err = |message: String| ImportError::Old {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let state: State =
        serde_json::from_slice(&bytes).map_err(|e| err(format!("not Vector checkpoints: {e}")))?;
    if state.version != "1" {
        return Err(err(format!(
            "checkpoint format version {} (only 1 is read)",
            state.version
        )));
    }
    let mut out = Vec::new();
    let mut unsupported = Vec::new();
    for c in state.checkpoints {
        let (kind, value) = match c.fingerprint.iter().next() {
            Some((k, v)) if c.fingerprint.len() == 1 => (k.as_str(), v),
            _ => {
                unsupported.push(format!(
                    "a fingerprint of unknown shape at position {}",
                    c.position
                ));
                continue;
            }
        };
        let identity = match kind {
            "first_lines_checksum" | "first_line_checksum" => {
                value.as_u64().map(|crc| Identity::FirstLines {
                    crc,
                    lines: settings.lines,
                    ignored_header_bytes: settings.ignored_header_bytes,
                })
            }
            "dev_inode" => match value.as_array().map(Vec::as_slice) {
                Some([d, i]) => d
                    .as_u64()
                    .zip(i.as_u64())
                    .map(|(dev, ino)| Identity::DevInode { dev, ino }),
                _ => None,
            },
            _ => None,
        };
        match identity {
            Some(identity) => out.push(OldOffset {
                label: format!("{kind} {value} (position {})", c.position),
                identity,
                offset: c.position,
            }),
            None => unsupported.push(format!(
                "fingerprint {kind} {value} (position {}): a legacy kind skiff cannot match to a \
                 file; Vector upgrades it to first_lines_checksum when it next runs",
                c.position
            )),
        }
    }
    Ok((out, unsupported))
}

/// Vector's `checksum` fingerprint of the file at `path`: CRC-64/ECMA-182 of its first `lines`
/// lines after `ignored_header_bytes`; `None` when the file is shorter (Vector does not
/// fingerprint it either) or unreadable.
pub fn first_lines_checksum(path: &Path, lines: usize, ignored_header_bytes: u64) -> Option<u64> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut skip = std::io::Read::by_ref(&mut file).take(ignored_header_bytes);
    if std::io::copy(&mut skip, &mut std::io::sink()).ok()? < ignored_header_bytes {
        return None;
    }
    let mut buf = Vec::new();
    file.take(MAX_FINGERPRINT_BYTES as u64)
        .read_to_end(&mut buf)
        .ok()?;
    let mut seen = 0;
    let mut end = None;
    for (i, &b) in buf.iter().enumerate() {
        if b == b'\n' {
            seen += 1;
            if seen == lines {
                end = Some(i + 1);
                break;
            }
        }
    }
    // A line longer than Vector reads: it checksums what it read.
    let end = end.or((buf.len() == MAX_FINGERPRINT_BYTES).then_some(buf.len()))?;
    Some(crc64_ecma(&buf[..end]))
}

/// CRC-64/ECMA-182: polynomial 0x42F0E1EBA9EA3693, not reflected, initial value and final xor 0.
pub fn crc64_ecma(bytes: &[u8]) -> u64 {
    const POLY: u64 = 0x42F0_E1EB_A9EA_3693;
    let mut crc: u64 = 0;
    for &b in bytes {
        crc ^= u64::from(b) << 56;
        for _ in 0..8 {
            crc = if crc & (1 << 63) != 0 {
                (crc << 1) ^ POLY
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        // The catalogue's check value of CRC-64/ECMA-182 over "123456789".
        assert_eq!(crc64_ecma(b"123456789"), 0x6C40_DF5F_0B49_7347);
    }

    #[test]
    fn first_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, b"hello\nworld\n").unwrap();
        assert_eq!(first_lines_checksum(&p, 1, 0), Some(crc64_ecma(b"hello\n")));
        assert_eq!(
            first_lines_checksum(&p, 2, 0),
            Some(crc64_ecma(b"hello\nworld\n"))
        );
        assert_eq!(first_lines_checksum(&p, 1, 2), Some(crc64_ecma(b"llo\n")));
        assert_eq!(first_lines_checksum(&p, 3, 0), None);
    }

    #[test]
    fn reads_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("checkpoints.json");
        std::fs::write(
            &p,
            r#"{"version":"1","checkpoints":[
              {"fingerprint":{"first_lines_checksum":42},"position":10,"modified":"2026-01-01T00:00:00Z"},
              {"fingerprint":{"dev_inode":[1,2]},"position":20,"modified":"2026-01-01T00:00:00Z"},
              {"fingerprint":{"unknown":7},"position":30,"modified":"2026-01-01T00:00:00Z"}]}"#,
        )
        .unwrap();
        let (old, unsupported) = read(&p, FingerprintSettings::default()).unwrap();
        assert_eq!(old.len(), 2);
        assert_eq!(old[1].identity, Identity::DevInode { dev: 1, ino: 2 });
        assert_eq!(unsupported.len(), 1);
    }
}
