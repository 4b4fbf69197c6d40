//! Include patterns that match nothing: said once, with the directory the pattern starts from.
//!
//! A sidecar often starts before its app has written anything, so a pattern matching nothing is
//! normal for a while; one that still matches nothing after [`GRACE`], or whose directory does
//! not exist at all (a typo, a volume mounted elsewhere), is most likely a mistake, and a source
//! that silently reads nothing is the worst kind of failure. Each pattern is warned about at most
//! once; when it starts matching later, that is logged too. [`check`] says the same for
//! `skiff validate`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::walk::GlobWalk;

/// How long a pattern may match nothing before it is warned about.
pub const GRACE: Duration = Duration::from_secs(60);

/// What was said about a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Its directory does not exist (warned).
    MissingDirectory,
    /// It matched nothing during [`GRACE`] (warned).
    NothingMatched,
    /// It matches files after a warning (logged).
    NowMatches,
}

/// One include pattern's record.
struct Pattern {
    pattern: String,
    base: PathBuf,
    matched: bool,
    warned: bool,
}

/// The patterns of one source and what was said about them.
pub struct Unmatched {
    source: String,
    started: Instant,
    patterns: Vec<Pattern>,
}

impl Unmatched {
    /// Starts watching `walks` (pattern, walk) from now.
    pub fn new(source: &str, walks: &[(String, GlobWalk)]) -> Unmatched {
        Unmatched {
            source: source.to_owned(),
            started: Instant::now(),
            patterns: walks
                .iter()
                .map(|(pattern, walk)| Pattern {
                    pattern: pattern.clone(),
                    base: walk.base_dir().to_owned(),
                    matched: false,
                    warned: false,
                })
                .collect(),
        }
    }

    /// Records whether pattern `i` matched something in the scan just done, and logs what is
    /// worth saying (returned, for tests).
    pub fn observe(&mut self, i: usize, matched: bool, now: Instant) -> Option<Notice> {
        let waited = now.saturating_duration_since(self.started);
        let p = self.patterns.get_mut(i)?;
        if matched {
            let again = p.warned && !p.matched;
            p.matched = true;
            if again {
                tracing::info!(message = "Include pattern now matches files.", source = %self.source, pattern = %p.pattern);
            }
            return again.then_some(Notice::NowMatches);
        }
        if p.matched || p.warned {
            return None;
        }
        if !p.base.is_dir() {
            p.warned = true;
            tracing::warn!(message = "The directory an include pattern starts from does not exist; nothing is read from it until it is created.", source = %self.source, pattern = %p.pattern, directory = %shown(&p.base));
            Some(Notice::MissingDirectory)
        } else if waited >= GRACE {
            p.warned = true;
            tracing::warn!(message = "An include pattern has matched no file since skiff started.", source = %self.source, pattern = %p.pattern, directory = %shown(&p.base), waited = ?GRACE);
            Some(Notice::NothingMatched)
        } else {
            None
        }
    }
}

/// What `skiff validate` says about `pattern` now: its directory missing, or no file matching.
pub fn check(pattern: &str) -> Option<String> {
    let walk = GlobWalk::new(pattern).ok()?;
    let base = walk.base_dir();
    if !base.is_dir() {
        return Some(format!(
            "the directory {} does not exist: the pattern `{pattern}` matches nothing until it \
             is created",
            shown(base)
        ));
    }
    let mut any = false;
    walk.walk(&mut |_| any = true, &mut |_, _| {});
    (!any).then(|| {
        format!(
            "the pattern `{pattern}` matches no file in {} now (files that appear later are \
             followed)",
            shown(base)
        )
    })
}

/// A directory as shown in messages (`.` for the working directory).
fn shown(dir: &Path) -> String {
    if dir.as_os_str().is_empty() {
        ".".into()
    } else {
        dir.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmatched(patterns: &[String]) -> Unmatched {
        let walks: Vec<(String, GlobWalk)> = patterns
            .iter()
            .map(|p| (p.clone(), GlobWalk::new(p).unwrap()))
            .collect();
        Unmatched::new("test", &walks)
    }

    #[test]
    fn each_pattern_is_warned_about_once() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().display();
        let mut u = unmatched(&[format!("{root}/missing/*.log"), format!("{root}/*.log")]);
        let t0 = u.started;
        // A missing directory at once; an empty one only after the grace period.
        assert_eq!(u.observe(0, false, t0), Some(Notice::MissingDirectory));
        assert_eq!(u.observe(1, false, t0), None);
        assert_eq!(u.observe(0, false, t0 + GRACE), None);
        assert_eq!(
            u.observe(1, false, t0 + GRACE),
            Some(Notice::NothingMatched)
        );
        assert_eq!(u.observe(1, false, t0 + GRACE * 2), None);
        // Matching later is said once; a pattern that matched is never warned about.
        assert_eq!(u.observe(1, true, t0 + GRACE * 2), Some(Notice::NowMatches));
        assert_eq!(u.observe(1, true, t0 + GRACE * 3), None);
        let mut u = unmatched(&[format!("{root}/*.log")]);
        assert_eq!(u.observe(0, true, t0), None);
        assert_eq!(u.observe(0, false, t0 + GRACE * 2), None);
    }

    #[test]
    fn validate_names_the_missing_directory_or_the_empty_one() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().display();
        assert_eq!(
            check(&format!("{root}/no/such/*.log")),
            Some(format!(
                "the directory {root}/no/such does not exist: the pattern `{root}/no/such/*.log` \
                 matches nothing until it is created"
            ))
        );
        assert_eq!(
            check(&format!("{root}/*.log")),
            Some(format!(
                "the pattern `{root}/*.log` matches no file in {root} now (files that appear \
                 later are followed)"
            ))
        );
        std::fs::write(d.path().join("a.log"), b"x").unwrap();
        assert_eq!(check(&format!("{root}/*.log")), None);
    }
}
