//! `*` wildcards over names: Fluent Bit routes records by matching tags against `Match`, and
//! Vector's `inputs` may name components with a pattern. Both read `*` as any run of
//! characters and nothing else as special.

/// Fluent Bit's tag match: `*` matches any run of characters.
pub fn tag_matches(pattern: &str, tag: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = tag.chars().collect();
    // Iterative wildcard match with backtracking on the last `*`.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_match_with_wildcards() {
        assert!(tag_matches("*", "app.logs"));
        assert!(tag_matches("app.*", "app.logs"));
        assert!(tag_matches("*.logs", "app.logs"));
        assert!(tag_matches("a*c*e", "abcde"));
        assert!(!tag_matches("app.*", "other.logs"));
        assert!(!tag_matches("app", "app.logs"));
        assert!(tag_matches("app.logs", "app.logs"));
    }
}
