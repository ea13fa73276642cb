//! CSV import of opt-outs: parse, plan (the dry run: what would be added, what is already
//! there, which rows are invalid and why), then commit the valid rows in batches with source
//! `import` and the file name in the evidence. Importing the same file again adds nothing.
//!
//! Columns (header names, any order): `address`, `level` (group, client or user), `client`
//! (the client's name, for client level), `user` (the user's sign-in address, for user level),
//! `reason` (optional), `date` (optional, YYYY-MM-DD: when the opt-out was given).

use chrono::{NaiveDate, NaiveDateTime};
use std::collections::HashMap;

use super::{Actor, ServiceError, Services};
use crate::db::accounts::{self, Client, StaffUser};
use crate::db::consent_events::NewConsentEvent;
use crate::db::{DbConnection, opt_outs, write_transaction};
use crate::domain::rights::{self, OptOutPlace};
use crate::domain::{ActorKind, EmailAddress, EventKind, GroupId, Level, Person, Scope, Source};

/// Files above this are refused before parsing.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
const BATCH: usize = 500;

/// An import as asked for: the file, and whether to add its opt-outs or only plan them (the
/// dry run).
pub struct ImportOptOuts {
    pub csv: Vec<u8>,
    /// Kept in the evidence of every opt-out added.
    pub file_name: String,
    pub commit: bool,
}

/// What the import found in the file and, when committed, how many opt-outs it added.
#[derive(Debug)]
pub struct ImportReport {
    pub to_add: usize,
    pub already_present: usize,
    /// (line number in the file, reason), in file order.
    pub invalid: Vec<(usize, String)>,
    pub added: Option<usize>,
}

/// Imports into the actor's group: only an admin of a group imports (anyone else:
/// [`ServiceError::NotFound`]), and each row only where they may manage opt-outs. A file that
/// cannot be read as CSV is [`ServiceError::Invalid`].
pub async fn import_opt_outs(
    services: &Services,
    actor: &Actor,
    import: ImportOptOuts,
) -> Result<ImportReport, ServiceError> {
    let actor = *actor;
    services
        .db(move |conn| import_opt_outs_on(conn, &actor, &import, |_, _| {}))
        .await
}

/// [`import_opt_outs`] on a connection the caller holds, telling `progress` (rows done, of
/// how many) as the commit goes: for the command line's progress bar.
pub fn import_opt_outs_on(
    conn: &mut DbConnection,
    actor: &Actor,
    import: &ImportOptOuts,
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportReport, ServiceError> {
    let person = actor.person().ok_or(ServiceError::NotFound)?;
    let group = rights::opt_out_import_group(person).ok_or(ServiceError::NotFound)?;
    let plan = plan(conn, person, group, &import.csv).map_err(|error| match error {
        PlanError::File(message) => ServiceError::Invalid(message),
        PlanError::Database(error) => error.into(),
    })?;
    let added = if import.commit {
        let of = plan.to_add.len();
        Some(commit(
            conn,
            person,
            group,
            &plan,
            &import.file_name,
            |done| progress(done, of),
        )?)
    } else {
        None
    };
    Ok(ImportReport {
        to_add: plan.to_add.len(),
        already_present: plan.already_present,
        invalid: plan.invalid,
        added,
    })
}

/// A row ready to import.
#[derive(Debug, Clone)]
pub struct Planned {
    pub line: usize,
    pub email: EmailAddress,
    pub scope: Scope,
    pub reason: Option<String>,
    pub given_at: Option<NaiveDateTime>,
}

/// The dry run's answer.
#[derive(Debug, Default)]
pub struct Plan {
    pub to_add: Vec<Planned>,
    pub already_present: usize,
    /// (line number in the file, reason), in file order.
    pub invalid: Vec<(usize, String)>,
}

#[derive(Debug, Default)]
struct RawRow {
    line: usize,
    address: String,
    level: String,
    client: String,
    user: String,
    reason: String,
    date: String,
}

/// A line that could not be read: (line number, reason).
type UnreadableLine = (usize, String);

fn read_rows(bytes: &[u8]) -> Result<Vec<Result<RawRow, UnreadableLine>>, String> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!(
            "The file is larger than {} MB. Split it and import the parts.",
            MAX_FILE_BYTES / 1024 / 1024
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|_| "The file is not a readable CSV file (UTF-8, comma-separated).".to_owned())?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect::<Vec<_>>();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(address), Some(level)) = (column("address"), column("level")) else {
        return Err(
            "The first line must name the columns, with at least “address” and “level”.".to_owned(),
        );
    };
    let optional = |name| column(name);
    let (client, user, reason, date) = (
        optional("client"),
        optional("user"),
        optional("reason"),
        optional("date"),
    );
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(_) => {
                rows.push(Err((
                    line,
                    "This line could not be read (broken quoting or not UTF-8).".to_owned(),
                )));
                continue;
            }
        };
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").to_owned();
        rows.push(Ok(RawRow {
            line,
            address: cell(Some(address)),
            level: cell(Some(level)),
            client: cell(client),
            user: cell(user),
            reason: cell(reason),
            date: cell(date),
        }));
    }
    Ok(rows)
}

/// The dry run: validates every row against the group's clients and users and the person's
/// rights, and counts what is already present. Changes nothing.
pub fn plan(
    conn: &mut DbConnection,
    person: &Person,
    group: GroupId,
    bytes: &[u8],
) -> Result<Plan, PlanError> {
    let rows = read_rows(bytes).map_err(PlanError::File)?;
    let clients: HashMap<String, Client> = accounts::list_clients(conn, group)?
        .into_iter()
        .map(|c| (c.name.to_lowercase(), c))
        .collect();
    let mut plan = Plan::default();
    let mut seen = std::collections::HashSet::new();
    // Valid rows named once in the file; whether each is already active is asked afterwards,
    // for all of them together.
    let mut candidates = Vec::new();
    // Files name the same few users on many lines: look each up once.
    let mut users = HashMap::new();
    for row in rows {
        let row = match row {
            Ok(row) => row,
            Err(invalid) => {
                plan.invalid.push(invalid);
                continue;
            }
        };
        match check_row(conn, person, group, &clients, &mut users, &row)? {
            Err(reason) => plan.invalid.push((row.line, reason)),
            Ok(planned) => {
                if seen.insert((planned.email.clone(), planned.scope)) {
                    candidates.push(planned);
                } else {
                    plan.already_present += 1;
                }
            }
        }
    }
    // One set-based look-up per few hundred addresses instead of one query per row.
    let mut emails: Vec<&str> = candidates.iter().map(|p| p.email.as_str()).collect();
    emails.sort_unstable();
    emails.dedup();
    let active = opt_outs::active_scopes_among(conn, group, &emails)?;
    for planned in candidates {
        if active.contains(&(planned.email.as_str().to_owned(), planned.scope)) {
            plan.already_present += 1;
        } else {
            plan.to_add.push(planned);
        }
    }
    Ok(plan)
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    File(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

fn check_row(
    conn: &mut DbConnection,
    person: &Person,
    group: GroupId,
    clients: &HashMap<String, Client>,
    users: &mut HashMap<String, Option<StaffUser>>,
    row: &RawRow,
) -> diesel::QueryResult<Result<Planned, String>> {
    let email = match EmailAddress::parse(&row.address) {
        Ok(email) => email,
        Err(invalid) => return Ok(Err(format!("Address: {invalid}"))),
    };
    let Ok(level) = row.level.to_ascii_lowercase().parse::<Level>() else {
        return Ok(Err("Level must be group, client or user.".to_owned()));
    };
    let (scope, client_of_scope) = match level {
        Level::Group => (Scope::Group(group), None),
        Level::Client => match clients.get(&row.client.to_lowercase()) {
            Some(client) => (Scope::Client(client.id), Some(client.id)),
            None => {
                return Ok(Err(format!(
                    "No client named “{}” in this group.",
                    row.client
                )));
            }
        },
        Level::User => {
            let key = row.user.trim().to_lowercase();
            let found = match users.get(&key) {
                Some(known) => known.clone(),
                None => {
                    let looked_up = match EmailAddress::parse(&row.user) {
                        Ok(email) => accounts::find_user_by_email(conn, &email)?,
                        Err(_) => None,
                    };
                    users.insert(key, looked_up.clone());
                    looked_up
                }
            };
            match found.filter(|u| u.group_id == Some(group) && u.client_id.is_some()) {
                Some(user) => (Scope::User(user.id), user.client_id),
                None => {
                    return Ok(Err(format!(
                        "No user “{}” who sends in this group.",
                        row.user
                    )));
                }
            }
        }
    };
    let place = OptOutPlace {
        group_id: group,
        level,
        client_id: client_of_scope,
    };
    if !rights::may_manage_opt_out(person, &place) {
        return Ok(Err(
            "Outside your scope: you cannot import opt-outs at this level or client.".to_owned(),
        ));
    }
    let given_at = if row.date.is_empty() {
        None
    } else {
        match NaiveDate::parse_from_str(&row.date, "%Y-%m-%d") {
            Ok(date) if date <= chrono::Utc::now().date_naive() => date.and_hms_opt(0, 0, 0),
            _ => {
                return Ok(Err(
                    "Date must look like 2026-11-26 and not be in the future.".to_owned(),
                ));
            }
        }
    };
    let reason = Some(row.reason.chars().take(500).collect::<String>()).filter(|r| !r.is_empty());
    Ok(Ok(Planned {
        line: row.line,
        email,
        scope,
        reason,
        given_at,
    }))
}

/// Records the planned rows in batches (one transaction each). Rows that became present in the
/// meantime are skipped. Returns how many were added.
pub fn commit(
    conn: &mut DbConnection,
    person: &Person,
    group: GroupId,
    plan: &Plan,
    file_name: &str,
    mut progress: impl FnMut(usize),
) -> diesel::QueryResult<usize> {
    let evidence = serde_json::json!({ "import_file": file_name }).to_string();
    let mut added = 0;
    let mut processed = 0;
    for batch in plan.to_add.chunks(BATCH) {
        added += write_transaction(conn, |conn| {
            let mut in_batch = 0;
            for row in batch {
                let event = NewConsentEvent {
                    group_id: group,
                    email: &row.email,
                    kind: EventKind::OptOut,
                    scope: Some(row.scope),
                    source: Source::Import,
                    actor_kind: ActorKind::User,
                    actor_user_id: Some(person.id),
                    campaign_id: None,
                    message_id: None,
                    reason: row.reason.as_deref(),
                    ip_address: None,
                    user_agent: None,
                    evidence: Some(&evidence),
                };
                in_batch += usize::from(opt_outs::record_at(conn, &event, row.given_at)?);
            }
            Ok::<_, diesel::result::Error>(in_batch)
        })?;
        processed += batch.len();
        progress(processed);
    }
    Ok(added)
}
