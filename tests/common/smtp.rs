//! A real SMTP server for tests: aiosmtpd (installed by scripts/install-deps) storing what it
//! receives in a Maildir, read back with Python's standard email parser.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

pub struct SmtpServer {
    pub port: u16,
    maildir: TempDir,
    child: Child,
}

/// One received message, as Python's email parser read it.
#[derive(Debug, serde::Deserialize)]
pub struct Received {
    pub headers: std::collections::HashMap<String, Vec<String>>,
    /// `List-Id` as an RFC 5322 parser reads it, when there is one.
    pub list_id: Option<ParsedListId>,
    pub content_type: String,
    pub text: Option<String>,
    pub html: Option<String>,
}

/// A `List-Id` header read by Python's RFC 5322 phrase parser.
#[derive(Debug, serde::Deserialize)]
pub struct ParsedListId {
    /// Unquoted and decoded.
    pub phrase: String,
    /// What follows the phrase: `<label>` when the phrase was well-formed.
    pub rest: String,
    /// What the parser found wrong in the phrase.
    pub defects: Vec<String>,
}

/// What dkimpy made of one received message's signature.
#[derive(Debug, serde::Deserialize)]
pub struct DkimCheck {
    /// The signature verifies on the message as it arrived.
    pub ok: bool,
    /// The `h=` list, lower-case, in order (an oversigned header appears twice).
    pub signed_headers: Vec<String>,
    /// Per header name asked for: whether it still verifies with a second copy added on top.
    pub with_a_second: std::collections::HashMap<String, bool>,
}

impl Received {
    /// The single value of a header (names are lower-case).
    pub fn header(&self, name: &str) -> &str {
        match self.headers.get(name).map(Vec::as_slice) {
            Some([value]) => value,
            other => panic!("header {name}: expected one value, got {other:?}"),
        }
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpServer {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Self {
        Self::launch(port, "aiosmtpd.handlers.Mailbox", &[])
    }

    /// A server that answers 550 (permanent) to recipients whose address contains `refuse`.
    pub fn start_refusing(refuse: &str) -> Self {
        Self::launch(free_port(), "rejecting_mailbox.RejectingMailbox", &[refuse])
    }

    fn launch(port: u16, handler: &str, extra: &[&str]) -> Self {
        let maildir = tempfile::tempdir().unwrap();
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &listen, "-c", handler])
            .arg(maildir.path().join("Maildir"))
            .args(extra)
            .env(
                "PYTHONPATH",
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd (scripts/install-deps installs it)");
        let server = Self {
            port,
            maildir,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Kills the server (an outage) but keeps what it received readable by `messages`.
    // Only some test binaries that include this file stop a server mid-test.
    #[allow(dead_code)]
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Received> {
        let dir = self.maildir.path().join("Maildir");
        if !dir.join("new").exists() {
            return Vec::new();
        }
        let output = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/read_maildir.py"
            ))
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// Verifies every received message's DKIM signature against `public_key_b64`, as it
    /// arrived and again with a second copy of each header in `added` put on top (as a relay
    /// would add it; `tests/support/verify_dkim.py` has the forged values).
    pub fn dkim_results(&self, public_key_b64: &str, added: &[&str]) -> Vec<DkimCheck> {
        let output = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/verify_dkim.py"
            ))
            .arg(self.maildir.path().join("Maildir"))
            .arg(public_key_b64)
            .args(added)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// How many messages arrived: a cheap count of Maildir files, without parsing.
    pub fn count(&self) -> usize {
        let new = self.maildir.path().join("Maildir/new");
        std::fs::read_dir(new).map(|d| d.count()).unwrap_or(0)
    }

    /// Waits until `count` messages arrived (and a moment more, to catch extras), then parses
    /// them.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let arrived = self.count();
            if arrived >= count {
                tokio::time::sleep(Duration::from_millis(700)).await;
                return self.messages();
            }
            assert!(
                Instant::now() < deadline,
                "only {arrived} of {count} messages arrived"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
