//! Admin › Activity › Opt outs: the opt-outs an admin may see (group admins their group;
//! client admins the group-level rows and their client's; support any group they choose),
//! filtered, newest first in keyset pages, with a bounded count; the same list as a streamed
//! CSV ([`export`]); and the CSV import with its dry run ([`import`]).

mod export;
mod import;

use actix_web::{get, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use crate::db::accounts::{self, Client, Group};
use crate::db::activity::{self, ActivityFilter, ActivityRow, ActivityScope};
use crate::domain::rights::{self, OptOutsVisible};
use crate::domain::{
    ClientId, ConsentEventId, EmailAddress, Level, OptOutId, Person, Source, UserId,
};
use crate::web::admin::evidence::{ConsentLines, evidence_lines};
use crate::web::errors::AppError;
use crate::web::keyset;
use crate::web::layout::{Area, Chrome};
use crate::web::search::search_term;
use crate::web::session::SignedIn;
use crate::web::staff::contacts::when;
use crate::web::state::AppState;

const PAGE_SIZE: usize = 50;
/// The count stops here: exact below, "more than" above, so it stays cheap on millions.
const COUNT_CAP: i64 = 10_000;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    group: Option<i64>,
    level: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    client: Option<i64>,
    #[serde(default, deserialize_with = "empty_as_none")]
    user: Option<i64>,
    source: Option<String>,
    from: Option<String>,
    to: Option<String>,
    q: Option<String>,
    /// "1": show lifted opt-outs (from the event log) instead of active ones.
    lifted: Option<String>,
    after: Option<String>,
}

/// A browser submits every field of the filter form, "Any" as an empty value (`client=`):
/// that means no filter, not a malformed id.
fn empty_as_none<'de, D: serde::Deserializer<'de>>(input: D) -> Result<Option<i64>, D::Error> {
    let raw = Option::<String>::deserialize(input)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(id) => id.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

impl ListQuery {
    fn lifted(&self) -> bool {
        self.lifted.as_deref() == Some("1")
    }
}

/// One page of active opt-outs, or of lifted ones from the event log.
fn rows_page(
    conn: &mut crate::db::DbConnection,
    lifted: bool,
    scope: ActivityScope,
    filter: &ActivityFilter,
    after: Option<(NaiveDateTime, i64)>,
    limit: i64,
) -> diesel::QueryResult<Vec<ActivityRow>> {
    // The cursor's id is a consent event's on the lifted list, an opt-out's on the active one.
    if lifted {
        let after = after.map(|(at, id)| (at, ConsentEventId(id)));
        activity::lifted_page(conn, scope, filter, after, limit)
    } else {
        let after = after.map(|(at, id)| (at, OptOutId(id)));
        activity::page(conn, scope, filter, after, limit)
    }
}

pub struct RowView {
    pub email: String,
    pub level: &'static str,
    pub scope: String,
    pub source: String,
    pub campaign: String,
    /// The reason; for a lifted row, its evidence when that is not written consent.
    pub reason: String,
    /// For a lifted row: support's written consent, field by field.
    pub consent: Option<ConsentLines>,
    pub when: String,
    pub by: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "activity/opt_outs.html")]
pub struct OptOutsPage {
    chrome: Chrome,
    groups: Vec<(i64, String, bool)>,
    clients: Vec<(i64, String, bool)>,
    query: ListQuery,
    levels: Vec<(&'static str, &'static str, bool)>,
    sources: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<RowView>,
    count: String,
    next_cursor: Option<String>,
    is_later_page: bool,
    filter_query: String,
    can_import: bool,
    lifted: bool,
}

/// Resolves whose opt-outs the person sees; support must pick a group.
async fn scope_for(
    state: &AppState,
    person: &Person,
    group: Option<i64>,
) -> Result<(ActivityScope, Vec<Group>), AppError> {
    match rights::visible_opt_outs(person) {
        OptOutsVisible::InGroup(group) => Ok((ActivityScope::Group(group), Vec::new())),
        OptOutsVisible::InClient { group, client } => {
            Ok((ActivityScope::Client { group, client }, Vec::new()))
        }
        OptOutsVisible::AnyGroup => {
            let groups = state.db(accounts::list_groups).await?;
            let chosen = match group {
                Some(id) => {
                    groups
                        .iter()
                        .find(|g| g.id.0 == id)
                        .ok_or(AppError::NotFound)?
                        .id
                }
                None => groups.first().ok_or(AppError::NotFound)?.id,
            };
            Ok((ActivityScope::Group(chosen), groups))
        }
        OptOutsVisible::Nothing => Err(AppError::NotFound),
    }
}

fn parse_date(raw: Option<&str>, label: &str) -> Result<Option<NaiveDate>, AppError> {
    match raw.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                AppError::BadRequest(format!("The {label} date must look like 2026-11-26."))
            }),
    }
}

fn filter_of(query: &ListQuery) -> Result<ActivityFilter, AppError> {
    let level = match query.level.as_deref().filter(|l| !l.is_empty()) {
        Some(l) => Some(
            l.parse::<Level>()
                .map_err(|_| AppError::BadRequest("Unknown level.".into()))?,
        ),
        None => None,
    };
    let from = parse_date(query.from.as_deref(), "from")?.and_then(|d| d.and_hms_opt(0, 0, 0));
    let until = parse_date(query.to.as_deref(), "to")?
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0));
    Ok(ActivityFilter {
        level,
        client: query.client.map(ClientId),
        user: query.user.map(UserId),
        source: query
            .source
            .clone()
            .filter(|s| Source::from_stored(s).is_some()),
        from,
        until,
        // Addresses are stored with ASCII domains: `zoe@müller` searches `zoe@xn--mller-kva`.
        address_prefix: Some(search_term(query.q.as_deref())?)
            .map(|q| EmailAddress::search_in_stored_form(&q).to_lowercase())
            .filter(|q| !q.is_empty()),
    })
}

#[get("/admin/activity/opt-outs")]
async fn list(
    signed_in: SignedIn,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<OptOutsPage, AppError> {
    let person = signed_in.person();
    let query = query.into_inner();
    let (scope, groups) = scope_for(&state, &person, query.group).await?;
    let filter = filter_of(&query)?;
    let after = query.after.as_deref().map(decode_cursor).transpose()?;
    let is_later_page = after.is_some();
    let group = scope.group();
    let lifted = query.lifted();
    let (mut page, count, clients) = state
        .db(move |conn| -> diesel::QueryResult<_> {
            let count = if lifted {
                None
            } else {
                Some(activity::count_capped(conn, scope, &filter, COUNT_CAP + 1)?)
            };
            Ok((
                rows_page(conn, lifted, scope, &filter, after, PAGE_SIZE as i64 + 1)?,
                count,
                accounts::list_clients(conn, group)?,
            ))
        })
        .await?;
    let next_cursor = keyset::last_before_next_page(&mut page, PAGE_SIZE).map(encode_cursor);
    let visible_clients: Vec<&Client> = clients
        .iter()
        .filter(|c| match scope {
            ActivityScope::Client { client, .. } => c.id == client,
            ActivityScope::Group(_) => true,
        })
        .collect();
    Ok(OptOutsPage {
        chrome: Chrome::signed_in(
            &signed_in.account,
            signed_in.csrf_token(),
            Area::ActivityOptOuts,
        ),
        groups: groups
            .iter()
            .map(|g| (g.id.0, g.name.clone(), g.id == group))
            .collect(),
        clients: visible_clients
            .iter()
            .map(|c| (c.id.0, c.name.clone(), query.client == Some(c.id.0)))
            .collect(),
        levels: Level::ALL
            .iter()
            .map(|l| {
                (
                    l.as_str(),
                    l.label(),
                    query.level.as_deref() == Some(l.as_str()),
                )
            })
            .collect(),
        sources: Source::ALL
            .iter()
            .filter(|s| {
                matches!(
                    s,
                    Source::PreferenceCenter | Source::OneClick | Source::Manual | Source::Import
                )
            })
            .map(|s| {
                (
                    s.as_str(),
                    s.label(),
                    query.source.as_deref() == Some(s.as_str()),
                )
            })
            .collect(),
        rows: page.iter().map(|row| row_view(row, lifted)).collect(),
        count: count_text(count),
        lifted,
        next_cursor,
        is_later_page,
        filter_query: filter_query_string(&query, group.0),
        can_import: rights::opt_out_import_group(&person).is_some(),
        query,
    })
}

fn count_text(count: Option<i64>) -> String {
    match count {
        None => "Lifted opt-outs from the event log, newest first: when and how each was lifted."
            .to_owned(),
        Some(count) if count > COUNT_CAP => {
            format!("More than {COUNT_CAP} opt-outs match (counting stops there to stay fast).")
        }
        Some(count) => format!(
            "{count} opt-out{} match.",
            if count == 1 { "" } else { "s" }
        ),
    }
}

/// A row of the page. Lifted rows carry the event's evidence where active ones carry the
/// reason: only there can written consent be.
fn row_view(row: &ActivityRow, lifted: bool) -> RowView {
    let consent = lifted
        .then(|| evidence_lines(&row.source, row.reason.as_deref()))
        .flatten();
    RowView {
        email: EmailAddress::to_unicode_display(&row.email),
        level: row.level.label(),
        scope: row.scope_name.clone(),
        source: Source::from_stored(&row.source)
            .map_or_else(|| row.source.clone(), |s| s.label().to_owned()),
        campaign: row.campaign_name.clone().unwrap_or_default(),
        reason: match consent {
            Some(_) => String::new(),
            None => row.reason.clone().unwrap_or_default(),
        },
        consent,
        when: when(&row.created_at),
        by: row
            .actor_name
            .clone()
            .unwrap_or_else(|| "The recipient".to_owned()),
    }
}

/// The filters as a query string, for the pager and the export link.
fn filter_query_string(query: &ListQuery, group: i64) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    out.append_pair("group", &group.to_string());
    let pairs = [
        ("level", query.level.clone()),
        ("client", query.client.map(|c| c.to_string())),
        ("user", query.user.map(|u| u.to_string())),
        ("source", query.source.clone()),
        ("from", query.from.clone()),
        ("to", query.to.clone()),
        ("q", query.q.clone()),
        ("lifted", query.lifted.clone()),
    ];
    for (name, value) in pairs {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            out.append_pair(name, &value);
        }
    }
    out.finish()
}

fn encode_cursor(row: &ActivityRow) -> String {
    keyset::encode(&row.created_at, row.id.keyset_value())
}

fn decode_cursor(raw: &str) -> Result<(chrono::NaiveDateTime, i64), AppError> {
    keyset::decode(raw)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(export::export_csv)
        .service(import::import_form)
        .service(import::import_submit)
        .service(list);
}
