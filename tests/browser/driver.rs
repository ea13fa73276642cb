//! One headless Chromium per test, driven over WebDriver: its own ChromeDriver on a free port,
//! a fresh profile, and small helpers that read the page the way a person sees it (visible
//! text, computed styles), wait for navigations, and save screenshots under target/.

use crate::helpers::{Backend, TestApp};
use crate::smtp::free_port;
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use optouts::seed::demo::DEMO_PASSWORD;
use serde_json::json;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A desktop window, large enough for the contacts table without wrapping.
pub const DESKTOP: (u32, u32) = (1280, 900);
/// A phone held upright (an iPhone 12-14 sized viewport).
pub const PHONE: (u32, u32) = (390, 844);

/// How long a page may take to show what a step waits for.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// ChromeDriver and every Chromium process it starts, in a process group of their own so
/// that dropping this ends all of them, even when a test panics before closing the session
/// (Chromium outlives a killed ChromeDriver otherwise).
struct ChromeDriver {
    port: u16,
    child: Child,
}

impl ChromeDriver {
    fn start() -> Self {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver (scripts/install-deps installs chromium-driver)");
        let driver = Self { port, child };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The group id is ChromeDriver's pid (process_group(0)); Chromium inherited it.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

/// Chromium flags for a closed network: headless, no sandbox (root in a container), and no
/// background traffic (component updates, sync, QUIC probes), which would otherwise be
/// refused and slow start-up down.
fn chromium_args(profile: &TempDir) -> Vec<String> {
    let (width, height) = DESKTOP;
    vec![
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        format!("--window-size={width},{height}"),
        format!("--user-data-dir={}", profile.path().display()),
    ]
}

pub struct Browser {
    pub client: Client,
    base_url: String,
    // Dropped after the client: the profile folder outlives the browser using it.
    driver: ChromeDriver,
    profile: TempDir,
}

impl Browser {
    /// A fresh desktop browser pointed at the app.
    pub async fn open(app: &TestApp) -> Self {
        Self::launch(app, json!({})).await
    }

    /// A fresh browser the size of a phone: ChromeDriver's mobile emulation gives the page a
    /// real 390 × 844 viewport (a resized desktop window would keep its minimum width).
    pub async fn open_phone(app: &TestApp) -> Self {
        let (width, height) = PHONE;
        let emulation = json!({
            "mobileEmulation": {
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2.0, "mobile": true, "touch": true },
            },
        });
        Self::launch(app, emulation).await
    }

    /// Starts ChromeDriver and a Chromium session with `chrome_options` added to the flags.
    async fn launch(app: &TestApp, chrome_options: serde_json::Value) -> Self {
        let driver = ChromeDriver::start();
        let profile = tempfile::tempdir().expect("profile dir");
        let mut options = json!({ "args": chromium_args(&profile) });
        for (key, value) in chrome_options.as_object().unwrap() {
            options[key] = value.clone();
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": options,
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .expect("a WebDriver session with headless Chromium");
        Self {
            client,
            base_url: app.address.clone(),
            driver,
            profile,
        }
    }

    /// Ends the WebDriver session (Chromium quits); dropping the browser kills what is left.
    pub async fn close(self) {
        let Self {
            client,
            driver,
            profile,
            ..
        } = self;
        let _ = client.close().await;
        drop(driver);
        drop(profile);
    }

    pub async fn visit(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base_url))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// Opens an absolute address, e.g. a link taken from an email.
    pub async fn visit_url(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The path and query of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no element {css}: {e}\n{}", self.describe().await),
        }
    }

    /// Waits for an element to appear (a page loading, or a change made by script).
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                return element;
            }
            if Instant::now() > deadline {
                panic!("waited for {css}\n{}", self.describe().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Where the browser is and what the page says, for a failure message.
    async fn describe(&self) -> String {
        let body = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let body: String = collapse(&body).chars().take(600).collect();
        format!("page {}: {body}", self.path().await)
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// The visible texts of every element matching `css`, whitespace collapsed.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        self.try_texts(css)
            .await
            .unwrap_or_else(|e| panic!("texts of {css}: {e}"))
    }

    /// Like `texts`, but an element may vanish under it (a page being replaced) with an error.
    async fn try_texts(&self, css: &str) -> Result<Vec<String>, CmdError> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await? {
            texts.push(collapse(&element.text().await?));
        }
        Ok(texts)
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Types into a field as a person would (key by key), after clearing it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Waits until an element matching `css` shows exactly `expected` (the page after a
    /// navigation, or a change made by script).
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            // An error means the page is being replaced: look again.
            let shown = self.try_texts(css).await.unwrap_or_default();
            if shown.iter().any(|t| t == expected) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {css} to show {expected:?}; it shows {shown:?}\n{}",
                self.describe().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the browser shows a page whose path starts with `prefix`.
    pub async fn wait_for_path(&self, prefix: &str) -> String {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let path = self.path().await;
            if path.starts_with(prefix) {
                return path;
            }
            assert!(
                Instant::now() < deadline,
                "waited for a page under {prefix}; still on {path}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until a script returns true: something the page's own script does.
    pub async fn wait_until(&self, what: &str, js: &str) {
        let deadline = Instant::now() + STEP_TIMEOUT;
        // An error means the page is being replaced: look again.
        while !matches!(
            self.client.execute(js, Vec::new()).await,
            Ok(serde_json::Value::Bool(true))
        ) {
            assert!(Instant::now() < deadline, "waited until {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs a script in the page and returns its JSON result.
    pub async fn script(&self, js: &str) -> serde_json::Value {
        self.client
            .execute(js, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script {js}: {e}"))
    }

    /// Scrolls `element` into view, its top at the top of the window (`block` "start") or in
    /// the middle ("center"), so a screenshot shows it.
    pub async fn scroll_to(&self, element: &Element, block: &str) {
        let element = serde_json::to_value(element).unwrap();
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: arguments[1]})",
                vec![element, block.into()],
            )
            .await
            .unwrap();
    }

    /// Signs in through the real form: typed, then submitted with the button.
    pub async fn sign_in(&self, email: &str) {
        self.visit("/login").await;
        self.fill_sign_in(email, DEMO_PASSWORD).await;
        self.wait_for_path("/contacts").await;
    }

    pub async fn fill_sign_in(&self, email: &str, password: &str) {
        self.type_into("#email", email).await;
        self.type_into("#password", password).await;
        self.click("form[action='/login'] button[type=submit]")
            .await;
    }

    /// Saves what the window shows as target/screenshots/<name>.png and returns the path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG image");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

/// The row (or other container matching `rows_css`) whose `.contact-address` reads `address`.
/// The page finds it in one script (asking for each row's text would be a round trip per row).
pub async fn row_with_address(browser: &Browser, rows_css: &str, address: &str) -> Element {
    let index = browser
        .client
        .execute(
            "return [...document.querySelectorAll(arguments[0])].findIndex(row => \
             row.querySelector('.contact-address')?.textContent.trim() === arguments[1]);",
            vec![rows_css.into(), address.into()],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    let rows = browser.find_all(rows_css).await;
    match usize::try_from(index) {
        Ok(index) => rows[index].clone(),
        Err(_) => panic!("no {rows_css} shows {address}"),
    }
}

/// Whether a row's `.contact-address` is drawn struck through: the computed
/// `text-decoration-line`, what the person sees whatever the markup and classes say.
pub async fn is_struck_through(row: &Element) -> bool {
    let decoration = row
        .find(Locator::Css(".contact-address"))
        .await
        .unwrap()
        .css_value("text-decoration-line")
        .await
        .unwrap();
    decoration
        .split_whitespace()
        .any(|line| line == "line-through")
}

/// The text of a row's `.badge`, or "" when it has none.
pub async fn badge_of(row: &Element) -> String {
    match row.find(Locator::Css(".badge")).await {
        Ok(badge) => badge.text().await.unwrap(),
        Err(_) => String::new(),
    }
}

/// A screenshot name for a journey that runs on both backends, so the two runs do not
/// overwrite each other's picture (the SQLite run keeps the plain name).
pub fn per_backend(name: &str, backend: Backend) -> String {
    match backend {
        Backend::Sqlite => name.to_owned(),
        Backend::Postgres => format!("{name}-postgres"),
    }
}

/// target/screenshots, in the target folder cargo builds into.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("screenshots")
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
