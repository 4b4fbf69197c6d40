//! skiff's own log level (`[log] level`, `SKIFF_LOG`): checked strictly, so that a mistake is
//! refused instead of silently turning every log off.
//!
//! The filter syntax is `tracing`'s: a comma-separated list of directives, each a level (`info`)
//! or `TARGET=LEVEL` (`skiff=debug`). That syntax also reads a bare word as a *target* enabled
//! at every level, so `warning` or `verbose` would be accepted and would hide every log of skiff,
//! errors included. Here a bare word must be a level: `off`, `error`, `warn`, `info`, `debug`,
//! `trace`, in any case, or one of Fluent Bit's spellings of them (`warning`). A target at every
//! level is written `TARGET=trace`.

/// The levels, from quietest to noisiest, as written in messages.
pub const LEVELS: &str = "off, error, warn (or warning), info, debug, trace";

/// A level name (any case, with aliases) as `tracing` spells it.
fn level(word: &str) -> Option<&'static str> {
    const NAMES: [(&str, &str); 7] = [
        ("off", "off"),
        ("error", "error"),
        ("warn", "warn"),
        ("warning", "warn"),
        ("info", "info"),
        ("debug", "debug"),
        ("trace", "trace"),
    ];
    NAMES
        .iter()
        .find(|(name, _)| word.eq_ignore_ascii_case(name))
        .map(|(_, canonical)| *canonical)
}

/// Checks a filter and returns it in `tracing`'s spelling (aliases replaced), or says what is
/// wrong with it.
pub fn normalize(filter: &str) -> Result<String, String> {
    let mut out = Vec::new();
    for part in filter.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        out.push(directive(part)?);
    }
    if out.is_empty() {
        return Err(format!("the log level is empty: use one of {LEVELS}"));
    }
    let normalized = out.join(",");
    tracing_subscriber::EnvFilter::try_new(&normalized)
        .map_err(|e| format!("invalid log filter `{filter}`: {e}"))?;
    Ok(normalized)
}

/// One directive: `LEVEL`, `TARGET=LEVEL`, or a span filter `TARGET[span{field}]=LEVEL`.
fn directive(part: &str) -> Result<String, String> {
    match part.rsplit_once('=') {
        // `=` inside a span's field filter (`[span{a=1}]`) is not the level's.
        Some((target, lvl)) if !lvl.contains(['}', ']']) => match level(lvl.trim()) {
            Some(l) => Ok(format!("{}={l}", target.trim())),
            None => Err(format!(
                "unknown log level `{}` in `{part}`: use one of {LEVELS}",
                lvl.trim()
            )),
        },
        _ => match level(part) {
            Some(l) => Ok(l.to_owned()),
            None if part.contains('[') => Ok(part.to_owned()),
            None => Err(format!(
                "unknown log level `{part}`: use one of {LEVELS}, or directives such as \
                 `skiff=debug,warn` (a module at every level is `MODULE=trace`)"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_aliases() {
        assert_eq!(normalize("info").unwrap(), "info");
        assert_eq!(normalize("WARNING").unwrap(), "warn");
        assert_eq!(normalize("Debug").unwrap(), "debug");
        assert_eq!(normalize("off").unwrap(), "off");
    }

    #[test]
    fn directives_are_kept_with_aliases_replaced() {
        assert_eq!(normalize("skiff=debug,warn").unwrap(), "skiff=debug,warn");
        assert_eq!(
            normalize("skiff::sources=warning, error").unwrap(),
            "skiff::sources=warn,error"
        );
    }

    #[test]
    fn bare_words_that_are_not_levels_are_refused() {
        for bad in ["verbose", "skiff", "warninf", "", " , "] {
            let e = normalize(bad).unwrap_err();
            assert!(e.contains("off, error, warn (or warning)"), "{bad}: {e}");
        }
        assert_eq!(
            normalize("skiff=loud").unwrap_err(),
            "unknown log level `loud` in `skiff=loud`: use one of off, error, warn (or warning), \
             info, debug, trace"
        );
    }
}
