//! Reads a whole Fluent Bit configuration: the main file in either format (with its includes,
//! by [`super::classic`] or [`super::yaml`]), then the parsers files that `[SERVICE]
//! Parsers_File` names, each in its own format, relative to the main file's directory.

use std::path::Path;

use super::section::{FbConfig, Prop, Section};
use super::{classic, yaml};
use crate::migrate::error::MigrateError;
use crate::migrate::files::resolve;

/// Reads the classic config at `path` whose text is `text`, with its includes and parsers
/// files.
pub fn read_classic(path: &Path, text: &str) -> Result<FbConfig, MigrateError> {
    let base_dir = base_dir(path);
    let sections = classic::read(&base_dir, path, text)?;
    with_parsers(&base_dir, sections)
}

/// Reads the YAML config at `path` whose text is `text`, with its includes and parsers files.
pub fn read_yaml(path: &Path, text: &str) -> Result<FbConfig, MigrateError> {
    let sections = yaml::read(path, text)?;
    with_parsers(&base_dir(path), sections)
}

fn base_dir(path: &Path) -> std::path::PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn with_parsers(base_dir: &Path, sections: Vec<Section>) -> Result<FbConfig, MigrateError> {
    let mut cfg = FbConfig {
        sections,
        unread: Vec::new(),
    };
    read_parsers_files(base_dir, &mut cfg)?;
    Ok(cfg)
}

/// Reads the parsers files named by `[SERVICE] Parsers_File` into `cfg`. A file that cannot be
/// read is recorded in `cfg.unread` (the config is often copied out of its container, and
/// Fluent Bit's image ships its own parsers file); a file that is malformed is an error.
fn read_parsers_files(base_dir: &Path, cfg: &mut FbConfig) -> Result<(), MigrateError> {
    let props: Vec<Prop> = cfg
        .sections
        .iter()
        .filter(|s| s.kind == "SERVICE")
        .flat_map(|s| s.props.iter())
        .filter(|p| p.key.eq_ignore_ascii_case("parsers_file"))
        .cloned()
        .collect();
    for prop in props {
        let file = resolve(base_dir, &prop.value);
        let Ok(text) = std::fs::read_to_string(&file) else {
            cfg.unread
                .push((prop.place.clone(), file.display().to_string()));
            continue;
        };
        let sections = if is_yaml_path(&file) {
            yaml::read_parsers(&file, &text)?
        } else {
            classic::read(base_dir, &file, &text)?
        };
        // A parsers file defines parsers; anything else in it (another Parsers_File) is ignored.
        cfg.sections.extend(
            sections
                .into_iter()
                .filter(|s| matches!(s.kind.as_str(), "PARSER" | "MULTILINE_PARSER")),
        );
    }
    Ok(())
}

/// Whether a file name says YAML.
fn is_yaml_path(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

#[cfg(test)]
mod tests {
    use super::read_classic as read;

    #[test]
    fn includes_and_parsers_files_are_read_relative_to_the_main_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("inputs.conf"),
            "[INPUT]\n Name tail\n Path /x\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("parsers.conf"),
            "[PARSER]\n Name j\n Format json\n",
        )
        .unwrap();
        let main = dir.path().join("fluent-bit.conf");
        let text = "[SERVICE]\n Parsers_File parsers.conf\n@INCLUDE inputs.conf\n";
        let cfg = read(&main, text).unwrap();
        let kinds: Vec<&str> = cfg.sections.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(kinds, ["SERVICE", "INPUT", "PARSER"]);
        assert_eq!(*cfg.sections[2].place.file, dir.path().join("parsers.conf"));
    }

    #[test]
    fn a_parsers_file_named_by_its_container_path_is_found_beside_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("parsers.conf"),
            "[PARSER]\n Name j\n Format json\n",
        )
        .unwrap();
        let main = dir.path().join("fluent-bit.conf");
        let text = "[SERVICE]\n Parsers_File /fluent-bit/etc/parsers.conf\n Parsers_File /etc/custom.conf\n";
        let cfg = read(&main, text).unwrap();
        assert_eq!(cfg.of_kind("PARSER").count(), 1);
        assert_eq!(cfg.unread.len(), 1);
        assert_eq!(cfg.unread[0].0.line, 3);
    }
}
