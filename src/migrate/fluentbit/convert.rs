//! Turns a Fluent Bit config ([`FbConfig`], from either format) into skiff components:
//! `[SERVICE]` first, then the inputs, then the routing of filters and outputs, then notes on
//! what nothing converts (sections skiff has no use for).

use super::inputs::convert_input;
use super::section::{FbConfig, Section};
use super::service::{convert_service, Service};
use super::wiring::{wire, Sections};
use crate::migrate::ir::{Ctx, Item, Severity};

/// The sections converted somewhere; any other kind is left out with a warning.
const CONVERTED: &[&str] = &[
    "SERVICE",
    "INPUT",
    "FILTER",
    "OUTPUT",
    "PARSER",
    "MULTILINE_PARSER",
];

/// Converts the whole config into `ctx`.
pub fn convert(cfg: &FbConfig, ctx: &mut Ctx) {
    let mut service = Service::default();
    for s in cfg.of_kind("SERVICE") {
        convert_service(s, ctx, &mut service);
    }
    for (place, file) in &cfg.unread {
        // A parser used but defined nowhere is a warning where it is used; Fluent Bit's stock
        // parsers (the image's parsers.conf) are run by name.
        let line = ctx.note(
            Severity::Note,
            place,
            "Parsers_File",
            &format!("cannot read {file}: Fluent Bit's stock parsers are run by name; any other parser it defines is reported where it is used (put the file next to the config)"),
        );
        ctx.doc.globals.push(Item::Comment(line));
    }
    // `[PARSER]`s and `[MULTILINE_PARSER]`s, looked up by kind and name where used.
    let parsers: Vec<&Section> = cfg
        .of_kind("PARSER")
        .chain(cfg.of_kind("MULTILINE_PARSER"))
        .collect();
    let mut inputs = Vec::new();
    let mut left_out = Vec::new();
    for (idx, s) in cfg.of_kind("INPUT").enumerate() {
        match convert_input(s, idx, &parsers, ctx) {
            Some(input) => inputs.push(input),
            None => left_out.push(s.get("tag").map_or_else(
                || format!("{}.{idx}", s.name().to_ascii_lowercase()),
                |p| p.value.clone(),
            )),
        }
    }
    let filters: Vec<&Section> = cfg.of_kind("FILTER").collect();
    let outputs: Vec<&Section> = cfg.of_kind("OUTPUT").collect();
    let sections = Sections {
        filters: &filters,
        outputs: &outputs,
        parsers: &parsers,
        left_out: &left_out,
    };
    wire(ctx, &inputs, &sections, &service);
    if let Some((_, place)) = &service.flush {
        if !ctx
            .doc
            .sinks
            .iter()
            .any(|s| s.kind == "elasticsearch" || s.kind == "http")
        {
            let line = ctx.note(
                Severity::Note,
                place,
                "Flush",
                "skiff's console and file sinks write each batch as it arrives",
            );
            ctx.doc.globals.push(Item::Comment(line));
        }
    }
    for s in &cfg.sections {
        if !CONVERTED.contains(&s.kind.as_str()) {
            let line = ctx.note(
                Severity::Warning,
                &s.place,
                &format!("[{}]", s.kind),
                "has no skiff equivalent; left out",
            );
            ctx.doc.footer.push(line);
            ctx.doc
                .footer
                .extend(s.raw.iter().map(|l| format!("  {l}")));
        }
    }
}
