//! Database benchmarks for issue 8, on SQLite and (with OPTOUTS_BENCH_POSTGRES_URL) PostgreSQL:
//!
//! - B2: raw batched inserts into `opt_outs` (100 rows per transaction), the write baseline, and
//!   a like-for-like variant: the four rows of each one-click opt-out, P2's durability;
//! - P3: the bulk suppression check (`opt_outs::suppressed_among`) of N addresses of one sender
//!   against N opt-outs at three levels, N = 1M and 2M;
//! - P4: Admin › Activity › Opt outs (`activity::page`) on 1M rows: page 1 and page 10,000;
//! - P5: `optouts export` of 1M opt-outs as a subprocess (rows/s, memory growth) against
//!   `sqlite3 -csv` / `psql \copy` on the same rows;
//! - the query plans (EXPLAIN) of the hot queries, as the database plans them.
//!
//! `cargo bench --bench db` runs it at full size and appends every figure to
//! `target/bench-results/results.jsonl`. Without `--bench` (as `cargo test --all-targets`
//! runs it) it builds a tiny data set, runs each benchmark once and records nothing.

use criterion::Criterion;
use diesel::connection::{Connection, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::sql_types::Text;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use optouts::db::activity::{self, ActivityFilter, ActivityScope};
use optouts::db::schema::opt_outs;
use optouts::db::{self, DatabaseUrl, DbConnection, DbPool, opt_outs as opt_out_queries};
use optouts::domain::{EmailAddress, MessageId, OptOutId};
use optouts::seed::bench_data::{self, BenchData, BenchDataSpec};

/// The web page's size (`PAGE_SIZE` in `web::activity_opt_outs`), fetched with one row more.
const PAGE_SIZE: i64 = 50;
/// Addresses per `suppressed_among` call: callers pass millions in chunks.
const SUPPRESSION_CHUNK: usize = 50_000;
/// Rows per transaction in B2.
const B2_BATCH: usize = 100;
/// Opt-outs per transaction in B2's like-for-like variant: the most the one-click group commit
/// can gather when wrk holds 64 connections (each waits for its answer).
const B2_LIKE_P2_BATCH: usize = 64;

struct Scale {
    /// Opt-outs (and recipient addresses) of the two P3 sizes; the first is also P4's and P5's.
    sizes: [u64; 2],
    deep_page: i64,
    p3_runs: usize,
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let scale = if full {
        Scale {
            sizes: [1_000_000, 2_000_000],
            deep_page: 10_000,
            p3_runs: 5,
        }
    } else {
        Scale {
            sizes: [600, 1_200],
            deep_page: 5,
            p3_runs: 1,
        }
    };
    let mut criterion = Criterion::default()
        .output_directory(&results_dir().join("criterion"))
        .configure_from_args();
    let mut results = Results::new(full);
    for backend in backends() {
        run_backend(&mut criterion, &mut results, &scale, &backend);
    }
    criterion.final_summary();
}

#[derive(Clone)]
enum Backend {
    Sqlite,
    Postgres { admin_url: String },
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }
}

fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    match std::env::var("OPTOUTS_BENCH_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => all.push(Backend::Postgres { admin_url: url }),
        _ => eprintln!("PostgreSQL skipped: set OPTOUTS_BENCH_POSTGRES_URL to include it"),
    }
    all
}

fn run_backend(criterion: &mut Criterion, results: &mut Results, scale: &Scale, backend: &Backend) {
    let name = backend.name();
    let mut timings = Vec::new();
    for (index, size) in scale.sizes.iter().enumerate() {
        let database = BenchDatabase::create(backend);
        let pool = database.pool();
        let mut conn = pool.get().expect("connection");
        let started = Instant::now();
        let data = generate(&mut conn, *size);
        let made_in = started.elapsed().as_secs_f64();
        eprintln!("{name}: {size} opt-outs generated in {made_in:.1} s");
        if index == 0 {
            results.record(
                "P0",
                name,
                "seconds",
                made_in,
                &format!("bench-data, {size} opt-outs with events"),
            );
            explain_hot_queries(&mut conn, &data, name);
            p4_activity_pages(criterion, results, &mut conn, &data, scale, name);
            p5_export(results, &database, &mut conn, &data, name);
            b2_batched_inserts(criterion, results, &mut conn, name);
            b2_like_p2(criterion, results, &database, &data, name);
        }
        timings.push(p3_suppression(&mut conn, &data, *size, scale.p3_runs, name));
    }
    if let [one, two] = timings[..] {
        results.record(
            "P3",
            name,
            "seconds_1m",
            one,
            &format!(
                "suppressed_among, 1M addresses vs 1M opt-outs; median of {} runs after a warm-up",
                scale.p3_runs
            ),
        );
        results.record(
            "P3",
            name,
            "seconds_2m",
            two,
            &format!(
                "suppressed_among, 2M addresses vs 2M opt-outs; median of {} runs after a warm-up",
                scale.p3_runs
            ),
        );
    }
}

/// One group holding every opt-out (so P4 and P5 see them all), five clients of five users.
fn generate(conn: &mut DbConnection, opt_outs: u64) -> BenchData {
    let spec = BenchDataSpec {
        groups: 1,
        clients_per_group: 5,
        users_per_client: 5,
        contacts: 1_000,
        opt_outs,
        messages: 0,
    };
    // Nobody signs in during these benches: any string will do for the hash.
    bench_data::generate(conn, &spec, "not-a-password-hash", |_, _| {}).expect("bench data")
}

/// P3: every address of the series checked for the first sender, in chunks, as a send would.
/// Timed directly, the median of `runs` runs after one run that is not counted: one run takes
/// seconds, and criterion's minimum of ten samples per size and backend would take longer than
/// the rest of the suite together. The first pass over a database was the slowest (0.89 s
/// against 0.68 and 0.72 for 1M, 1.89 s against 1.76 and 1.34 for 2M, in one run of the
/// suite), so the figure is the index probes' cost with the caches warm, as in a sender's
/// second and later sends; a first send after a restart pays the warm-up once.
fn p3_suppression(
    conn: &mut DbConnection,
    data: &BenchData,
    size: u64,
    runs: usize,
    backend: &str,
) -> f64 {
    let addresses: Vec<EmailAddress> = (0..size)
        .map(|i| EmailAddress::parse(&bench_data::address(i)).expect("valid address"))
        .collect();
    let sender = data.first_sender();
    let mut seconds: Vec<f64> = (0..=runs)
        .map(|run| {
            let started = Instant::now();
            let mut suppressed = 0;
            for chunk in addresses.chunks(SUPPRESSION_CHUNK) {
                suppressed += opt_out_queries::suppressed_among(conn, &sender, chunk)
                    .expect("suppression check")
                    .len();
            }
            let elapsed = started.elapsed().as_secs_f64();
            // A third are group-level opt-outs of the sender's group: never zero.
            assert!(suppressed > 0);
            let counted = if run == 0 {
                " (warm-up, not counted)"
            } else {
                ""
            };
            eprintln!("{backend} P3 {size}: {elapsed:.2} s, {suppressed} suppressed{counted}");
            elapsed
        })
        .skip(1)
        .collect();
    seconds.sort_by(f64::total_cmp);
    seconds[seconds.len() / 2]
}

/// P4: page 1 and the page `deep_page` pages in, as the web page fetches them.
fn p4_activity_pages(
    criterion: &mut Criterion,
    results: &mut Results,
    conn: &mut DbConnection,
    data: &BenchData,
    scale: &Scale,
    backend: &str,
) {
    let scope = ActivityScope::Group(data.first_group());
    let filter = ActivityFilter::default();
    let deep_cursor = cursor_before_page(conn, data, scale.deep_page);
    let mut group = criterion.benchmark_group(format!("{backend}/P4"));
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    for (id, after) in [("page_1", None), ("page_deep", Some(deep_cursor))] {
        group.bench_function(id, |b| {
            b.iter(|| {
                let rows = activity::page(conn, scope, &filter, after, PAGE_SIZE + 1)
                    .expect("activity page");
                assert_eq!(rows.len() as i64, PAGE_SIZE + 1);
                rows
            })
        });
    }
    group.finish();
    let page_1 = median_seconds(&format!("{backend}_P4"), "page_1") * 1000.0;
    let deep = median_seconds(&format!("{backend}_P4"), "page_deep") * 1000.0;
    results.record(
        "P4",
        backend,
        "page1_ms",
        page_1,
        "Activity › Opt outs, group scope, 1M rows",
    );
    let note = format!("page {} (keyset cursor)", scale.deep_page);
    results.record("P4", backend, "deep_ms", deep, &note);
}

/// The (created_at, id) of the last row before page `page` (pages of [`PAGE_SIZE`]).
fn cursor_before_page(
    conn: &mut DbConnection,
    data: &BenchData,
    page: i64,
) -> (chrono::NaiveDateTime, OptOutId) {
    let (at, id) = opt_outs::table
        .filter(opt_outs::group_id.eq(data.first_group))
        .order((opt_outs::created_at.desc(), opt_outs::id.desc()))
        .offset((page - 1) * PAGE_SIZE - 1)
        .select((opt_outs::created_at, opt_outs::id))
        .first::<(chrono::NaiveDateTime, i64)>(conn)
        .expect("a row that deep");
    (at, OptOutId(id))
}

/// B2: batches of [`B2_BATCH`] new opt-outs, one multi-row INSERT per committed transaction.
fn b2_batched_inserts(
    criterion: &mut Criterion,
    results: &mut Results,
    conn: &mut DbConnection,
    backend: &str,
) {
    let group_id: i64 = opt_outs::table
        .select(opt_outs::group_id)
        .first(conn)
        .expect("a group");
    let mut next = 0u64;
    let mut group = criterion.benchmark_group(format!("{backend}/B2"));
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("insert_100", |b| {
        b.iter(|| {
            let at = db::now();
            let rows: Vec<_> = (0..B2_BATCH)
                .map(|_| {
                    next += 1;
                    (
                        opt_outs::group_id.eq(group_id),
                        opt_outs::level.eq("group"),
                        opt_outs::scope_id.eq(group_id),
                        opt_outs::email.eq(format!("b2-{next}@baseline.example")),
                        opt_outs::source.eq("one_click"),
                        opt_outs::created_at.eq(at),
                    )
                })
                .collect();
            db::write_transaction(conn, |conn| {
                // Multi-row INSERT does not compile through the connection enum.
                optouts::on_each_backend!(conn, |c| diesel::insert_into(opt_outs::table)
                    .values(&rows)
                    .execute(c))
            })
            .expect("batch insert")
        })
    });
    group.finish();
    let seconds = median_seconds(&format!("{backend}_B2"), "insert_100");
    results.record(
        "B2",
        backend,
        "rows_per_s",
        B2_BATCH as f64 / seconds,
        "100 rows per INSERT and transaction, no HTTP",
    );
}

/// B2 like-for-like with P2: raw multi-row INSERTs of exactly the rows one one-click opt-out
/// writes (the opt-out, its event, the confirmation email in the outbox, its event), for
/// [`B2_LIKE_P2_BATCH`] opt-outs per transaction, committed as durably as P2 commits them
/// (SQLite: the writer's own connection settings, `synchronous=FULL`). No HTTP, no reads.
fn b2_like_p2(
    criterion: &mut Criterion,
    results: &mut Results,
    database: &BenchDatabase,
    data: &BenchData,
    backend: &str,
) {
    use optouts::db::schema::{consent_events, messages};
    let mut durable = match database.backend {
        Backend::Sqlite => {
            db::open_durable_sqlite(&DatabaseUrl::parse(&database.url).expect("url"))
                .expect("durable connection")
        }
        Backend::Postgres { .. } => {
            DbConnection::establish(&database.url).expect("PostgreSQL connection")
        }
    };
    let conn = &mut durable;
    let sender = data.first_sender();
    let mut next = 0u64;
    let mut group = criterion.benchmark_group(format!("{backend}/B2"));
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("like_p2_64", |b| {
        b.iter(|| {
            let at = db::now();
            let emails: Vec<String> = (0..B2_LIKE_P2_BATCH)
                .map(|_| {
                    next += 1;
                    format!("b2like-{next}@baseline.example")
                })
                .collect();
            let message = data.messages.first().map(|m| m.0);
            let opt_out_rows: Vec<_> = emails
                .iter()
                .map(|email| {
                    (
                        opt_outs::group_id.eq(sender.group_id.0),
                        opt_outs::level.eq("user"),
                        opt_outs::scope_id.eq(sender.user_id.0),
                        opt_outs::email.eq(email),
                        opt_outs::source.eq("one_click"),
                        opt_outs::message_id.eq(message),
                        opt_outs::created_at.eq(at),
                    )
                })
                .collect();
            let event_rows: Vec<_> = emails
                .iter()
                .flat_map(|email| {
                    [("opt_out", "recipient"), ("confirmation_sent", "system")].map(
                        |(kind, actor)| {
                            (
                                consent_events::group_id.eq(sender.group_id.0),
                                consent_events::email.eq(email),
                                consent_events::kind.eq(kind),
                                consent_events::level.eq(Some("user")),
                                consent_events::scope_id.eq(Some(sender.user_id.0)),
                                consent_events::source.eq("one_click"),
                                consent_events::actor_kind.eq(actor),
                                consent_events::message_id.eq(message),
                                consent_events::ip_address.eq(Some("127.0.0.1")),
                                consent_events::created_at.eq(at),
                            )
                        },
                    )
                })
                .collect();
            let outbox_rows: Vec<_> = emails
                .iter()
                .map(|email| {
                    (
                        messages::kind.eq("opt_out_confirmation"),
                        messages::group_id.eq(sender.group_id.0),
                        messages::client_id.eq(Some(sender.client_id.0)),
                        messages::sender_user_id.eq(Some(sender.user_id.0)),
                        messages::to_email.eq(email),
                        messages::payload.eq(Some(r#"{"about_message":1,"level":"user"}"#)),
                        messages::status.eq("queued"),
                        messages::next_attempt_at.eq(at),
                        messages::created_at.eq(at),
                        messages::updated_at.eq(at),
                    )
                })
                .collect();
            db::write_transaction(conn, |conn| {
                optouts::on_each_backend!(conn, |c| {
                    diesel::insert_into(opt_outs::table)
                        .values(&opt_out_rows)
                        .execute(c)?;
                    diesel::insert_into(consent_events::table)
                        .values(&event_rows)
                        .execute(c)?;
                    diesel::insert_into(messages::table)
                        .values(&outbox_rows)
                        .execute(c)
                })
            })
            .expect("batch insert")
        })
    });
    group.finish();
    let seconds = median_seconds(&format!("{backend}_B2"), "like_p2_64");
    results.record(
        "B2",
        backend,
        "like_p2_opt_outs_per_s",
        B2_LIKE_P2_BATCH as f64 / seconds,
        "the 4 rows of each one-click opt-out, 64 opt-outs per transaction, P2's durability, no HTTP",
    );
}

/// P5: the real `optouts export` of the big group as a subprocess, against the database's own
/// CSV tool running one query for the same rows (same joins, same order).
fn p5_export(
    results: &mut Results,
    database: &BenchDatabase,
    conn: &mut DbConnection,
    data: &BenchData,
    backend: &str,
) {
    if !results.full {
        return;
    }
    let rows: i64 = opt_outs::table
        .filter(opt_outs::group_id.eq(data.first_group))
        .count()
        .get_result(conn)
        .expect("count");
    let group_name = group_name(conn, data.first_group);
    let empty = optouts::db::accounts::create_group(conn, "P5 empty group").expect("group");
    let export = |group: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_optouts"));
        command
            .args(["export", "--group", group, "--output", "/dev/null"])
            .env("OPTOUTS_DATABASE_URL", &database.url)
            .env("OPTOUTS_DATA_DIR", database.dir.path())
            .env("OPTOUTS_LOG", "warn");
        command
    };
    // Memory growth: the peak of the 1M export minus the peak of the same command exporting
    // nothing (start-up, pool, migrations check).
    let idle = measure(export(&empty.name));
    let ours = measure(export(&group_name));
    let theirs = measure(database.csv_tool(&baseline_export_sql(data.first_group)));
    let growth_mb = (ours.peak_kb.saturating_sub(idle.peak_kb)) as f64 / 1024.0;
    let tool = match database.backend {
        Backend::Sqlite => "sqlite3 -csv",
        Backend::Postgres { .. } => "psql \\copy … to stdout csv",
    };
    results.record(
        "P5",
        backend,
        "rows_per_s",
        rows as f64 / ours.seconds,
        "optouts export",
    );
    results.record(
        "P5",
        backend,
        "baseline_rows_per_s",
        rows as f64 / theirs.seconds,
        tool,
    );
    results.record(
        "P5",
        backend,
        "rss_growth_mb",
        growth_mb,
        "peak RSS minus an empty export's",
    );
    results.record(
        "P5",
        backend,
        "rss_peak_mb",
        ours.peak_kb as f64 / 1024.0,
        "VmHWM",
    );
}

fn group_name(conn: &mut DbConnection, id: i64) -> String {
    use optouts::db::schema::groups;
    groups::table
        .filter(groups::id.eq(id))
        .select(groups::name)
        .first(conn)
        .expect("group name")
}

/// The export's rows in one statement: what `optouts export` writes, for the CSV tools.
fn baseline_export_sql(group: i64) -> String {
    format!(
        "SELECT o.email, o.level,
                CASE o.level WHEN 'group' THEN g.name WHEN 'client' THEN sc.name
                             ELSE su.display_name END AS scope,
                o.source, c.name AS campaign, o.reason, o.created_at,
                COALESCE(a.display_name, 'recipient') AS by_whom
         FROM opt_outs o
         JOIN groups g ON g.id = o.group_id
         LEFT JOIN clients sc ON sc.id = o.scope_id AND o.level = 'client'
         LEFT JOIN users su ON su.id = o.scope_id AND o.level = 'user'
         LEFT JOIN users a ON a.id = o.actor_user_id
         LEFT JOIN campaigns c ON c.id = o.campaign_id
         WHERE o.group_id = {group}
         ORDER BY o.created_at DESC, o.id DESC"
    )
}

struct Measured {
    seconds: f64,
    peak_kb: u64,
}

/// Runs the command to the end, sampling its peak resident size (VmHWM) from /proc while it
/// runs: once it has exited the figure is gone.
fn measure(mut command: Command) -> Measured {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0;
    let status = loop {
        if let Some(kb) = std::fs::read_to_string(&status_path)
            .ok()
            .and_then(|status| vm_hwm_kb(&status))
        {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        let mut stderr = String::new();
        let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr);
        panic!("{command:?} failed: {stderr}");
    }
    Measured { seconds, peak_kb }
}

fn vm_hwm_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The plans of the hot queries, captured as diesel sends them and explained by the database
/// itself, written to `target/bench-results/explain-BACKEND.md`.
fn explain_hot_queries(conn: &mut DbConnection, data: &BenchData, backend: &str) {
    let captured = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&captured);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            sink.lock().unwrap().push(query.to_string());
        }
    });
    let sender = data.first_sender();
    let scope = ActivityScope::Group(data.first_group());
    let filter = ActivityFilter::default();
    let some = |i| EmailAddress::parse(&bench_data::address(i)).unwrap();
    let mut hot: Vec<(&str, String)> = Vec::new();
    let mut last_query =
        |conn: &mut DbConnection, title: &'static str, run: &dyn Fn(&mut DbConnection)| {
            captured.lock().unwrap().clear();
            run(conn);
            let sql = captured
                .lock()
                .unwrap()
                .last()
                .cloned()
                .expect("a query ran");
            hot.push((title, sql));
        };
    last_query(
        conn,
        "suppressed_among (bulk suppression check, P3)",
        &|c| {
            opt_out_queries::suppressed_among(c, &sender, &[some(0), some(1), some(2)]).unwrap();
        },
    );
    last_query(
        conn,
        "activity::page after a cursor (Activity › Opt outs, P4; the export's chunks, P5)",
        &|c| {
            let after = Some((db::now(), OptOutId(i64::MAX)));
            activity::page(c, scope, &filter, after, PAGE_SIZE + 1).unwrap();
        },
    );
    last_query(
        conn,
        "activity::count_capped (the page's count; the export's total)",
        &|c| {
            activity::count_capped(c, scope, &filter, 10_000).unwrap();
        },
    );
    last_query(
        conn,
        "opt_outs::applying_to (one recipient, one sender: every send, every page)",
        &|c| {
            opt_out_queries::applying_to(c, &bench_data::address(0), &sender).unwrap();
        },
    );
    // The sender's profile is read once and then remembered: the last statement of the second
    // load is the one every recipient page runs.
    let email = data.messages.first().copied().unwrap_or(MessageId(1));
    let profiles = optouts::service::sender_profile_cache::SenderProfileCache::new();
    last_query(
        conn,
        "link_context::load (every recipient page, P1; every one-click POST, P2)",
        &|c| {
            profiles.link_context(c, email).unwrap();
            profiles.link_context(c, email).unwrap();
        },
    );
    last_query(
        conn,
        "sender_profile::load (a sender's names and settings, once per sender per 10 s)",
        &|c| {
            db::sender_profile::load(c, sender).unwrap();
        },
    );
    conn.set_instrumentation(|_: InstrumentationEvent<'_>| {});

    let mut doc = String::new();
    for (title, captured) in hot {
        let sql = captured
            .split(" -- binds: ")
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let plan = explain(conn, &sql);
        doc.push_str(&format!(
            "#### {title}\n\n```sql\n{sql}\n```\n\n```\n{plan}\n```\n\n"
        ));
    }
    std::fs::create_dir_all(results_dir()).unwrap();
    std::fs::write(results_dir().join(format!("explain-{backend}.md")), doc).unwrap();
}

#[derive(QueryableByName)]
struct SqlitePlanRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    id: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    parent: i32,
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PostgresPlanRow {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "QUERY PLAN")]
    line: String,
}

/// The generic plan, the same for any parameter values: SQLite plans with the parameters
/// unbound; PostgreSQL is told to plan generically and given NULLs.
fn explain(conn: &mut DbConnection, sql: &str) -> String {
    match conn {
        DbConnection::Sqlite(c) => {
            let rows: Vec<SqlitePlanRow> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
                .load(c)
                .expect("explain");
            // Indent each step under its parent, as the sqlite3 shell does.
            let mut depth = std::collections::HashMap::new();
            rows.iter()
                .map(|row| {
                    let level = depth.get(&row.parent).map_or(0, |d| d + 1);
                    depth.insert(row.id, level);
                    format!("{}{}", "  ".repeat(level), row.detail)
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        DbConnection::Postgresql(c) => {
            let parameters = (1..=64)
                .take_while(|n| sql.contains(&format!("${n}")))
                .count();
            let nulls = vec!["NULL"; parameters].join(", ");
            c.batch_execute(&format!(
                "SET plan_cache_mode = force_generic_plan; PREPARE bench_explain AS {sql}"
            ))
            .expect("prepare");
            let execute = if parameters == 0 {
                "EXPLAIN EXECUTE bench_explain".to_owned()
            } else {
                format!("EXPLAIN EXECUTE bench_explain({nulls})")
            };
            let rows: Vec<PostgresPlanRow> = diesel::sql_query(execute).load(c).expect("explain");
            c.batch_execute("DEALLOCATE bench_explain; RESET plan_cache_mode")
                .expect("deallocate");
            rows.into_iter()
                .map(|row| row.line)
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

/// A database for one data set: a SQLite file in a temporary folder, or a PostgreSQL database
/// `optouts_bench_*` dropped afterwards.
struct BenchDatabase {
    backend: Backend,
    url: String,
    dir: tempfile::TempDir,
    postgres_name: Option<String>,
}

impl BenchDatabase {
    fn create(backend: &Backend) -> Self {
        let dir = tempfile::tempdir_in(results_dir_created()).expect("temp dir");
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}", dir.path().join("bench.sqlite").display()),
                backend: backend.clone(),
                dir,
                postgres_name: None,
            },
            Backend::Postgres { admin_url } => {
                let name = format!(
                    "optouts_bench_{}",
                    &uuid::Uuid::new_v4().simple().to_string()[..12]
                );
                let mut admin = diesel::PgConnection::establish(admin_url).expect("PostgreSQL");
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create database");
                let mut url = url::Url::parse(admin_url).expect("OPTOUTS_BENCH_POSTGRES_URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    backend: backend.clone(),
                    dir,
                    postgres_name: Some(name),
                }
            }
        }
    }

    fn pool(&self) -> DbPool {
        let pool = db::build_pool(&DatabaseUrl::parse(&self.url).expect("url"), 2).expect("pool");
        db::run_migrations(&mut pool.get().expect("connection")).expect("migrations");
        pool
    }

    /// The backend's own CSV tool running `sql`, writing to /dev/null.
    fn csv_tool(&self, sql: &str) -> Command {
        match &self.backend {
            Backend::Sqlite => {
                let mut command = Command::new("sqlite3");
                command
                    .arg("-csv")
                    .arg(self.dir.path().join("bench.sqlite"))
                    .arg(sql.replace('\n', " "));
                command
            }
            Backend::Postgres { .. } => {
                let mut command = Command::new("psql");
                command
                    .arg(&self.url)
                    .arg("-c")
                    .arg(format!("\\copy ({}) to stdout csv", sql.replace('\n', " ")));
                command
            }
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        if let (Some(name), Backend::Postgres { admin_url }) = (&self.postgres_name, &self.backend)
            && let Ok(mut admin) = diesel::PgConnection::establish(admin_url)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn results_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-results")
}

fn results_dir_created() -> PathBuf {
    let dir = results_dir();
    std::fs::create_dir_all(&dir).expect("target/bench-results");
    dir
}

/// Criterion's median estimate of one benchmark, in seconds (0 in test mode, which keeps
/// none). The median, because other work on a shared machine only ever adds outliers.
fn median_seconds(group: &str, id: &str) -> f64 {
    let path = results_dir()
        .join("criterion")
        .join(group)
        .join(id)
        .join("new/estimates.json");
    let Ok(text) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    let estimates: serde_json::Value = serde_json::from_str(&text).expect("estimates.json");
    estimates["median"]["point_estimate"]
        .as_f64()
        .unwrap_or(0.0)
        / 1e9
}

/// `target/bench-results/results.jsonl`, one figure per line (full runs only).
struct Results {
    full: bool,
}

impl Results {
    fn new(full: bool) -> Self {
        Self { full }
    }

    fn record(&mut self, id: &str, backend: &str, metric: &str, value: f64, note: &str) {
        eprintln!("{id} {backend} {metric} = {value:.3} ({note})");
        if !self.full {
            return;
        }
        let line = serde_json::json!({
            "id": id, "backend": backend, "metric": metric, "value": value, "note": note,
        });
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(results_dir_created().join("results.jsonl"))
            .expect("results.jsonl");
        writeln!(file, "{line}").expect("write results");
    }
}
