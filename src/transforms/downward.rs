//! Reads the files of a Kubernetes Downward API volume (`metadata.labels`,
//! `metadata.annotations`): one `key="value"` per line, the value quoted the way Go's `%q` does
//! (`\"`, `\\`, `\n`, `\t`, `\xHH`, `\uHHHH`..., other unicode as UTF-8).
//!
//! Keys are taken whole: `app.kubernetes.io/name` is one key, not a path.

use std::path::Path;

/// Reads and parses a Downward API file. Errors name the file and, for bad content, the line.
pub fn read(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read Downward API file {}: {e}", path.display()))?;
    parse(&text).map_err(|(line, msg)| format!("{}:{line}: {msg}", path.display()))
}

/// Parses the text of a Downward API file; errors carry the 1-based line number.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let Some((key, quoted)) = line.split_once('=') else {
            return Err((i + 1, "expected `key=\"value\"`".into()));
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err((i + 1, format!("invalid key `{key}`")));
        }
        let value = unquote(quoted).map_err(|e| (i + 1, e))?;
        out.push((key.to_owned(), value));
    }
    Ok(out)
}

/// Decodes a Go double-quoted string literal.
pub fn unquote(s: &str) -> Result<String, String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .filter(|_| s.len() >= 2)
        .ok_or_else(|| format!("value `{s}` is not a double-quoted string"))?;
    let b = inner.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => return Err(format!("unescaped quote in `{s}`")),
            b'\\' => {
                let (bytes, used) = escape(&b[i + 1..])
                    .ok_or_else(|| format!("invalid escape at byte {} of `{s}`", i + 1))?;
                out.extend_from_slice(bytes.as_slice());
                i += 1 + used;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Up to four bytes produced by one escape.
struct Produced {
    buf: [u8; 4],
    len: usize,
}

impl Produced {
    fn byte(b: u8) -> Produced {
        Produced {
            buf: [b, 0, 0, 0],
            len: 1,
        }
    }

    fn char(c: char) -> Produced {
        let mut buf = [0; 4];
        let len = c.encode_utf8(&mut buf).len();
        Produced { buf, len }
    }

    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// One escape after the backslash: the bytes it stands for and the bytes it used.
fn escape(s: &[u8]) -> Option<(Produced, usize)> {
    let hex = |digits: &[u8]| -> Option<u32> {
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    let simple = |b: u8| Some((Produced::byte(b), 1));
    match *s.first()? {
        b'a' => simple(0x07),
        b'b' => simple(0x08),
        b'f' => simple(0x0c),
        b'n' => simple(b'\n'),
        b'r' => simple(b'\r'),
        b't' => simple(b'\t'),
        b'v' => simple(0x0b),
        b'\\' => simple(b'\\'),
        b'"' => simple(b'"'),
        b'x' => Some((Produced::byte(hex(s.get(1..3)?)? as u8), 3)),
        b'0'..=b'7' => {
            let digits = s.get(..3)?;
            if !digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                return None;
            }
            let v = digits.iter().fold(0u32, |n, d| n * 8 + u32::from(d - b'0'));
            Some((Produced::byte(u8::try_from(v).ok()?), 3))
        }
        b'u' => Some((Produced::char(char::from_u32(hex(s.get(1..5)?)?)?), 5)),
        b'U' => Some((Produced::char(char::from_u32(hex(s.get(1..9)?)?)?), 9)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_kubelet_output() {
        let text = "app=\"web\"\napp.kubernetes.io/name=\"shop \\\"front\\\"\"\nnote=\"line1\\nline2\\t\\\\ é ✓\"\n\nhex=\"\\xc3\\xa9\\u00e9\\U0001F600\\101\"\n";
        let v = parse(text).unwrap();
        assert_eq!(
            v,
            vec![
                ("app".to_owned(), "web".to_owned()),
                (
                    "app.kubernetes.io/name".to_owned(),
                    "shop \"front\"".to_owned()
                ),
                ("note".to_owned(), "line1\nline2\t\\ é ✓".to_owned()),
                ("hex".to_owned(), "éé😀A".to_owned()),
            ]
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("a=\"x\"\nbroken\n").unwrap_err().0, 2);
        assert_eq!(parse("a=x").unwrap_err().0, 1);
        assert_eq!(parse("a=\"x").unwrap_err().0, 1);
        assert_eq!(parse("a=\"\\q\"").unwrap_err().0, 1);
        assert_eq!(parse("a=\"\\ud800\"").unwrap_err().0, 1);
        assert_eq!(parse("a=\"x\"y\"").unwrap_err().0, 1);
        assert_eq!(parse("=\"x\"").unwrap_err().0, 1);
        assert_eq!(parse("a=\"").unwrap_err().0, 1);
    }

    /// Go's `%q` for printable text: what the kubelet writes.
    fn go_quote(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    proptest! {
        #[test]
        fn round_trip(values in prop::collection::vec(("[a-z][a-z0-9./-]{0,12}", ".{0,20}"), 0..6)) {
            let text: String = values.iter().map(|(k, v)| format!("{k}={}\n", go_quote(v))).collect();
            prop_assert_eq!(parse(&text).unwrap(), values);
        }

        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = parse(&s);
        }
    }
}
