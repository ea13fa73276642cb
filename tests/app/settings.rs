//! Admin › Settings › Preference center, from the admins' side: who may make one-click
//! unsubscribe group-wide, and how the fields name what they set.

use diesel::prelude::*;
use optouts::db::accounts;
use optouts::db::schema::preference_settings;

use crate::helpers::{Backend, TestApp, csrf_token_in, demo_app, signed_in, texts};
use crate::on_both_backends;

on_both_backends!(
    only_the_group_defaults_make_one_click_group_wide,
    a_client_override_may_inherit_the_groups_one_click_level,
    the_display_name_field_says_whose_name_it_is,
    a_client_override_saved_before_the_rule_stops_at_the_client,
    a_client_form_never_takes_the_groups_name_as_its_own,
);

const GRACE: &str = "grace.hopper@acme.example";
const CARL: &str = "carl.jensen@acme.example";
const PAGE: &str = "/admin/settings/preference-center";

/// Every stored settings row as (client, one-click level, display name).
fn stored(app: &TestApp) -> Vec<(Option<i64>, Option<String>, Option<String>)> {
    preference_settings::table
        .select((
            preference_settings::client_id,
            preference_settings::one_click_level,
            preference_settings::display_name,
        ))
        .order(preference_settings::id)
        .load(&mut *app.conn())
        .unwrap()
}

fn client_id(app: &TestApp, name: &str) -> i64 {
    let mut conn = app.conn();
    let group = accounts::find_group_by_name(&mut conn, "Acme Holdings")
        .unwrap()
        .unwrap();
    accounts::find_client_by_name(&mut conn, group.id, name)
        .unwrap()
        .unwrap()
        .id
        .0
}

/// A complete settings form with this one-click level, for the client when given.
fn form<'a>(
    token: &'a str,
    client: Option<&'a str>,
    one_click: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("csrf_token", token),
        ("override_group", "1"),
        ("level_user", "1"),
        ("level_client", "1"),
        ("level_group", "1"),
        ("one_click_level", one_click),
        ("display_name", "Set by the test"),
    ];
    if let Some(client) = client {
        form.push(("client", client));
    }
    form
}

fn one_click_options(html: &str) -> Vec<String> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("#one_click_level option").unwrap();
    document
        .select(&selector)
        .map(|o| o.value().attr("value").unwrap_or_default().to_owned())
        .collect()
}

async fn only_the_group_defaults_make_one_click_group_wide(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let before = stored(&app);
    let newsletters = client_id(&app, "Newsletters").to_string();

    // Carl (client admin of Newsletters) is offered inheriting, user or client level only.
    let carl = signed_in(&app, CARL).await;
    let page = app.get_with(&carl, PAGE).await.text().await.unwrap();
    assert_eq!(one_click_options(&page), ["", "user", "client"]);
    let token = csrf_token_in(&page);
    // Submitting group level anyway is refused, with or without naming his client.
    for client in [None, Some(newsletters.as_str())] {
        let response = app
            .post_form_with(&carl, PAGE, &form(&token, client, "group"))
            .await;
        assert_eq!(response.status(), 403, "client admin, client {client:?}");
        let html = response.text().await.unwrap();
        assert!(
            texts(&html, ".error-page p")
                .iter()
                .any(|p| p.contains("whole group") && p.contains("group defaults")),
            "{html}"
        );
    }
    assert_eq!(stored(&app), before, "nothing saved");

    // Grace (group admin) may not either, for a client's override.
    let grace = signed_in(&app, GRACE).await;
    let page = app
        .get_with(&grace, &format!("{PAGE}?client={newsletters}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(one_click_options(&page), ["", "user", "client"]);
    let token = csrf_token_in(&page);
    let response = app
        .post_form_with(&grace, PAGE, &form(&token, Some(&newsletters), "group"))
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(stored(&app), before, "nothing saved");

    // The group defaults may say group, set by the group admin.
    let page = app.get_with(&grace, PAGE).await.text().await.unwrap();
    assert_eq!(one_click_options(&page), ["user", "client", "group"]);
    let response = app
        .post_form_with(&grace, PAGE, &form(&token, None, "group"))
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        stored(&app),
        [(
            None,
            Some("group".to_owned()),
            Some("Set by the test".to_owned())
        )]
    );
}

async fn a_client_override_may_inherit_the_groups_one_click_level(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let newsletters = client_id(&app, "Newsletters");
    let grace = signed_in(&app, GRACE).await;
    let token = csrf_on_settings(&app, &grace).await;
    let response = app
        .post_form_with(&grace, PAGE, &form(&token, None, "group"))
        .await;
    assert_eq!(response.status(), 303);

    // Carl overrides the rest but keeps the group's one-click level (chosen by Grace).
    let carl = signed_in(&app, CARL).await;
    let page = app.get_with(&carl, PAGE).await.text().await.unwrap();
    assert_eq!(
        texts(&page, "#one_click_level option[selected]"),
        ["Same as the group defaults (Group level)"]
    );
    let token = csrf_token_in(&page);
    let response = app
        .post_form_with(&carl, PAGE, &form(&token, None, ""))
        .await;
    assert_eq!(response.status(), 303);
    let rows = stored(&app);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].0, Some(newsletters));
    assert_eq!(rows[1].1, None, "inherits");

    // An explicit client level is kept as chosen, and shown selected.
    let response = app
        .post_form_with(&carl, PAGE, &form(&token, None, "client"))
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(stored(&app)[1].1.as_deref(), Some("client"));
    let page = app.get_with(&carl, PAGE).await.text().await.unwrap();
    assert_eq!(
        texts(&page, "#one_click_level option[selected]"),
        ["Client level"]
    );
}

async fn csrf_on_settings(app: &TestApp, client: &reqwest::Client) -> String {
    csrf_token_in(&app.get_with(client, PAGE).await.text().await.unwrap())
}

async fn the_display_name_field_says_whose_name_it_is(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let grace = signed_in(&app, GRACE).await;
    let defaults = app.get_with(&grace, PAGE).await.text().await.unwrap();
    assert_eq!(
        texts(&defaults, r#"label[for="display_name"] .field-name"#),
        ["Name of the whole group shown to recipients (covers all its clients)"]
    );
    let events = client_id(&app, "Events");
    let client = app
        .get_with(&grace, &format!("{PAGE}?client={events}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&client, r#"label[for="display_name"] .field-name"#),
        ["Name of this client shown to recipients"]
    );
}

/// A client override stored with a group-wide one-click level before the rule (written here
/// straight to the database, as an old row would be): one-click from that client's mail stops
/// the client, not the whole group.
async fn a_client_override_saved_before_the_rule_stops_at_the_client(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = {
        let mut conn = app.conn();
        let nina = crate::seed::demo_sender(&mut conn, crate::seed::NINA);
        let grace = accounts::find_user_by_email(
            &mut conn,
            &optouts::domain::EmailAddress::parse(GRACE).unwrap(),
        )
        .unwrap()
        .unwrap();
        let old_row = optouts::domain::preferences::Overrides {
            one_click_level: Some(optouts::domain::Level::Group),
            ..Default::default()
        };
        optouts::db::preference_settings::save(
            &mut conn,
            nina.group_id,
            Some(nina.client_id),
            &old_row,
            grace.id,
        )
        .unwrap();
        nina
    };
    let email = crate::seed::sent_messages(&mut app.conn(), &nina, &["kim@example.org".into()])[0];
    let link = app.url(&format!(
        "/u/{}",
        app.config.signing_keys.unsubscribe_token(email)
    ));
    let response = crate::helpers::one_click(&reqwest::Client::new(), &link).await;
    assert_eq!(response.status(), 200);
    let levels: Vec<String> = optouts::db::schema::opt_outs::table
        .filter(optouts::db::schema::opt_outs::email.eq("kim@example.org"))
        .select(optouts::db::schema::opt_outs::level)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(levels, ["client"]);
}

/// The group's name for recipients is not the client's: the client's form does not fill its
/// name field with it, so saving an override (to change anything else) does not store the
/// group's name as the client's.
async fn a_client_form_never_takes_the_groups_name_as_its_own(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let grace = signed_in(&app, GRACE).await;
    let token = csrf_on_settings(&app, &grace).await;
    let mut group_form = form(&token, None, "user");
    group_form.retain(|(name, _)| *name != "display_name");
    group_form.push(("display_name", "Acme Group"));
    let response = app.post_form_with(&grace, PAGE, &group_form).await;
    assert_eq!(response.status(), 303);

    let carl = signed_in(&app, CARL).await;
    let page = app.get_with(&carl, PAGE).await.text().await.unwrap();
    let name_field = crate::helpers::input_value(&page, "#display_name");
    assert_eq!(name_field.as_deref(), Some(""), "not the group's name");
    assert_eq!(
        texts(&page, ".preview-choices li")
            .last()
            .map(String::as_str),
        Some("Any emails from Acme Group, including all its clients: Events, Newsletters and Tax")
    );
    let token = csrf_token_in(&page);
    let mut client_form = form(&token, None, "client");
    client_form.retain(|(name, _)| *name != "display_name");
    client_form.push(("display_name", name_field.as_deref().unwrap()));
    let response = app.post_form_with(&carl, PAGE, &client_form).await;
    assert_eq!(response.status(), 303);
    let rows = stored(&app);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].2, None, "the client has no name of its own");
}
