//! Support's back end: find an address across every group, see its opt-outs and consent
//! history, and opt it back in — only with the recipient's written consent recorded (who gave
//! it, when it arrived, a reference, its text). Support never opts anyone out.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::db::consent_events::GroupEvent;
use crate::db::{consent_events, opt_outs};
use crate::domain::{EmailAddress, EventKind, OptOutId, Source, rights};
use crate::service::support_lift::{Lifted, SupportLift, lift_on_written_consent};
use crate::service::{Actor, ServiceError};
use crate::web::admin::evidence::{ConsentLines, evidence_lines};
use crate::web::csrf::ProtectedForm;
use crate::web::errors::AppError;
use crate::web::layout::{Area, Chrome};
use crate::web::search::search_term;
use crate::web::session::SignedIn;
use crate::web::staff::contacts::when;
use crate::web::state::AppState;

const HISTORY_LIMIT: i64 = 200;

#[derive(Deserialize)]
pub struct SupportQuery {
    q: Option<String>,
    done: Option<usize>,
    notified: Option<String>,
}

pub struct OptOutRow {
    pub id: i64,
    pub group: String,
    pub level: &'static str,
    pub scope: String,
    pub since: String,
    pub source: String,
    pub checked: bool,
}

pub struct EventRow {
    pub when: String,
    pub group: String,
    pub what: String,
    pub level: String,
    pub source: String,
    pub by: String,
    /// Support's written consent, field by field, when the event lifted on it.
    pub consent: Option<ConsentLines>,
    /// Any other evidence, as it was kept.
    pub evidence: String,
}

/// What support typed, shown again when the form is refused.
#[derive(Default)]
pub struct ConsentForm {
    pub given_by: String,
    pub received_on: String,
    pub reference: String,
    pub text: String,
    /// The staff member who asked for it, optional.
    pub asked_by: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "support/search.html")]
pub struct SupportPage {
    chrome: Chrome,
    search: String,
    /// The address found, as stored (the form sends it back).
    address: Option<String>,
    /// The same address as people write it (an internationalised domain in Unicode).
    address_shown: String,
    opt_outs: Vec<OptOutRow>,
    events: Vec<EventRow>,
    consent: ConsentForm,
    error: Option<String>,
    notice: Option<String>,
}

fn require_support(signed_in: &SignedIn) -> Result<(), AppError> {
    if rights::may_lift_on_written_consent(&signed_in.person()) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

#[get("/support")]
async fn support_search(
    signed_in: SignedIn,
    query: web::Query<SupportQuery>,
    state: web::Data<AppState>,
) -> Result<SupportPage, AppError> {
    require_support(&signed_in)?;
    let notice = query.done.map(|n| {
        format!(
            "Opted back in: {n} opt-out{} lifted, with the written consent recorded.{}",
            if n == 1 { "" } else { "s" },
            if query.notified.is_some() {
                " The staff member who asked gets an email saying what was lifted."
            } else {
                ""
            }
        )
    });
    render(
        &state,
        &signed_in,
        search_term(query.q.as_deref())?,
        &[],
        ConsentForm::default(),
        None,
        notice,
    )
    .await
}

async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    search: String,
    ticked: &[i64],
    consent: ConsentForm,
    error: Option<String>,
    notice: Option<String>,
) -> Result<SupportPage, AppError> {
    let search = search.trim().to_owned();
    let mut page = SupportPage {
        chrome: Chrome::signed_in(&signed_in.account, signed_in.csrf_token(), Area::Support),
        search: search.clone(),
        address: None,
        address_shown: String::new(),
        opt_outs: Vec::new(),
        events: Vec::new(),
        consent,
        error,
        notice,
    };
    if search.is_empty() {
        return Ok(page);
    }
    let email = match EmailAddress::parse(&search) {
        Ok(email) => email,
        Err(invalid) => {
            page.error = Some(invalid.to_string());
            return Ok(page);
        }
    };
    let address = email.as_str().to_owned();
    let (active, history) = state
        .db(move |conn| -> diesel::QueryResult<_> {
            Ok((
                opt_outs::everywhere(conn, &address)?,
                consent_events::everywhere_for(conn, &address, HISTORY_LIMIT)?,
            ))
        })
        .await?;
    page.address_shown = EmailAddress::to_unicode_display(email.as_str());
    page.address = Some(email.into_string());
    page.opt_outs = active
        .iter()
        .map(|o| OptOutRow {
            id: o.opt_out.id.0,
            group: o.group_name.clone(),
            level: o.opt_out.scope.level().label(),
            scope: o.scope_name.clone(),
            since: when(&o.opt_out.created_at),
            source: Source::from_stored(&o.opt_out.source)
                .map_or_else(|| o.opt_out.source.clone(), |s| s.label().to_owned()),
            checked: ticked.contains(&o.opt_out.id.0),
        })
        .collect();
    page.events = history
        .iter()
        .map(|GroupEvent { event, group_name }| (event, group_name))
        .map(|(event, group)| EventRow {
            when: when(&event.created_at),
            group: group.clone(),
            what: EventKind::from_stored(&event.kind)
                .map_or_else(|| event.kind.clone(), |k| k.label().to_owned()),
            level: event
                .scope
                .map(|s| s.level().label().to_owned())
                .unwrap_or_default(),
            source: Source::from_stored(&event.source)
                .map_or_else(|| event.source.clone(), |s| s.label().to_owned()),
            by: event
                .actor_name
                .clone()
                .unwrap_or_else(|| match event.actor_kind.as_str() {
                    "recipient" => "The recipient".to_owned(),
                    "system" => "The system".to_owned(),
                    other => other.to_owned(),
                }),
            consent: evidence_lines(&event.source, event.evidence.as_deref()),
            evidence: event.evidence.clone().unwrap_or_default(),
        })
        .collect();
    Ok(page)
}

#[post("/support/opt-in")]
async fn opt_in(
    submitted: ProtectedForm<Vec<(String, String)>>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let ProtectedForm { signed_in, form } = submitted;
    require_support(&signed_in)?;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let address = field("email");
    let ticked: Vec<i64> = form
        .iter()
        .filter(|(k, _)| k == "opt_out")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let consent = ConsentForm {
        given_by: field("consent_given_by"),
        received_on: field("consent_received_on"),
        reference: field("consent_reference"),
        text: field("consent_text"),
        asked_by: field("asked_by"),
    };
    let email = EmailAddress::parse(&address).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let lift = SupportLift {
        email: email.clone(),
        opt_outs: ticked.iter().copied().map(OptOutId).collect(),
        given_by: consent.given_by.clone(),
        received_on: consent.received_on.clone(),
        reference: consent.reference.clone(),
        text: consent.text.clone(),
        asked_by: consent.asked_by.clone(),
    };
    let actor = Actor::signed_in(signed_in.person());
    let done = match lift_on_written_consent(&state.services, &actor, lift).await {
        Ok(done) => done,
        Err(ServiceError::Invalid(message)) => {
            let page = render(
                &state,
                &signed_in,
                address,
                &ticked,
                consent,
                Some(message),
                None,
            )
            .await?;
            let mut response = page.respond_to(&req).map_into_boxed_body();
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(response);
        }
        Err(other) => return Err(other.into()),
    };
    let Lifted { lifted, notified } = done;
    let location = format!(
        "/support?q={}&done={lifted}{}",
        url::form_urlencoded::byte_serialize(email.as_str().as_bytes()).collect::<String>(),
        if notified && lifted > 0 {
            "&notified=1"
        } else {
            ""
        }
    );
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(support_search).service(opt_in);
}
