//! Fluent Bit's `multiline.parser` (on the `tail` input and the `multiline` filter) as skiff
//! transforms: `cri` / `docker` as `parse_cri` / `parse_docker` (both, `docker, cri`, as a
//! `multiline` transform with `parsers`, which picks per line as Fluent Bit does), the built-in
//! stack trace parsers (`go`, `python`, `java`, `ruby`) as a `multiline` transform with
//! `parser`, and a `[MULTILINE_PARSER]` of the config (`type regex` and its `rule` lines) as a
//! `multiline` transform with the same `rules`.

use super::parser::container_parser;
use super::section::{Prop, Section};
use crate::migrate::ir::{Ctx, Severity, Spec, Val};
use crate::migrate::translate::{fb_duration, onigmo_to_rust};

/// The built-in parsers joining container runtimes' split lines.
const CONTAINER: &[&str] = &["cri", "docker"];
/// The built-in parsers joining stack traces.
const STACKS: &[&str] = &["go", "python", "java", "ruby"];

/// The transforms for `v` (`multiline.parser NAMES`) on `field`; `Err` is the comment line of
/// a warning when it cannot be converted.
pub fn multiline_parser(
    ctx: &mut Ctx,
    v: &Prop,
    field: &str,
    sections: &[&Section],
) -> Result<Vec<Spec>, String> {
    let names: Vec<String> = v
        .value
        .split(',')
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    if lower.len() == 1 && CONTAINER.contains(&lower[0].as_str()) {
        return container_parser(ctx, v, field).map(|s| vec![s]);
    }
    let mut spec = Spec::new("multiline", "multiline");
    spec.leading.push(format!(
        "From {} {} ({}).",
        v.key,
        v.value,
        ctx.place_text(&v.place)
    ));
    if field != "message" {
        spec.set("field", Val::text(field));
    }
    if !lower.is_empty() && lower.iter().all(|n| CONTAINER.contains(&n.as_str())) {
        spec.set(
            "parsers",
            Val::List(lower.iter().map(|n| Val::text(n)).collect()),
        );
        return Ok(vec![spec]);
    }
    if lower.len() != 1 {
        return Err(ctx.note(
            Severity::Warning,
            &v.place,
            &format!("{} {}", v.key, v.value),
            "skiff runs one stack trace parser, or the container formats together; left out",
        ));
    }
    if STACKS.contains(&lower[0].as_str()) {
        spec.set("parser", Val::text(&lower[0]));
        return Ok(vec![spec]);
    }
    let Some(section) = sections
        .iter()
        .find(|s| s.kind == "MULTILINE_PARSER" && s.name() == names[0])
    else {
        return Err(ctx.note(
            Severity::Warning,
            &v.place,
            &format!("{} {}", v.key, v.value),
            "no built-in parser or [MULTILINE_PARSER] has this name; left out",
        ));
    };
    rules(ctx, section, &mut spec)?;
    Ok(vec![spec])
}

/// A `[MULTILINE_PARSER]`'s `rule` lines and `flush_timeout` into `spec`.
fn rules(ctx: &mut Ctx, s: &Section, spec: &mut Spec) -> Result<(), String> {
    let refuse = |ctx: &mut Ctx, why: &str| {
        ctx.note(
            Severity::Warning,
            &s.place,
            &format!("[MULTILINE_PARSER] {}", s.name()),
            &format!("{why}; left out"),
        )
    };
    if let Some(t) = s.get("type") {
        if !t.value.eq_ignore_ascii_case("regex") {
            return Err(refuse(
                ctx,
                &format!("type {} is not converted (only regex)", t.value),
            ));
        }
    }
    let mut rules = Vec::new();
    for p in s
        .props
        .iter()
        .filter(|p| p.key.eq_ignore_ascii_case("rule"))
    {
        let Some([from, regex, to]) = quoted(&p.value) else {
            return Err(refuse(
                ctx,
                &format!(
                    "rule {} is not \"state\" \"/regex/\" \"next state\"",
                    p.value
                ),
            ));
        };
        let regex = regex
            .strip_prefix('/')
            .and_then(|r| r.strip_suffix('/'))
            .unwrap_or(&regex)
            .to_owned();
        let regex = match onigmo_to_rust(&regex) {
            Ok(r) => r,
            Err(why) => return Err(refuse(ctx, &format!("rule regex {regex}: {why}"))),
        };
        rules.push(Val::Table(vec![
            ("from".into(), Val::text(&from)),
            ("regex".into(), Val::text(&regex)),
            ("to".into(), Val::text(&to)),
        ]));
    }
    if rules.is_empty() {
        return Err(refuse(ctx, "it has no rule"));
    }
    spec.set("rules", Val::List(rules));
    if let Some(t) = s.get("flush_timeout") {
        // Fluent Bit's flush_timeout is in milliseconds.
        match t.value.trim().parse::<f64>() {
            Ok(ms) => {
                if let Some(d) = fb_duration(&format!("{}", ms / 1000.0)) {
                    spec.set("timeout", Val::text(&d));
                }
            }
            Err(_) => {
                return Err(refuse(
                    ctx,
                    &format!("flush_timeout {} is not milliseconds", t.value),
                ))
            }
        }
    }
    for p in &s.props {
        let k = p.key.to_ascii_lowercase();
        if !matches!(k.as_str(), "name" | "type" | "rule" | "flush_timeout") {
            let line = ctx.note(
                Severity::Warning,
                &p.place,
                &format!("{} {}", p.key, p.value),
                "has no skiff equivalent in a multiline transform; left out",
            );
            spec.comment(line);
        }
    }
    Ok(())
}

/// The three double-quoted strings of a `rule` line.
fn quoted(s: &str) -> Option<[String; 3]> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let body = rest.strip_prefix('"')?;
        let end = body.find('"')?;
        out.push(body[..end].to_owned());
        rest = body[end + 1..].trim_start();
    }
    out.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_lines_split_into_three() {
        let [a, b, c] =
            quoted(r#""start_state"   "/(Dec \d+ \d+\:\d+\:\d+)(.*)/"  "cont""#).unwrap();
        assert_eq!(a, "start_state");
        assert_eq!(b, r"/(Dec \d+ \d+\:\d+\:\d+)(.*)/");
        assert_eq!(c, "cont");
        assert!(quoted(r#""a" "b""#).is_none());
    }
}
