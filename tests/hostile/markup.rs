//! Markup, script and SQL metacharacters typed into every field a person can type that is
//! shown later: contact name, campaign name, subject, sender name and body, the opt-out note,
//! the Preference Center's reason and settings (display name, message), support's written
//! consent, CSV import rows and file name, and every search or filter box. Each page that shows
//! them, the emails the real SMTP server received (HTML part) and the CSV export must show them
//! as text: no injected element in the parsed DOM, formulas neutralised in the CSV, and the
//! database still whole (the value round-trips exactly, the tables still answer).

use crate::campaigns::{CampaignText, add_matching, app_sending_to, create_campaign_with, send};
use crate::flows::{
    GRACE, NINA, PAT, SASHA, assert_no_injected_markup, footprint, save_group_settings,
    shows_as_text,
};
use crate::helpers::{Backend, TestApp, csrf_on, location, signed_in, texts};
use crate::on_both_backends;
use crate::smtp::{Received, SmtpServer};
use diesel::prelude::*;
use optouts::db::schema::{contacts, opt_outs, users};

on_both_backends!(typed_markup_and_sql_come_back_as_text_everywhere);

/// Script, attribute break-out and SQL in one value (under every field's length limit).
const PAYLOAD: &str =
    r#"<script>alert(1)</script>"><img src=x onerror=alert(1)>'; DROP TABLE opt_outs; --"#;

/// A spreadsheet formula first, then the rest: for the fields that reach the CSV export.
fn formula_payload() -> String {
    format!("=cmd|' /C calc'!A0 {PAYLOAD}")
}

const MALLORY: &str = "mallory@example.com";

/// Checks one page: no injected markup, and `shown` is visible as text (escaped, not dropped).
async fn check_page(app: &TestApp, client: &reqwest::Client, path: &str, shown: &str) -> String {
    let response = app.get_with(client, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let html = response.text().await.unwrap();
    check_html(&html, path, shown);
    html
}

fn check_html(html: &str, what: &str, shown: &str) {
    assert_no_injected_markup(html, what);
    assert!(
        shows_as_text(html, shown),
        "{what}: {shown:?} not shown as text"
    );
}

fn check_email(email: &Received, what: &str, shown: &str) {
    let html = email
        .html
        .as_deref()
        .unwrap_or_else(|| panic!("{what}: no HTML part"));
    check_html(html, what, shown);
    let text = email
        .text
        .as_deref()
        .unwrap_or_else(|| panic!("{what}: no text part"));
    assert!(
        text.contains(shown),
        "{what}: the text part shows it as typed"
    );
}

fn encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn typed_markup_and_sql_come_back_as_text_everywhere(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let grace = signed_in(&app, GRACE).await;
    let nina = signed_in(&app, NINA).await;

    preference_center_settings(&app, &grace).await;
    contact_named(&app, &nina).await;
    let email = campaign_email(&app, &nina, &smtp).await;
    let confirmation = preference_center_reason(&app, &smtp, &email).await;
    // It names the group by the name for recipients typed in the group's settings.
    check_email(&confirmation, "confirmation email", PAYLOAD);
    opt_out_note(&app, &nina).await;
    activity_and_csv(&app, &grace).await;
    csv_import(&app, &grace).await;
    written_consent(&app).await;
    database_still_whole(&app).await;
}

/// Display name and message on the settings page, then on the Preference Center.
async fn preference_center_settings(app: &TestApp, grace: &reqwest::Client) {
    save_group_settings(app, grace, PAYLOAD, PAYLOAD).await;
    check_page(app, grace, "/admin/settings/preference-center", PAYLOAD).await;
}

/// A contact whose name is the payload: the list, a search for it, its page.
async fn contact_named(app: &TestApp, nina: &reqwest::Client) -> i64 {
    let token = csrf_on(app, nina, "/contacts").await;
    let added = app
        .post_form_with(
            nina,
            "/contacts",
            &[
                ("csrf_token", &token),
                ("email", MALLORY),
                ("name", PAYLOAD),
            ],
        )
        .await;
    assert!(
        added.status().is_redirection(),
        "contact added: {}",
        added.status()
    );
    let id: i64 = contacts::table
        .inner_join(users::table)
        .filter(users::email.eq(NINA))
        .filter(contacts::email.eq(MALLORY))
        .select(contacts::id)
        .first(&mut *app.conn())
        .unwrap();
    check_page(app, nina, "/contacts?q=mallory%40", PAYLOAD).await;
    check_page(
        app,
        nina,
        &format!("/contacts?q={}", encoded(PAYLOAD)),
        PAYLOAD,
    )
    .await;
    check_page(app, nina, &format!("/contacts/{id}"), PAYLOAD).await;
    id
}

/// A campaign typed full of the payload, its pages, and the email Mallory receives.
async fn campaign_email(app: &TestApp, nina: &reqwest::Client, smtp: &SmtpServer) -> Received {
    let body = format!("Hello,\n\n{PAYLOAD}");
    let campaign = create_campaign_with(
        app,
        nina,
        &CampaignText {
            name: PAYLOAD,
            subject: PAYLOAD,
            from_name: PAYLOAD,
            body_text: &body,
        },
    )
    .await;
    check_page(app, nina, "/campaigns", PAYLOAD).await;
    let detail = format!("/campaigns/{campaign}");
    check_page(app, nina, &detail, PAYLOAD).await;
    check_page(
        app,
        nina,
        &format!("{detail}?q={}", encoded(PAYLOAD)),
        PAYLOAD,
    )
    .await;
    add_matching(app, nina, campaign, "mallory@").await;
    send(app, nina, campaign).await;
    let worker = app.start_worker();
    let received = smtp.wait_for(1).await;
    worker.stop().await;
    let email = received
        .into_iter()
        .find(|m| m.header("to") == MALLORY)
        .expect("the campaign email");
    assert_eq!(
        email.header("subject"),
        PAYLOAD,
        "the subject arrives as typed"
    );
    // The sender name arrives whole (as a quoted string, so `"` comes back as `\"`), but
    // lettre folds this long quoted name mid-word, so the unfolded header holds an extra space
    // ("oner ror"): compare unquoted and without white space.
    let from = email.header("from");
    let squeezed = |s: &str| {
        s.replace("\\\"", "\"")
            .split_whitespace()
            .collect::<String>()
    };
    assert!(squeezed(from).contains(&squeezed(PAYLOAD)), "{from}");
    assert!(from.ends_with("<nina.patel@acme.example>"), "{from}");
    check_email(&email, "campaign email", PAYLOAD);
    email
}

/// The Preference Center shows the settings' text; the reason typed there is kept as typed.
/// Returns the confirmation email, which names the group by its display name.
async fn preference_center_reason(app: &TestApp, smtp: &SmtpServer, email: &Received) -> Received {
    let link = email.header("list-unsubscribe").trim_matches(['<', '>']);
    let path = link.strip_prefix(&app.address).unwrap().to_owned();
    let bare = reqwest::Client::new();
    let page = check_page(app, &bare, &path, PAYLOAD).await;
    assert_eq!(texts(&page, ".pc-message"), [PAYLOAD]);
    let reason = formula_payload();
    let done = app
        .post_form_with(
            &bare,
            &path,
            &[
                ("level", "group"),
                ("reason", "other"),
                ("reason_text", &reason),
            ],
        )
        .await;
    assert_eq!(done.status(), 200);
    check_html(&done.text().await.unwrap(), "unsubscribed page", PAYLOAD);
    let stored: Option<String> = opt_outs::table
        .filter(opt_outs::email.eq(MALLORY))
        .select(opt_outs::reason)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(stored, Some(format!("Another reason: {reason}")));
    let worker = app.start_worker();
    let received = smtp.wait_for(2).await;
    worker.stop().await;
    received
        .into_iter()
        .find(|m| m.header("subject") == "You have unsubscribed")
        .expect("the confirmation email")
}

/// A manual opt-out with the note, shown on Pat's page.
async fn opt_out_note(app: &TestApp, nina: &reqwest::Client) {
    let pat: i64 = contacts::table
        .inner_join(users::table)
        .filter(users::email.eq(NINA))
        .filter(contacts::email.eq(PAT))
        .select(contacts::id)
        .first(&mut *app.conn())
        .unwrap();
    let token = csrf_on(app, nina, "/contacts").await;
    let note = formula_payload();
    let response = app
        .post_form_with(
            nina,
            &format!("/contacts/{pat}/opt-out"),
            &[("csrf_token", &token), ("level", "user"), ("note", &note)],
        )
        .await;
    assert!(
        response.status().is_redirection(),
        "opted out: {}",
        response.status()
    );
    check_page(app, nina, &format!("/contacts/{pat}"), &note).await;
}

/// The admin's list (and its filter box) shows reasons as text; the CSV neutralises formulas.
async fn activity_and_csv(app: &TestApp, grace: &reqwest::Client) {
    let html = check_page(app, grace, "/admin/activity/opt-outs", &formula_payload()).await;
    assert!(texts(&html, "tr.opt-out").len() >= 2);
    let filtered = format!("/admin/activity/opt-outs?q={}", encoded(PAYLOAD));
    check_page(app, grace, &filtered, PAYLOAD).await;
    let csv = app
        .get_with(grace, "/admin/activity/opt-outs.csv")
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let reason = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "reason")
        .unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a live formula in the export: {cell:?}"
            );
        }
    }
    let reasons: Vec<&str> = rows.iter().map(|r| &r[reason]).collect();
    assert!(
        reasons.contains(&format!("'{}", formula_payload()).as_str()),
        "the note, neutralised and otherwise as typed: {reasons:?}"
    );
    assert!(reasons.contains(&format!("Another reason: {}", formula_payload()).as_str()));
}

/// CSV rows (and a file name) full of markup: the dry run shows them as text; committed, the
/// list does too.
async fn csv_import(app: &TestApp, grace: &reqwest::Client) {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["address", "level", "reason"]).unwrap();
    writer
        .write_record(["imported@example.com", "group", &formula_payload()])
        .unwrap();
    writer
        .write_record([&format!("{PAYLOAD}@example.com"), "group", PAYLOAD])
        .unwrap();
    let csv = String::from_utf8(writer.into_inner().unwrap()).unwrap();
    let preview = import(app, grace, &csv, "preview").await;
    // The rows come back CSV-quoted in the hidden copy the commit sends, so look for a part
    // CSV leaves alone; the copy itself must hold the file exactly.
    check_html(&preview, "import dry run", "<script>alert(1)</script>");
    let document = scraper::Html::parse_document(&preview);
    let kept: String = document
        .select(&scraper::Selector::parse("textarea[name=csv_text]").unwrap())
        .next()
        .expect("the previewed text, kept for the commit")
        .text()
        .collect();
    assert_eq!(kept, csv, "the preview keeps the file byte for byte");
    assert_eq!(texts(&preview, "#invalid-count"), ["1 invalid"]);
    let committed = import(app, grace, &csv, "commit").await;
    assert_eq!(
        texts(&committed, "#import-done"),
        ["Imported: 1 opt-out added."]
    );
    assert_no_injected_markup(&committed, "import committed");
    let list = "/admin/activity/opt-outs?q=imported%40";
    check_page(app, grace, list, &formula_payload()).await;
}

async fn import(app: &TestApp, grace: &reqwest::Client, csv: &str, mode: &str) -> String {
    let token = csrf_on(app, grace, "/admin/activity/opt-outs/import").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .text("mode", mode.to_owned());
    let file_name = format!("{PAYLOAD}.csv");
    let form = if mode == "commit" {
        form.text("csv_text", csv.to_owned())
            .text("file_name", file_name)
    } else {
        form.part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name(file_name),
        )
    };
    let response = grace
        .post(app.url("/admin/activity/opt-outs/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "import {mode}");
    response.text().await.unwrap()
}

/// Support's search box, and written consent typed full of markup, shown in the history.
async fn written_consent(app: &TestApp) {
    let sasha = signed_in(app, SASHA).await;
    let search = format!("/support?q={}", encoded(PAYLOAD));
    let response = app.get_with(&sasha, &search).await;
    assert!(response.status().is_client_error() || response.status().is_success());
    let html = response.text().await.unwrap();
    check_html(&html, "support search box", PAYLOAD);

    let html = check_page(
        app,
        &sasha,
        &format!("/support?q={}", encoded(MALLORY)),
        MALLORY,
    )
    .await;
    let token = crate::helpers::csrf_token_in(&html);
    let ticked: Vec<String> = scraper::Html::parse_document(&html)
        .select(&scraper::Selector::parse("input[name=opt_out]").unwrap())
        .map(|input| input.value().attr("value").unwrap().to_owned())
        .collect();
    assert_eq!(ticked.len(), 1, "Mallory's group-level opt-out");
    let response = app
        .post_form_with(
            &sasha,
            "/support/opt-in",
            &[
                ("csrf_token", &token),
                ("email", MALLORY),
                ("opt_out", &ticked[0]),
                ("consent_given_by", PAYLOAD),
                ("consent_received_on", "2026-11-01"),
                ("consent_reference", PAYLOAD),
                ("consent_text", PAYLOAD),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "lifted on written consent");
    let after = location(&response);
    // The evidence is shown field by field: the payload as typed, as text.
    let html = check_page(app, &sasha, &after, PAYLOAD).await;
    assert!(
        texts(&html, ".history td.evidence dd")
            .iter()
            .any(|e| e == PAYLOAD)
    );
}

/// The SQL in the payload ran nowhere: the tables answer, the values round-trip exactly.
async fn database_still_whole(app: &TestApp) {
    let name: String = contacts::table
        .filter(contacts::email.eq(MALLORY))
        .select(contacts::name)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(name, PAYLOAD);
    let counts = footprint(app);
    assert!(counts.opt_outs > 0 && counts.consent_events > 0 && counts.messages > 0);
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// The checks above would see an injection: unescaped, the payload is caught; escaped, it is
/// shown as text.
#[test]
fn the_page_checks_tell_escaped_from_injected() {
    let injected = format!("<html><body><p>{PAYLOAD}</p></body></html>");
    let caught = std::panic::catch_unwind(|| assert_no_injected_markup(&injected, "raw"));
    assert!(caught.is_err(), "an unescaped payload must fail the check");
    assert!(!shows_as_text(&injected, PAYLOAD));
    let escaped = PAYLOAD
        .replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;");
    let page = format!("<html><body><p>{escaped}</p><input value=\"{escaped}\"></body></html>");
    assert_no_injected_markup(&page, "escaped");
    assert!(shows_as_text(&page, PAYLOAD));
}
