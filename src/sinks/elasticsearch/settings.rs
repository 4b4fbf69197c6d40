//! From the config as written to the settings the sink runs with: every check that needs no
//! network or file, done once at load, with the TOML path of the culprit.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Url;

use crate::config::FieldError;
use crate::event::FieldPath;

use super::config::{Action, ElasticsearchConfig, IdMode, Mode};
use super::encoder::EncodeSettings;
use super::id::IdStrategy;
use super::template::IndexTemplate;

/// What the bulk API is asked to leave in its response: enough to classify every document.
pub const FILTER_PATH: &str = "errors,items.*.status,items.*.error";

/// The default index name.
pub const DEFAULT_INDEX: &str = "skiff-%Y.%m.%d";

/// The URLs of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrls {
    /// `GET` for the health check.
    pub root: Url,
    /// `POST` for documents, with the query (`filter_path`, `pipeline`).
    pub bulk: Url,
}

/// The checked, compiled settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The encoder's settings.
    pub encode: EncodeSettings,
    /// Endpoints, in config order.
    pub endpoints: Vec<EndpointUrls>,
    /// User headers, sent with every request.
    pub headers: HeaderMap,
}

/// Checks `c` and compiles what the sink needs.
pub fn compile(c: &ElasticsearchConfig) -> Result<Settings, FieldError> {
    let endpoints = c
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| {
            endpoint_urls(e, &c.pipeline)
                .map_err(|m| FieldError::new(&["endpoints", &i.to_string()], m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if endpoints.is_empty() {
        return Err(FieldError::new(
            &["endpoints"],
            "name at least one endpoint, e.g. [\"http://elasticsearch:9200\"]",
        ));
    }
    let (template, action) = index_and_action(c)?;
    let field = c
        .id_field
        .as_deref()
        .map(FieldPath::parse)
        .transpose()
        .map_err(|m| FieldError::new(&["id_field"], m))?;
    if c.timestamp_key.is_empty() {
        return Err(FieldError::new(&["timestamp_key"], "cannot be empty"));
    }
    check_limits(c)?;
    check_auth(c)?;
    if c.tls.crt_file.is_some() != c.tls.key_file.is_some() {
        return Err(FieldError::new(
            &["tls"],
            "a client certificate needs both `crt_file` and `key_file`",
        ));
    }
    Ok(Settings {
        encode: EncodeSettings {
            action,
            template,
            ids: IdStrategy {
                field,
                deterministic: c.id == IdMode::Deterministic,
            },
            timestamp_key: c.timestamp_key.clone(),
        },
        endpoints,
        headers: headers(c)?,
    })
}

fn endpoint_urls(text: &str, pipeline: &str) -> Result<EndpointUrls, String> {
    let mut root = Url::parse(text).map_err(|e| format!("invalid URL `{text}`: {e}"))?;
    if !matches!(root.scheme(), "http" | "https") {
        return Err(format!("`{text}`: the scheme must be http or https"));
    }
    if !root.username().is_empty() || root.password().is_some() {
        return Err("credentials do not belong in the URL: use `auth`".into());
    }
    if root.query().is_some() || root.fragment().is_some() {
        return Err(format!("`{text}`: an endpoint takes no query or fragment"));
    }
    if !root.path().ends_with('/') {
        let path = format!("{}/", root.path());
        root.set_path(&path);
    }
    let mut bulk = root
        .join("_bulk")
        .map_err(|e| format!("invalid URL `{text}`: {e}"))?;
    {
        let mut q = bulk.query_pairs_mut();
        q.append_pair("filter_path", FILTER_PATH);
        if !pipeline.is_empty() {
            q.append_pair("pipeline", pipeline);
        }
    }
    Ok(EndpointUrls { root, bulk })
}

fn index_and_action(c: &ElasticsearchConfig) -> Result<(IndexTemplate, Action), FieldError> {
    match c.mode {
        Mode::Bulk => {
            if c.data_stream.is_some() {
                return Err(FieldError::new(
                    &["data_stream"],
                    "`data_stream` needs `mode = \"data_stream\"`",
                ));
            }
            let text = c.index.as_deref().unwrap_or(DEFAULT_INDEX);
            let template =
                IndexTemplate::parse(text).map_err(|m| FieldError::new(&["index"], m))?;
            check_index_text(template.literal_text())
                .map_err(|m| FieldError::new(&["index"], m))?;
            Ok((template, c.action.unwrap_or_default()))
        }
        Mode::DataStream => {
            if c.index.is_some() {
                return Err(FieldError::new(
                    &["index"],
                    "a data stream is named by `data_stream = { type, dataset, namespace }`, not `index`",
                ));
            }
            if c.action == Some(Action::Index) {
                return Err(FieldError::new(
                    &["action"],
                    "data streams only accept `create` actions",
                ));
            }
            if c.timestamp_key != "@timestamp" {
                return Err(FieldError::new(
                    &["timestamp_key"],
                    "data streams require the timestamp in `@timestamp`",
                ));
            }
            let ds = c.data_stream.clone().unwrap_or_default();
            let dash = IndexTemplate::parse("-").map_err(|m| FieldError::new(&[], m))?;
            let mut template: Option<IndexTemplate> = None;
            for (key, value) in [
                ("type", &ds.kind),
                ("dataset", &ds.dataset),
                ("namespace", &ds.namespace),
            ] {
                let part = IndexTemplate::parse(value)
                    .map_err(|m| FieldError::new(&["data_stream", key], m))?;
                let literal = part.literal_text();
                check_index_text(literal).map_err(|m| FieldError::new(&["data_stream", key], m))?;
                if key != "type" && literal.contains('-') {
                    return Err(FieldError::new(
                        &["data_stream", key],
                        format!("`{value}`: the {key} of a data stream cannot contain `-`"),
                    ));
                }
                template = Some(match template {
                    None => part,
                    Some(t) => t.concat(dash.clone()).concat(part),
                });
            }
            let template = template
                .ok_or_else(|| FieldError::new(&["data_stream"], "empty data stream name"))?;
            Ok((template, Action::Create))
        }
    }
}

/// Checks the literal text of an index name against Elasticsearch's rules.
fn check_index_text(text: &str) -> Result<(), String> {
    if let Some(c) = text.chars().find(|c| {
        matches!(
            c,
            '\\' | '/' | '*' | '?' | '"' | '<' | '>' | '|' | ' ' | ',' | '#' | ':'
        )
    }) {
        return Err(format!("index names cannot contain `{c}`"));
    }
    if text.chars().any(|c| c.is_uppercase()) {
        return Err(format!("`{text}`: index names must be lowercase"));
    }
    if text.starts_with(['-', '_', '+']) {
        return Err(format!(
            "`{text}`: index names cannot start with `-`, `_` or `+`"
        ));
    }
    Ok(())
}

fn check_limits(c: &ElasticsearchConfig) -> Result<(), FieldError> {
    if !(1..=64).contains(&c.max_in_flight) {
        return Err(FieldError::new(
            &["max_in_flight"],
            "must be between 1 and 64",
        ));
    }
    if c.batch.max_events == 0 {
        return Err(FieldError::new(
            &["batch", "max_events"],
            "must be at least 1",
        ));
    }
    if !(1024..=(1 << 30)).contains(&c.batch.max_bytes.0) {
        return Err(FieldError::new(
            &["batch", "max_bytes"],
            "must be between 1KiB and 1GiB",
        ));
    }
    if c.batch.timeout.get().is_zero() {
        return Err(FieldError::new(
            &["batch", "timeout"],
            "must be more than 0",
        ));
    }
    if c.request_timeout.get().is_zero() {
        return Err(FieldError::new(&["request_timeout"], "must be more than 0"));
    }
    if c.retry.initial_backoff.get().is_zero() {
        return Err(FieldError::new(
            &["retry", "initial_backoff"],
            "must be more than 0",
        ));
    }
    if c.dead_letter.max_bytes.0 < 1024 {
        return Err(FieldError::new(
            &["dead_letter", "max_bytes"],
            "must be at least 1KiB",
        ));
    }
    Ok(())
}

fn check_auth(c: &ElasticsearchConfig) -> Result<(), FieldError> {
    let Some(a) = &c.auth else { return Ok(()) };
    let basic = a.user.is_some() || a.password.is_some() || a.password_file.is_some();
    let key = a.api_key.is_some() || a.api_key_file.is_some();
    let err = |m: &str| Err(FieldError::new(&["auth"], m));
    match (basic, key) {
        (true, true) => err("use either basic auth (`user`, `password`) or an API key, not both"),
        (false, false) => {
            err("set `user` and `password` (or `password_file`), or `api_key` (or `api_key_file`)")
        }
        (true, false) if a.user.is_none() => err("basic auth needs a `user`"),
        (true, false) if a.password.is_some() == a.password_file.is_some() => {
            err("set one of `password` and `password_file`")
        }
        (false, true) if a.api_key.is_some() && a.api_key_file.is_some() => {
            err("set one of `api_key` and `api_key_file`")
        }
        _ => Ok(()),
    }
}

fn headers(c: &ElasticsearchConfig) -> Result<HeaderMap, FieldError> {
    let mut map = HeaderMap::new();
    for (name, value) in &c.headers {
        let at = |m: String| FieldError::new(&["headers", name], m);
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| at(format!("`{name}` is not a valid header name")))?;
        if matches!(
            n.as_str(),
            "content-type" | "content-encoding" | "content-length" | "host"
        ) || (n.as_str() == "authorization" && c.auth.is_some())
        {
            return Err(at(format!("`{name}` is set by skiff")));
        }
        let mut v = HeaderValue::from_str(value.expose())
            .map_err(|_| at(format!("the value of `{name}` is not a valid header value")))?;
        v.set_sensitive(true);
        map.insert(n, v);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile_str(extra: &str) -> Result<Settings, FieldError> {
        let c: ElasticsearchConfig =
            toml::from_str(&format!("endpoints = [\"http://es:9200\"]\n{extra}")).unwrap();
        compile(&c)
    }

    fn err_path(extra: &str) -> Vec<String> {
        compile_str(extra).unwrap_err().path
    }

    #[test]
    fn urls_keep_prefix_and_query() {
        let u = endpoint_urls("https://proxy/es", "my pipe").unwrap();
        assert_eq!(u.root.as_str(), "https://proxy/es/");
        assert_eq!(
            u.bulk.as_str(),
            "https://proxy/es/_bulk?filter_path=errors%2Citems.*.status%2Citems.*.error&pipeline=my+pipe"
        );
        let u = endpoint_urls("http://es:9200", "").unwrap();
        assert_eq!(u.bulk.path(), "/_bulk");
        assert!(!u.bulk.query().unwrap().contains("pipeline"));
        for bad in [
            "es:9200",
            "ftp://es",
            "http://u:p@es:9200",
            "http://es/?a=1",
            "nope",
        ] {
            assert!(endpoint_urls(bad, "").is_err(), "{bad}");
        }
    }

    #[test]
    fn data_stream_name_and_rules() {
        let s =
            compile_str("mode = \"data_stream\"\ndata_stream = { dataset = \"nginx\" }").unwrap();
        assert_eq!(s.encode.action, Action::Create);
        let mut r = super::super::template::IndexRenderer::new(s.encode.template.clone());
        let f = crate::event::Fields::default();
        assert_eq!(
            r.render(
                chrono::Utc::now(),
                super::super::template::FieldSource::Event(&f)
            ),
            b"logs-nginx-default"
        );
        assert_eq!(
            err_path("mode = \"data_stream\"\naction = \"index\""),
            ["action"]
        );
        assert_eq!(err_path("mode = \"data_stream\"\nindex = \"x\""), ["index"]);
        assert_eq!(
            err_path("mode = \"data_stream\"\ntimestamp_key = \"ts\""),
            ["timestamp_key"]
        );
        assert_eq!(
            err_path("mode = \"data_stream\"\ndata_stream = { dataset = \"a-b\" }"),
            ["data_stream", "dataset"]
        );
        assert_eq!(err_path("data_stream = { }"), ["data_stream"]);
    }

    #[test]
    fn index_rules() {
        assert!(compile_str("").is_ok());
        assert!(compile_str("index = \"app-{{ kubernetes.namespace }}-%Y.%m\"").is_ok());
        for bad in ["Upper", "a b", "_x", "a*", "a-{{ x"] {
            assert_eq!(err_path(&format!("index = \"{bad}\"")), ["index"], "{bad}");
        }
    }

    #[test]
    fn auth_combinations() {
        assert!(compile_str("auth = { user = \"u\", password = \"p\" }").is_ok());
        assert!(compile_str("auth = { user = \"u\", password_file = \"/p\" }").is_ok());
        assert!(compile_str("auth = { api_key_file = \"/k\" }").is_ok());
        for bad in [
            "auth = { }",
            "auth = { user = \"u\" }",
            "auth = { password = \"p\" }",
            "auth = { user = \"u\", password = \"p\", password_file = \"/p\" }",
            "auth = { user = \"u\", password = \"p\", api_key = \"k\" }",
            "auth = { api_key = \"k\", api_key_file = \"/k\" }",
        ] {
            assert_eq!(err_path(bad), ["auth"], "{bad}");
        }
    }

    #[test]
    fn limits_and_headers() {
        assert_eq!(err_path("max_in_flight = 0"), ["max_in_flight"]);
        assert_eq!(
            err_path("batch = { max_events = 0 }"),
            ["batch", "max_events"]
        );
        assert_eq!(
            err_path("batch = { max_bytes = 10 }"),
            ["batch", "max_bytes"]
        );
        assert_eq!(err_path("tls = { crt_file = \"/c\" }"), ["tls"]);
        assert_eq!(
            err_path("headers = { \"Content-Type\" = \"x\" }"),
            ["headers", "Content-Type"]
        );
        assert_eq!(
            err_path("headers = { \"bad header\" = \"x\" }"),
            ["headers", "bad header"]
        );
        let s = compile_str("headers = { \"X-Tenant\" = \"a\" }").unwrap();
        assert_eq!(s.headers.get("x-tenant").unwrap(), "a");
        assert_eq!(err_path("id_field = \"a..b\""), ["id_field"]);
    }
}
