//! Relative paths in a config resolve against the config file's folder.
//!
//! A config is shipped as a unit (a ConfigMap with the files next to it, a checkout of a
//! repository), so what its paths mean must not depend on the directory skiff was started from:
//! `skiff run --config config/quickstart.toml` reads the same files from the repository's root as
//! from anywhere else. Absolute paths, the rule in pods, are left alone. Prometheus and
//! `skiff migrate` (for `@INCLUDE` and parsers files) resolve the same way.
//!
//! Which keys are paths is declared by each component type ([`super::Kind::paths`]), as dotted
//! keys (`tls.ca_file`); a value may be a string or a list of strings (globs).

use std::path::{Path, PathBuf};

/// The folder relative paths resolve against: the config file's (`""` for a file in the
/// working directory, which leaves relative paths as they are).
pub fn base_of(config_path: &Path) -> &Path {
    config_path.parent().unwrap_or(Path::new(""))
}

/// `path` resolved against `base` when it is relative.
pub fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base.join(path)
    }
}

/// Resolves the strings at the dotted `keys` of `table` (strings or lists of strings).
pub fn resolve_keys(base: &Path, table: &mut toml::Table, keys: &[&str]) {
    if base.as_os_str().is_empty() {
        return;
    }
    for key in keys {
        let mut segments = key.split('.');
        let Some(first) = segments.next() else {
            continue;
        };
        let mut node = table.get_mut(first);
        for seg in segments {
            node = node
                .and_then(|v| v.as_table_mut())
                .and_then(|t| t.get_mut(seg));
        }
        match node {
            Some(toml::Value::String(s)) => resolve_string(base, s),
            Some(toml::Value::Array(items)) => {
                for item in items {
                    if let toml::Value::String(s) = item {
                        resolve_string(base, s);
                    }
                }
            }
            _ => {}
        }
    }
}

fn resolve_string(base: &Path, s: &mut String) {
    // An empty path is an error its parser reports; it stays empty.
    if !s.is_empty() && Path::new(s.as_str()).is_relative() {
        *s = base.join(s.as_str()).to_string_lossy().into_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_strings_and_lists_are_resolved() {
        let mut t: toml::Table = toml::from_str(
            "include = [\"logs/*.log\", \"/abs/*.log\"]\nfile = \"labels\"\n\
             tls = { ca_file = \"ca.pem\" }\nother = \"x\"\n",
        )
        .unwrap();
        resolve_keys(
            Path::new("/etc/skiff"),
            &mut t,
            &["include", "file", "tls.ca_file", "missing.key"],
        );
        assert_eq!(
            t.to_string(),
            "file = \"/etc/skiff/labels\"\ninclude = [\"/etc/skiff/logs/*.log\", \"/abs/*.log\"]\n\
             other = \"x\"\n\n[tls]\nca_file = \"/etc/skiff/ca.pem\"\n"
        );
    }

    #[test]
    fn a_config_in_the_working_directory_keeps_its_paths() {
        assert_eq!(base_of(Path::new("skiff.toml")), Path::new(""));
        assert_eq!(base_of(Path::new("config/q.toml")), Path::new("config"));
        assert_eq!(
            resolve(Path::new("config"), Path::new("sample/a.log")),
            PathBuf::from("config/sample/a.log")
        );
        assert_eq!(
            resolve(Path::new("config"), Path::new("/a.log")),
            PathBuf::from("/a.log")
        );
    }
}
