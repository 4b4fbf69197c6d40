//! Value translations shared by the converters: Fluent Bit's booleans, sizes, durations, time
//! formats and Onigmo regexes, and both tools' environment variable syntax, into skiff's.
//!
//! Each function is pure and small, so each rule is tested on its own.

use super::ir::escape_dollars;

/// Fluent Bit's booleans: `On`/`Off`, `true`/`false`, `yes`/`no`, `1`/`0`.
pub fn fb_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Splits `12.5MB` into the number and the unit.
fn number_and_unit(s: &str) -> Option<(f64, String)> {
    let s = s.trim();
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let n: f64 = s[..end].parse().ok()?;
    Some((n, s[end..].trim().to_ascii_lowercase()))
}

/// A Fluent Bit size (`32k`, `5MB`, `1M`, `512`; decimal units) as a skiff size.
pub fn fb_size(s: &str) -> Option<String> {
    let (n, unit) = number_and_unit(s)?;
    let (mult, name) = match unit.as_str() {
        "" | "b" => (1.0, ""),
        "k" | "kb" => (1e3, "KB"),
        "m" | "mb" => (1e6, "MB"),
        "g" | "gb" => (1e9, "GB"),
        _ => return None,
    };
    if n.fract() == 0.0 && !name.is_empty() {
        return Some(format!("{n}{name}"));
    }
    let bytes = n * mult;
    (bytes.fract() == 0.0 && bytes < u64::MAX as f64).then(|| format!("{}", bytes as u64))
}

/// A Fluent Bit duration (seconds, or with a `s`/`m`/`h`/`d` suffix; fractions allowed) as a
/// skiff duration.
pub fn fb_duration(s: &str) -> Option<String> {
    let (n, unit) = number_and_unit(s)?;
    let secs = match unit.as_str() {
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return None,
    };
    Some(duration(secs))
}

/// Seconds as the shortest exact skiff duration (`500ms`, `5s`, `2m`, `1h`).
pub fn duration(secs: f64) -> String {
    let ms = (secs * 1000.0).round();
    if ms % 3_600_000.0 == 0.0 && ms > 0.0 {
        format!("{}h", ms / 3_600_000.0)
    } else if ms % 60_000.0 == 0.0 && ms > 0.0 {
        format!("{}m", ms / 60_000.0)
    } else if ms % 1000.0 == 0.0 {
        format!("{}s", ms / 1000.0)
    } else {
        format!("{ms}ms")
    }
}

/// Fluent Bit's `Time_Format` (strptime with `%L` for fractional seconds) as a chrono format.
/// `%S.%L` becomes `%S%.3f` (chrono's `%.3f` includes the dot); any other `%L` becomes `%3f`.
pub fn fb_time_format(fmt: &str) -> String {
    fmt.replace(".%L", "%.3f").replace("%L", "%3f")
}

/// Checks a timestamp format the way skiff will read it: chrono strftime, or a named format.
pub fn check_time_format(fmt: &str) -> Result<(), String> {
    if matches!(fmt, "rfc3339" | "rfc3164" | "unix" | "unix_ms") {
        return Ok(());
    }
    let bad =
        chrono::format::StrftimeItems::new(fmt).any(|i| matches!(i, chrono::format::Item::Error));
    if bad {
        Err(format!("`{fmt}` is not a strftime format skiff can read"))
    } else {
        Ok(())
    }
}

/// Checks a glob pattern the way the file source will read it.
pub fn check_glob(pattern: &str) -> Result<(), String> {
    glob::Pattern::new(pattern)
        .map(|_| ())
        .map_err(|e| format!("`{pattern}` is not a valid glob: {e}"))
}

/// Checks a regex in Rust syntax.
pub fn check_regex(re: &str) -> Result<(), String> {
    regex::Regex::new(re).map(|_| ()).map_err(|e| {
        let msg = e.to_string();
        let last = msg.lines().last().unwrap_or("").trim().to_owned();
        format!("is not a valid Rust regex: {last}")
    })
}

/// Fluent Bit's `Time_Offset` (`+0200`, `-05:00`) as a skiff timezone (`+02:00`).
pub fn fb_time_offset(s: &str) -> Option<String> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => ('+', &s[1..]),
        b'-' => ('-', &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(format!("{sign}{}:{}", &digits[..2], &digits[2..]))
}

/// A Fluent Bit (Onigmo, Ruby syntax) regex in Rust `regex` syntax, or the reasons it cannot
/// be: lookaround, backreferences, atomic groups and possessive quantifiers do not exist in
/// Rust's linear-time engine. Named groups `(?<name>...)` become `(?P<name>...)`.
pub fn onigmo_to_rust(re: &str) -> Result<String, String> {
    let mut out = String::with_capacity(re.len() + 8);
    let mut problems: Vec<&str> = Vec::new();
    let chars: Vec<char> = re.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\\' => {
                match next {
                    Some('1'..='9') if !in_class => problems.push("backreferences"),
                    Some('k') if !in_class => problems.push("backreferences"),
                    Some('h' | 'H') => problems.push("`\\h` (hex digit class; write [0-9a-fA-F])"),
                    Some('Z') => {
                        // End of text (before a final newline): lines carry none, so `\z`.
                        out.push_str("\\z");
                        i += 2;
                        continue;
                    }
                    _ => {}
                }
                out.push(c);
                if let Some(n) = next {
                    out.push(n);
                }
                i += 2;
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal.
                if next == Some('^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push(']');
                    i += 1;
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '(' if !in_class && next == Some('?') => {
                let rest: String = chars[i + 2..].iter().take(2).collect();
                if rest.starts_with("<=") || rest.starts_with("<!") {
                    problems.push("lookbehind");
                } else if rest.starts_with('=') || rest.starts_with('!') {
                    problems.push("lookahead");
                } else if rest.starts_with('>') {
                    problems.push("atomic groups");
                } else if rest.starts_with('(') {
                    problems.push("conditionals");
                } else if rest.starts_with('<') {
                    out.push_str("(?P<");
                    i += 3;
                    continue;
                }
                out.push(c);
            }
            '+' if !in_class && i > 0 && matches!(chars[i - 1], '+' | '*' | '?' | '}') => {
                let escaped = i >= 2 && chars[i - 2] == '\\';
                if !escaped {
                    problems.push("possessive quantifiers");
                }
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    if !problems.is_empty() {
        problems.dedup();
        return Err(format!(
            "uses {}, which Rust's regex engine does not support",
            problems.join(", ")
        ));
    }
    check_regex(&out)?;
    Ok(out)
}

/// A Fluent Bit value in skiff syntax: `${VAR}` of an `@SET` variable is replaced by its value,
/// any other `${VAR}` stays an environment variable (Fluent Bit reads those from the
/// environment too); other `$` signs are escaped.
pub fn fb_env(s: &str, vars: &[(String, String)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&escape_dollars(&rest[..start]));
        let body = &rest[start + 2..];
        let Some(end) = body.find('}') else {
            out.push_str(&escape_dollars(&rest[start..]));
            return out;
        };
        let name = &body[..end];
        match vars.iter().rev().find(|(k, _)| k == name) {
            Some((_, v)) => out.push_str(&escape_dollars(v)),
            None => {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &body[end + 1..];
    }
    out.push_str(&escape_dollars(rest));
    out
}

/// A Vector value in skiff syntax. Vector interpolates `$VAR`, `${VAR}`, `${VAR:-default}`,
/// `${VAR-default}` and `${VAR:?message}` and reads `$$` as `$`; skiff knows `${VAR}`,
/// `${VAR:-default}` and `$$`, and leaves other `$` alone.
pub fn vector_env(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    let is_name = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        if b[i] != b'$' {
            let next = s[i..].find('$').map_or(s.len(), |n| i + n);
            out.push_str(&s[i..next]);
            i = next;
            continue;
        }
        match b.get(i + 1) {
            Some(b'$') => {
                out.push_str("$$");
                i += 2;
            }
            Some(b'{') => match s[i + 2..].find('}') {
                Some(end) => {
                    let body = &s[i + 2..i + 2 + end];
                    out.push_str("${");
                    out.push_str(&vector_var_body(body));
                    out.push('}');
                    i += 3 + end;
                }
                None => {
                    out.push_str("$${");
                    i += 2;
                }
            },
            Some(&c) if c.is_ascii_alphabetic() || c == b'_' => {
                let len = b[i + 1..].iter().take_while(|c| is_name(**c)).count();
                out.push_str("${");
                out.push_str(&s[i + 1..i + 1 + len]);
                out.push('}');
                i += 1 + len;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    out
}

fn vector_var_body(body: &str) -> String {
    if let Some((name, default)) = body.split_once(":-") {
        format!("{name}:-{default}")
    } else if let Some((name, _)) = body.split_once(":?").or_else(|| body.split_once('?')) {
        name.to_owned()
    } else if let Some((name, default)) = body.split_once('-') {
        format!("{name}:-{default}")
    } else {
        body.to_owned()
    }
}

/// skiff's bounds on the file source's sizes, in bytes: (key, least, most).
const SIZE_BOUNDS: &[(&str, u64, u64)] = &[
    ("read_buffer", 4096, 64 << 20),
    ("max_line_bytes", 1, (u32::MAX / 2) as u64),
];

/// A size for source key `key` (skiff's syntax) moved into skiff's bounds: `Some((bytes,
/// why))` when it was out of them, `None` when it fits or is not a size skiff knows.
pub fn clamp_size(key: &str, size: &str) -> Option<(u64, String)> {
    let &(_, least, most) = SIZE_BOUNDS.iter().find(|(k, _, _)| *k == key)?;
    let bytes = crate::config::units::parse_size(size).ok()?;
    if bytes < least {
        Some((
            least,
            format!("{size} is below skiff's least {key} ({least} bytes); raised to {least}"),
        ))
    } else if bytes > most {
        Some((
            most,
            format!("{size} is above skiff's most {key} ({most} bytes); lowered to {most}"),
        ))
    } else {
        None
    }
}

/// An endpoint written without a scheme (`10.0.0.1:9200`), with `http://` in front; `None` when
/// it has one (or starts with a variable, which may hold one).
pub fn with_scheme(endpoint: &str) -> Option<String> {
    (!endpoint.contains("://") && !endpoint.starts_with('$')).then(|| format!("http://{endpoint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_clamped_and_schemes_added() {
        assert!(clamp_size("read_buffer", "2048").is_some_and(|(b, _)| b == 4096));
        assert!(clamp_size("read_buffer", "1GB").is_some_and(|(b, _)| b == 64 << 20));
        assert_eq!(clamp_size("read_buffer", "64KB"), None);
        assert_eq!(clamp_size("other", "1"), None);
        assert_eq!(
            with_scheme("79.12.221.222:9200").as_deref(),
            Some("http://79.12.221.222:9200")
        );
        assert_eq!(with_scheme("https://es:9200"), None);
    }

    #[test]
    fn booleans() {
        assert_eq!(fb_bool("On"), Some(true));
        assert_eq!(fb_bool("off"), Some(false));
        assert_eq!(fb_bool("maybe"), None);
    }

    #[test]
    fn sizes_are_decimal() {
        assert_eq!(fb_size("32k").as_deref(), Some("32KB"));
        assert_eq!(fb_size("5MB").as_deref(), Some("5MB"));
        assert_eq!(fb_size("1.5M").as_deref(), Some("1500000"));
        assert_eq!(fb_size("512").as_deref(), Some("512"));
        assert_eq!(fb_size("lots"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(fb_duration("5").as_deref(), Some("5s"));
        assert_eq!(fb_duration("0.5").as_deref(), Some("500ms"));
        assert_eq!(fb_duration("60").as_deref(), Some("1m"));
        assert_eq!(fb_duration("2h").as_deref(), Some("2h"));
        assert_eq!(fb_duration("1d").as_deref(), Some("24h"));
        assert_eq!(fb_duration("x"), None);
    }

    #[test]
    fn time_formats() {
        assert_eq!(
            fb_time_format("%Y-%m-%dT%H:%M:%S.%L"),
            "%Y-%m-%dT%H:%M:%S%.3f"
        );
        assert_eq!(fb_time_format("%H:%M:%S,%L"), "%H:%M:%S,%3f");
        assert_eq!(
            fb_time_format("%d/%b/%Y:%H:%M:%S %z"),
            "%d/%b/%Y:%H:%M:%S %z"
        );
    }

    #[test]
    fn chrono_reads_what_the_converted_format_says() {
        let f = fb_time_format("%Y-%m-%dT%H:%M:%S.%L");
        let t = chrono::NaiveDateTime::parse_from_str("2024-05-01T10:00:00.123", &f).unwrap();
        assert_eq!(t.and_utc().timestamp_subsec_millis(), 123);
    }

    #[test]
    fn checks() {
        assert!(check_time_format("%Y-%m-%dT%H:%M:%S%.3f").is_ok());
        assert!(check_time_format("rfc3339").is_ok());
        assert!(check_time_format("%Y %Q").is_err());
        assert!(check_glob("/a/*.log").is_ok());
        assert!(check_glob("/a/[.log").is_err());
        assert!(check_regex("(?P<a>x)").is_ok());
        assert!(check_regex("(").is_err());
    }

    #[test]
    fn offsets() {
        assert_eq!(fb_time_offset("+0200").as_deref(), Some("+02:00"));
        assert_eq!(fb_time_offset("-05:30").as_deref(), Some("-05:30"));
        assert_eq!(fb_time_offset("2"), None);
    }

    #[test]
    fn named_groups_become_rust_syntax() {
        assert_eq!(
            onigmo_to_rust(r"^(?<host>[^ ]*) (?<code>\d+) \[(?<t>[^\]]*)\]$").unwrap(),
            r"^(?P<host>[^ ]*) (?P<code>\d+) \[(?P<t>[^\]]*)\]$"
        );
        assert_eq!(onigmo_to_rust(r"[(?<x>]").unwrap(), r"[(?<x>]");
        assert_eq!(onigmo_to_rust(r"a\Z").unwrap(), r"a\z");
    }

    #[test]
    fn unsupported_constructs_are_named() {
        let e = onigmo_to_rust(r"(?<=a)b").unwrap_err();
        assert!(e.contains("lookbehind"), "{e}");
        assert!(onigmo_to_rust(r"a(?!b)").unwrap_err().contains("lookahead"));
        assert!(onigmo_to_rust(r"(a)\1")
            .unwrap_err()
            .contains("backreferences"));
        assert!(onigmo_to_rust(r"(?>a)").unwrap_err().contains("atomic"));
        assert!(onigmo_to_rust(r"a++").unwrap_err().contains("possessive"));
        assert!(onigmo_to_rust(r"(unclosed")
            .unwrap_err()
            .contains("not a valid"));
        assert!(onigmo_to_rust(r"a\++").is_ok());
    }

    #[test]
    fn fluent_bit_variables() {
        let vars = vec![("HOST".to_owned(), "es.local".to_owned())];
        assert_eq!(fb_env("${HOST}:${PORT}", &vars), "es.local:${PORT}");
        assert_eq!(fb_env("a$b ${x", &vars), "a$b $${x");
    }

    #[test]
    fn vector_variables() {
        assert_eq!(
            vector_env("${A} $B ${C:-d} ${E-f} ${G:?no}"),
            "${A} ${B} ${C:-d} ${E:-f} ${G}"
        );
        assert_eq!(vector_env("cost $$5 (.*)$"), "cost $$5 (.*)$");
    }
}
