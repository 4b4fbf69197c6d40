//! The component registry: every source, transform and sink type skiff knows, by name, and the
//! config typed with them.
//!
//! [`crate::config`] loads and validates a file without knowing any component; the families
//! list their own types ([`crate::sources::KINDS`], [`crate::transforms::KINDS`],
//! [`crate::sinks::KINDS`]), and this module joins the two. A new component type is one row in
//! its family's table.

use std::path::Path;

use crate::config::{self, ConfigError, Registry};
use crate::sinks::SinkConfig;
use crate::sources::SourceConfig;
use crate::transforms::TransformConfig;

/// skiff's config, its components typed by [`REGISTRY`].
pub type Config = config::Config<dyn SourceConfig, dyn TransformConfig, dyn SinkConfig>;

/// A named component of [`Config`].
pub use config::Component;

/// Every component type skiff knows.
pub const REGISTRY: Registry<dyn SourceConfig, dyn TransformConfig, dyn SinkConfig> = Registry {
    sources: crate::sources::KINDS,
    transforms: crate::transforms::KINDS,
    sinks: crate::sinks::KINDS,
};

/// Reads, interpolates and validates the config file at `path` with the process environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    config::load(path, &REGISTRY).map(with_component_warnings)
}

/// Validates config `text` (named `path` in messages), looking variables up with `env`.
pub fn load_str(
    path: &Path,
    text: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    config::load_str(path, text, env, &REGISTRY).map(with_component_warnings)
}

/// Adds the warnings the components found while reading their tables to the config's, each
/// with its TOML path.
fn with_component_warnings(mut config: Config) -> Config {
    for t in &config.transforms {
        for w in t.config.warnings() {
            let w = w.within(&["transforms", &t.name]);
            config
                .warnings
                .push(format!("{}: {}", w.path.join("."), w.message));
        }
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match load_str(Path::new("t.toml"), text, |_| None) {
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid(errors)) => errors,
            Err(e) => vec![e.to_string()],
        }
    }

    #[test]
    fn a_component_with_a_bad_table_is_still_a_known_input() {
        let errs = errors(
            "[sources.app]\ntype = \"file\"\ninclud = [\"/x\"]\n\
             [sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\n",
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("sources.app.includ"), "{errs:?}");
        let errs = errors(
            "[sources.app]\ntype = \"fiel\"\n[sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\n",
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("unknown type `fiel`"), "{errs:?}");
    }

    #[test]
    fn each_family_lists_its_types_from_its_registry() {
        let errs = errors("[sinks.out]\ntype = \"nope\"\ninputs = [\"x\"]\n");
        let joined = errs.join("\n");
        for kind in crate::sinks::KINDS {
            assert!(joined.contains(kind.name), "{joined}");
        }
    }
}
