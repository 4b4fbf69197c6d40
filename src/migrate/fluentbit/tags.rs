//! Fluent Bit's tag expansion, and which files' records a `Match` or `Match_Regex` takes.
//!
//! A `tail` input whose `Tag` holds a `*` tags each record with the `*` replaced by the path of
//! its file, `/` turned into `.` and the leading one dropped: `Tag kube.*` on
//! `/var/log/containers/a_p3_c.log` gives `kube.var.log.containers.a_p3_c.log`. A filter or
//! output may then take the records of some files only. skiff routes by component, not by tag,
//! so for each input and section this module answers: every file ([`Route::All`]), none
//! ([`Route::Never`]), or the files whose path a regex accepts ([`Route::Some`], which the
//! wiring turns into a `filter` on the file path).

use crate::migrate::wildcard::tag_matches;

/// Which of an input's records a filter or output takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    All,
    Never,
    /// The records of the files whose full path this (Rust) regex matches.
    Some(String),
    /// Fluent Bit takes some of the records, and the path regex cannot be written: the reason.
    Unknown(String),
}

/// The tag of the records of an input with tag `tag` reading the files of `globs`: one tag
/// pattern per glob, where `*` stands for any text (`None` when the tag has no `*`).
pub fn expanded(tag: &str, globs: &[String]) -> Option<Vec<String>> {
    if !tag.contains('*') {
        return None;
    }
    Some(
        globs
            .iter()
            .map(|g| {
                let path = g
                    .trim_start_matches('/')
                    .replace('/', ".")
                    .replace("**", "*");
                tag.replacen('*', &path, 1)
            })
            .collect(),
    )
}

/// The route from an input tagged `tag` (reading `globs`) to a section matching `pattern`
/// (a `Match` wildcard when `regex` is false, a `Match_Regex` otherwise).
pub fn route(tag: &str, globs: &[String], pattern: &str, regex: bool) -> Route {
    let Some(templates) = expanded(tag, globs) else {
        let matches = if regex {
            regex::Regex::new(pattern).is_ok_and(|re| re.is_match(tag))
        } else {
            tag_matches(pattern, tag)
        };
        return if matches { Route::All } else { Route::Never };
    };
    if templates.iter().any(|t| t.contains(['?', '[', '{'])) {
        return Route::Unknown(format!(
            "the file globs use `?`, `[` or `{{`, so which files' tags `{pattern}` matches cannot be worked out"
        ));
    }
    let prefix = &tag[..tag.find('*').unwrap_or(tag.len())];
    if regex {
        return regex_route(prefix, pattern);
    }
    if templates.iter().all(|t| tag_matches(pattern, t)) {
        // Each `*` of the template is taken by a `*` of the pattern, so any text in its place
        // matches too.
        return Route::All;
    }
    if !templates.iter().any(|t| intersects(pattern, t)) {
        return Route::Never;
    }
    Route::Some(path_regex(prefix, pattern))
}

/// Whether some tag matches both wildcard patterns.
fn intersects(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut seen = vec![vec![None; b.len() + 1]; a.len() + 1];
    both(&a, &b, 0, 0, &mut seen)
}

fn both(a: &[char], b: &[char], i: usize, j: usize, seen: &mut [Vec<Option<bool>>]) -> bool {
    if let Some(r) = seen[i][j] {
        return r;
    }
    let r = match (a.get(i), b.get(j)) {
        (None, None) => true,
        (Some('*'), _) => both(a, b, i + 1, j, seen) || (j < b.len() && both(a, b, i, j + 1, seen)),
        (_, Some('*')) => both(a, b, i, j + 1, seen) || (i < a.len() && both(a, b, i + 1, j, seen)),
        (Some(x), Some(y)) => x == y && both(a, b, i + 1, j + 1, seen),
        _ => false,
    };
    seen[i][j] = Some(r);
    r
}

/// A regex over a file's full path accepting the files whose expanded tag (`prefix` then the
/// path, `/` read as `.`) the wildcard `pattern` matches.
fn path_regex(prefix: &str, pattern: &str) -> String {
    // The positions of the pattern reachable after reading the prefix, as in an NFA.
    let p: Vec<char> = pattern.chars().collect();
    let close = |set: Vec<usize>| -> Vec<usize> {
        let mut out = Vec::new();
        for mut i in set {
            loop {
                if !out.contains(&i) {
                    out.push(i);
                }
                if i < p.len() && p[i] == '*' {
                    i += 1;
                } else {
                    break;
                }
            }
        }
        out
    };
    let mut states = close(vec![0]);
    for c in prefix.chars() {
        let mut next = Vec::new();
        for &i in &states {
            match p.get(i) {
                Some('*') => next.push(i),
                Some(&x) if x == c => next.push(i + 1),
                _ => {}
            }
        }
        states = close(next);
    }
    states.sort_unstable();
    let alternatives: Vec<String> = states
        .iter()
        .map(|&i| {
            p[i..]
                .iter()
                .map(|&c| match c {
                    '*' => ".*".to_owned(),
                    // A `.` of the tag is a `/` or a `.` of the path.
                    '.' => "[./]".to_owned(),
                    c => regex::escape(&c.to_string()),
                })
                .collect()
        })
        .collect();
    format!("^/(?:{})$", alternatives.join("|"))
}

/// The route for a `Match_Regex`: Fluent Bit searches the tag for the regex (unanchored unless
/// it starts with `^`), so it is searched in the path with each `\.` read as `.` or `/`; a
/// regex that starts with the Tag's prefix is also tried right after it.
fn regex_route(prefix: &str, pattern: &str) -> Route {
    let unknown = |why: &str| {
        Route::Unknown(format!(
            "Match_Regex `{pattern}` is tested on tags that hold each file's path, and {why}"
        ))
    };
    if pattern.contains('[') || pattern.contains('|') {
        return unknown("its classes or alternatives cannot be rewritten over paths");
    }
    let Ok(whole) = regex::Regex::new(pattern) else {
        return unknown("it is not a valid Rust regex");
    };
    if whole.is_match(prefix) {
        return Route::All;
    }
    let dots = |r: &str| r.replace("\\.", "[./]");
    let (anchored, body) = match pattern.strip_prefix('^') {
        Some(body) => (true, body),
        None => (false, pattern),
    };
    let escaped = regex::escape(prefix);
    let after_prefix = body
        .strip_prefix(escaped.as_str())
        .or_else(|| body.strip_prefix(prefix))
        .map(|rest| format!("^/(?:{})", dots(rest)));
    let re = match (anchored, after_prefix) {
        (true, Some(r)) => r,
        (true, None) => return Route::Never,
        (false, Some(r)) => format!("{r}|(?:{})", dots(body)),
        (false, None) => dots(body),
    };
    match regex::Regex::new(&re) {
        Ok(_) => Route::Some(re),
        Err(_) => unknown("its rewriting over paths is not a valid regex"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs() -> Vec<String> {
        vec!["/var/log/containers/*.log".to_owned()]
    }

    #[test]
    fn tags_expand_per_file() {
        assert_eq!(
            expanded("kube.*", &globs()),
            Some(vec!["kube.var.log.containers.*.log".to_owned()])
        );
        assert_eq!(expanded("app", &globs()), None);
    }

    #[test]
    fn matches_against_expanded_tags() {
        assert_eq!(route("kube.*", &globs(), "kube.*", false), Route::All);
        assert_eq!(route("kube.*", &globs(), "*", false), Route::All);
        assert_eq!(
            route("kube.*", &globs(), "kube.var.log.containers.*", false),
            Route::All
        );
        assert_eq!(route("kube.*", &globs(), "app.*", false), Route::Never);
        assert_eq!(route("kube.*", &globs(), "kube.*.txt", false), Route::Never);
        let Route::Some(re) = route("kube.*", &globs(), "kube.*_p3_*", false) else {
            panic!("expected a path route");
        };
        let re = regex::Regex::new(&re).unwrap();
        assert!(re.is_match("/var/log/containers/web_p3_x.log"));
        assert!(!re.is_match("/var/log/containers/web_p4_x.log"));
        assert_eq!(route("app", &globs(), "app", false), Route::All);
        assert_eq!(route("app", &globs(), "ap", false), Route::Never);
    }

    #[test]
    fn match_regex_over_paths() {
        let Route::Some(re) = route(
            "kube.*",
            &globs(),
            r"^kube\.var\.log\.containers\..*_p3_.*",
            true,
        ) else {
            panic!("expected a path route");
        };
        let re = regex::Regex::new(&re).unwrap();
        assert!(re.is_match("/var/log/containers/a_p3_b.log"));
        assert!(!re.is_match("/var/log/containers/a_p4_b.log"));
        let Route::Some(re) = route("kube.*", &globs(), "kube.var.log.containers.*_p3_", true)
        else {
            panic!("expected a path route");
        };
        let re = regex::Regex::new(&re).unwrap();
        assert!(re.is_match("/var/log/containers/a_p3_b.log"));
        assert!(!re.is_match("/var/log/containers/a_p4_b.log"));
        assert_eq!(route("kube.*", &globs(), "^app", true), Route::Never);
        assert!(matches!(
            route("kube.*", &globs(), "a[b]", true),
            Route::Unknown(_)
        ));
        assert_eq!(route("app", &globs(), "^ap", true), Route::All);
    }
}
