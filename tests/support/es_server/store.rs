//! Indices, documents and dynamic mappings of the test Elasticsearch server.
//!
//! Sources are kept as the exact text the client sent (compact, and lets tests
//! see skiff's bytes), next to a per-id write counter so that duplicate
//! deliveries show up even when a later write replaced the first. Each index
//! has its dynamic mapping (checked in `mapping`); names matching the data
//! stream prefixes get data-stream rules (create only, `@timestamp` required,
//! a `.ds-…` backing index in responses).

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::mapping::{check_source, FastMap, FieldType};
use super::{matches_pattern, EsServerOptions};

/// An Elasticsearch error object: `{"type", "reason", "caused_by"?}`.
#[derive(Clone, Debug)]
pub(crate) struct EsError {
    pub status: u16,
    pub ty: String,
    pub reason: String,
    pub caused_by: Option<(String, String)>,
}

impl EsError {
    pub fn new(status: u16, ty: &str, reason: impl Into<String>) -> EsError {
        EsError {
            status,
            ty: ty.to_string(),
            reason: reason.into(),
            caused_by: None,
        }
    }
    pub fn caused_by(mut self, ty: &str, reason: impl Into<String>) -> EsError {
        self.caused_by = Some((ty.to_string(), reason.into()));
        self
    }
}

/// The outcome of one bulk item, as the response reports it.
pub(crate) struct Outcome {
    pub status: u16,
    /// `_index` in the response (a backing index for data streams).
    pub index: String,
    pub id: String,
    pub result: &'static str,
    pub version: u64,
    pub seq_no: u64,
    pub error: Option<EsError>,
}

struct DocEntry {
    /// Sequence number of the write that created the live document.
    created: u64,
    version: u64,
    writes: u32,
    live: bool,
    source: Option<Box<str>>,
}

struct IndexData {
    data_stream: bool,
    response_name: String,
    uuid: String,
    docs: FastMap<Box<str>, DocEntry>,
    mapping: FastMap<String, FieldType>,
    seq_no: u64,
    live: usize,
}

pub(crate) struct Store {
    indices: HashMap<String, IndexData>,
    data_stream_prefixes: Vec<String>,
    store_sources: bool,
    legacy: bool,
    total_fields_limit: usize,
    total_live: usize,
    duplicates: usize,
    rng: fastrand::Rng,
    id_counter: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WriteOp {
    Create,
    Index,
}

impl Store {
    pub fn new(opts: &EsServerOptions) -> Store {
        Store {
            indices: HashMap::new(),
            data_stream_prefixes: opts.data_stream_prefixes.clone(),
            store_sources: opts.store_sources,
            legacy: opts.legacy_mapper_errors,
            total_fields_limit: opts.total_fields_limit,
            total_live: 0,
            duplicates: 0,
            rng: fastrand::Rng::with_seed(opts.seed ^ 0x1d5),
            id_counter: 0,
        }
    }

    pub fn clear(&mut self) {
        self.indices.clear();
        self.total_live = 0;
        self.duplicates = 0;
    }

    /// An id like Elasticsearch's auto-generated ones: 20 URL-safe base64
    /// characters, unique within the server.
    pub fn generate_id(&mut self) -> String {
        self.id_counter += 1;
        let mut bytes = [0u8; 15];
        bytes[..8].copy_from_slice(&self.id_counter.to_be_bytes());
        self.rng.fill(&mut bytes[8..]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn is_data_stream(&self, name: &str) -> bool {
        self.data_stream_prefixes
            .iter()
            .any(|p| !p.is_empty() && name.starts_with(p.as_str()))
    }

    fn parse_error_type(&self) -> &'static str {
        if self.legacy {
            "mapper_parsing_exception"
        } else {
            "document_parsing_exception"
        }
    }

    /// The index (created on first use) or an item-level error.
    fn index_mut(&mut self, name: &str) -> Result<&mut IndexData, EsError> {
        if !self.indices.contains_key(name) {
            validate_index_name(name)?;
            let data_stream = self.is_data_stream(name);
            let response_name = if data_stream {
                let day = chrono::Utc::now().format("%Y.%m.%d");
                format!(".ds-{name}-{day}-000001")
            } else {
                name.to_string()
            };
            let mut uuid = [0u8; 16];
            self.rng.fill(&mut uuid);
            let mut mapping = FastMap::default();
            if data_stream {
                mapping.insert("@timestamp".to_string(), FieldType::Date);
            }
            self.indices.insert(
                name.to_string(),
                IndexData {
                    data_stream,
                    response_name,
                    uuid: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid),
                    docs: FastMap::default(),
                    mapping,
                    seq_no: 0,
                    live: 0,
                },
            );
        }
        Ok(self.indices.get_mut(name).expect("just inserted"))
    }

    /// Error outcome for an item, filling in index details ES adds.
    fn fail(&self, index: &str, id: &str, err: EsError) -> Outcome {
        let response_index = self
            .indices
            .get(index)
            .map(|i| i.response_name.clone())
            .unwrap_or_else(|| index.to_string());
        Outcome {
            status: err.status,
            index: response_index,
            id: id.to_string(),
            result: "",
            version: 0,
            seq_no: 0,
            error: Some(err),
        }
    }

    /// Item-level error for an item that never reached an index (rejections,
    /// unparsable sources).
    pub fn reject(&self, index: &str, id: &str, err: EsError) -> Outcome {
        self.fail(index, id, err)
    }

    pub fn parse_failure(&self, index: &str, id: &str, reason: &str) -> Outcome {
        let err = EsError::new(400, self.parse_error_type(), reason);
        self.fail(index, id, err)
    }

    /// `create` or `index` of one document.
    pub fn write(&mut self, op: WriteOp, index: &str, id: Option<&str>, raw: &str) -> Outcome {
        let id: String = match id {
            Some(id) => id.to_string(),
            None => self.generate_id(),
        };
        let ty = self.parse_error_type();
        let limit = self.total_fields_limit;
        let store_sources = self.store_sources;
        let idx = match self.index_mut(index) {
            Ok(i) => i,
            Err(e) => return self.fail(index, &id, e),
        };
        if idx.data_stream && op != WriteOp::Create {
            let err = EsError::new(
                400,
                "illegal_argument_exception",
                "only write ops with an op_type of create are allowed in data streams",
            );
            return self.fail(index, &id, err);
        }
        let checked = match check_source(&idx.mapping, limit, raw, &id, ty) {
            Ok(c) => c,
            Err(e) => return self.fail(index, &id, e),
        };
        if idx.data_stream && !checked.has_timestamp {
            let msg = "data stream timestamp field [@timestamp] is missing";
            let err = EsError::new(400, ty, format!("[1:{}] failed to parse: {msg}", raw.len()))
                .caused_by("illegal_argument_exception", msg);
            return self.fail(index, &id, err);
        }
        if let Some(existing) = idx.docs.get(id.as_str()) {
            if existing.live && op == WriteOp::Create {
                let err = EsError::new(
                    409,
                    "version_conflict_engine_exception",
                    format!(
                        "[{id}]: version conflict, document already exists (current version [{}])",
                        existing.version
                    ),
                );
                return self.fail(index, &id, err);
            }
        }
        idx.mapping.extend(checked.new_fields);
        idx.seq_no += 1;
        let seq_no = idx.seq_no - 1;
        let source = store_sources.then(|| Box::<str>::from(raw.trim_end()));
        let (status, result, version, writes, became_live) = match idx.docs.get_mut(id.as_str()) {
            Some(entry) => {
                let became_live = !entry.live;
                entry.version += 1;
                entry.writes += 1;
                entry.source = source;
                if became_live {
                    entry.live = true;
                    entry.created = seq_no;
                }
                let (status, result) = if became_live {
                    (201, "created")
                } else {
                    (200, "updated")
                };
                (status, result, entry.version, entry.writes, became_live)
            }
            None => {
                idx.docs.insert(
                    id.clone().into_boxed_str(),
                    DocEntry {
                        created: seq_no,
                        version: 1,
                        writes: 1,
                        live: true,
                        source,
                    },
                );
                (201, "created", 1, 1, true)
            }
        };
        if became_live {
            idx.live += 1;
        }
        let response_index = idx.response_name.clone();
        if became_live {
            self.total_live += 1;
        }
        if writes == 2 {
            self.duplicates += 1;
        }
        Outcome {
            status,
            index: response_index,
            id,
            result,
            version,
            seq_no,
            error: None,
        }
    }

    /// `update` with a partial `doc` (merged into the existing source) and
    /// `doc_as_upsert` / `upsert`. Scripts are not supported.
    pub fn update(&mut self, index: &str, id: &str, body: &Map<String, Value>) -> Outcome {
        if body.contains_key("script") {
            let err = EsError::new(
                400,
                "illegal_argument_exception",
                "scripted updates are not supported by the test server",
            );
            return self.fail(index, id, err);
        }
        let Some(Value::Object(partial)) = body.get("doc") else {
            let err = EsError::new(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: script or doc is missing;",
            );
            return self.fail(index, id, err);
        };
        let upsert = body.get("doc_as_upsert").and_then(Value::as_bool) == Some(true);
        let store_sources = self.store_sources;
        let idx = match self.index_mut(index) {
            Ok(i) => i,
            Err(e) => return self.fail(index, id, e),
        };
        if idx.data_stream {
            let err = EsError::new(
                400,
                "illegal_argument_exception",
                "only write ops with an op_type of create are allowed in data streams",
            );
            return self.fail(index, id, err);
        }
        let existing = idx.docs.get(id).filter(|e| e.live);
        let merged = match existing {
            Some(entry) => {
                let mut base: Map<String, Value> = entry
                    .source
                    .as_deref()
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or_default();
                let before = base.clone();
                merge(&mut base, partial);
                if base == before && store_sources {
                    let (version, seq) = (entry.version, idx.seq_no);
                    let response_index = idx.response_name.clone();
                    return Outcome {
                        status: 200,
                        index: response_index,
                        id: id.to_string(),
                        result: "noop",
                        version,
                        seq_no: seq.saturating_sub(1),
                        error: None,
                    };
                }
                base
            }
            None if upsert => partial.clone(),
            None => {
                let err = EsError::new(
                    404,
                    "document_missing_exception",
                    format!("[{id}]: document missing"),
                );
                return self.fail(index, id, err);
            }
        };
        let raw = Value::Object(merged).to_string();
        self.write(WriteOp::Index, index, Some(id), &raw)
    }

    pub fn delete(&mut self, index: &str, id: &str) -> Outcome {
        let idx = match self.index_mut(index) {
            Ok(i) => i,
            Err(e) => return self.fail(index, id, e),
        };
        if idx.data_stream {
            let err = EsError::new(
                400,
                "illegal_argument_exception",
                "only write ops with an op_type of create are allowed in data streams",
            );
            return self.fail(index, id, err);
        }
        idx.seq_no += 1;
        let seq_no = idx.seq_no - 1;
        let response_index = idx.response_name.clone();
        let (status, result, version) = match idx.docs.get_mut(id) {
            Some(entry) if entry.live => {
                entry.live = false;
                entry.source = None;
                entry.version += 1;
                idx.live -= 1;
                (200, "deleted", entry.version)
            }
            Some(entry) => (404, "not_found", entry.version),
            None => (404, "not_found", 1),
        };
        if result == "deleted" {
            self.total_live -= 1;
        }
        Outcome {
            status,
            index: response_index,
            id: id.to_string(),
            result,
            version,
            seq_no,
            error: None,
        }
    }

    pub fn index_uuid(&self, index: &str) -> Option<&str> {
        self.indices.get(index).map(|i| i.uuid.as_str())
    }

    fn live_entries(&self, index: &str) -> Vec<(&str, &DocEntry)> {
        let Some(idx) = self.indices.get(index) else {
            return Vec::new();
        };
        let mut v: Vec<_> = idx
            .docs
            .iter()
            .filter(|(_, e)| e.live)
            .map(|(k, e)| (&**k, e))
            .collect();
        v.sort_by_key(|(_, e)| e.created);
        v
    }

    pub fn docs(&self, index: &str) -> Vec<(String, Value)> {
        self.live_entries(index)
            .into_iter()
            .map(|(id, e)| (id.to_string(), parse_source(e)))
            .collect()
    }

    pub fn raw_docs(&self, index: &str) -> Vec<(String, String)> {
        self.live_entries(index)
            .into_iter()
            .map(|(id, e)| {
                (
                    id.to_string(),
                    e.source.as_deref().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    pub fn doc(&self, index: &str, id: &str) -> Option<Value> {
        let e = self.indices.get(index)?.docs.get(id)?;
        e.live.then(|| parse_source(e))
    }

    pub fn all_docs(&self) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for name in self.index_names() {
            for (id, src) in self.docs(&name) {
                out.push((name.clone(), id, src));
            }
        }
        out
    }

    pub fn index_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.indices.keys().cloned().collect();
        v.sort();
        v
    }

    pub fn doc_count(&self, pattern: &str) -> usize {
        self.indices
            .iter()
            .filter(|(name, _)| matches_pattern(pattern, name))
            .map(|(_, i)| i.live)
            .sum()
    }

    pub fn total_docs(&self) -> usize {
        self.total_live
    }

    pub fn writes_of(&self, index: &str, id: &str) -> u32 {
        self.indices
            .get(index)
            .and_then(|i| i.docs.get(id))
            .map_or(0, |e| e.writes)
    }

    pub fn duplicates(&self) -> usize {
        self.duplicates
    }

    pub fn mapping(&self, index: &str) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .indices
            .get(index)
            .map(|i| {
                i.mapping
                    .iter()
                    .map(|(k, t)| (k.clone(), t.name().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

fn parse_source(e: &DocEntry) -> Value {
    e.source
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null)
}

/// Deep merge as partial updates do: objects merge, everything else replaces.
fn merge(base: &mut Map<String, Value>, partial: &Map<String, Value>) {
    for (k, v) in partial {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(p)) => merge(b, p),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn validate_index_name(name: &str) -> Result<(), EsError> {
    let invalid = |why: &str| {
        Err(EsError::new(
            400,
            "invalid_index_name_exception",
            format!("Invalid index name [{name}], {why}"),
        ))
    };
    const BAD: &[char] = &['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':'];
    if name.is_empty() {
        return invalid("must not be empty");
    }
    if name != name.to_lowercase() {
        return invalid("must be lowercase");
    }
    if name.starts_with(['_', '-', '+']) {
        return invalid("must not start with '_', '-', or '+'");
    }
    if name == "." || name == ".." {
        return invalid("must not be '.' or '..'");
    }
    if name.contains(BAD) {
        return invalid(
            r#"must not contain the following characters [' ','"','*',',','/','<','>','?','\','|',':','#']"#,
        );
    }
    if name.len() > 255 {
        return invalid("index name is too long, must be no longer than 255 bytes");
    }
    Ok(())
}
