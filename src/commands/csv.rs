//! `optouts export` and `optouts import`: the same CSV as Admin › Activity › Opt outs, for
//! operators, with progress bars.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};

use crate::cli::{ExportArgs, ImportArgs};
use crate::config::Config;
use crate::db::accounts;
use crate::db::activity::{self, ActivityFilter, ActivityScope};
use crate::domain::{EmailAddress, Person};
use crate::service::{export, import};
use crate::startup::prepare_database;

/// Rows written at a time (and, on SQLite, read per keyset query): large enough that each query
/// costs little per row, small enough that memory stays flat.
const CHUNK: usize = 20_000;

fn bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, {{eta}} left)"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

pub fn export(config: &Config, args: ExportArgs) -> anyhow::Result<()> {
    let pool = prepare_database(config)?;
    let mut conn = pool.get()?;
    crate::db::without_memory_map(&mut conn)?;
    let group = accounts::find_group_by_name(&mut conn, &args.group)?
        .with_context(|| format!("no group named {:?}", args.group))?;
    let client = match &args.client {
        Some(name) => Some(
            accounts::find_client_by_name(&mut conn, group.id, name)?
                .with_context(|| format!("no client named {name:?}"))?
                .id,
        ),
        None => None,
    };
    let filter = ActivityFilter {
        level: args.level,
        client,
        source: args.source.clone(),
        ..ActivityFilter::default()
    };
    let scope = ActivityScope::Group(group.id);
    // The total only feeds the progress bar: when nobody sees it (not a terminal), skip the
    // extra pass over every row.
    let total = if std::io::stderr().is_terminal() {
        activity::count_capped(&mut conn, scope, &filter, i64::MAX)?
    } else {
        0
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let progress = bar(total as u64, "opt-outs");
    let mut first = true;
    let exported = activity::for_each_chunk(&mut conn, scope, &filter, CHUNK, |rows| {
        out.write_all(&export::csv_chunk(rows, first)?)?;
        first = false;
        progress.inc(rows.len() as u64);
        anyhow::Ok(())
    })?;
    out.flush()?;
    progress.finish_and_clear();
    eprintln!("Exported {exported} opt-outs of {:?}.", group.name);
    Ok(())
}

pub fn import(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let pool = prepare_database(config)?;
    let mut conn = pool.get()?;
    let email = EmailAddress::parse(&args.as_admin).map_err(|e| anyhow::anyhow!("--as: {e}"))?;
    let admin = accounts::find_user_by_email(&mut conn, &email)?
        .with_context(|| format!("no login {email}"))?;
    let person = Person {
        id: admin.id,
        role: admin.role,
        group_id: admin.group_id,
        client_id: admin.client_id,
    };
    let Some(group) = person.group_id.filter(|_| person.role.is_admin()) else {
        bail!("{email} is not an admin of a group: only admins import opt-outs");
    };
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let plan = match import::plan(&mut conn, &person, group, &bytes) {
        Ok(plan) => plan,
        Err(import::PlanError::File(message)) => bail!(message),
        Err(import::PlanError::Database(error)) => return Err(error.into()),
    };
    println!(
        "{} to add, {} already present, {} invalid.",
        plan.to_add.len(),
        plan.already_present,
        plan.invalid.len()
    );
    for (line, reason) in &plan.invalid {
        println!("  line {line}: {reason}");
    }
    if !args.commit {
        println!("Dry run: nothing changed. Run again with --commit to import.");
        return Ok(());
    }
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let progress = bar(plan.to_add.len() as u64, "rows");
    let added = import::commit(&mut conn, &person, group, &plan, &file_name, |done| {
        progress.set_position(done as u64)
    })?;
    progress.finish_and_clear();
    println!("Imported: {added} opt-outs added.");
    Ok(())
}
