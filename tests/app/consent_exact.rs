//! Consent is exact: a recipient's link lifts only the opt-out rows that its act made or that
//! its page listed and the recipient confirmed, and every page names the real scope. Each test
//! here reproduces a defect found from outside (links lifting staff opt-outs, a used
//! confirmation link lifting a later opt-out, an opt-in request hiding a group-wide lift, a
//! client's display name standing for the group, the Opt in item vanishing after an admin's
//! opt-out), plus the manage page and the window of "I changed my mind".

use crate::campaigns::app_sending_to;
use crate::helpers::{Backend, TestApp, csrf_on, input_value, signed_in, spawn_app, texts};
use crate::on_both_backends;
use crate::seed;
use crate::smtp::SmtpServer;
use diesel::prelude::*;
use optouts::db::schema::{consent_events, opt_outs};
use optouts::domain::MessageId;

const NINA: &str = "nina.patel@acme.example";
const GRACE: &str = "grace.hopper@acme.example";
const CARL: &str = "carl.jensen@acme.example";
/// Pat O'Brien: a contact of every demo sender, opted out of nothing.
const PAT: &str = "o'brien@example.ie";
const ACME_GROUP_WIDE: &str =
    "any emails from Acme Holdings, including all its clients: Events, Newsletters and Tax";

on_both_backends!(
    an_old_links_undo_lifts_no_staff_opt_out,
    a_used_confirmation_link_lifts_no_later_opt_out,
    an_admins_opt_in_request_names_the_group_wide_scope_and_who_asks,
    a_clients_display_name_never_names_the_group,
    the_manage_page_shows_what_is_stopped_and_resumes_only_the_recipients_own,
    the_opt_in_item_stays_after_an_admins_opt_out,
    undo_lifts_only_the_row_its_act_made_and_only_for_a_while,
);

/// A campaign email from Nina to Pat, as sent; its unsubscribe path.
fn email_from_nina_to_pat(app: &TestApp) -> (MessageId, String) {
    let mut conn = app.conn();
    let nina = seed::demo_sender(&mut conn, NINA);
    let id = seed::sent_messages(&mut conn, &nina, &[PAT.to_owned()])[0];
    let path = format!("/u/{}", app.config.signing_keys.unsubscribe_token(id));
    (id, path)
}

/// Pat's active opt-outs as (level, source), sorted.
fn pats_opt_outs(app: &TestApp) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = opt_outs::table
        .filter(opt_outs::email.eq(PAT))
        .select((opt_outs::level, opt_outs::source))
        .load(&mut *app.conn())
        .unwrap();
    rows.sort();
    rows
}

fn opt_in_events(app: &TestApp, email: &str) -> i64 {
    consent_events::table
        .filter(consent_events::email.eq(email))
        .filter(consent_events::kind.eq("opt_in"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

/// A staff member opts a contact of `owner` out by hand, through the dropdown's form.
async fn staff_opt_out(
    app: &TestApp,
    staff: &reqwest::Client,
    owner: &str,
    email: &str,
    level: &str,
) {
    let contact = app.contact_id(owner, email);
    let token = csrf_on(app, staff, &format!("/contacts/{contact}")).await;
    let response = app
        .post_form_with(
            staff,
            &format!("/contacts/{contact}/opt-out"),
            &[("csrf_token", &token), ("level", level)],
        )
        .await;
    assert_eq!(response.status(), 303, "{level}-level opt-out by hand");
}

/// Defect 1: any campaign's link, for its whole life, with `level=group` and no cookie,
/// lifted a group admin's manual opt-out, and the evidence said the recipient opted back in.
async fn an_old_links_undo_lifts_no_staff_opt_out(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let (_, path) = email_from_nina_to_pat(&app);
    let grace = signed_in(&app, GRACE).await;
    staff_opt_out(&app, &grace, NINA, PAT, "group").await;
    let before = pats_opt_outs(&app);
    assert_eq!(before, [("group".to_owned(), "manual".to_owned())]);

    let bare = reqwest::Client::new();
    for form in [
        vec![("level", "group")],
        vec![("level", "user")],
        vec![("level", "group"), ("undo", "not-a-signed-id")],
    ] {
        let response = app
            .post_form_with(&bare, &format!("{path}/undo"), &form)
            .await;
        let html = response.text().await.unwrap();
        assert_eq!(texts(&html, "h1"), ["Nothing to change"], "{form:?}");
    }
    assert_eq!(pats_opt_outs(&app), before, "the staff opt-out stands");
    assert_eq!(opt_in_events(&app, PAT), 0, "no evidence of an opt-in");
}

/// Defect 2: a used confirmation link lifted a later, different opt-out of the same address
/// and scope, recorded by staff.
async fn a_used_confirmation_link_lifts_no_later_opt_out(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let (_, path) = email_from_nina_to_pat(&app);
    let done = app.post_form(&path, &[("level", "user")]).await;
    assert_eq!(done.status(), 200);
    let worker = app.start_worker();
    let confirmation = smtp.wait_for(1).await.remove(0);
    worker.stop().await;
    assert_eq!(confirmation.header("subject"), "You have unsubscribed");
    let link = confirmation
        .text
        .as_deref()
        .unwrap()
        .lines()
        .find(|l| l.contains("/opt-in/"))
        .unwrap()
        .trim()
        .to_owned();
    let opt_in = link.strip_prefix(&app.address).unwrap().to_owned();
    let html = app.post_form(&opt_in, &[]).await.text().await.unwrap();
    assert_eq!(texts(&html, "h1"), ["You are subscribed again"]);
    assert!(pats_opt_outs(&app).is_empty());

    // Later, Nina opts Pat out of her emails by hand: same address, same scope.
    let nina = signed_in(&app, NINA).await;
    staff_opt_out(&app, &nina, NINA, PAT, "user").await;
    let before = pats_opt_outs(&app);
    assert_eq!(before, [("user".to_owned(), "manual".to_owned())]);
    let page = app.get(&opt_in).await.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), ["Nothing to change"]);
    let html = app.post_form(&opt_in, &[]).await.text().await.unwrap();
    assert_eq!(texts(&html, "h1"), ["Nothing to change"]);
    assert_eq!(pats_opt_outs(&app), before, "Nina's opt-out stands");
    assert_eq!(opt_in_events(&app, PAT), 1, "only the first use lifted");
}

/// Defect 3: a request read "You unsubscribed from emails from Nina Patel" and its
/// confirmation lifted a group-level opt-out. Now the email and the page name the group-wide
/// scope, an admin may send it, and it says who asks.
async fn an_admins_opt_in_request_names_the_group_wide_scope_and_who_asks(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let grace = signed_in(&app, GRACE).await;
    staff_opt_out(&app, &grace, NINA, PAT, "group").await;
    let contact = app.contact_id(NINA, PAT);
    let token = csrf_on(&app, &grace, &format!("/contacts/{contact}")).await;
    let response = app
        .post_form_with(
            &grace,
            &format!("/contacts/{contact}/opt-in-request"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(response.status(), 303, "a group admin may ask");

    let worker = app.start_worker();
    let request = smtp.wait_for(1).await.remove(0);
    worker.stop().await;
    assert_eq!(request.header("to"), PAT);
    assert_eq!(
        request.header("subject"),
        "Grace Hopper asks, for Nina Patel: would you like emails again?"
    );
    let text = request.text.as_deref().unwrap();
    assert!(text.contains(&format!("- {ACME_GROUP_WIDE}")), "{text}");
    assert!(!text.contains("You unsubscribed from emails from Nina Patel"));
    let link = text
        .lines()
        .find(|l| l.contains("/opt-in/"))
        .unwrap()
        .trim()
        .to_owned();
    let path = link.strip_prefix(&app.address).unwrap().to_owned();

    let html = app.get(&path).await.text().await.unwrap();
    assert_eq!(
        texts(&html, ".opt-in-effects li"),
        [format!("You will again receive {ACME_GROUP_WIDE}.")]
    );
    assert_eq!(
        texts(&html, ".pc-sender"),
        ["Grace Hopper asked, for Nina Patel."]
    );
    let lift =
        input_value(&html, r#"input[name="lift"]"#).expect("the page signs the list it shows");
    let html = app
        .post_form(&path, &[("lift", &lift)])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&html, "h1"), ["You are subscribed again"]);
    assert!(pats_opt_outs(&app).is_empty());
    // The request's event names the sender it is about and who asked; the lift's evidence
    // keeps the page's words.
    let (actor, evidence): (Option<i64>, Option<String>) = consent_events::table
        .filter(consent_events::kind.eq("opt_in"))
        .select((consent_events::actor_user_id, consent_events::evidence))
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(actor, None, "the recipient acted");
    assert!(evidence.unwrap().contains(ACME_GROUP_WIDE));
}

/// Defect 4: with a client's "Name shown to recipients" set, the group choice read "All
/// emails from Acme Newsletters" while it stopped all of Acme Holdings.
async fn a_clients_display_name_never_names_the_group(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    {
        let mut conn = app.conn();
        let nina = seed::demo_sender(&mut conn, NINA);
        let grace = optouts::db::accounts::find_user_by_email(
            &mut conn,
            &optouts::domain::EmailAddress::parse(GRACE).unwrap(),
        )
        .unwrap()
        .unwrap();
        let shown_name = optouts::domain::preferences::Overrides {
            display_name: Some("Acme Newsletters".into()),
            ..Default::default()
        };
        optouts::db::preference_settings::save(
            &mut conn,
            nina.group_id,
            Some(nina.client_id),
            &shown_name,
            grace.id,
        )
        .unwrap();
    }
    let (_, path) = email_from_nina_to_pat(&app);
    let html = app.get(&path).await.text().await.unwrap();
    let group_wide = "Any emails from Acme Holdings, including all its clients: Events, Acme Newsletters and Tax";
    assert_eq!(
        texts(&html, ".pc-choices label"),
        ["Only emails from Nina Patel", group_wide]
    );
    let done = app.post_form(&path, &[("level", "group")]).await;
    let html = done.text().await.unwrap();
    assert_eq!(
        texts(&html, ".pc-done"),
        [format!("You will no longer receive a{}.", &group_wide[1..])]
    );
    assert!(!html.contains("emails from Acme Newsletters."), "{html}");
}

/// The Preference Center is a manage page: it shows what is stopped and at which level,
/// offers to stop more, and resumes (by a POST naming the row) only what the recipient
/// stopped themselves.
async fn the_manage_page_shows_what_is_stopped_and_resumes_only_the_recipients_own(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let (_, path) = email_from_nina_to_pat(&app);
    let bare = reqwest::Client::new();
    crate::helpers::one_click(&bare, &app.url(&path)).await;
    let html = app.get(&path).await.text().await.unwrap();
    assert_eq!(
        texts(&html, ".pc-stopped-item > p:first-child"),
        ["You do not receive emails from Nina Patel."]
    );
    assert!(texts(&html, ".pc-how")[0].starts_with("User level"));
    assert_eq!(texts(&html, ".pc-stopped-item form button").len(), 1);
    assert_eq!(
        texts(&html, ".pc-choices label"),
        [format!("Any emails from {}", &ACME_GROUP_WIDE[16..])],
        "it offers to stop more"
    );

    // Nina's client admin stops the whole client for Pat: shown, but not the recipient's to
    // resume.
    let carl = signed_in(&app, CARL).await;
    staff_opt_out(&app, &carl, NINA, PAT, "client").await;
    let html = app.get(&path).await.text().await.unwrap();
    let items = texts(&html, ".pc-stopped-item > p:first-child");
    assert_eq!(
        items,
        [
            "You do not receive any emails from Newsletters.",
            "You do not receive emails from Nina Patel."
        ]
    );
    assert!(texts(&html, ".pc-how")[0].contains("recorded for you by the sender's organisation"));
    assert_eq!(
        texts(&html, ".pc-stopped-item form button"),
        ["Resume emails from Nina Patel"]
    );
    let resume = input_value(&html, r#"input[name="lift"]"#).unwrap();
    let resumed = app
        .post_form_with(&bare, &format!("{path}/resume"), &[("lift", &resume)])
        .await;
    assert_eq!(resumed.status(), 200);
    assert_eq!(
        texts(&resumed.text().await.unwrap(), ".pc-done"),
        ["You will again receive emails from Nina Patel."]
    );
    assert_eq!(
        pats_opt_outs(&app),
        [("client".to_owned(), "manual".to_owned())],
        "only the recipient's own opt-out was resumed"
    );
    let evidence: Option<String> = consent_events::table
        .filter(consent_events::kind.eq("opt_in"))
        .select(consent_events::evidence)
        .first(&mut *app.conn())
        .unwrap();
    assert!(
        evidence
            .unwrap()
            .contains("You will again receive emails from Nina Patel.")
    );
    // Admins read it as the recipient saw it, on the page and in the CSV, never as JSON.
    let grace = signed_in(&app, GRACE).await;
    let csv = app
        .get_with(&grace, "/admin/activity/opt-outs.csv?lifted=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("You will again receive emails from Nina Patel."),
        "{csv}"
    );
    assert!(!csv.contains("shown"), "{csv}");
    // The same button again: nothing to change.
    let again = app
        .post_form_with(&bare, &format!("{path}/resume"), &[("lift", &resume)])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&again, "h1"), ["Nothing to change"]);
    assert_eq!(opt_in_events(&app, PAT), 1);
}

/// Defect: after an admin's opt-out, the Opt in item vanished from the menu. It shows for
/// everyone who may ask: the owner and the admins over them.
async fn the_opt_in_item_stays_after_an_admins_opt_out(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let grace = signed_in(&app, GRACE).await;
    staff_opt_out(&app, &grace, NINA, PAT, "group").await;
    let contact = app.contact_id(NINA, PAT);
    for who in [GRACE, CARL, NINA] {
        let client = signed_in(&app, who).await;
        let page = app
            .get_with(&client, &format!("/contacts/{contact}"))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(
            texts(&page, ".menu-button"),
            ["Opt in: email them a request to confirm"],
            "{who}"
        );
    }
}

/// "I changed my mind" names the row its act made: after that row is gone, a newer opt-out of
/// the same scope is not lifted by it; and it works for minutes, not for the link's life.
async fn undo_lifts_only_the_row_its_act_made_and_only_for_a_while(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let (id, path) = email_from_nina_to_pat(&app);
    let bare = reqwest::Client::new();
    let first = app
        .post_form_with(&bare, &path, &[("level", "group")])
        .await
        .text()
        .await
        .unwrap();
    let undo = input_value(&first, r#"input[name="undo"]"#).expect("an undo button");
    let undone = app
        .post_form_with(&bare, &format!("{path}/undo"), &[("undo", &undo)])
        .await;
    assert_eq!(
        texts(&undone.text().await.unwrap(), "h1"),
        ["You are subscribed again"]
    );
    assert!(pats_opt_outs(&app).is_empty());

    // A second opt-out of the same scope: the first act's undo does not lift it.
    let second = app
        .post_form_with(&bare, &path, &[("level", "group")])
        .await
        .text()
        .await
        .unwrap();
    let again = app
        .post_form_with(&bare, &format!("{path}/undo"), &[("undo", &undo)])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&again, "h1"), ["Nothing to change"]);
    assert_eq!(pats_opt_outs(&app).len(), 1);

    // Its own undo, once the window has passed: refused, nothing lifted.
    let row: i64 = opt_outs::table
        .filter(opt_outs::email.eq(PAT))
        .select(opt_outs::id)
        .first(&mut *app.conn())
        .unwrap();
    assert!(input_value(&second, r#"input[name="undo"]"#).is_some());
    let expired = app.config.signing_keys.lift_token(
        id,
        optouts::tokens::LiftAct::Undo,
        &[optouts::domain::OptOutId(row)],
        std::time::Duration::ZERO,
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let late = app
        .post_form_with(&bare, &format!("{path}/undo"), &[("undo", &expired)])
        .await;
    assert_eq!(late.status(), 400);
    assert_eq!(
        texts(&late.text().await.unwrap(), "h1"),
        ["Nothing to change"]
    );
    assert_eq!(pats_opt_outs(&app).len(), 1);
    // A list signed for another act is not an undo.
    let resume = app.config.signing_keys.lift_token(
        id,
        optouts::tokens::LiftAct::Resume,
        &[optouts::domain::OptOutId(row)],
        optouts::tokens::UNDO_WINDOW,
    );
    let wrong = app
        .post_form_with(&bare, &format!("{path}/undo"), &[("undo", &resume)])
        .await;
    assert_eq!(wrong.status(), 400);
    assert_eq!(pats_opt_outs(&app).len(), 1);
    assert_eq!(opt_in_events(&app, PAT), 1);
}
