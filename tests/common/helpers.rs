//! Shared test harness: a fresh database per test (SQLite file or PostgreSQL database), the app
//! on a real port, and an HTTP client with a cookie jar, like a browser.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use optouts::config::{Config, DeliverySettings, SessionSettings};
use optouts::db::{self, DatabaseUrl, DbPool};
use optouts::mail::MailUrl;
use optouts::seed::demo::DEMO_PASSWORD;
use optouts::startup::{Application, ServerOptions};
use optouts::tokens::SigningKeys;
use std::future::Future;
use std::net::TcpListener;
use std::time::Duration;
use tempfile::TempDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `NAME::sqlite` and `NAME::postgres` tests from `async fn NAME(backend: Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }

                #[actix_web::test]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )*
    };
}

/// The PostgreSQL server tests may create databases on, from OPTOUTS_TEST_POSTGRES_URL.
/// Unset: the PostgreSQL half of each test is skipped, except under CI=true, where that is
/// a failure (a green run must have covered both backends).
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("OPTOUTS_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(without_tls(url)),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "CI=true but OPTOUTS_TEST_POSTGRES_URL is not set: PostgreSQL tests cannot be skipped in CI"
            )
        }
        _ => {
            eprintln!("skipped: set OPTOUTS_TEST_POSTGRES_URL to run the PostgreSQL half");
            None
        }
    }
}

/// Tests talk to a local server: TLS buys nothing there, and libpq's OpenSSL tears itself
/// down at process exit while pool threads may still hold TLS connections — a test binary
/// could pass every test and still die with SIGSEGV on exit. An explicit `sslmode` is kept.
fn without_tls(url: String) -> String {
    if url.contains("sslmode=") {
        url
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}

/// A database that exists for one test and is removed afterwards.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    /// The URL as a string, for the command line.
    pub raw_url: String,
    dir: TempDir,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// `None` only when PostgreSQL is not configured outside CI (the test is skipped).
    pub fn create(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let path = dir.path().join("data/optouts.sqlite");
                let raw_url = format!("sqlite://{}", path.display());
                Some(Self {
                    url: DatabaseUrl::parse(&raw_url).unwrap(),
                    raw_url,
                    dir,
                    postgres: None,
                })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url()?;
                let name = format!("optouts_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                    panic!("OPTOUTS_TEST_POSTGRES_URL is set but PostgreSQL is unreachable: {e}")
                });
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("OPTOUTS_TEST_POSTGRES_URL");
                url.set_path(&name);
                let raw_url = url.to_string();
                Some(Self {
                    url: DatabaseUrl::parse(&raw_url).unwrap(),
                    raw_url,
                    dir,
                    postgres: Some((admin_url, name)),
                })
            }
        }
    }

    /// A folder for this test's data (signing key, mail, SQLite file).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    pub fn migrated_pool(&self) -> DbPool {
        let pool = db::build_pool(&self.url, 8).expect("pool");
        db::run_migrations(&mut pool.get().unwrap()).expect("migrations");
        pool
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// The running app and a browser-like client (cookie jar, redirects not followed so tests see
/// them).
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: DbPool,
    pub config: Config,
    pub db: TestDatabase,
    handle: actix_web::dev::ServerHandle,
}

pub fn test_config(db: &TestDatabase, port: u16) -> Config {
    Config {
        bind: format!("127.0.0.1:{port}"),
        base_url: url::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap(),
        data_dir: db.data_dir(),
        database: db.url.clone(),
        db_pool_size: 8,
        mail: MailUrl::File {
            dir: db.data_dir().join("mail"),
        },
        session: SessionSettings {
            idle_timeout: Duration::from_secs(30 * 60),
            max_age: Duration::from_secs(12 * 3600),
        },
        signing_keys: SigningKeys::generate().unwrap(),
        trusted_proxies: Vec::new(),
        delivery: DeliverySettings {
            poll_interval: Duration::from_millis(100),
            retry_base: Duration::from_millis(200),
            retry_cap: Duration::from_secs(1),
            max_attempts: 10,
            batch_size: 20,
            claim_timeout: Duration::from_secs(10 * 60),
        },
        dkim: None,
    }
}

/// Spawns the app with the default test configuration.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Spawns the app after letting the test adjust the configuration.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let db = TestDatabase::create(backend)?;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = test_config(&db, port);
    adjust(&mut config);
    let pool = db.migrated_pool();
    let options = ServerOptions {
        workers: 1,
        shutdown_timeout_secs: 0,
    };
    let app = Application::build_on(listener, config.clone(), pool.clone(), options).unwrap();
    let handle = app.handle();
    actix_web::rt::spawn(app.run_until_stopped());
    Some(TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: new_client(),
        pool,
        config,
        db,
        handle,
    })
}

/// Spawns the app with the demo data loaded.
pub async fn demo_app(backend: Backend) -> Option<TestApp> {
    let app = spawn_app(backend).await?;
    app.load_demo();
    Some(app)
}

pub fn new_client() -> reqwest::Client {
    client_builder().build().unwrap()
}

/// A browser whose connections come from `address` (any 127.x.y.z is this machine, and the
/// server sees that address as the client's): another person on another network.
#[allow(dead_code)] // tests/access and tests/faults; tests/app checks the rest of this file
pub fn new_client_from(address: &str) -> reqwest::Client {
    client_builder()
        .local_address(Some(address.parse().unwrap()))
        .build()
        .unwrap()
}

fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // actix closes an idle keep-alive connection after 5 s; reusing one at that moment
        // fails the request (IncompleteMessage). Tests that poll slowly must not race that.
        .pool_idle_timeout(Duration::from_secs(2))
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_with(&self.client, path).await
    }

    pub async fn get_with(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_with(&self.client, path, form).await
    }

    pub async fn post_form_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let body = serde_urlencoded::to_string(form).unwrap();
        client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST")
    }

    /// Opens the sign-in page (for its CSRF cookie and token) and submits it.
    pub async fn login_with(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = self.get_with(client, "/login").await.text().await.unwrap();
        let token = csrf_token_in(&page);
        self.post_form_with(
            client,
            "/login",
            &[
                ("csrf_token", &token),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.login_with(&self.client, email, password).await
    }

    /// Signs in and asserts it worked.
    pub async fn login_ok(&self, email: &str, password: &str) {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), 303, "sign-in as {email} failed");
    }

    /// The CSRF token of the signed-in session, read from a page's sign-out form.
    pub async fn session_csrf_token(&self) -> String {
        let page = self.get("/contacts").await.text().await.unwrap();
        csrf_token_in(&page)
    }

    /// The id of `owner`'s contact with address `email`.
    pub fn contact_id(&self, owner: &str, email: &str) -> i64 {
        use diesel::prelude::*;
        use optouts::db::schema::{contacts, users};
        contacts::table
            .inner_join(users::table)
            .filter(users::email.eq(owner))
            .filter(contacts::email.eq(email))
            .select(contacts::id)
            .first(&mut *self.conn())
            .unwrap_or_else(|e| panic!("{owner} has no contact {email}: {e}"))
    }

    pub fn conn(&self) -> db::PooledConnection {
        self.pool.get().unwrap()
    }

    pub fn load_demo(&self) {
        optouts::seed::demo::load(&mut self.conn()).unwrap();
    }
}

impl TestApp {
    /// Starts a delivery worker against this app's database and configuration.
    pub fn start_worker(&self) -> optouts::mail::worker::WorkerHandle {
        let config = std::sync::Arc::new(self.config.clone());
        optouts::mail::worker::DeliveryWorker::new(self.pool.clone(), config)
            .unwrap()
            .spawn()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // `stop` sends the command at once; the returned future only waits for completion.
        // The test database is removed after this, when the fields drop.
        drop(self.handle.stop(false));
    }
}

/// A fresh browser signed in as a demo login.
pub async fn signed_in(app: &TestApp, email: &str) -> reqwest::Client {
    let client = new_client();
    let response = app.login_with(&client, email, DEMO_PASSWORD).await;
    assert_eq!(response.status(), 303, "sign-in as {email}");
    client
}

/// The session's CSRF token, read from a page the person may open.
pub async fn csrf_on(app: &TestApp, client: &reqwest::Client, page: &str) -> String {
    csrf_token_in(&app.get_with(client, page).await.text().await.unwrap())
}

/// The status of a request carrying exactly this session cookie, outside any browser's jar.
pub async fn status_with_cookie(app: &TestApp, cookie: &str, path: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header("cookie", format!("optouts_session={cookie}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Asserts a refusal by the sign-in throttle: 429, and a Retry-After within its 15-minute
/// window.
#[track_caller]
pub fn assert_throttled(response: &reqwest::Response) {
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");
}

/// The value of the first `csrf_token` hidden input on a page.
pub fn csrf_token_in(html: &str) -> String {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(r#"input[name="csrf_token"]"#).unwrap();
    document
        .select(&selector)
        .next()
        .and_then(|input| input.value().attr("value"))
        .expect("page has a csrf_token input")
        .to_owned()
}

/// The `value` of the first input matching a CSS selector (e.g. a signed hidden field).
pub fn input_value(html: &str, css: &str) -> Option<String> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(css).unwrap();
    document
        .select(&selector)
        .next()
        .and_then(|input| input.value().attr("value"))
        .map(str::to_owned)
}

/// Texts of the elements matching a CSS selector.
pub fn texts(html: &str, css: &str) -> Vec<String> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(css).unwrap();
    document
        .select(&selector)
        .map(|el| {
            el.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// An RFC 8058 one-click unsubscribe as a mail client sends it: a POST of
/// `List-Unsubscribe=One-Click`, url-encoded, to the address in `List-Unsubscribe`.
pub async fn one_click(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("the one-click POST is answered")
}

/// Runs a future with a deadline so a hung server fails the test instead of the whole run.
pub async fn within<T>(seconds: u64, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(seconds), work)
        .await
        .expect("timed out")
}
