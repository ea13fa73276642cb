//! What each subcommand does. `main.rs` only parses the command line and calls [`run`].

mod bench_data;
mod csv;

use anyhow::{Context, bail};
use secrecy::SecretString;
use std::io::IsTerminal;

use crate::cli::{Cli, ClientCommand, Command, GroupCommand, ServeArgs, UserAddArgs, UserCommand};
use crate::config::Config;
use crate::db::accounts::{self, NewStaffUser};
use crate::domain::{EmailAddress, Role};
use crate::mail::worker::DeliveryWorker;
use crate::seed::demo;
use crate::startup::{Application, ServerOptions, prepare_database};
use crate::{passwords, telemetry};
use std::sync::Arc;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(&cli.settings.log);
    let outcome = run_command(cli).await;
    // Log lines are buffered: out before the command's own last words (main prints errors).
    telemetry::flush();
    outcome
}

async fn run_command(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.settings)?;
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve(config, args).await,
        Command::Migrate => migrate(&config),
        Command::Demo => load_demo(&config),
        Command::Worker => run_worker(config).await,
        Command::Export(args) => csv::export(&config, args),
        Command::Import(args) => csv::import(&config, args),
        Command::User(UserCommand::Add(args)) => add_user(&config, args),
        Command::Group(GroupCommand::Add { name }) => add_group(&config, &name),
        Command::Client(ClientCommand::Add { group, name }) => add_client(&config, &group, &name),
        Command::BenchData(args) => bench_data::run(&config, args),
    }
}

async fn serve(config: Config, args: ServeArgs) -> anyhow::Result<()> {
    let pool = prepare_database(&config)?;
    if args.demo {
        let mut conn = pool.get()?;
        if demo::database_is_empty(&mut conn)? {
            demo::load(&mut conn)?;
            print_demo_logins();
        } else {
            tracing::info!("--demo: the database already holds data, demo not loaded");
        }
    }
    tracing::info!(
        database = %config.database.redacted(),
        mail = %config.mail.redacted(),
        base_url = %config.base_url,
        "starting"
    );
    let worker = if args.no_worker {
        None
    } else {
        Some(DeliveryWorker::new(pool.clone(), Arc::new(config.clone()))?.spawn())
    };
    let app = Application::build(config, pool, ServerOptions::default())?;
    tracing::info!("listening on http://{}", app.address());
    // actix stops the server on SIGINT/SIGTERM; then the worker finishes what it holds.
    app.run_until_stopped().await?;
    if let Some(worker) = worker {
        worker.stop().await;
    }
    Ok(())
}

/// The delivery worker alone, until SIGINT or SIGTERM.
async fn run_worker(config: Config) -> anyhow::Result<()> {
    let pool = prepare_database(&config)?;
    let worker = DeliveryWorker::new(pool, Arc::new(config))?.spawn();
    wait_for_shutdown_signal().await?;
    worker.stop().await;
    Ok(())
}

async fn wait_for_shutdown_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = terminate.recv() => {}
    }
    Ok(())
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    let pool = crate::db::build_pool(&config.database, 1)?;
    let mut conn = pool.get()?;
    let applied = crate::db::run_migrations(&mut conn)?;
    if applied.is_empty() {
        println!("The database is up to date.");
    }
    for name in applied {
        println!("applied {name}");
    }
    Ok(())
}

fn load_demo(config: &Config) -> anyhow::Result<()> {
    let pool = prepare_database(config)?;
    let mut conn = pool.get()?;
    let summary = demo::load(&mut conn)?;
    println!(
        "Demo data for \"{}\": {} logins, {} contacts, {} opt-outs and {} campaigns added (existing ones kept).",
        demo::GROUP_NAME,
        summary.users_created,
        summary.contacts_created,
        summary.opt_outs_created,
        summary.campaigns_created
    );
    print_demo_logins();
    Ok(())
}

fn print_demo_logins() {
    println!("\nDemo logins (password for all: {}):", demo::DEMO_PASSWORD);
    for (email, name, role, client) in demo::LOGINS {
        let place = client.unwrap_or(if role == Role::Support {
            "platform"
        } else {
            demo::GROUP_NAME
        });
        println!("  {email:<32} {name:<16} {:<13} {place}", role.label());
    }
}

fn add_group(config: &Config, name: &str) -> anyhow::Result<()> {
    let name = required_name(name, "group")?;
    let pool = prepare_database(config)?;
    let mut conn = pool.get()?;
    if accounts::find_group_by_name(&mut conn, name)?.is_some() {
        bail!("a group named {name:?} already exists");
    }
    let group = accounts::create_group(&mut conn, name)?;
    println!("Added group {:?} (id {}).", group.name, group.id);
    Ok(())
}

fn add_client(config: &Config, group_name: &str, name: &str) -> anyhow::Result<()> {
    let name = required_name(name, "client")?;
    let pool = prepare_database(config)?;
    let mut conn = pool.get()?;
    let group = accounts::find_group_by_name(&mut conn, group_name)?
        .with_context(|| format!("no group named {group_name:?}"))?;
    if accounts::find_client_by_name(&mut conn, group.id, name)?.is_some() {
        bail!("{group_name:?} already has a client named {name:?}");
    }
    let client = accounts::create_client(&mut conn, group.id, name)?;
    println!(
        "Added client {:?} to {:?} (id {}).",
        client.name, group.name, client.id
    );
    Ok(())
}

fn add_user(config: &Config, args: UserAddArgs) -> anyhow::Result<()> {
    let email = EmailAddress::parse(&args.email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let display_name = required_name(&args.name, "person")?;
    let pool = prepare_database(config)?;
    let mut conn = pool.get()?;
    let (group_id, client_id) = resolve_membership(&mut conn, &args)?;
    if accounts::find_user_by_email(&mut conn, &email)?.is_some() {
        bail!("a login for {email} already exists");
    }
    let password = read_new_password()?;
    let password_hash = passwords::hash(&password)?;
    let id = accounts::create_user(
        &mut conn,
        &NewStaffUser {
            email: &email,
            display_name,
            role: args.role,
            group_id,
            client_id,
            password_hash: &password_hash,
        },
    )?;
    println!("Added {} {email} (id {id}).", args.role.label());
    Ok(())
}

/// Checks the role's membership rules and turns group and client names into ids.
fn resolve_membership(
    conn: &mut crate::db::DbConnection,
    args: &UserAddArgs,
) -> anyhow::Result<(
    Option<crate::domain::GroupId>,
    Option<crate::domain::ClientId>,
)> {
    if args.role == Role::Support {
        if args.group.is_some() || args.client.is_some() {
            bail!("support staff belong to no group or client: leave out --group and --client");
        }
        return Ok((None, None));
    }
    let group_name = args
        .group
        .as_deref()
        .with_context(|| format!("a {} needs --group", args.role.label()))?;
    let group = accounts::find_group_by_name(conn, group_name)?.with_context(|| {
        format!("no group named {group_name:?} (add it with `optouts group add`)")
    })?;
    let client = match args.client.as_deref() {
        Some(client_name) => Some(
            accounts::find_client_by_name(conn, group.id, client_name)?
                .with_context(|| {
                    let known = accounts::list_clients(conn, group.id)
                        .map(|cs| {
                            cs.into_iter()
                                .map(|c| c.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default();
                    format!("{group_name:?} has no client named {client_name:?} (it has: {known})")
                })?
                .id,
        ),
        None if args.role.requires_client() => {
            bail!("a {} needs --client", args.role.label())
        }
        None => None,
    };
    Ok((Some(group.id), client))
}

/// From OPTOUTS_NEW_USER_PASSWORD, or typed twice at a prompt; never from a flag, which
/// would show in the process list and shell history.
fn read_new_password() -> anyhow::Result<SecretString> {
    let password = match std::env::var("OPTOUTS_NEW_USER_PASSWORD") {
        Ok(value) => SecretString::from(value),
        Err(_) if std::io::stdin().is_terminal() => {
            let first = rpassword::prompt_password("Password: ")?;
            let second = rpassword::prompt_password("Password again: ")?;
            if first != second {
                bail!("the two passwords differ");
            }
            SecretString::from(first)
        }
        Err(_) => {
            bail!("set OPTOUTS_NEW_USER_PASSWORD or run in a terminal to be asked for the password")
        }
    };
    passwords::check_strength(&password)?;
    Ok(password)
}

fn required_name<'a>(name: &'a str, what: &str) -> anyhow::Result<&'a str> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        bail!("the {what}'s name cannot be empty");
    }
    Ok(trimmed)
}
