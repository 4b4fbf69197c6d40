//! `${VAR}` interpolation of the raw config text, before TOML parsing.
//!
//! Syntax: `${VAR}` is the variable's value and an error when it is unset; `${VAR:-default}` is
//! the value, or `default` when the variable is unset or empty; `$$` is a literal `$`. A `$` not
//! followed by `{` or `$` is kept as it is (regexes such as `(.*)$` need no escaping). Lines whose
//! first non-blank character is `#` are comments and are left alone, so a commented-out setting
//! never fails the load.
//!
//! [`interpolate_all`] finds every error in one pass and leaves the variables it cannot replace as
//! written, so that `skiff validate` can go on and report the other mistakes of the file.

use thiserror::Error;

/// A variable that could not be interpolated, with its place in the text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct InterpolationError {
    /// What went wrong.
    pub message: String,
    /// Byte offset of the `$` in the text.
    pub offset: usize,
}

/// Replaces variables in `text`, looking them up with `lookup`; the first error stops it.
pub fn interpolate(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, InterpolationError> {
    let (out, mut errors) = interpolate_all(text, lookup);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.swap_remove(0))
    }
}

/// Replaces variables in `text` and returns every error, not only the first: a variable that
/// cannot be replaced is left as written, so the rest of the text can still be checked.
pub fn interpolate_all(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> (String, Vec<InterpolationError>) {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with('#') {
            out.push_str(line);
        } else {
            interpolate_line(line, line_start, &lookup, &mut out, &mut errors);
        }
        line_start += line.len();
    }
    (out, errors)
}

fn interpolate_line(
    line: &str,
    base: usize,
    lookup: &impl Fn(&str) -> Option<String>,
    out: &mut String,
    errors: &mut Vec<InterpolationError>,
) {
    let mut rest = line;
    let mut pos = base;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            pos += i + 2;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(close) = body.find('}') else {
                errors.push(InterpolationError {
                    message: "unterminated `${`: expected `}`".into(),
                    offset: pos + i,
                });
                // The rest of the line stays as written.
                rest = &rest[i..];
                break;
            };
            let expr = &body[..close];
            let consumed = i + 2 + close + 1;
            match expand(expr, lookup) {
                Ok(value) => out.push_str(&value),
                Err(message) => {
                    errors.push(InterpolationError {
                        message,
                        offset: pos + i,
                    });
                    out.push_str(&rest[i..consumed]);
                }
            }
            rest = &rest[consumed..];
            pos += consumed;
        } else {
            out.push('$');
            rest = after;
            pos += i + 1;
        }
    }
    out.push_str(rest);
}

fn expand(expr: &str, lookup: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let (name, default) = match expr.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (expr, None),
    };
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(format!("invalid variable name `{name}` in `${{{expr}}}`"));
    }
    match (lookup(name), default) {
        (Some(v), Some(d)) if v.is_empty() => Ok(d.to_owned()),
        (Some(v), _) => Ok(v),
        (None, Some(d)) => Ok(d.to_owned()),
        (None, None) => Err(format!(
            "environment variable `{name}` is not set (use `${{{name}:-default}}` for a default)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "POD_NAME" => Some("web-1".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_and_defaults() {
        let r = interpolate(
            "a = \"${POD_NAME}\"\nb = \"${NOPE:-x}\"\nc = \"${EMPTY:-d}\"",
            env,
        );
        assert_eq!(r.unwrap(), "a = \"web-1\"\nb = \"x\"\nc = \"d\"");
    }

    #[test]
    fn escapes_and_lone_dollars() {
        assert_eq!(
            interpolate("p = '(.*)$' cost = \"$$5\"", env).unwrap(),
            "p = '(.*)$' cost = \"$5\""
        );
    }

    #[test]
    fn unset_variable_names_it_and_its_offset() {
        let e = interpolate("x = 1\ny = \"${MISSING}\"", env).unwrap_err();
        assert!(e.message.contains("`MISSING`"), "{}", e.message);
        assert_eq!(e.offset, 11);
    }

    #[test]
    fn every_error_is_found_and_the_text_kept_as_written() {
        let (out, errors) =
            interpolate_all("a = \"${ONE}\"\nb = \"${POD_NAME}\"\nc = \"${TWO}\"", env);
        assert_eq!(out, "a = \"${ONE}\"\nb = \"web-1\"\nc = \"${TWO}\"");
        let named: Vec<(bool, usize)> = errors
            .iter()
            .map(|e| {
                (
                    e.message.contains("`ONE`") || e.message.contains("`TWO`"),
                    e.offset,
                )
            })
            .collect();
        assert_eq!(named, [(true, 5), (true, 36)]);
    }

    #[test]
    fn comments_are_left_alone() {
        assert_eq!(
            interpolate("  # ${MISSING}\n", env).unwrap(),
            "  # ${MISSING}\n"
        );
    }

    #[test]
    fn bad_syntax_is_an_error() {
        assert!(interpolate("x = \"${POD_NAME\"", env).is_err());
        assert!(interpolate("x = \"${1A}\"", env).is_err());
        assert!(interpolate("x = \"${}\"", env).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = interpolate(&s, env);
        }

        #[test]
        fn text_without_dollars_is_unchanged(s in "[^$]*") {
            prop_assert_eq!(interpolate(&s, env).unwrap(), s);
        }
    }
}
