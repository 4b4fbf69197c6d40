//! Fluent Bit `[OUTPUT]`s as skiff sinks: `es` becomes an `elasticsearch` sink ([`es`]),
//! `stdout` a JSON `console` sink ([`stdout`]), `http` an `http` sink ([`http`]), `file` a
//! `file` sink ([`mod@file`]), `null` a `blackhole`. Other outputs are left out with a warning.
//!
//! To convert another output, write its converter (a [`Convert`]) and add it to [`OUTPUTS`].

pub mod es;
pub mod file;
pub mod http;
pub mod stdout;

use crate::migrate::fluentbit::props::{left_out, report_rest, what, Props};
use crate::migrate::fluentbit::section::Section;
use crate::migrate::fluentbit::service::Service;
use crate::migrate::ir::{Ctx, Spec};

/// Converts an output's properties into a sink named after the `&str` given.
pub type Convert = fn(&mut Ctx, &mut Props, &str, &Service) -> Spec;

/// The outputs skiff converts, by plugin names.
pub const OUTPUTS: &[(&[&str], Convert)] = &[
    (&["es", "elasticsearch"], es::elasticsearch),
    (&["stdout"], stdout::stdout),
    (&["http"], http::http),
    (&["file"], file::file),
    (&["null"], null),
];

/// Converts an `[OUTPUT]`; `Err` holds the comment lines when it has no equivalent.
pub fn output(ctx: &mut Ctx, s: &Section, service: &Service) -> Result<Spec, Vec<String>> {
    let plugin = s.name().to_ascii_lowercase();
    let mut p = Props::new(s);
    p.take("name");
    p.take("match");
    p.take("match_regex");
    let name = p
        .take("alias")
        .map_or_else(|| plugin.clone(), |a| a.value.clone());
    let Some(&(_, convert)) = OUTPUTS
        .iter()
        .find(|(names, _)| names.contains(&plugin.as_str()))
    else {
        return Err(left_out(
            ctx,
            s,
            "skiff ships to Elasticsearch, HTTP, files and stdout only; this output was left out",
        ));
    };
    let mut spec = convert(ctx, &mut p, &name, service);
    spec.leading
        .push(format!("From {} ({}).", what(s), ctx.place_text(&s.place)));
    report_rest(ctx, &mut p, &mut spec.items);
    Ok(spec)
}

/// The `null` output: a `blackhole`.
fn null(_: &mut Ctx, _: &mut Props, name: &str, _: &Service) -> Spec {
    Spec::new(name, "blackhole")
}
