//! The command line, run as the real binary.

use crate::helpers::{Backend, TestDatabase};
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
    assert!(out.contains(optouts::demo::DEMO_PASSWORD), "{out}");
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
