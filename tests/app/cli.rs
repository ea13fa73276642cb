//! The command line, run as the real binary.

use crate::helpers::{Backend, TestDatabase, one_click};
use crate::on_both_backends;
use std::process::{Command, Output};

on_both_backends!(
    demo_command_prints_logins_and_is_idempotent,
    user_add_creates_a_login_that_can_sign_in,
    import_and_export_commands_round_trip,
);

fn optouts(db: &TestDatabase, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_optouts"));
    command
        .args(args)
        .env("OPTOUTS_DATABASE_URL", &db.raw_url)
        .env("OPTOUTS_DATA_DIR", db.data_dir())
        .env("OPTOUTS_LOG", "warn")
        .env_remove("OPTOUTS_SIGNING_KEYS")
        .env_remove("OPTOUTS_NEW_USER_PASSWORD");
    for (key, value) in envs {
        command.env(key, value);
    }
    command.output().expect("run optouts")
}

/// Log lines go through a buffer: a command that ends (here with an error, in milliseconds)
/// must still have written them, and before its own last words.
#[test]
fn a_commands_log_lines_are_written_before_it_ends() {
    let db = TestDatabase::create(Backend::Sqlite).expect("SQLite needs nothing");
    let failed = optouts(
        &db,
        &["export", "--group", "No such group"],
        &[("OPTOUTS_LOG", "info")],
    );
    assert!(!failed.status.success());
    let err = stderr(&failed);
    let logged = err.find("applied migration").expect(&err);
    let error = err.find("error: no group named").expect(&err);
    assert!(logged < error, "log lines after the error:\n{err}");
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn demo_command_prints_logins_and_is_idempotent(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else {
        return;
    };
    let first = optouts(&db, &["demo"], &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let out = stdout(&first);
    assert!(out.contains("9 logins"), "{out}");
    assert!(out.contains("grace.hopper@acme.example"), "{out}");
    assert!(out.contains(optouts::seed::demo::DEMO_PASSWORD), "{out}");
    let second = optouts(&db, &["demo"], &[]);
    assert!(second.status.success());
    assert!(stdout(&second).contains("0 logins, 0 contacts, 0 opt-outs and 0 campaigns added"));
    // The generated signing key is private to its owner.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db.data_dir().join("signing-keys"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

async fn user_add_creates_a_login_that_can_sign_in(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else {
        return;
    };
    assert!(
        optouts(&db, &["group", "add", "Globex"], &[])
            .status
            .success()
    );
    let client = optouts(
        &db,
        &["client", "add", "--group", "Globex", "Marketing"],
        &[],
    );
    assert!(client.status.success(), "{}", stderr(&client));

    // Without a password source (no terminal, no env var) it refuses clearly.
    let args = [
        "user",
        "add",
        "--email",
        "Ada@Globex.example",
        "--name",
        "Ada",
        "--role",
        "client_admin",
        "--group",
        "Globex",
        "--client",
        "Marketing",
    ];
    let refused = optouts(&db, &args, &[]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("OPTOUTS_NEW_USER_PASSWORD"),
        "{}",
        stderr(&refused)
    );
    let weak = optouts(&db, &args, &[("OPTOUTS_NEW_USER_PASSWORD", "short")]);
    assert!(
        stderr(&weak).contains("at least 12 characters"),
        "{}",
        stderr(&weak)
    );

    let added = optouts(
        &db,
        &args,
        &[("OPTOUTS_NEW_USER_PASSWORD", "a long enough password")],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(
        stdout(&added).contains("ada@globex.example"),
        "address normalised: {}",
        stdout(&added)
    );

    // Wrong membership is refused with the reason.
    let no_client = optouts(
        &db,
        &[
            "user",
            "add",
            "--email",
            "u@globex.example",
            "--name",
            "U",
            "--role",
            "user",
            "--group",
            "Globex",
        ],
        &[("OPTOUTS_NEW_USER_PASSWORD", "a long enough password")],
    );
    assert!(
        stderr(&no_client).contains("needs --client"),
        "{}",
        stderr(&no_client)
    );
    let unknown_client = optouts(
        &db,
        &[
            "user",
            "add",
            "--email",
            "u@globex.example",
            "--name",
            "U",
            "--role",
            "user",
            "--group",
            "Globex",
            "--client",
            "Sales",
        ],
        &[("OPTOUTS_NEW_USER_PASSWORD", "a long enough password")],
    );
    assert!(
        stderr(&unknown_client).contains("it has: Marketing"),
        "{}",
        stderr(&unknown_client)
    );

    // The login works on the web.
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let email = optouts::domain::EmailAddress::parse("ada@globex.example").unwrap();
    let user = optouts::db::accounts::find_user_by_email(&mut conn, &email)
        .unwrap()
        .unwrap();
    assert_eq!(user.role, optouts::domain::Role::ClientAdmin);
    assert!(optouts::passwords::verify(
        &secrecy::SecretString::from("a long enough password"),
        &user.password_hash
    ));
}

#[test]
fn help_names_every_setting_and_its_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_optouts"))
        .arg("--help")
        .output()
        .unwrap();
    let help = stdout(&output);
    for variable in [
        "OPTOUTS_BIND",
        "OPTOUTS_BASE_URL",
        "OPTOUTS_DATABASE_URL",
        "OPTOUTS_MAIL_URL",
        "OPTOUTS_SESSION_IDLE_TIMEOUT",
        "OPTOUTS_SIGNING_KEYS",
        "OPTOUTS_DATA_DIR",
    ] {
        assert!(help.contains(variable), "--help lacks {variable}");
    }
}

#[test]
fn a_bad_postgres_url_stops_the_command_with_the_servers_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_optouts"))
        .current_dir(dir.path())
        .args([
            "migrate",
            "--database-url",
            "postgres://nobody:pw@127.0.0.1:1/nothing",
        ])
        .env("OPTOUTS_LOG", "warn")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("cannot connect to the database postgres://nobody:***@127.0.0.1:1/nothing"),
        "{err}"
    );
    // No SQLite file was made from the URL: only the data folder with the generated key.
    let entries: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["data"], "{entries:?}");
    let data: Vec<String> = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(data, ["signing-keys"]);
}

async fn import_and_export_commands_round_trip(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else {
        return;
    };
    assert!(optouts(&db, &["demo"], &[]).status.success());
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "address,level,client,reason\ncli1@example.com,client,Events,=2+2\nbad,group,,\n",
    )
    .unwrap();
    let input_arg = input.to_str().unwrap();
    let dry = optouts(
        &db,
        &["import", input_arg, "--as", "grace.hopper@acme.example"],
        &[],
    );
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("1 to add, 0 already present, 1 invalid."),
        "{}",
        stdout(&dry)
    );
    assert!(stdout(&dry).contains("line 3:"), "{}", stdout(&dry));
    let commit = optouts(
        &db,
        &[
            "import",
            input_arg,
            "--as",
            "grace.hopper@acme.example",
            "--commit",
        ],
        &[],
    );
    assert!(
        stdout(&commit).contains("Imported: 1 opt-outs added."),
        "{}",
        stdout(&commit)
    );
    let user = optouts(
        &db,
        &["import", input_arg, "--as", "nina.patel@acme.example"],
        &[],
    );
    assert!(!user.status.success() && stderr(&user).contains("not an admin"));

    let output = dir.path().join("out.csv");
    let export = optouts(
        &db,
        &[
            "export",
            "--group",
            "Acme Holdings",
            "--client",
            "Events",
            "--output",
            output.to_str().unwrap(),
        ],
        &[],
    );
    assert!(export.status.success(), "{}", stderr(&export));
    let written = std::fs::read_to_string(&output).unwrap();
    assert!(
        written.starts_with("address,level,scope,source,campaign,reason,created_at,by\n"),
        "{written}"
    );
    assert!(
        written.contains("cli1@example.com,client,Events,import,,'=2+2,"),
        "{written}"
    );
}

on_both_backends!(bench_data_fills_every_table_and_writes_working_unsubscribe_links);

/// `optouts bench-data` at a small size: the counts asked for, the three levels, an event for
/// every opt-out, and link paths signed with the configured keys that open the Preference
/// Center of a recipient who is not opted out — so a one-click POST records a new opt-out.
async fn bench_data_fills_every_table_and_writes_working_unsubscribe_links(backend: Backend) {
    use base64::Engine;
    use diesel::dsl::count_star;
    use diesel::prelude::*;
    use optouts::db::opt_outs;
    use optouts::db::schema::{
        campaigns, clients, consent_events, contacts, groups, messages, opt_outs as opt_out_rows,
        users,
    };
    use optouts::domain::{ClientId, GroupId, Sender, UserId};
    use optouts::tokens::SigningKeys;

    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32]);
    let keys_entry = format!("bench-test:{secret}");
    let keys = SigningKeys::parse(&keys_entry).unwrap();
    let Some(app) =
        crate::helpers::spawn_app_with(backend, |config| config.signing_keys = keys.clone()).await
    else {
        return;
    };
    std::fs::create_dir_all(app.db.data_dir()).unwrap();
    let tokens_file = app.db.data_dir().join("tokens.txt");
    let run = optouts(
        &app.db,
        &[
            "bench-data",
            "--contacts",
            "300",
            "--opt-outs",
            "450",
            "--messages",
            "40",
            "--groups",
            "3",
            "--clients-per-group",
            "2",
            "--users-per-client",
            "2",
            "--tokens-out",
            tokens_file.to_str().unwrap(),
        ],
        &[("OPTOUTS_SIGNING_KEYS", &keys_entry)],
    );
    assert!(run.status.success(), "{}", stderr(&run));

    let mut conn = app.conn();
    let count = |n: QueryResult<i64>| n.unwrap();
    assert_eq!(count(groups::table.count().get_result(&mut *conn)), 3);
    assert_eq!(count(clients::table.count().get_result(&mut *conn)), 3 * 2);
    assert_eq!(
        count(users::table.count().get_result(&mut *conn)),
        3 * 2 * 2
    );
    assert_eq!(
        count(campaigns::table.count().get_result(&mut *conn)),
        3 * 2 * 2
    );
    assert_eq!(count(contacts::table.count().get_result(&mut *conn)), 300);
    assert_eq!(
        count(opt_out_rows::table.count().get_result(&mut *conn)),
        450
    );
    assert_eq!(count(messages::table.count().get_result(&mut *conn)), 40);

    // The levels take turns, so each holds a third.
    let per_level: Vec<(String, i64)> = opt_out_rows::table
        .group_by(opt_out_rows::level)
        .select((opt_out_rows::level, count_star()))
        .order(opt_out_rows::level)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(
        per_level,
        [
            ("client".to_owned(), 150),
            ("group".to_owned(), 150),
            ("user".to_owned(), 150)
        ]
    );

    // Every opt-out has its event, and there are no others.
    // (group, address, kind, scope id, level) of every event.
    type EventKey = (i64, String, String, Option<i64>, Option<String>);
    let events: Vec<EventKey> = consent_events::table
        .select((
            consent_events::group_id,
            consent_events::email,
            consent_events::kind,
            consent_events::scope_id,
            consent_events::level,
        ))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(events.len(), 450);
    let opt_out_keys: Vec<(i64, String, i64, String)> = opt_out_rows::table
        .select((
            opt_out_rows::group_id,
            opt_out_rows::email,
            opt_out_rows::scope_id,
            opt_out_rows::level,
        ))
        .load(&mut *conn)
        .unwrap();
    for (group, email, scope, level) in opt_out_keys {
        assert!(
            events.iter().any(|(g, e, kind, s, l)| *g == group
                && *e == email
                && kind == "opt_out"
                && *s == Some(scope)
                && l.as_deref() == Some(level.as_str())),
            "no event for the {level} opt-out of {email}"
        );
    }

    // Each line is a link path whose token names a distinct sent campaign message, to a
    // recipient whom nothing blocks for that message's sender.
    let lines: Vec<String> = std::fs::read_to_string(&tokens_file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 40);
    let mut seen = std::collections::HashSet::new();
    for line in &lines {
        let token = line.strip_prefix("/u/").expect("a /u/ link path");
        let message = keys.verify_unsubscribe_token(token).expect("a valid token");
        assert!(seen.insert(message), "message {message:?} twice");
        let (kind, to_email, group, client, user): (String, String, i64, Option<i64>, Option<i64>) =
            messages::table
                .filter(messages::id.eq(message.0))
                .select((
                    messages::kind,
                    messages::to_email,
                    messages::group_id,
                    messages::client_id,
                    messages::sender_user_id,
                ))
                .first(&mut *conn)
                .unwrap();
        assert_eq!(kind, "campaign");
        let sender = Sender {
            user_id: UserId(user.unwrap()),
            client_id: ClientId(client.unwrap()),
            group_id: GroupId(group),
        };
        let applying = opt_outs::applying_to(&mut conn, &to_email, &sender).unwrap();
        assert!(applying.is_empty(), "{to_email} is already opted out");
    }
    drop(conn);

    // Through the real server: the first link opens the Preference Center, and the one-click
    // POST on it records one new opt-out.
    let first = &lines[0];
    assert_eq!(app.get(first).await.status(), 200);
    let before: i64 = opt_out_rows::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    let response = one_click(&app.client, &app.url(first)).await;
    assert_eq!(response.status(), 200);
    let after: i64 = opt_out_rows::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(after, before + 1);
}
