//! What skiff's tests read from the test Elasticsearch server beyond its own API, and an
//! endpoint where no server is.

use super::es_server::EsServer;

/// The `message` of every document in the server (one per id; "" for a document without one).
pub fn indexed_messages(server: &EsServer) -> Vec<String> {
    server
        .all_docs()
        .iter()
        .map(|(_, _, d)| d["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// An address where nothing listens (connections are refused).
pub fn dead_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}
