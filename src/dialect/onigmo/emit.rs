//! The parsed tree written out as Rust regex syntax.
//!
//! Possessive quantifiers and atomic groups forbid backtracking; Rust's engine has neither,
//! but finds the same match without them when backtracking could not have found another:
//! - a repeat of one character class `S` (`S*+`, `(?>S*)`) followed by something that cannot
//!   start with a character of `S`, by `\z`, by `$` or `\Z` when `S` has no newline, or by
//!   nothing at all: the greedy repeat takes the longest run first, and every shorter run
//!   leaves a character of `S` that what follows cannot match;
//! - an atomic group that can match only one way (no alternatives; its repeats are of the
//!   kind above, or of a fixed count).
//!
//! Anything else is refused.

use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, HirKind};

use super::parse::{Assert, Greed, Group, GroupKind, Node, Repeat, Tree};
use super::OnigmoError;

/// What comes after a node, as far as the rewrite rules need to know.
#[derive(Clone, Copy)]
enum Follow<'a> {
    /// The end of the pattern.
    End,
    /// This node (read case-insensitively or not).
    Next(&'a Node, bool),
    /// Something else (the node is repeated, or what follows is not known).
    Unknown,
}

/// Where a node is.
#[derive(Clone, Copy)]
struct Ctx {
    /// Case-insensitive.
    ci: bool,
    /// Inside a capture group.
    captured: bool,
}

/// Writes `tree` in Rust syntax (without the flags the caller adds); `ci` when the whole
/// pattern is case-insensitive.
pub(super) fn emit(tree: &Tree, ci: bool) -> Result<String, OnigmoError> {
    let mut out = String::new();
    let ctx = Ctx {
        ci,
        captured: false,
    };
    alternation(&tree.root, ctx, Follow::End, &mut out)?;
    Ok(out)
}

fn alternation(
    branches: &[Vec<Node>],
    ctx: Ctx,
    follow: Follow<'_>,
    out: &mut String,
) -> Result<(), OnigmoError> {
    for (i, seq) in branches.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        for (j, node) in seq.iter().enumerate() {
            node_text(node, ctx, next_of(seq, j, ctx, follow), out)?;
        }
    }
    Ok(())
}

/// What follows node `j` of `seq`.
fn next_of<'a>(seq: &'a [Node], j: usize, ctx: Ctx, follow: Follow<'a>) -> Follow<'a> {
    seq.get(j + 1).map_or(follow, |n| Follow::Next(n, ctx.ci))
}

fn node_text(
    node: &Node,
    ctx: Ctx,
    follow: Follow<'_>,
    out: &mut String,
) -> Result<(), OnigmoError> {
    match node {
        Node::Char { rust } => out.push_str(rust),
        Node::Assert(a) => out.push_str(assert_text(a, ctx, follow)?),
        Node::Group(g) => group_text(g, ctx, follow, out)?,
        Node::Repeat(r) => repeat_text(r, ctx, follow, out)?,
    }
    Ok(())
}

fn assert_text(a: &Assert, ctx: Ctx, follow: Follow<'_>) -> Result<&'static str, OnigmoError> {
    Ok(match a {
        Assert::LineStart => "^",
        Assert::LineEnd => "$",
        Assert::TextStart => r"\A",
        Assert::TextEnd => r"\z",
        Assert::EndBeforeNewline { column } => {
            if ctx.captured || !matches!(follow, Follow::End) {
                return Err(OnigmoError::Unsupported {
                    construct: r"`\Z` (end, or before a final newline)".into(),
                    column: *column,
                    why: "skiff translates it only at the end of the pattern and outside capture groups; write `\\z` (lines carry no newline)",
                });
            }
            r"\n?\z"
        }
        Assert::Other(text) => text,
    })
}

/// Case-insensitivity inside an options group with Rust flags `flags`.
fn flags_ci(flags: &str, ci: bool) -> bool {
    let (on, off) = flags.split_once('-').unwrap_or((flags, ""));
    !off.contains('i') && (ci || on.contains('i'))
}

fn group_text(
    g: &Group,
    ctx: Ctx,
    follow: Follow<'_>,
    out: &mut String,
) -> Result<(), OnigmoError> {
    let mut inner = ctx;
    match &g.kind {
        GroupKind::Named(name) => {
            out.push_str("(?P<");
            out.push_str(name);
            out.push('>');
            inner.captured = true;
        }
        GroupKind::Plain => out.push_str("(?:"),
        GroupKind::Flags(flags) => {
            out.push_str("(?");
            out.push_str(flags);
            out.push(':');
            inner.ci = flags_ci(flags, ctx.ci);
        }
        GroupKind::Atomic => {
            if !one_way(&g.branches, ctx, follow) {
                return Err(OnigmoError::Unsupported {
                    construct: "atomic group `(?>`".into(),
                    column: g.column,
                    why: "Rust's regex engine has no atomic groups, and this one can match in more than one way, so removing it could change the match",
                });
            }
            out.push_str("(?:");
        }
    }
    alternation(&g.branches, inner, follow, out)?;
    out.push(')');
    Ok(())
}

fn repeat_text(
    r: &Repeat,
    ctx: Ctx,
    follow: Follow<'_>,
    out: &mut String,
) -> Result<(), OnigmoError> {
    if r.greed == Greed::Possessive && !longest_only(&r.node, ctx, follow) {
        return Err(OnigmoError::Unsupported {
            construct: format!("possessive quantifier `{}`", r.text),
            column: r.column,
            why: "Rust's regex engine has no possessive quantifiers, and what follows this one can match what it repeats, so a plain quantifier could match differently",
        });
    }
    let wrap = matches!(*r.node, Node::Repeat(_));
    if wrap {
        out.push_str("(?:");
    }
    node_text(&r.node, ctx, Follow::Unknown, out)?;
    if wrap {
        out.push(')');
    }
    match (r.min, r.max) {
        (0, None) => out.push('*'),
        (1, None) => out.push('+'),
        (0, Some(1)) => out.push('?'),
        (n, None) => out.push_str(&format!("{{{n},}}")),
        (n, Some(m)) if n == m => out.push_str(&format!("{{{n}}}")),
        (n, Some(m)) => out.push_str(&format!("{{{n},{m}}}")),
    }
    if r.greed == Greed::Lazy {
        out.push('?');
    }
    Ok(())
}

/// True when a greedy repeat of `node` followed by `follow` can only succeed with its longest
/// run, so that it matches what a possessive one does.
fn longest_only(node: &Node, ctx: Ctx, follow: Follow<'_>) -> bool {
    let Node::Char { rust } = node else {
        return false;
    };
    let Some(set) = class_of(rust, ctx.ci) else {
        return false;
    };
    let no_newline = !set
        .ranges()
        .iter()
        .any(|r| r.start() <= '\n' && '\n' <= r.end());
    match follow {
        Follow::End => true,
        Follow::Unknown => false,
        Follow::Next(Node::Assert(Assert::TextEnd), _) => true,
        Follow::Next(Node::Assert(Assert::LineEnd | Assert::EndBeforeNewline { .. }), _) => {
            no_newline
        }
        Follow::Next(next, ci) => {
            let mut firsts = Vec::new();
            first_chars(next, &mut firsts)
                && firsts.iter().all(|f| {
                    class_of(f, ci).is_some_and(|mut other| {
                        other.intersect(&set);
                        other.ranges().is_empty()
                    })
                })
        }
    }
}

/// True when the alternatives can match only one way from a given position.
fn one_way(branches: &[Vec<Node>], ctx: Ctx, follow: Follow<'_>) -> bool {
    let [seq] = branches else {
        return false;
    };
    seq.iter().enumerate().all(|(j, node)| {
        let next = next_of(seq, j, ctx, follow);
        match node {
            Node::Char { .. } | Node::Assert(_) => true,
            Node::Group(g) => {
                let inner = match &g.kind {
                    GroupKind::Flags(f) => Ctx {
                        ci: flags_ci(f, ctx.ci),
                        ..ctx
                    },
                    _ => ctx,
                };
                one_way(&g.branches, inner, next)
            }
            Node::Repeat(r) => {
                (Some(r.min) == r.max && one_way_node(&r.node, ctx))
                    || (r.greed != Greed::Lazy && longest_only(&r.node, ctx, next))
            }
        }
    })
}

fn one_way_node(node: &Node, ctx: Ctx) -> bool {
    match node {
        Node::Char { .. } | Node::Assert(_) => true,
        Node::Group(g) => one_way(&g.branches, ctx, Follow::Unknown),
        Node::Repeat(r) => Some(r.min) == r.max && one_way_node(&r.node, ctx),
    }
}

/// Pushes the Rust texts of the characters `node` can start with; false when `node` can match
/// without consuming a character, or its start is not known.
fn first_chars<'a>(node: &'a Node, out: &mut Vec<&'a str>) -> bool {
    match node {
        Node::Char { rust } => {
            out.push(rust);
            true
        }
        Node::Group(g) => g
            .branches
            .iter()
            .all(|b| b.first().is_some_and(|n| first_chars(n, out))),
        Node::Repeat(r) if r.min >= 1 => first_chars(&r.node, out),
        _ => false,
    }
}

/// The characters a one-character Rust regex matches.
fn class_of(rust: &str, ci: bool) -> Option<ClassUnicode> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(ci)
        .utf8(false)
        .build()
        .parse(rust)
        .ok()?;
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => Some(c.clone()),
        HirKind::Literal(lit) => {
            let mut chars = std::str::from_utf8(&lit.0).ok()?.chars();
            let c = chars.next()?;
            chars
                .next()
                .is_none()
                .then(|| ClassUnicode::new([ClassUnicodeRange::new(c, c)]))
        }
        _ => None,
    }
}
