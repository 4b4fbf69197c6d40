//! Lists the paths an include pattern matches, reading each directory at most once per scan.
//!
//! The `glob` crate's own walk follows symlinked directories without remembering where it has
//! been: with `**` in a tree holding two symlinks back to a parent, the number of paths it
//! visits doubles at every level (until the kernel's limit of 40 symlinks per path), and a scan
//! never ends. Here the walk starts at the pattern's fixed base directory, descends only as deep
//! as the pattern can match (any depth for `**`), follows symlinks (Kubernetes volumes are full
//! of them) but enters each directory, known by device and inode, once; paths are matched with
//! the same pattern, `*` and `?` never crossing a `/`.

use std::collections::HashSet;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use glob::{MatchOptions, Pattern, PatternError};

use super::discovery::base_dir;

/// Matching as a shell does, one path component at a time.
const OPTIONS: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// One include pattern, ready to walk.
#[derive(Debug, Clone)]
pub struct GlobWalk {
    pattern: Pattern,
    /// Where the walk starts (`""` for a pattern relative to the working directory).
    base: PathBuf,
    /// How many levels below `base` a match can be; `None` with `**`.
    depth: Option<usize>,
}

impl GlobWalk {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<GlobWalk, PatternError> {
        let compiled = Pattern::new(pattern)?;
        let mut base = base_dir(pattern);
        if base == Path::new(".") && !pattern.starts_with("./") {
            base = PathBuf::new();
        }
        let below: Vec<Component> = Path::new(pattern)
            .components()
            .skip(base.components().count())
            .collect();
        let depth = (!below.iter().any(|c| c.as_os_str() == "**")).then_some(below.len());
        Ok(GlobWalk {
            pattern: compiled,
            base,
            depth,
        })
    }

    /// The directory the walk starts from (`""`: the working directory).
    pub fn base_dir(&self) -> &Path {
        &self.base
    }

    /// Calls `on_match` with every matching path (files, and anything else that matches: the
    /// caller decides what to do with directories or broken links), in name order, and
    /// `on_error` with each directory that cannot be read.
    pub fn walk(
        &self,
        on_match: &mut dyn FnMut(PathBuf),
        on_error: &mut dyn FnMut(&Path, io::Error),
    ) {
        let mut visited = HashSet::new();
        if let Ok(m) = std::fs::metadata(readable(&self.base)) {
            visited.insert((m.dev(), m.ino()));
        }
        self.walk_dir(&self.base, 1, &mut visited, on_match, on_error);
    }

    fn walk_dir(
        &self,
        dir: &Path,
        level: usize,
        visited: &mut HashSet<(u64, u64)>,
        on_match: &mut dyn FnMut(PathBuf),
        on_error: &mut dyn FnMut(&Path, io::Error),
    ) {
        let entries = match std::fs::read_dir(readable(dir)) {
            Ok(entries) => entries,
            // The base directory not existing yet is normal (the app has not started).
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(e) => return on_error(readable(dir), e),
        };
        let mut names: Vec<_> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        names.sort();
        for name in names {
            let path = dir.join(&name);
            if self.depth.is_none_or(|d| level == d)
                && self.pattern.matches_path_with(&path, OPTIONS)
            {
                on_match(path.clone());
            }
            if self.depth.is_some_and(|d| level >= d) {
                continue;
            }
            // Follows symlinks; each directory once (a loop or a second link to it adds nothing).
            if let Ok(m) = std::fs::metadata(&path) {
                if m.is_dir() && visited.insert((m.dev(), m.ino())) {
                    self.walk_dir(&path, level + 1, visited, on_match, on_error);
                }
            }
        }
    }
}

/// The path to hand to the filesystem (`""` is the working directory).
fn readable(dir: &Path) -> &Path {
    if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn matches(pattern: &str) -> Vec<String> {
        let mut out = Vec::new();
        GlobWalk::new(pattern)
            .unwrap()
            .walk(&mut |p| out.push(p.display().to_string()), &mut |_, _| {});
        out
    }

    #[test]
    fn star_stays_in_its_directory() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().display().to_string();
        std::fs::create_dir_all(d.path().join("a/b")).unwrap();
        for f in ["x.log", "a/y.log", "a/b/z.log", "a/n.txt"] {
            std::fs::write(d.path().join(f), b"").unwrap();
        }
        assert_eq!(
            matches(&format!("{root}/*.log")),
            vec![format!("{root}/x.log")]
        );
        assert_eq!(
            matches(&format!("{root}/*/*.log")),
            vec![format!("{root}/a/y.log")]
        );
        assert_eq!(
            matches(&format!("{root}/**/*.log")),
            vec![
                format!("{root}/a/b/z.log"),
                format!("{root}/a/y.log"),
                format!("{root}/x.log")
            ]
        );
        assert_eq!(
            matches(&format!("{root}/x.log")),
            vec![format!("{root}/x.log")]
        );
        assert!(matches(&format!("{root}/missing/*.log")).is_empty());
    }

    #[test]
    fn symlink_loops_end() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().display().to_string();
        for sub in ["s1", "s2", "s3"] {
            std::fs::create_dir(d.path().join(sub)).unwrap();
            symlink("..", d.path().join(sub).join("up")).unwrap();
        }
        std::fs::write(d.path().join("a.log"), b"").unwrap();
        std::fs::write(d.path().join("s1/b.log"), b"").unwrap();
        symlink("self.log", d.path().join("self.log")).unwrap();
        let got = matches(&format!("{root}/**/*.log"));
        // Each directory entered once: the loops add nothing.
        assert_eq!(
            got,
            vec![
                format!("{root}/a.log"),
                format!("{root}/s1/b.log"),
                format!("{root}/self.log")
            ]
        );
    }

    #[test]
    fn a_linked_directory_is_followed() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().display().to_string();
        std::fs::create_dir(d.path().join("real")).unwrap();
        std::fs::write(d.path().join("real/a.log"), b"").unwrap();
        std::fs::create_dir(d.path().join("logs")).unwrap();
        symlink("../real", d.path().join("logs/current")).unwrap();
        assert_eq!(
            matches(&format!("{root}/logs/*/*.log")),
            vec![format!("{root}/logs/current/a.log")]
        );
    }
}
