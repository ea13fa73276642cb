//! Admin › Settings › Preference center: group defaults (group admins) and per-client
//! overrides (group admins for any client of the group, client admins for their own), with a
//! preview of what recipients will see.

mod form;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::db::accounts::{self, Client};
use crate::db::preference_settings;
use crate::domain::preferences::{Overrides, PreferenceSettings};
use crate::domain::rights;
use crate::domain::wording::SenderNames;
use crate::domain::{ClientId, GroupId, Level};
use crate::service::settings::{SavePreferenceSettings, save_preference_settings};
use crate::service::{Actor, ServiceError};
use crate::web::csrf::ProtectedForm;
use crate::web::errors::AppError;
use crate::web::layout::{Area, Chrome};
use crate::web::recipient::{ChoiceView, choice_views};
use crate::web::session::SignedIn;
use crate::web::state::AppState;
use form::SettingsForm;

#[derive(Deserialize)]
pub struct SettingsQuery {
    client: Option<i64>,
    saved: Option<String>,
}

pub struct ClientLink {
    pub id: i64,
    pub name: String,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/preference_center.html")]
pub struct SettingsPage {
    chrome: Chrome,
    /// None: the group defaults.
    client_id: Option<i64>,
    scope_name: String,
    group_name: String,
    clients: Vec<ClientLink>,
    can_edit_group: bool,
    /// For a client: whether it overrides the group at all.
    overriding: bool,
    values: PreferenceSettings,
    levels: Vec<(&'static str, &'static str, bool)>,
    /// The one-click levels this form may set: (value, label, selected).
    one_click_levels: Vec<(&'static str, &'static str, bool)>,
    /// For a client: the group's one-click level (its label), offered to inherit, and whether
    /// the client inherits it now.
    one_click_inherit: Option<(&'static str, bool)>,
    /// What the display name names: the whole group, or this client.
    display_name_label: &'static str,
    display_name_hint: String,
    error: Option<String>,
    notice: Option<&'static str>,
    preview_choices: Vec<ChoiceView>,
    preview_organisation: String,
    preview_sender: String,
}

/// Which settings row the request is about, after the rights check.
struct Target {
    group: GroupId,
    group_name: String,
    client: Option<Client>,
    clients: Vec<Client>,
}

async fn target(
    state: &AppState,
    signed_in: &SignedIn,
    client: Option<i64>,
) -> Result<Target, AppError> {
    let person = signed_in.person();
    let Some(group) = rights::preference_settings_group(&person) else {
        return Err(AppError::NotFound);
    };
    let client = rights::preference_settings_client(&person, client.map(ClientId));
    let clients = state
        .db(move |conn| accounts::list_clients(conn, group))
        .await?;
    let chosen = match client {
        Some(id) => Some(
            clients
                .iter()
                .find(|c| c.id == id)
                .cloned()
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    if !rights::may_edit_preference_settings(&person, group, chosen.as_ref().map(|c| c.id)) {
        return Err(AppError::NotFound);
    }
    let group_name = signed_in.account.group_name.clone().unwrap_or_default();
    Ok(Target {
        group,
        group_name,
        client: chosen,
        clients,
    })
}

#[get("/admin/settings/preference-center")]
async fn show(
    signed_in: SignedIn,
    query: web::Query<SettingsQuery>,
    state: web::Data<AppState>,
) -> Result<SettingsPage, AppError> {
    let target = target(&state, &signed_in, query.client).await?;
    let (group, client) = (target.group, target.client.as_ref().map(|c| c.id));
    let (group_defaults, client_layer) = state
        .db(move |conn| -> diesel::QueryResult<_> {
            let group_layer =
                preference_settings::overrides(conn, group, None)?.unwrap_or_default();
            let client_layer = match client {
                Some(client) => preference_settings::overrides(conn, group, Some(client))?,
                None => None,
            };
            Ok((
                PreferenceSettings::default().with(&group_layer),
                client_layer,
            ))
        })
        .await?;
    let shown = match (client, client_layer) {
        (None, _) => FormState::group_defaults(group_defaults),
        (Some(_), layer) => FormState::client(group_defaults, layer.as_ref()),
    };
    let notice = query
        .saved
        .is_some()
        .then_some("Saved. Recipients see the new settings from now on.");
    Ok(page(&signed_in, &target, shown, None, notice))
}

/// What the form shows: the settings in force, and for a client what it would inherit.
struct FormState {
    values: PreferenceSettings,
    overriding: bool,
    /// For a client: the group's one-click level, which it may inherit.
    group_one_click: Option<Level>,
    /// The one-click level the row sets itself; None when a client inherits the group's.
    own_one_click: Option<Level>,
    /// The group's own name for recipients (its defaults' display name), for the preview.
    group_display_name: Option<String>,
}

impl FormState {
    fn group_defaults(values: PreferenceSettings) -> Self {
        Self {
            own_one_click: Some(values.one_click_level),
            group_display_name: values.display_name.clone(),
            values,
            overriding: true,
            group_one_click: None,
        }
    }

    /// A client's settings: the group's defaults with the client's override on top, if any,
    /// as recipients get them (`Overrides::as_client_override`). The name shown is the
    /// client's own only: the group's name for recipients never stands for a client, so it is
    /// neither inherited into the field nor saved back as the client's.
    fn client(group_defaults: PreferenceSettings, layer: Option<&Overrides>) -> Self {
        let group_one_click = Some(group_defaults.one_click_level);
        let group_display_name = group_defaults.display_name.clone();
        let (values, overriding, own_one_click) = match layer {
            Some(layer) => {
                let layer = layer.clone().as_client_override();
                let own = layer.one_click_level;
                (group_defaults.with(&layer), true, own)
            }
            None => (group_defaults, false, None),
        };
        let values = PreferenceSettings {
            display_name: layer.and_then(|l| l.display_name.clone()),
            ..values
        };
        Self {
            values,
            overriding,
            group_one_click,
            own_one_click,
            group_display_name,
        }
    }
}

fn page(
    signed_in: &SignedIn,
    target: &Target,
    shown: FormState,
    error: Option<String>,
    notice: Option<&'static str>,
) -> SettingsPage {
    let FormState {
        values,
        overriding,
        group_one_click,
        own_one_click,
        group_display_name,
    } = shown;
    // The preview names each level as recipients will read it: the name shown for this row
    // stands for its own level only (a client's never for the group).
    let group_name = match &target.client {
        None => values.display_name.clone(),
        Some(_) => group_display_name,
    }
    .unwrap_or_else(|| target.group_name.clone());
    let client_name = match &target.client {
        Some(client) => values
            .display_name
            .clone()
            .unwrap_or_else(|| client.name.clone()),
        None => "Newsletters".to_owned(),
    };
    let group_clients: Vec<String> = target.clients.iter().map(|c| c.name.clone()).collect();
    let names = SenderNames {
        user: &signed_in.account.user.display_name,
        client: &client_name,
        group: &group_name,
        group_clients: &group_clients,
        group_client_count: group_clients.len(),
    };
    let organisation = if target.client.is_some() {
        client_name.clone()
    } else {
        group_name.clone()
    };
    let levels = [Level::User, Level::Client, Level::Group]
        .into_iter()
        .map(|l| (l.as_str(), l.label(), values.levels_offered.contains(&l)))
        .collect();
    let client = target.client.as_ref().map(|c| c.id);
    let one_click_levels = rights::one_click_levels(&signed_in.person(), client)
        .into_iter()
        .map(|l| (l.as_str(), l.label(), own_one_click == Some(l)))
        .collect();
    let (display_name_label, display_name_hint) = match &target.client {
        None => (
            "Name of the whole group shown to recipients (covers all its clients)",
            format!("(empty: {})", target.group_name),
        ),
        Some(_) => (
            "Name of this client shown to recipients",
            "(optional)".to_owned(),
        ),
    };
    SettingsPage {
        chrome: Chrome::signed_in(&signed_in.account, signed_in.csrf_token(), Area::Settings),
        client_id: target.client.as_ref().map(|c| c.id.0),
        scope_name: target.client.as_ref().map_or_else(
            || format!("{} (group defaults)", target.group_name),
            |c| c.name.clone(),
        ),
        group_name: target.group_name.clone(),
        clients: target
            .clients
            .iter()
            .map(|c| ClientLink {
                id: c.id.0,
                name: c.name.clone(),
                current: target.client.as_ref().is_some_and(|t| t.id == c.id),
            })
            .collect(),
        can_edit_group: rights::may_edit_preference_settings(
            &signed_in.person(),
            target.group,
            None,
        ),
        overriding,
        preview_choices: choice_views(&values.levels_offered, None, &names),
        preview_sender: signed_in.account.user.display_name.clone(),
        preview_organisation: organisation,
        values,
        levels,
        one_click_levels,
        one_click_inherit: group_one_click.map(|l| (l.label(), own_one_click.is_none())),
        display_name_label,
        display_name_hint,
        error,
        notice,
    }
}

#[post("/admin/settings/preference-center")]
async fn save(
    submitted: ProtectedForm<SettingsForm>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let ProtectedForm { signed_in, form } = submitted;
    let target = target(&state, &signed_in, form.client).await?;
    let (group, client) = (target.group, target.client.as_ref().map(|c| c.id));
    let overriding = client.is_none() || form.override_group.is_some();
    let values = form.overrides(client.is_some())?;
    let save = SavePreferenceSettings {
        group,
        client,
        overriding,
        values: values.clone(),
    };
    let actor = Actor::signed_in(signed_in.person());
    match save_preference_settings(&state.services, &actor, save).await {
        Ok(()) => {}
        Err(ServiceError::Invalid(invalid)) => {
            return invalid_form(&state, &signed_in, &target, values, invalid, &req).await;
        }
        Err(other) => return Err(other.into()),
    }
    let location = match client {
        Some(client) => format!("/admin/settings/preference-center?client={client}&saved=1"),
        None => "/admin/settings/preference-center?saved=1".to_owned(),
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish())
}

/// The form again with what was submitted and why it cannot be saved (422).
async fn invalid_form(
    state: &AppState,
    signed_in: &SignedIn,
    target: &Target,
    values: Overrides,
    invalid: String,
    req: &HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (group, client) = (target.group, target.client.as_ref().map(|c| c.id));
    let group_defaults = state
        .db(move |conn| preference_settings::overrides(conn, group, None))
        .await?
        .map(|layer| PreferenceSettings::default().with(&layer))
        .unwrap_or_default();
    let shown = FormState {
        values: PreferenceSettings::default().with(&values),
        overriding: true,
        group_one_click: client.map(|_| group_defaults.one_click_level),
        own_one_click: values.one_click_level,
        group_display_name: group_defaults.display_name.clone(),
    };
    let mut response = page(signed_in, target, shown, Some(invalid), None)
        .respond_to(req)
        .map_into_boxed_body();
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show).service(save);
}
