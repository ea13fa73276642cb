//! Admin › Activity › Opt outs: the opt-outs an admin may see (group admins their group;
//! client admins the group-level rows and their client's; support any group they choose),
//! filtered, newest first in keyset pages, with a bounded count; the same list as a streamed
//! CSV; and the CSV import with its dry run.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::{NaiveDate, NaiveDateTime};
use futures_util::StreamExt;
use serde::Deserialize;

use super::contacts::when;
use super::csrf::tokens_match;
use super::errors::AppError;
use super::evidence::{ConsentLines, evidence_lines};
use super::keyset;
use super::layout::{Area, Chrome};
use super::search::search_term;
use super::session::SignedIn;
use super::state::AppState;
use crate::db::accounts::{self, Client, Group};
use crate::db::activity::{self, ActivityFilter, ActivityRow, ActivityScope};
use crate::domain::{
    ClientId, ConsentEventId, EmailAddress, Level, OptOutId, Person, Role, Source, UserId,
};
use crate::{export, import};

const PAGE_SIZE: usize = 50;
/// The count stops here: exact below, "more than" above, so it stays cheap on millions.
const COUNT_CAP: i64 = 10_000;
const EXPORT_CHUNK: i64 = 2_000;

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
    match (person.role, person.group_id, person.client_id) {
        (Role::GroupAdmin, Some(group), _) => Ok((ActivityScope::Group(group), Vec::new())),
        (Role::ClientAdmin, Some(group), Some(client)) => {
            Ok((ActivityScope::Client { group, client }, Vec::new()))
        }
        (Role::Support, _, _) => {
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
        _ => Err(AppError::NotFound),
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
        .filter(|c| person.role != Role::ClientAdmin || Some(c.id) == person.client_id)
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
        can_import: person.role.is_admin(),
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

/// `GET /admin/activity/opt-outs.csv`: the filtered list, streamed page by page so memory
/// stays flat however many rows there are.
#[get("/admin/activity/opt-outs.csv")]
async fn export_csv(
    signed_in: SignedIn,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (scope, _) = scope_for(&state, &signed_in.person(), query.group).await?;
    let filter = filter_of(&query)?;
    let lifted = query.lifted();
    let state = state.into_inner();
    struct Cursor {
        after: Option<(NaiveDateTime, i64)>,
        first: bool,
        done: bool,
    }
    let start = Cursor {
        after: None,
        first: true,
        done: false,
    };
    let body = futures_util::stream::unfold(start, move |cursor| {
        let state = state.clone();
        let filter = filter.clone();
        async move {
            if cursor.done {
                return None;
            }
            let after = cursor.after;
            let rows = state
                .db(move |conn| rows_page(conn, lifted, scope, &filter, after, EXPORT_CHUNK))
                .await;
            let rows = match rows {
                Ok(rows) => rows,
                Err(error) => {
                    return Some((
                        Err(actix_web::Error::from(error)),
                        Cursor {
                            done: true,
                            ..cursor
                        },
                    ));
                }
            };
            let write = if lifted {
                export::lifted_csv_chunk
            } else {
                export::csv_chunk
            };
            let chunk = write(&rows, cursor.first)
                .map(web::Bytes::from)
                .map_err(|e| actix_web::Error::from(AppError::internal(e)));
            let next = Cursor {
                after: rows.last().map(|r| (r.created_at, r.id.keyset_value())),
                first: false,
                done: (rows.len() as i64) < EXPORT_CHUNK,
            };
            Some((chunk, next))
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"opt-outs.csv\"",
        ))
        .streaming(body))
}

#[derive(Template, WebTemplate)]
#[template(path = "activity/import.html")]
pub struct ImportPage {
    chrome: Chrome,
    group_name: String,
    error: Option<String>,
    preview: Option<ImportPreview>,
    added: Option<usize>,
}

pub struct ImportPreview {
    pub file_name: String,
    pub csv_text: String,
    pub to_add: usize,
    pub already_present: usize,
    pub invalid: Vec<(usize, String)>,
}

fn import_scope(signed_in: &SignedIn) -> Result<crate::domain::GroupId, AppError> {
    let person = signed_in.person();
    match person.group_id {
        Some(group) if person.role.is_admin() => Ok(group),
        _ => Err(AppError::NotFound),
    }
}

#[get("/admin/activity/opt-outs/import")]
async fn import_form(signed_in: SignedIn) -> Result<ImportPage, AppError> {
    import_scope(&signed_in)?;
    Ok(import_page(&signed_in, None, None, None))
}

fn import_page(
    signed_in: &SignedIn,
    error: Option<String>,
    preview: Option<ImportPreview>,
    added: Option<usize>,
) -> ImportPage {
    ImportPage {
        chrome: Chrome::signed_in(
            &signed_in.account,
            signed_in.csrf_token(),
            Area::ActivityOptOuts,
        ),
        group_name: signed_in.account.group_name.clone().unwrap_or_default(),
        error,
        preview,
        added,
    }
}

/// `POST /admin/activity/opt-outs/import` (multipart): `mode=preview` with a file shows the
/// dry run; `mode=commit` with the previewed text applies it.
#[post("/admin/activity/opt-outs/import")]
async fn import_submit(
    signed_in: SignedIn,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let group = import_scope(&signed_in)?;
    let fields = read_upload(&req, payload).await?;
    let field = |name: &str| fields.iter().find(|f| f.name == name);
    let text = |name: &str| {
        field(name)
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .unwrap_or_default()
    };
    if !tokens_match(
        field("csrf_token")
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .as_deref(),
        signed_in.csrf_token(),
    ) {
        return Err(AppError::CsrfRejected);
    }
    let person = signed_in.person();
    let (bytes, file_name) = match text("mode").as_str() {
        "commit" => (text("csv_text").into_bytes(), text("file_name")),
        _ => match field("file") {
            Some(file) if !file.data.is_empty() => (
                file.data.clone(),
                file.file_name
                    .clone()
                    .unwrap_or_else(|| "upload.csv".into()),
            ),
            _ => {
                return respond(
                    &req,
                    import_page(
                        &signed_in,
                        Some("Choose a CSV file to import.".into()),
                        None,
                        None,
                    ),
                    StatusCode::UNPROCESSABLE_ENTITY,
                );
            }
        },
    };
    let committing = text("mode") == "commit";
    let name = file_name.clone();
    let data = bytes.clone();
    let outcome = state
        .db(move |conn| -> diesel::QueryResult<_> {
            let plan = match import::plan(conn, &person, group, &data) {
                Ok(plan) => plan,
                Err(import::PlanError::File(message)) => return Ok(Err(message)),
                Err(import::PlanError::Database(error)) => return Err(error),
            };
            let added = if committing {
                Some(import::commit(conn, &person, group, &plan, &name, |_| {})?)
            } else {
                None
            };
            Ok(Ok((plan, added)))
        })
        .await?;
    let (plan, added) = match outcome {
        Ok(done) => done,
        Err(message) => {
            return respond(
                &req,
                import_page(&signed_in, Some(message), None, None),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    if let Some(added) = added {
        tracing::info!(group = %group, added, "opt-outs imported");
        return respond(
            &req,
            import_page(&signed_in, None, None, Some(added)),
            StatusCode::OK,
        );
    }
    let preview = ImportPreview {
        file_name,
        csv_text: String::from_utf8_lossy(&bytes).into_owned(),
        to_add: plan.to_add.len(),
        already_present: plan.already_present,
        invalid: plan.invalid,
    };
    respond(
        &req,
        import_page(&signed_in, None, Some(preview), None),
        StatusCode::OK,
    )
}

fn respond(
    req: &HttpRequest,
    page: ImportPage,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut response = page.respond_to(req).map_into_boxed_body();
    *response.status_mut() = status;
    Ok(response)
}

struct UploadField {
    name: String,
    file_name: Option<String>,
    data: Vec<u8>,
}

/// Reads the multipart form, refusing more than the import limit (413).
async fn read_upload(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<UploadField>, AppError> {
    let unreadable = || AppError::BadRequest("The upload could not be read. Try again.".into());
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload.into_inner());
    let mut fields = Vec::new();
    let mut total = 0usize;
    let limit = import::MAX_FILE_BYTES * 2 + 64 * 1024;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            total += chunk.len();
            if total > limit {
                return Err(AppError::PayloadTooLarge);
            }
            data.extend_from_slice(&chunk);
        }
        fields.push(UploadField {
            name,
            file_name,
            data,
        });
    }
    Ok(fields)
}

fn encode_cursor(row: &ActivityRow) -> String {
    keyset::encode(&row.created_at, row.id.keyset_value())
}

fn decode_cursor(raw: &str) -> Result<(chrono::NaiveDateTime, i64), AppError> {
    keyset::decode(raw)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(export_csv)
        .service(import_form)
        .service(import_submit)
        .service(list);
}
