//! The command line: every option is also an `OPTOUTS_*` environment variable.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

use crate::domain::Role;

const ENV_HELP: &str = "\
Secrets are never taken as flags:
  OPTOUTS_SIGNING_KEYS         signing keys for links and sessions, \"kid:base64secret\" entries
                               separated by commas; the first signs, the others still verify
                               (rotation). Without it (and without --signing-keys-file) a key is
                               generated on first run and kept in DATA_DIR/signing-keys (0600).
  OPTOUTS_NEW_USER_PASSWORD    password for `optouts user add` (otherwise it is prompted for).";

#[derive(Parser)]
#[command(name = "optouts", version, about, after_help = ENV_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings shared by every subcommand. `Debug` is deliberately not derived: the database and
/// mail URLs may hold passwords; [`crate::config::Config`] is the redacted, typed form.
#[derive(Args, Clone)]
pub struct Settings {
    /// Folder for the SQLite database, the generated signing key and `.eml` files.
    #[arg(long, env = "OPTOUTS_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Database: `sqlite://PATH` (embedded, one machine) or `postgres://USER:PASS@HOST/DB`
    /// (several instances). Default: sqlite://DATA_DIR/optouts.sqlite.
    #[arg(
        long,
        env = "OPTOUTS_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<String>,

    /// Most database connections one process keeps open.
    #[arg(
        long,
        env = "OPTOUTS_DB_POOL_SIZE",
        default_value_t = 10,
        global = true
    )]
    pub db_pool_size: u32,

    /// Address and port the web server listens on.
    #[arg(
        long,
        env = "OPTOUTS_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// Public address of this service, used in every link we email (https://… in production;
    /// cookies are marked Secure when it is https). Default: http://BIND.
    #[arg(long, env = "OPTOUTS_BASE_URL", global = true)]
    pub base_url: Option<String>,

    /// Where email goes: `smtp://HOST:PORT` (plain, local relays), `smtp://USER:PASS@HOST?tls=required`
    /// (STARTTLS), `smtps://USER:PASS@HOST` (implicit TLS), or `file://FOLDER` for `.eml` files.
    /// Default: file://DATA_DIR/mail.
    #[arg(long, env = "OPTOUTS_MAIL_URL", hide_env_values = true, global = true)]
    pub mail_url: Option<String>,

    /// A signed-in session ends after this long without a request (e.g. 30m, 2h).
    #[arg(long, env = "OPTOUTS_SESSION_IDLE_TIMEOUT", default_value = "30m",
          value_parser = humantime::parse_duration, global = true)]
    pub session_idle_timeout: Duration,

    /// A session ends this long after sign-in, however active.
    #[arg(long, env = "OPTOUTS_SESSION_MAX_AGE", default_value = "12h",
          value_parser = humantime::parse_duration, global = true)]
    pub session_max_age: Duration,

    /// File holding the signing keys (same format as OPTOUTS_SIGNING_KEYS, one or more lines).
    #[arg(long, env = "OPTOUTS_SIGNING_KEYS_FILE", global = true)]
    pub signing_keys_file: Option<PathBuf>,

    /// The reverse proxies in front of this server, as addresses or CIDR ranges
    /// (`10.0.0.0/8,192.0.2.7`). A request from one of them is taken to come from the
    /// right-most `X-Forwarded-For` entry that is not one of them (used for sign-in throttling
    /// and kept as evidence); without this, forwarding headers are ignored.
    #[arg(long, env = "OPTOUTS_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// DKIM: the selector published in DNS (`SELECTOR._domainkey.DOMAIN`). Signing is on
    /// when selector, domain and key file are all set.
    #[arg(long, env = "OPTOUTS_DKIM_SELECTOR", global = true)]
    pub dkim_selector: Option<String>,

    /// DKIM: the signing domain (d=).
    #[arg(long, env = "OPTOUTS_DKIM_DOMAIN", global = true)]
    pub dkim_domain: Option<String>,

    /// DKIM: an RSA private key, PKCS#1 PEM (`openssl genrsa -traditional 2048`).
    #[arg(long, env = "OPTOUTS_DKIM_KEY_FILE", global = true)]
    pub dkim_key_file: Option<PathBuf>,

    /// First wait before retrying an email the SMTP server refused for now (doubles per try).
    #[arg(long, env = "OPTOUTS_MAIL_RETRY_BASE", default_value = "30s",
          value_parser = humantime::parse_duration, global = true)]
    pub mail_retry_base: Duration,

    /// Longest wait between two tries of one email.
    #[arg(long, env = "OPTOUTS_MAIL_RETRY_CAP", default_value = "1h",
          value_parser = humantime::parse_duration, global = true)]
    pub mail_retry_cap: Duration,

    /// Tries before an email counts as failed.
    #[arg(
        long,
        env = "OPTOUTS_MAIL_MAX_ATTEMPTS",
        default_value_t = 10,
        global = true
    )]
    pub mail_max_attempts: i32,

    /// How often the delivery worker looks for queued email when idle.
    #[arg(long, env = "OPTOUTS_WORKER_POLL_INTERVAL", default_value = "2s",
          value_parser = humantime::parse_duration, global = true)]
    pub worker_poll_interval: Duration,

    /// How long a delivery worker may hold an email it took before another worker (or the same
    /// one after a restart) may take it over: a crashed worker's emails wait this long.
    #[arg(long, env = "OPTOUTS_MAIL_CLAIM_TIMEOUT", default_value = "10m",
          value_parser = humantime::parse_duration, global = true)]
    pub mail_claim_timeout: Duration,

    /// Log filter, e.g. `info` or `optouts=debug,actix_web=info`.
    #[arg(long, env = "OPTOUTS_LOG", default_value = "info", global = true)]
    pub log: String,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Load the demo data set (group "Acme Holdings"); running it again changes nothing.
    Demo,
    /// Run only the delivery worker (no web server): sends queued email.
    Worker,
    /// Export a group's opt-outs as CSV (streamed; formula cells neutralised).
    Export(ExportArgs),
    /// Import opt-outs from CSV: a dry run unless --commit.
    Import(ImportArgs),
    /// Manage staff logins.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage groups.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Manage clients inside a group.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Fill the database with a large generated data set for benchmarks (not for production).
    BenchData(BenchDataArgs),
}

#[derive(Args, Default)]
pub struct ServeArgs {
    /// Load the demo data first when the database is empty.
    #[arg(long, env = "OPTOUTS_DEMO")]
    pub demo: bool,

    /// Do not run the delivery worker in this process (run `optouts worker` elsewhere).
    #[arg(long, env = "OPTOUTS_NO_WORKER")]
    pub no_worker: bool,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a staff login. The password comes from OPTOUTS_NEW_USER_PASSWORD or a prompt.
    Add(UserAddArgs),
}

#[derive(Args)]
pub struct UserAddArgs {
    /// Sign-in address.
    #[arg(long)]
    pub email: String,
    /// Name shown on pages and as the sender of campaigns.
    #[arg(long)]
    pub name: String,
    /// user, client_admin, group_admin or support.
    #[arg(long)]
    pub role: Role,
    /// The group's name (not for support).
    #[arg(long)]
    pub group: Option<String>,
    /// The client's name inside the group (required for user and client_admin; optional for a
    /// group admin who also sends campaigns).
    #[arg(long)]
    pub client: Option<String>,
}

#[derive(Subcommand)]
pub enum GroupCommand {
    /// Add a group.
    Add {
        /// The group's name, e.g. "Acme Holdings".
        name: String,
    },
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Add a client to a group.
    Add {
        /// The group's name.
        #[arg(long)]
        group: String,
        /// The client's name, e.g. "Newsletters".
        name: String,
    },
}

#[derive(Args)]
pub struct ExportArgs {
    /// The group's name.
    #[arg(long)]
    pub group: String,
    /// Only this level (group, client or user).
    #[arg(long)]
    pub level: Option<crate::domain::Level>,
    /// Only opt-outs at this client (by name) or of its users.
    #[arg(long)]
    pub client: Option<String>,
    /// Only this source (preference_center, one_click, manual, import, ...).
    #[arg(long)]
    pub source: Option<String>,
    /// Write here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The CSV file (columns: address, level, client, user, reason, date).
    pub file: PathBuf,
    /// The admin the import is made as: their rights decide what may be imported.
    #[arg(long = "as")]
    pub as_admin: String,
    /// Apply the valid rows (without it, only the dry run is shown).
    #[arg(long)]
    pub commit: bool,
}

#[derive(Args)]
pub struct BenchDataArgs {
    /// Contacts, spread over every user.
    #[arg(long)]
    pub contacts: u64,
    /// Active opt-outs (each with its consent event), spread over groups and the three levels.
    #[arg(long)]
    pub opt_outs: u64,
    /// Sent campaign messages to contacts not opted out for their sender.
    #[arg(long, default_value_t = 1_000)]
    pub messages: u64,
    /// Groups to create.
    #[arg(long, default_value_t = 20)]
    pub groups: u64,
    /// Clients in each group.
    #[arg(long, default_value_t = 5)]
    pub clients_per_group: u64,
    /// Users (logins) in each client.
    #[arg(long, default_value_t = 5)]
    pub users_per_client: u64,
    /// Write one line `/u/TOKEN` per message: its signed unsubscribe link path, signed with the
    /// configured keys (the same ones `optouts serve` uses).
    #[arg(long)]
    pub tokens_out: Option<PathBuf>,
}

/// An address (`192.0.2.7`, one host) or a CIDR range (`10.0.0.0/8`).
fn parse_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is not an IP address or a CIDR range like 10.0.0.0/8"))
}
