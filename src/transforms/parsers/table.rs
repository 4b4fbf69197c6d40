//! The built-in parsers: every parser of Fluent Bit's stock `conf/parsers.conf`, by its name,
//! with the fields, time field, time format and time keeping Fluent Bit gives it.
//!
//! The regexes are skiff's own, written in Rust syntax to match what Fluent Bit's match with
//! Onigmo's Ruby syntax: `\S`, `\s`, `\w`, `\d` there are ASCII classes, spelled out here. Each
//! is checked against Fluent Bit's documented output by the golden tests
//! (`tests/fixtures/fidelity/parsers`). Their `^` and `$` are line anchors, as in Ruby, on texts
//! that hold a newline.

use super::definition::{Definition, Format, TimeDefinition};
use crate::dialect::onigmo::Translation;

/// Onigmo's `\S` (Ruby syntax: ASCII whitespace only).
macro_rules! not_space {
    () => {
        r"[^\t\n\x0B\x0C\r ]"
    };
}

/// Onigmo's `\s`.
macro_rules! space {
    () => {
        r"[\t\n\x0B\x0C\r ]"
    };
}

/// The request of an access log: `"GET /path HTTP/1.1"`, the path and protocol optional.
macro_rules! request {
    () => {
        concat!(
            r#""(?P<method>"#,
            not_space!(),
            r#"+)(?: +(?P<path>[^"]*?)(?: +"#,
            not_space!(),
            r#"*)?)?""#
        )
    };
}

/// `[time]` of an access log.
macro_rules! bracket_time {
    () => {
        r"\[(?P<time>[^\]]*)\]"
    };
}

const ACCESS_TIME: &str = "%d/%b/%Y:%H:%M:%S %z";
const ISO_TIME: &str = "%Y-%m-%dT%H:%M:%S.%L";
const ISO_TIME_Z: &str = "%Y-%m-%dT%H:%M:%S.%L%z";
const SYSLOG_TIME: &str = "%b %d %H:%M:%S";

/// A built-in parser.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Its name, as in Fluent Bit.
    pub name: &'static str,
    pub format: Format,
    /// The regex in Rust syntax, and whether it uses `^`/`$`.
    pub regex: Option<(&'static str, bool)>,
    /// Time field and format, when the parser reads a time.
    pub time: Option<(&'static str, &'static str)>,
    /// Time_Keep.
    pub keep: bool,
}

const fn regex(
    name: &'static str,
    pattern: &'static str,
    anchors: bool,
    time: Option<(&'static str, &'static str)>,
    keep: bool,
) -> Builtin {
    Builtin {
        name,
        format: Format::Regex,
        regex: Some((pattern, anchors)),
        time,
        keep,
    }
}

/// Every built-in parser, in the order of Fluent Bit's `conf/parsers.conf`.
pub const BUILTINS: &[Builtin] = &[
    regex(
        "apache",
        concat!(
            r"^(?P<host>[^ ]*) [^ ]* (?P<user>[^ ]*) ",
            bracket_time!(),
            " ",
            request!(),
            r#" (?P<code>[^ ]*) (?P<size>[^ ]*)(?: "(?P<referer>[^"]*)" "(?P<agent>[^"]*)")?$"#
        ),
        true,
        Some(("time", ACCESS_TIME)),
        false,
    ),
    regex(
        "apache2",
        concat!(
            r"^(?P<host>[^ ]*) [^ ]* (?P<user>[^ ]*) ",
            bracket_time!(),
            r#" "(?P<method>"#,
            not_space!(),
            r"+)(?: +(?P<path>[^ ]*) +",
            not_space!(),
            r#"*)?" (?P<code>[^ ]*) (?P<size>[^ ]*)(?: "(?P<referer>[^"]*)" "(?P<agent>.*)")?$"#
        ),
        true,
        Some(("time", ACCESS_TIME)),
        false,
    ),
    regex(
        "apache_error",
        concat!(
            r"^\[[^ ]* (?P<time>[^\]]*)\] \[(?P<level>[^\]]*)\]",
            r"(?: \[pid (?P<pid>[^\]]*)\])?(?: \[client (?P<client>[^\]]*)\])? (?P<message>.*)$"
        ),
        true,
        None,
        false,
    ),
    regex(
        "nginx",
        concat!(
            r"^(?P<remote>[^ ]*) (?P<host>[^ ]*) (?P<user>[^ ]*) ",
            bracket_time!(),
            " ",
            request!(),
            r#" (?P<code>[^ ]*) (?P<size>[^ ]*) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)""#
        ),
        true,
        Some(("time", ACCESS_TIME)),
        false,
    ),
    regex(
        "k8s-nginx-ingress",
        concat!(
            r"^(?P<host>[^ ]*) - (?P<user>[^ ]*) ",
            bracket_time!(),
            " ",
            request!(),
            r#" (?P<code>[^ ]*) (?P<size>[^ ]*) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)""#,
            r" (?P<request_length>[^ ]*) (?P<request_time>[^ ]*)",
            r" \[(?P<proxy_upstream_name>[^ ]*)\] (?:\[(?P<proxy_alternative_upstream_name>[^ ]*)\] )?",
            r"(?P<upstream_addr>[^ ]*) (?P<upstream_response_length>[^ ]*)",
            r" (?P<upstream_response_time>[^ ]*) (?P<upstream_status>[^ ]*) (?P<reg_id>[^ ]*).*$"
        ),
        true,
        Some(("time", ACCESS_TIME)),
        false,
    ),
    Builtin {
        name: "json",
        format: Format::Json,
        regex: None,
        time: Some(("time", ACCESS_TIME)),
        keep: false,
    },
    Builtin {
        name: "logfmt",
        format: Format::Logfmt,
        regex: None,
        time: None,
        keep: false,
    },
    Builtin {
        name: "docker",
        format: Format::Json,
        regex: None,
        time: Some(("time", ISO_TIME)),
        keep: true,
    },
    regex(
        "docker-daemon",
        r#"time="(?P<time>[^ ]*)" level=(?P<level>[^ ]*) msg="(?P<msg>[^ ].*)""#,
        false,
        Some(("time", ISO_TIME)),
        true,
    ),
    regex(
        "syslog-rfc5424",
        concat!(
            r"^<(?P<pri>[0-9]{1,5})>1 (?P<time>[^ ]+) (?P<host>[^ ]+) (?P<ident>[^ ]+)",
            r" (?P<pid>[\-0-9]+) (?P<msgid>[^ ]+) (?P<extradata>\[.*?\]|-) (?P<message>.+)$"
        ),
        true,
        Some(("time", ISO_TIME_Z)),
        true,
    ),
    regex(
        "syslog-rfc3164-local",
        concat!(
            r"^<(?P<pri>[0-9]+)>(?P<time>[^ ]* {1,2}[^ ]* [^ ]*) ",
            r"(?P<ident>[a-zA-Z0-9_/.\-]*)(?:\[(?P<pid>[0-9]+)\])?(?:[^:]*:)? *(?P<message>.*)$"
        ),
        true,
        Some(("time", SYSLOG_TIME)),
        true,
    ),
    regex(
        "syslog-rfc3164",
        concat!(
            r"^<(?P<pri>[0-9]+)>(?P<time>[^ ]* {1,2}[^ ]* [^ ]*) (?P<host>[^ ]*) ",
            r"(?P<ident>[a-zA-Z0-9_/.\-]*)(?:\[(?P<pid>[0-9]+)\])?(?:[^:]*:)? *(?P<message>.*)$"
        ),
        true,
        Some(("time", SYSLOG_TIME)),
        true,
    ),
    regex(
        "mongodb",
        concat!(
            r"^(?P<time>[^ ]*)",
            space!(),
            r"+(?P<severity>[0-9A-Za-z_])",
            space!(),
            r"+(?P<component>[^ ]+)",
            space!(),
            r"+\[(?P<context>[^\]]+)\]",
            space!(),
            r"+(?P<message>.*?) *(?P<ms>[0-9]+)?(?::?ms)?$"
        ),
        true,
        Some(("time", ISO_TIME)),
        true,
    ),
    regex(
        "envoy",
        concat!(
            r#"^\[(?P<start_time>[^\]]*)\] "(?P<method>"#,
            not_space!(),
            r#"+)(?: +(?P<path>[^"]*?)(?: +"#,
            not_space!(),
            r"*)?)? (?P<protocol>",
            not_space!(),
            r#"+)" (?P<code>[^ ]*) (?P<response_flags>[^ ]*) (?P<bytes_received>[^ ]*)"#,
            r" (?P<bytes_sent>[^ ]*) (?P<duration>[^ ]*) (?P<x_envoy_upstream_service_time>[^ ]*)",
            r#" "(?P<x_forwarded_for>[^ ]*)" "(?P<user_agent>[^"]*)" "(?P<request_id>[^"]*)""#,
            r#" "(?P<authority>[^ ]*)" "(?P<upstream_host>[^ ]*)""#
        ),
        true,
        Some(("start_time", ISO_TIME_Z)),
        true,
    ),
    regex(
        "istio-envoy-proxy",
        concat!(
            r#"^\[(?P<start_time>[^\]]*)\] "(?P<method>"#,
            not_space!(),
            r#"+)(?: +(?P<path>[^"]*?)(?: +"#,
            not_space!(),
            r"*)?)? (?P<protocol>",
            not_space!(),
            r#"+)" (?P<response_code>[^ ]*) (?P<response_flags>[^ ]*)"#,
            r" (?P<response_code_details>[^ ]*) (?P<connection_termination_details>[^ ]*)",
            r#" "(?P<upstream_transport_failure_reason>[^ ]*)" (?P<bytes_received>[^ ]*)"#,
            r" (?P<bytes_sent>[^ ]*) (?P<duration>[^ ]*) (?P<x_envoy_upstream_service_time>[^ ]*)",
            r#" "(?P<x_forwarded_for>[^ ]*)" "(?P<user_agent>[^"]*)" "(?P<x_request_id>[^"]*)""#,
            r#" "(?P<authority>[^ ]*)" "(?P<upstream_host>[^ ]*)" (?P<upstream_cluster>[^ ]*)"#,
            r" (?P<upstream_local_address>[^ ]*) (?P<downstream_local_address>[^ ]*)",
            r" (?P<downstream_remote_address>[^ ]*) (?P<requested_server_name>[^ ]*)",
            r" (?P<route_name>[^ ]*)$"
        ),
        true,
        Some(("start_time", ISO_TIME_Z)),
        true,
    ),
    regex(
        "cri",
        r"^(?P<time>[^ ]+) (?P<stream>stdout|stderr) (?P<logtag>[^ ]*) (?P<message>.*)$",
        true,
        Some(("time", ISO_TIME_Z)),
        true,
    ),
    regex(
        "kube-custom",
        concat!(
            r"(?P<tag>[^.]+)?\.?(?P<pod_name>[a-z0-9](?:[\-a-z0-9]*[a-z0-9])?",
            r"(?:\.[a-z0-9](?:[\-a-z0-9]*[a-z0-9])?)*)_(?P<namespace_name>[^_]+)_",
            r"(?P<container_name>.+)-(?P<docker_id>[a-z0-9]{64})\.log$"
        ),
        true,
        None,
        false,
    ),
    regex(
        "kmsg-netfilter-log",
        concat!(
            r"^<(?P<pri>[0-9]{1,5})>1 (?P<time>[^ ]+) (?P<host>[^ ]+) kernel - - - \[[0-9.]*\] ",
            r"(?P<logprefix>[^ ]*)",
            space!(),
            r"?IN=(?P<in>[^ ]*) OUT=(?P<out>[^ ]*) ",
            r"MAC=(?P<macsrc>[0-9a-f]{2}(?::[0-9a-f]{2}){5}):(?P<macdst>[0-9a-f]{2}(?::[0-9a-f]{2}){5})",
            r":(?P<ethtype>[0-9a-f]{2}:[0-9a-f]{2}) SRC=(?P<saddr>[^ ]*) DST=(?P<daddr>[^ ]*)",
            r" LEN=(?P<len>[^ ]*) TOS=(?P<tos>[^ ]*) PREC=(?P<prec>[^ ]*) TTL=(?P<ttl>[^ ]*)",
            r" ID=(?P<id>[^ ]*) D*F*",
            space!(),
            r"*PROTO=(?P<proto>[^ ]*)",
            space!(),
            r"?(?:SPT=)?(?P<sport>[0-9]*)",
            space!(),
            r"?(?:DPT=)?(?P<dport>[0-9]*)",
            space!(),
            r"?(?:LEN=)?(?P<protolen>[0-9]*)",
            space!(),
            r"?(?:WINDOW=)?(?P<window>[0-9]*)",
            space!(),
            r"?(?:RES=)?(?P<res>0?x?[0-9]*)",
            space!(),
            r"?(?P<flag>[^ ]*)",
            space!(),
            r"?(?:URGP=)?(?P<urgp>[0-9]*)"
        ),
        true,
        Some(("time", ISO_TIME_Z)),
        false,
    ),
];

/// The built-in parser named `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

impl Builtin {
    /// The built-in as a definition.
    pub fn definition(&self) -> Definition {
        Definition {
            format: self.format,
            regex: self.regex.map(|(pattern, line_anchors)| Translation {
                pattern: pattern.to_owned(),
                line_anchors,
            }),
            time: self.time.map(|(key, format)| TimeDefinition {
                key: key.to_owned(),
                format: format.to_owned(),
                keep: self.keep,
                zone: None,
            }),
            types: Default::default(),
            skip_empty: true,
        }
    }
}
