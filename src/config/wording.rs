//! Puts serde's type errors in words a user of a config file knows.
//!
//! serde speaks of Rust types: `invalid type: string "ten", expected usize`. A config's reader
//! knows TOML: `expected a whole number, found the string "ten"`, and when the value is right
//! but quoted (or not quoted) the message says so. Messages that are already in user words
//! (durations, sizes, the list of valid keys) are left as they are.

/// Rewrites one serde message; other messages come back unchanged.
pub fn humanize(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some((found, expected)) = rest.rsplit_once(", expected ") {
                return type_error(found, expected);
            }
        }
    }
    message.to_owned()
}

fn type_error(found: &str, expected: &str) -> String {
    let wanted = expected_words(expected);
    let mut out = format!("expected {wanted}, found {}", found_words(found));
    if let Some(hint) = quoting_hint(found, expected) {
        out.push_str(hint);
    }
    out
}

/// Whether `expected` names a Rust integer type, and whether it is unsigned.
fn integer(expected: &str) -> Option<bool> {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => Some(true),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => Some(false),
        _ => None,
    }
}

fn expected_words(expected: &str) -> String {
    if let Some(unsigned) = integer(expected) {
        return if unsigned {
            "a whole number (0 or more)".into()
        } else {
            "a whole number".into()
        };
    }
    match expected {
        "f32" | "f64" => "a number".into(),
        "a boolean" => "true or false".into(),
        "a string" | "a borrowed string" | "a character" => "a string in quotes".into(),
        "a sequence" => "a list such as [\"a\", \"b\"]".into(),
        "a map" => "a table such as { key = \"value\" }".into(),
        other if other.starts_with("struct ") => "a table such as { key = \"value\" }".into(),
        other if other.starts_with("enum ") => "one of the names listed in the docs".into(),
        other => other.to_owned(),
    }
}

fn found_words(found: &str) -> String {
    let quoted = |prefix: &str| {
        found
            .strip_prefix(prefix)
            .map(|v| v.trim_matches('`').to_owned())
    };
    if let Some(v) = found.strip_prefix("string ") {
        return format!("the string {v}");
    }
    if let Some(v) = quoted("integer ").or_else(|| quoted("floating point ")) {
        return format!("the number {v}");
    }
    if let Some(v) = quoted("boolean ") {
        return v;
    }
    match found {
        "sequence" => "a list".into(),
        "map" => "a table".into(),
        other => other.to_owned(),
    }
}

/// A hint when the value is right but its quotes are not.
fn quoting_hint(found: &str, expected: &str) -> Option<&'static str> {
    let number = found.starts_with("integer ") || found.starts_with("floating point ");
    if number && expected == "a string" {
        return Some(" (put it in quotes)");
    }
    let text = found.strip_prefix("string \"")?.strip_suffix('"')?.trim();
    let right = match expected {
        e if integer(e).is_some() => text.parse::<i128>().is_ok(),
        "f32" | "f64" => text.parse::<f64>().is_ok(),
        "a boolean" => {
            return matches!(text, "true" | "false")
                .then_some(" (write true or false without quotes)")
        }
        _ => false,
    };
    right.then_some(" (write numbers without quotes)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_types_become_words() {
        assert_eq!(
            humanize("invalid type: string \"ten\", expected usize"),
            "expected a whole number (0 or more), found the string \"ten\""
        );
        assert_eq!(
            humanize("invalid value: integer `-1`, expected usize"),
            "expected a whole number (0 or more), found the number -1"
        );
        assert_eq!(
            humanize("invalid type: integer `5`, expected a boolean"),
            "expected true or false, found the number 5"
        );
        assert_eq!(
            humanize("invalid type: string \"/x\", expected a sequence"),
            "expected a list such as [\"a\", \"b\"], found the string \"/x\""
        );
        assert_eq!(
            humanize("invalid type: sequence, expected a string"),
            "expected a string in quotes, found a list"
        );
    }

    #[test]
    fn quotes_get_a_hint() {
        assert_eq!(
            humanize("invalid type: string \"10\", expected usize"),
            "expected a whole number (0 or more), found the string \"10\" (write numbers without quotes)"
        );
        assert_eq!(
            humanize("invalid type: string \"true\", expected a boolean"),
            "expected true or false, found the string \"true\" (write true or false without quotes)"
        );
        assert_eq!(
            humanize("invalid type: integer `8081`, expected a string"),
            "expected a string in quotes, found the number 8081 (put it in quotes)"
        );
    }

    #[test]
    fn other_messages_are_kept() {
        for m in [
            "missing field `include`",
            "unknown field `x`, expected one of `a`, `b`",
            "invalid duration `5 parsecs`: expected a number and a unit",
        ] {
            assert_eq!(humanize(m), m);
        }
    }
}
