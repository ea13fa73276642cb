//! `optouts export` and `optouts import`: the same CSV as Admin › Activity › Opt outs, for
//! operators, with progress bars.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};

use crate::cli::{ExportArgs, ImportArgs};
use crate::config::Config;
use crate::db::accounts;
use crate::db::activity::{self, ActivityFilter, ActivityScope};
use crate::domain::{EmailAddress, rights};
use crate::service::export;
use crate::service::import::{ImportOptOuts, import_opt_outs_on};
use crate::service::{Actor, ServiceError};
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
    let actor = Actor::signed_in(admin.person());
    let not_an_admin =
        || anyhow::anyhow!("{email} is not an admin of a group: only admins import opt-outs");
    // Asked before the file is read, so a wrong --as is reported first.
    if rights::opt_out_import_group(&admin.person()).is_none() {
        return Err(not_an_admin());
    }
    let csv = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let asked = ImportOptOuts {
        csv,
        file_name,
        commit: args.commit,
    };
    let progress = bar(0, "rows");
    let report = import_opt_outs_on(&mut conn, &actor, &asked, |done, of| {
        progress.set_length(of as u64);
        progress.set_position(done as u64);
    });
    progress.finish_and_clear();
    let report = match report {
        Ok(report) => report,
        Err(ServiceError::NotFound) => return Err(not_an_admin()),
        Err(ServiceError::Invalid(message)) => bail!(message),
        Err(other) => return Err(other.into()),
    };
    println!(
        "{} to add, {} already present, {} invalid.",
        report.to_add,
        report.already_present,
        report.invalid.len()
    );
    for (line, reason) in &report.invalid {
        println!("  line {line}: {reason}");
    }
    match report.added {
        None => println!("Dry run: nothing changed. Run again with --commit to import."),
        Some(added) => println!("Imported: {added} opt-outs added."),
    }
    Ok(())
}
