//! A real ClickHouse server for the `http` sink's tests: Debian's `clickhouse-server` run as a
//! plain process on 127.0.0.1, with a temp config (free HTTP and native ports, a users file that
//! lets `default` in from localhost without a password) and a temp data path. Queries go over its
//! HTTP interface; answers come back as TSV. Killed when dropped.

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::wait::wait_until;

/// A running ClickHouse server.
pub struct ClickHouse {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl ClickHouse {
    /// Starts a server and waits until it answers `/ping`.
    pub fn start() -> ClickHouse {
        let dir = tempfile::tempdir().expect("temp dir");
        let (port, tcp) = (free_port(), free_port());
        let path = |rel: &str| dir.path().join(rel).display().to_string();
        std::fs::write(
            dir.path().join("users.xml"),
            r#"<yandex>
  <profiles><default></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
"#,
        )
        .expect("users.xml");
        std::fs::write(
            dir.path().join("config.xml"),
            format!(
                r#"<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <http_port>{port}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{}/</path>
  <tmp_path>{}/</tmp_path>
  <users_config>{}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709</mark_cache_size>
</yandex>
"#,
                path("data"),
                path("tmp"),
                path("users.xml")
            ),
        )
        .expect("config.xml");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let child = Command::new("clickhouse-server")
            .arg(format!("--config-file={}", path("config.xml")))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start clickhouse-server (apt-get install clickhouse-server)");
        let mut ch = ClickHouse { child, port, dir };
        let up = wait_until(Duration::from_secs(60), || {
            ch.get("/ping").is_some_and(|b| b.starts_with("Ok"))
        });
        if !up {
            let _ = ch.child.kill();
            panic!("ClickHouse did not start; its log:\n{}", ch.log());
        }
        ch
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's own log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// One HTTP/1.0 request (the server closes the connection after answering): the status and
    /// the body.
    fn request(&self, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        Ok((status, body.to_owned()))
    }

    fn get(&self, path: &str) -> Option<String> {
        match self.request("GET", path, "") {
            Ok((200, body)) => Some(body),
            _ => None,
        }
    }

    /// Runs `sql` (POSTed as the body); its TSV answer. Panics on an error answer.
    pub fn query(&self, sql: &str) -> String {
        match self.request("POST", "/", sql) {
            Ok((200, body)) => body,
            Ok((status, body)) => panic!("ClickHouse refused `{sql}` ({status}): {body}"),
            Err(e) => panic!("ClickHouse did not answer `{sql}`: {e}"),
        }
    }

    /// A single number answered by `sql`.
    pub fn number(&self, sql: &str) -> u64 {
        self.query(sql)
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("`{sql}`: {e}"))
    }
}

impl Drop for ClickHouse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
