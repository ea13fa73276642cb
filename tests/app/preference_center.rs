//! The recipient's side, through a real SMTP server: the Preference Center from a received
//! email, one-click unsubscribe, the confirmation email and opting back in, bad links, and the
//! settings that shape the page.

use crate::campaigns::{add_matching, app_sending_to, create_campaign, send};
use crate::helpers::{
    Backend, TestApp, csrf_token_in, input_value, one_click, signed_in, spawn_app_with, texts,
};
use crate::on_both_backends;
use crate::smtp::{Received, SmtpServer};
use crate::suppression::event;
use diesel::prelude::*;
use optouts::db::accounts::{self, StaffUser};
use optouts::db::preference_settings;
use optouts::db::schema::{consent_events, messages, opt_outs};
use optouts::domain::preferences::Overrides;
use optouts::domain::{EmailAddress, EventKind, Level, Scope};
use std::time::Duration;

const NINA: &str = "nina.patel@acme.example";
const GRACE: &str = "grace.hopper@acme.example";
/// Pat O'Brien: a contact of every demo sender, opted out of nothing.
const PAT: &str = "o'brien@example.ie";

on_both_backends!(
    opting_out_at_each_level_cascades_and_the_confirmation_opts_back_in,
    one_click_works_with_both_encodings_and_repeats_are_harmless,
    get_and_head_change_nothing,
    bad_links_get_a_friendly_page_and_change_nothing,
    settings_change_what_the_page_offers,
    a_one_click_follows_settings_saved_by_another_server,
    the_page_names_only_the_opt_outs_that_block_its_sender,
);

/// Sends Nina's campaign to Pat and returns the received email and its unsubscribe path.
async fn email_to_pat(app: &TestApp, smtp: &SmtpServer) -> (Received, String) {
    let nina = signed_in(app, NINA).await;
    let campaign = create_campaign(app, &nina, "To Pat").await;
    add_matching(app, &nina, campaign, "o'brien@").await;
    send(app, &nina, campaign).await;
    let before = smtp.count();
    let worker = app.start_worker();
    let received = smtp.wait_for(before + 1).await;
    worker.stop().await;
    let email = received
        .into_iter()
        .find(|m| m.header("to") == PAT && m.header("subject") != "You have unsubscribed")
        .unwrap();
    let link = email
        .header("list-unsubscribe")
        .trim_matches(['<', '>'])
        .to_owned();
    let path = link.strip_prefix(&app.address).unwrap().to_owned();
    (email, path)
}

/// Delivers queued mail (the confirmation) and returns what arrived for Pat with that subject.
async fn confirmation_for_pat(app: &TestApp, smtp: &SmtpServer, expected_total: usize) -> Received {
    let worker = app.start_worker();
    let received = smtp.wait_for(expected_total).await;
    worker.stop().await;
    received
        .into_iter()
        .rfind(|m| m.header("to") == PAT && m.header("subject") == "You have unsubscribed")
        .expect("a confirmation email")
}

fn badge_of_pat(html: &str) -> String {
    let document = scraper::Html::parse_document(html);
    let row = scraper::Selector::parse("tr.contact").unwrap();
    let badge = scraper::Selector::parse(".badge").unwrap();
    document
        .select(&row)
        .find(|tr| tr.text().any(|t| t.contains(PAT)))
        .and_then(|tr| tr.select(&badge).next())
        .map(|b| b.text().collect())
        .unwrap_or_default()
}

async fn pat_badge_for(app: &TestApp, who: &str) -> String {
    let client = signed_in(app, who).await;
    let html = app
        .get_with(&client, "/contacts?q=o%27brien%40")
        .await
        .text()
        .await
        .unwrap();
    badge_of_pat(&html)
}

/// Records an opt-out of Pat at the scope `scope` picks from the login `of`.
fn opt_pat_out(app: &TestApp, scope: impl FnOnce(&StaffUser) -> Scope, of: &str) {
    let mut conn = app.conn();
    let user = accounts::find_user_by_email(&mut conn, &EmailAddress::parse(of).unwrap())
        .unwrap()
        .unwrap();
    let pat = EmailAddress::parse(PAT).unwrap();
    let event = event(
        user.group_id.unwrap(),
        &pat,
        scope(&user),
        EventKind::OptOut,
    );
    assert!(optouts::db::opt_outs::record(&mut conn, &event).unwrap());
}

fn counts(app: &TestApp) -> (i64, i64, i64) {
    let mut conn = app.conn();
    (
        opt_outs::table.count().get_result(&mut *conn).unwrap(),
        consent_events::table
            .count()
            .get_result(&mut *conn)
            .unwrap(),
        messages::table.count().get_result(&mut *conn).unwrap(),
    )
}

async fn opting_out_at_each_level_cascades_and_the_confirmation_opts_back_in(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let (_, path) = email_to_pat(&app, &smtp).await;

    // The page: who sent it and the default choices (user and group level).
    let page = app.get(&path).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(page.headers().get("set-cookie").is_none());
    let html = page.text().await.unwrap();
    assert_eq!(
        texts(&html, ".pc-sender"),
        ["This email came from Nina Patel at Acme Holdings."]
    );
    assert_eq!(
        texts(&html, ".pc-choices label"),
        [
            "Only emails from Nina Patel",
            "Any emails from Acme Holdings, including all its clients: Events, Newsletters and Tax"
        ]
    );
    assert!(
        texts(&html, ".pc-reason").is_empty(),
        "no reason question by default"
    );

    // User level: only Nina's contact is struck through.
    let response = app.post_form(&path, &[("level", "user")]).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert_eq!(
        texts(&html, ".pc-done"),
        ["You will no longer receive emails from Nina Patel."]
    );
    assert_eq!(pat_badge_for(&app, NINA).await, "Opted out · User");
    assert_eq!(pat_badge_for(&app, "omar.haddad@acme.example").await, "");

    // The confirmation email arrives; its link opens a page (changing nothing), and its POST
    // lifts exactly that opt-out.
    let confirmation = confirmation_for_pat(&app, &smtp, 2).await;
    let text = confirmation.text.as_deref().unwrap();
    assert!(
        text.contains("You will no longer receive emails from Nina Patel."),
        "{text}"
    );
    let opt_in = text
        .lines()
        .find(|l| l.contains("/opt-in/"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(!opt_in.contains('@'));
    let opt_in_path = opt_in.strip_prefix(&app.address).unwrap().to_owned();
    let page = app.get(&opt_in_path).await.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), ["Opt back in?"]);
    assert_eq!(
        pat_badge_for(&app, NINA).await,
        "Opted out · User",
        "GET changed nothing"
    );
    let done = app.post_form(&opt_in_path, &[]).await.text().await.unwrap();
    assert_eq!(texts(&done, "h1"), ["You are subscribed again"]);
    assert_eq!(pat_badge_for(&app, NINA).await, "");
    let again = app.post_form(&opt_in_path, &[]).await.text().await.unwrap();
    assert_eq!(
        texts(&again, "h1"),
        ["Nothing to change"],
        "a second POST is harmless"
    );

    // Group level: every sender in the group sees Pat struck through.
    let html = app
        .post_form(&path, &[("level", "group")])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&html, ".pc-done"),
        [
            "You will no longer receive any emails from Acme Holdings, including all its clients: Events, Newsletters and Tax."
        ]
    );
    for who in [
        NINA,
        "eva.lindqvist@acme.example",
        "tom.becker@acme.example",
    ] {
        assert_eq!(pat_badge_for(&app, who).await, "Opted out · Group", "{who}");
    }
    let undo = input_value(&html, r#"input[name="undo"]"#).expect("an undo button");
    // The page now says so, and offers nothing broader.
    let page = app.get(&path).await.text().await.unwrap();
    assert_eq!(
        texts(&page, ".pc-stopped-item > p:first-child"),
        [
            "You do not receive any emails from Acme Holdings, including all its clients: Events, Newsletters and Tax."
        ]
    );
    assert!(texts(&page, ".pc-choices label").is_empty());

    // "I changed my mind" lifts exactly the group-level opt-out it names.
    let token = path.trim_start_matches("/u/");
    let html = app
        .post_form(&format!("/u/{token}/undo"), &[("undo", &undo)])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&html, "h1"), ["You are subscribed again"]);
    assert_eq!(pat_badge_for(&app, "eva.lindqvist@acme.example").await, "");

    // The evidence: each step with the recipient as actor, with IP and user agent.
    let events: Vec<(String, String, String, Option<String>)> = consent_events::table
        .filter(consent_events::email.eq(PAT))
        .order(consent_events::id)
        .select((
            consent_events::kind,
            consent_events::source,
            consent_events::actor_kind,
            consent_events::ip_address,
        ))
        .load(&mut *app.conn())
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "opt_out",
            "confirmation_sent",
            "opt_in",
            "opt_out",
            "confirmation_sent",
            "opt_in"
        ]
    );
    assert_eq!(events[0].1, "preference_center");
    assert_eq!(events[2].1, "confirmation_email");
    assert_eq!(events[5].1, "preference_center");
    assert!(
        events
            .iter()
            .filter(|e| e.2 == "recipient")
            .all(|e| e.3.as_deref() == Some("127.0.0.1"))
    );
}

async fn one_click_works_with_both_encodings_and_repeats_are_harmless(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let (_, path) = email_to_pat(&app, &smtp).await;
    let url = app.url(&path);
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let before = counts(&app);
    let response = one_click(&bare, &url).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_none());
    assert!(response.headers().get("location").is_none());
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(response.text().await.unwrap().contains("Unsubscribed"));
    assert_eq!(
        pat_badge_for(&app, NINA).await,
        "Opted out · User",
        "default one-click level: the sender"
    );
    let after_first = counts(&app);
    assert_eq!(after_first.0, before.0 + 1);

    // The same click again, now as multipart/form-data: harmless.
    let form = reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click");
    let response = bare.post(&url).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        counts(&app),
        after_first,
        "a repeat changes nothing and queues nothing"
    );

    // Multipart works on its own too: resume on the page, then one-click by multipart alone.
    let token = path.trim_start_matches("/u/");
    let page = app.get(&path).await.text().await.unwrap();
    let resume = input_value(&page, r#"input[name="lift"]"#).expect("a resume button");
    app.post_form(&format!("/u/{token}/resume"), &[("lift", &resume)])
        .await;
    assert_eq!(pat_badge_for(&app, NINA).await, "");
    let form = reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click");
    assert_eq!(
        bare.post(&url)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(pat_badge_for(&app, NINA).await, "Opted out · User");
    let sources: Vec<String> = consent_events::table
        .filter(consent_events::kind.eq("opt_out"))
        .filter(consent_events::email.eq(PAT))
        .select(consent_events::source)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(sources, ["one_click", "one_click"]);
}

async fn get_and_head_change_nothing(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let (_, path) = email_to_pat(&app, &smtp).await;
    let opt_in_token = app.config.signing_keys.opt_in_token(
        {
            let id: i64 = messages::table
                .select(messages::id)
                .first(&mut *app.conn())
                .unwrap();
            optouts::domain::MessageId(id)
        },
        optouts::domain::OptOutId(1),
    );
    let before = counts(&app);
    for _ in 0..3 {
        assert_eq!(app.get(&path).await.status(), 200);
        assert_eq!(
            app.client
                .head(app.url(&path))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let opt_in = format!("/opt-in/{opt_in_token}");
        assert_eq!(app.get(&opt_in).await.status(), 200);
        assert_eq!(
            app.client
                .head(app.url(&opt_in))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    assert_eq!(counts(&app), before);
}

async fn bad_links_get_a_friendly_page_and_change_nothing(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let (_, path) = email_to_pat(&app, &smtp).await;
    let token = path.trim_start_matches("/u/").to_owned();
    let keys = &app.config.signing_keys;
    let message: i64 = messages::table
        .select(messages::id)
        .first(&mut *app.conn())
        .unwrap();
    let message = optouts::domain::MessageId(message);
    let other_keys = optouts::tokens::SigningKeys::generate().unwrap();
    let expired = keys.sign(
        optouts::tokens::Purpose::Unsub,
        &optouts::tokens::UnsubscribeClaims { mid: message.0 },
        Duration::ZERO,
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cases: Vec<(String, u16)> = vec![
        ("/u/not-a-token".into(), 400),
        (format!("/u/{}", &token[..token.len() - 10]), 400),
        (format!("/u/{}", other_keys.unsubscribe_token(message)), 400),
        (format!("/u/{expired}"), 400),
        (
            format!(
                "/u/{}",
                keys.opt_in_token(message, optouts::domain::OptOutId(1))
            ),
            400,
        ),
        (format!("/opt-in/{token}"), 400),
        (
            format!(
                "/u/{}",
                keys.unsubscribe_token(optouts::domain::MessageId(987_654))
            ),
            404,
        ),
        (
            format!(
                "/opt-in/{}",
                keys.opt_in_token(
                    optouts::domain::MessageId(987_654),
                    optouts::domain::OptOutId(1)
                )
            ),
            404,
        ),
    ];
    let before = counts(&app);
    for (bad, status) in &cases {
        let page = app.get(bad).await;
        assert_eq!(page.status().as_u16(), *status, "GET {bad}");
        let html = page.text().await.unwrap();
        assert_eq!(texts(&html, "h2"), ["How to stop emails"], "{bad}");
        let posted = app.post_form(bad, &[("level", "group")]).await;
        assert_eq!(posted.status().as_u16(), *status, "POST {bad}");
        let one_click = app
            .post_form(bad, &[("List-Unsubscribe", "One-Click")])
            .await;
        assert_eq!(one_click.status().as_u16(), *status, "one-click {bad}");
    }
    assert_eq!(counts(&app), before, "nothing changed");

    // Keys rotate: a link signed with the previous key still works after rotation.
    let old_keys = app.config.signing_keys.clone();
    let old_link = old_keys.unsubscribe_token(message);
    drop(app);
    let rotated_app = spawn_app_with(backend, |config| {
        config.signing_keys = optouts::tokens::SigningKeys::generate()
            .unwrap()
            .with_previous(&old_keys);
    })
    .await
    .unwrap();
    rotated_app.load_demo();
    // Different database, so the message is gone: the signature is accepted (404, not 400).
    assert_eq!(
        rotated_app.get(&format!("/u/{old_link}")).await.status(),
        404
    );
}

async fn settings_change_what_the_page_offers(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let (_, path) = email_to_pat(&app, &smtp).await;
    let grace = signed_in(&app, GRACE).await;
    let settings = app
        .get_with(&grace, "/admin/settings/preference-center")
        .await
        .text()
        .await
        .unwrap();
    let token = csrf_token_in(&settings);
    assert_eq!(
        texts(&settings, ".preview-choices li"),
        [
            "Only emails from Grace Hopper",
            "Any emails from Acme Holdings, including all its clients: Events, Newsletters and Tax"
        ]
    );

    // Invalid: no level offered, or a bad colour. Refused with the reason; nothing saved.
    let invalid = app
        .post_form_with(
            &grace,
            "/admin/settings/preference-center",
            &[("csrf_token", &token), ("one_click_level", "user")],
        )
        .await;
    assert_eq!(invalid.status(), 422);
    assert_eq!(
        texts(&invalid.text().await.unwrap(), "#settings-error"),
        ["Offer at least one level on the Preference Center."]
    );
    let invalid = app
        .post_form_with(
            &grace,
            "/admin/settings/preference-center",
            &[
                ("csrf_token", &token),
                ("level_user", "1"),
                ("one_click_level", "user"),
                ("accent_colour", "red;}body{display:none"),
            ],
        )
        .await;
    assert_eq!(invalid.status(), 422);

    // Group defaults: all three levels, the reason question, a display name, a colour.
    let saved = app
        .post_form_with(
            &grace,
            "/admin/settings/preference-center",
            &[
                ("csrf_token", &token),
                ("level_user", "1"),
                ("level_client", "1"),
                ("level_group", "1"),
                ("one_click_level", "user"),
                ("confirmation_email", "1"),
                ("ask_reason", "1"),
                ("display_name", "Acme Group"),
                ("accent_colour", "#AA3300"),
                ("custom_message", "We are sorry to see you go."),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let page = app.get(&path).await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    assert_eq!(
        texts(&html, ".pc-choices label"),
        [
            "Only emails from Nina Patel",
            "Any emails from Newsletters",
            "Any emails from Acme Group, including all its clients: Events, Newsletters and Tax"
        ]
    );
    assert_eq!(texts(&html, ".recipient-brand"), ["Acme Group"]);
    assert_eq!(texts(&html, ".pc-message"), ["We are sorry to see you go."]);
    assert_eq!(
        texts(&html, ".pc-reason legend"),
        ["Why are you leaving? (optional)"]
    );
    assert!(html.contains("--accent: #aa3300"));
    assert!(
        csp.contains("'nonce-") && !csp.contains("unsafe-inline"),
        "{csp}"
    );

    // The reason is kept with the evidence.
    let done = app
        .post_form(
            &path,
            &[
                ("level", "client"),
                ("reason", "too_many"),
                ("reason_text", "weekly is plenty"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    let undo = input_value(&done, r#"input[name="undo"]"#).unwrap();
    let reason: Option<String> = opt_outs::table
        .filter(opt_outs::email.eq(PAT))
        .select(opt_outs::reason)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(
        reason.as_deref(),
        Some("I get too many emails: weekly is plenty")
    );
    let token_path = path.trim_start_matches("/u/");
    app.post_form(&format!("/u/{token_path}/undo"), &[("undo", &undo)])
        .await;

    // A client override for Newsletters by its client admin: client level only, one-click at
    // client level, no confirmation.
    let carl = signed_in(&app, "carl.jensen@acme.example").await;
    let settings = app
        .get_with(&carl, "/admin/settings/preference-center")
        .await
        .text()
        .await
        .unwrap();
    let token = csrf_token_in(&settings);
    let client_id = scraper::Html::parse_document(&settings)
        .select(&scraper::Selector::parse("input[name=client]").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_owned();
    let saved = app
        .post_form_with(
            &carl,
            "/admin/settings/preference-center",
            &[
                ("csrf_token", &token),
                ("client", &client_id),
                ("override_group", "1"),
                ("level_client", "1"),
                ("one_click_level", "client"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let html = app.get(&path).await.text().await.unwrap();
    assert_eq!(
        texts(&html, ".pc-choices label"),
        ["Any emails from Newsletters"]
    );
    let before = counts(&app);
    one_click(&reqwest::Client::new(), &app.url(&path)).await;
    assert_eq!(
        pat_badge_for(&app, "omar.haddad@acme.example").await,
        "Opted out · Client"
    );
    let after = counts(&app);
    assert_eq!(
        after.2, before.2,
        "confirmation off for this client: nothing queued"
    );
    // A level the page does not offer is refused.
    let refused = app.post_form(&path, &[("level", "group")]).await;
    assert_eq!(refused.status(), 422);
    // A client admin cannot change the group defaults or another client's settings.
    let response = app
        .post_form_with(
            &carl,
            "/admin/settings/preference-center",
            &[
                ("csrf_token", &token),
                ("level_user", "1"),
                ("one_click_level", "user"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        303,
        "a client admin's form always targets their own client"
    );
    let nina = signed_in(&app, NINA).await;
    assert_eq!(
        app.get_with(&nina, "/admin/settings/preference-center")
            .await
            .status(),
        404
    );
}

/// Recipients' pages remember a sender's settings for a few seconds, but a POST that records an
/// opt-out reads them afresh: here another server (a direct write, so this one's cache is not
/// told) moves the one-click level to the group after this server showed the page.
async fn a_one_click_follows_settings_saved_by_another_server(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let (_, path) = email_to_pat(&app, &smtp).await;
    let html = app.get(&path).await.text().await.unwrap();
    assert_eq!(
        texts(&html, ".pc-choices label"),
        [
            "Only emails from Nina Patel",
            "Any emails from Acme Holdings, including all its clients: Events, Newsletters and Tax"
        ],
        "the defaults, now remembered"
    );
    {
        let mut conn = app.conn();
        let grace = accounts::find_user_by_email(&mut conn, &EmailAddress::parse(GRACE).unwrap())
            .unwrap()
            .unwrap();
        let group_level = Overrides {
            levels_offered: Some(Level::ALL.to_vec()),
            one_click_level: Some(Level::Group),
            ..Overrides::default()
        };
        preference_settings::save(
            &mut conn,
            grace.group_id.unwrap(),
            None,
            &group_level,
            grace.id,
        )
        .unwrap();
    }
    let response = one_click(&reqwest::Client::new(), &app.url(&path)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        pat_badge_for(&app, "eva.lindqvist@acme.example").await,
        "Opted out · Group",
        "the one-click level saved a moment ago, not the remembered one"
    );
}

/// The page loads the email, its settings and the opt-outs in one query: opt-outs of Pat that
/// do not block Nina (a colleague's, another client's) must not show, and of those that do the
/// broadest is named.
async fn the_page_names_only_the_opt_outs_that_block_its_sender(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let (_, path) = email_to_pat(&app, &smtp).await;
    let already = |html: &str| texts(html, ".pc-how");

    // Omar (Nina's colleague) at user level, and the Events client at client level.
    opt_pat_out(
        &app,
        |omar| Scope::User(omar.id),
        "omar.haddad@acme.example",
    );
    opt_pat_out(
        &app,
        |eva| Scope::Client(eva.client_id.unwrap()),
        "eva.lindqvist@acme.example",
    );
    let html = app.get(&path).await.text().await.unwrap();
    assert!(already(&html).is_empty(), "{:?}", already(&html));
    assert_eq!(texts(&html, ".pc-choices label").len(), 2);

    // Nina herself, then her client: the page names the broadest, the client level.
    opt_pat_out(&app, |nina| Scope::User(nina.id), NINA);
    let html = app.get(&path).await.text().await.unwrap();
    assert_eq!(already(&html).len(), 1);
    assert!(
        already(&html)[0].starts_with("User level"),
        "{:?}",
        already(&html)
    );
    opt_pat_out(&app, |nina| Scope::Client(nina.client_id.unwrap()), NINA);
    let html = app.get(&path).await.text().await.unwrap();
    assert_eq!(already(&html).len(), 2, "{:?}", already(&html));
    assert!(
        already(&html)[0].starts_with("Client level"),
        "broadest first: {:?}",
        already(&html)
    );
}
