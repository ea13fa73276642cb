//! The real `optouts` binary as a child process, so a test can SIGKILL it mid-work and start it
//! again on the same database: nothing runs in the test's own process that could hide a lost
//! write (no shared pool, no in-memory state surviving the "crash").

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use crate::helpers::TestDatabase;
use crate::smtp::free_port;

/// How to start the server: everything but the port, which is fresh on each start.
pub struct ServerSpec {
    pub database_url: String,
    pub data_dir: PathBuf,
    /// `OPTOUTS_SIGNING_KEYS`: the test mints links with the same keys.
    pub signing_keys: String,
    /// `smtp://…`; `None` for the default `.eml` files.
    pub mail_url: Option<String>,
    /// Run the delivery worker inside `serve`.
    pub worker: bool,
}

/// A running server; dropping it kills it.
pub struct ServerProcess {
    child: Child,
    pub address: String,
    log: PathBuf,
}

/// A fresh key in the `kid:base64url-secret` form the binary reads.
pub fn fresh_signing_keys() -> String {
    use base64::Engine as _;
    let secret: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|u| *u.as_bytes())
        .collect();
    format!(
        "faults:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    )
}

impl ServerSpec {
    pub fn for_database(db: &TestDatabase) -> Self {
        Self {
            database_url: db.raw_url.clone(),
            data_dir: db.data_dir(),
            signing_keys: fresh_signing_keys(),
            mail_url: None,
            worker: false,
        }
    }

    /// The same keys the server signs and verifies with.
    pub fn keys(&self) -> optouts::tokens::SigningKeys {
        optouts::tokens::SigningKeys::parse(&self.signing_keys).unwrap()
    }

    /// Starts the binary and waits until `/healthz` answers 200 (the database opened and the
    /// migrations ran). `run` numbers the log file so a restart's log is kept apart.
    pub async fn start(&self, run: usize) -> ServerProcess {
        std::fs::create_dir_all(&self.data_dir).unwrap();
        let port = free_port();
        let log = self.data_dir.join(format!("server-{run}.log"));
        let log_file = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_optouts"));
        // Only what the test sets: no OPTOUTS_* from the developer's shell.
        command
            .env_clear()
            .env("OPTOUTS_SIGNING_KEYS", &self.signing_keys)
            .env("OPTOUTS_LOG", "info")
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--database-url", &self.database_url])
            // Short delivery timings so a test sees retries and recovered claims in seconds.
            .args(["--worker-poll-interval", "100ms"])
            .args(["--mail-retry-base", "200ms", "--mail-retry-cap", "1s"])
            .args(["--mail-max-attempts", "50"])
            .args(["--mail-claim-timeout", "2s"])
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file);
        if let Some(mail_url) = &self.mail_url {
            command.args(["--mail-url", mail_url]);
        }
        if !self.worker {
            command.arg("--no-worker");
        }
        let child = command.spawn().expect("start the optouts binary");
        let mut server = ServerProcess {
            child,
            address: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_until_healthy().await;
        server
    }
}

impl ServerProcess {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    async fn wait_until_healthy(&mut self) {
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the server exited ({status}) at start:\n{}", self.log());
            }
            if let Ok(response) = client.get(self.url("/healthz")).send().await
                && response.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not become healthy:\n{}", self.log());
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no shutdown hook, no flush, no released
    /// claims — a crash, as far as the process can tell.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        let status = self.child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "the server ended by SIGKILL"
        );
    }

    /// SIGTERM, as a service manager stops it, and waits until it has exited on its own.
    pub fn terminate(&mut self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "SIGTERM sent");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the server stopped cleanly: {status}");
    }

    /// The server's resident memory (`VmRSS` of /proc/PID/status), in bytes.
    pub fn resident_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read the server's /proc status");
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc status");
        kib * 1024
    }

    /// What the server logged (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
