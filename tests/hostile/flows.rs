//! Steps the hostile-input tests share: a campaign queued to demo contacts (so real links
//! exist), counting what a request could have changed, and checking a page for injected
//! markup.

use crate::campaigns::{add_matching, create_campaign, send};
use crate::helpers::{Backend, TestApp, csrf_on, signed_in, spawn_app_with};
use diesel::prelude::*;
use optouts::db::schema::{consent_events, messages, opt_outs};
use optouts::domain::MessageId;

pub const NINA: &str = "nina.patel@acme.example";
pub const GRACE: &str = "grace.hopper@acme.example";
pub const SASHA: &str = "sasha.support@optouts.example";

/// A demo contact of every sender, opted out of nothing.
pub const PAT: &str = "o'brien@example.ie";

/// The demo app with the Preference Center asking why (so reasons are kept).
pub async fn app_asking_reasons(backend: Backend) -> Option<TestApp> {
    let app = spawn_app_with(backend, |_| {}).await?;
    app.load_demo();
    let grace = signed_in(&app, GRACE).await;
    save_group_settings(&app, &grace, "", "").await;
    Some(app)
}

/// Saves the group's Preference Center settings as a group admin: every level offered, the
/// reason question and the confirmation email on, with the given display name and message.
pub async fn save_group_settings(
    app: &TestApp,
    admin: &reqwest::Client,
    display_name: &str,
    custom_message: &str,
) {
    const SETTINGS: &str = "/admin/settings/preference-center";
    let token = csrf_on(app, admin, SETTINGS).await;
    let response = app
        .post_form_with(
            admin,
            SETTINGS,
            &[
                ("csrf_token", &token),
                ("level_user", "1"),
                ("level_client", "1"),
                ("level_group", "1"),
                ("one_click_level", "user"),
                ("confirmation_email", "1"),
                ("ask_reason", "1"),
                ("display_name", display_name),
                ("custom_message", custom_message),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "settings saved");
}

/// Nina's campaign queued to Pat and to one more contact (no worker runs, so the emails stay
/// in the outbox, which is all a link needs); returns the queued message ids, oldest first.
pub async fn queued_messages(app: &TestApp) -> Vec<MessageId> {
    let nina = signed_in(app, NINA).await;
    let campaign = create_campaign(app, &nina, "Autumn news").await;
    for search in ["o'brien@", "jane+news@"] {
        add_matching(app, &nina, campaign, search).await;
    }
    send(app, &nina, campaign).await;
    let ids: Vec<i64> = messages::table
        .filter(messages::campaign_id.eq(campaign))
        .order(messages::id)
        .select(messages::id)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(ids.len(), 2, "the campaign queued two emails");
    ids.into_iter().map(MessageId).collect()
}

/// Which of the queued emails went to `email`.
pub fn message_to(app: &TestApp, sent: &[MessageId], email: &str) -> MessageId {
    let to: Vec<(i64, String)> = messages::table
        .filter(messages::id.eq_any(sent.iter().map(|m| m.0)))
        .select((messages::id, messages::to_email))
        .load(&mut *app.conn())
        .unwrap();
    let (id, _) = to
        .into_iter()
        .find(|(_, to)| to == email)
        .unwrap_or_else(|| panic!("no queued email to {email}"));
    MessageId(id)
}

/// The rows any recipient action could add: opt-outs, evidence and emails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    pub opt_outs: i64,
    pub consent_events: i64,
    pub messages: i64,
}

pub fn footprint(app: &TestApp) -> Footprint {
    let mut conn = app.conn();
    Footprint {
        opt_outs: opt_outs::table.count().get_result(&mut *conn).unwrap(),
        consent_events: consent_events::table
            .count()
            .get_result(&mut *conn)
            .unwrap(),
        messages: messages::table.count().get_result(&mut *conn).unwrap(),
    }
}

/// Whether a page is the friendly bad-link page (it still says how to stop emails).
pub fn is_bad_link_page(html: &str) -> bool {
    crate::helpers::texts(html, "h2")
        .iter()
        .any(|h| h == "How to stop emails")
}

/// Panics when the parsed page holds an element or attribute that a payload could have
/// injected: an inline script, an event-handler attribute, or the `<img src=x>` probe.
pub fn assert_no_injected_markup(html: &str, context: &str) {
    let document = scraper::Html::parse_document(html);
    for element in document
        .root_element()
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
    {
        let value = element.value();
        if value.name() == "script" {
            let body: String = element.text().collect();
            assert!(
                value.attr("src").is_some() && body.trim().is_empty(),
                "{context}: an inline script in the page: {}",
                element.html()
            );
        }
        assert!(
            !value.attrs().any(|(name, _)| name.starts_with("on")),
            "{context}: an event handler attribute: {}",
            element.html()
        );
        assert!(
            !(value.name() == "img" && value.attr("src") == Some("x")),
            "{context}: the injected image: {}",
            element.html()
        );
    }
}

/// Whether the payload is shown to the reader as text (or as a form field's value), which,
/// together with [`assert_no_injected_markup`], means it was escaped rather than dropped.
pub fn shows_as_text(html: &str, payload: &str) -> bool {
    let document = scraper::Html::parse_document(html);
    let text: String = document.root_element().text().collect();
    text.contains(payload)
        || document
            .root_element()
            .descendants()
            .filter_map(scraper::ElementRef::wrap)
            .any(|e| e.value().attrs().any(|(_, v)| v.contains(payload)))
}
