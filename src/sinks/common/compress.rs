//! Request bodies on the wire: gzip at the fastest level, large bodies compressed off the
//! runtime's threads.

use std::io::Write;

use bytes::Bytes;
use flate2::write::GzEncoder;

use super::config::Compression;

/// Bodies at least this large are compressed on a blocking thread.
const BLOCKING_GZIP_BYTES: usize = 64 << 10;

/// Compresses `data` with gzip at the fastest level: logs shrink 5 to 10 times even so, and CPU
/// is what a sidecar has least of.
pub fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(
        Vec::with_capacity(data.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    enc.write_all(data)?;
    enc.finish()
}

/// The bytes on the wire and whether they are gzipped: `body`, compressed when configured
/// (large bodies off the runtime's threads).
pub async fn wire(body: &Bytes, compression: Compression) -> (Bytes, bool) {
    let plain = || (body.clone(), false);
    if compression == Compression::None {
        return plain();
    }
    let result = if body.len() >= BLOCKING_GZIP_BYTES {
        let body = body.clone();
        tokio::task::spawn_blocking(move || gzip(&body))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    } else {
        gzip(body)
    };
    // Compressing into memory cannot fail short of a panic; send plain if it somehow does.
    result.map_or_else(|_| plain(), |z| (Bytes::from(z), true))
}
