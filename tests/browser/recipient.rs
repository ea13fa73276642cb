//! Journey 4: the recipient's side. A campaign goes through the real delivery worker to a real
//! SMTP server (aiosmtpd); the recipient takes the Unsubscribe link from the received email,
//! opens it on a phone, chooses a level and unsubscribes; then comes back in, once with "I
//! changed my mind" and once from the confirmation email's link. Each step is checked on the
//! page and in the database.

use crate::campaign::{add_ticked, create_draft};
use crate::driver::{Browser, PHONE, per_backend};
use crate::helpers::{Backend, TestApp, spawn_app_with, within};
use crate::on_both_backends;
use crate::smtp::{Received, SmtpServer};
use diesel::prelude::*;
use optouts::db::schema::{consent_events, opt_outs};
use optouts::mail::MailUrl;

const NINA: &str = "nina.patel@acme.example";
/// Pat O'Brien: a contact of Nina's, opted out of nothing.
const PAT: &str = "o'brien@example.ie";

on_both_backends!(a_recipient_unsubscribes_on_a_phone_and_comes_back);

async fn a_recipient_unsubscribes_on_a_phone_and_comes_back(backend: Backend) {
    within(240, recipient_journey(backend)).await
}

/// The levels of Pat's active opt-outs, as stored.
fn active_levels_of_pat(app: &TestApp) -> Vec<String> {
    opt_outs::table
        .filter(opt_outs::email.eq(PAT))
        .select(opt_outs::level)
        .order(opt_outs::level)
        .load(&mut *app.conn())
        .unwrap()
}

/// The href of the link in an email's HTML part whose text is `text`.
fn link_in(email: &Received, text: &str) -> String {
    let html = email.html.as_deref().expect("an HTML part");
    let document = scraper::Html::parse_document(html);
    let anchors = scraper::Selector::parse("a[href]").unwrap();
    document
        .select(&anchors)
        .find(|a| a.text().collect::<String>().trim() == text)
        .and_then(|a| a.value().attr("href"))
        .unwrap_or_else(|| panic!("a link {text:?} in {html}"))
        .to_owned()
}

/// Nina, at her desk, sends a campaign to Pat; returns the email Pat received.
async fn campaign_email_to_pat(app: &TestApp, smtp: &SmtpServer) -> Received {
    let nina = Browser::open(app).await;
    nina.sign_in(NINA).await;
    create_draft(&nina, "Autumn news").await;
    add_ticked(&nina, &[PAT]).await;
    assert_eq!(nina.text("#dialog-title").await, "Contacts added");
    // Without a keyboard: the dialog's own button (a plain form, works without script).
    nina.click("dialog.suppressed-dialog button").await;
    nina.wait_until(
        "the dialog is gone",
        "return document.querySelector('dialog') === null;",
    )
    .await;
    nina.click(".send-button").await;
    nina.wait_for_text("#send-question", "Send to 1 contact")
        .await;
    nina.click(".send-form button").await;
    nina.wait_for_text(".notice", "The campaign is queued: emails go out now.")
        .await;
    assert!(nina.text("p.owner").await.contains("Sent"));
    nina.close().await;

    let received = smtp.wait_for(1).await;
    assert_eq!(received.len(), 1, "one email, to Pat");
    received.into_iter().next().unwrap()
}

async fn recipient_journey(backend: Backend) {
    let smtp = SmtpServer::start();
    let mail_url = smtp.url();
    let Some(app) = spawn_app_with(backend, move |config| {
        config.mail = MailUrl::parse(&mail_url).unwrap();
    })
    .await
    else {
        return;
    };
    app.load_demo();
    let worker = app.start_worker();

    // The email: to Pat, with an Unsubscribe link that names no address.
    let email = campaign_email_to_pat(&app, &smtp).await;
    assert_eq!(email.header("to"), PAT);
    assert_eq!(email.header("subject"), "Autumn news & offers");
    let unsubscribe = link_in(&email, "Unsubscribe");
    assert!(unsubscribe.starts_with(&format!("{}/u/", app.address)));
    assert!(!unsubscribe.contains('@') && !unsubscribe.contains("brien"));
    assert_eq!(
        email.header("list-unsubscribe"),
        format!("<{unsubscribe}>"),
        "the footer link and the mail client's button lead to the same page"
    );

    // On a phone: the Preference Center fits the screen and says who sent the email.
    let pat = Browser::open_phone(&app).await;
    pat.visit_url(&unsubscribe).await;
    pat.wait_for_text("h1", "Unsubscribe").await;
    assert_eq!(
        pat.script("return window.innerWidth;").await,
        PHONE.0,
        "a phone-sized viewport"
    );
    assert_eq!(
        pat.script("return document.documentElement.scrollWidth <= window.innerWidth;")
            .await,
        true,
        "nothing wider than the phone: no sideways scrolling"
    );
    assert_eq!(
        pat.text(".pc-sender").await,
        "This email came from Nina Patel at Acme Holdings."
    );
    assert_eq!(
        pat.texts(".pc-choices label").await,
        [
            "Only emails from Nina Patel",
            "Any emails from Acme Holdings, including all its clients: Events, Newsletters and Tax"
        ]
    );
    pat.screenshot(&per_backend("preference-center-phone", backend))
        .await;

    // Everything from the group: tapped on its label, then the big button.
    pat.click("label[for=level-group]").await;
    assert!(pat.find("#level-group").await.is_selected().await.unwrap());
    pat.click("button.big-button[type=submit]").await;
    pat.wait_for_text("h1", "You have unsubscribed").await;
    assert_eq!(
        pat.text(".pc-done").await,
        "You will no longer receive any emails from Acme Holdings, including all its clients: Events, Newsletters and Tax."
    );
    assert_eq!(active_levels_of_pat(&app), ["group"]);
    pat.screenshot(&per_backend("preference-center-unsubscribed", backend))
        .await;

    // "I changed my mind", right there: subscribed again.
    pat.click("form[action$='/undo'] button").await;
    pat.wait_for_text("h1", "You are subscribed again").await;
    assert_eq!(
        pat.text(".pc-done").await,
        "You will again receive any emails from Acme Holdings, including all its clients: Events, Newsletters and Tax."
    );
    assert!(active_levels_of_pat(&app).is_empty());

    // Back to the same link: the choices are offered again; this time only Nina's emails.
    pat.visit_url(&unsubscribe).await;
    pat.wait_for_text("h1", "Unsubscribe").await;
    assert!(
        pat.find_all(".pc-stopped-item").await.is_empty(),
        "nothing stopped now"
    );
    pat.click("label[for=level-user]").await;
    pat.click("button.big-button[type=submit]").await;
    pat.wait_for_text("h1", "You have unsubscribed").await;
    assert_eq!(
        pat.text(".pc-done").await,
        "You will no longer receive emails from Nina Patel."
    );
    assert_eq!(active_levels_of_pat(&app), ["user"]);

    // Coming back to the link: a page to manage what is stopped, still phone-sized.
    pat.visit_url(&unsubscribe).await;
    pat.wait_for_text("h1", "Manage your emails").await;
    assert_eq!(
        pat.texts(".pc-stopped-item > p:first-child").await,
        ["You do not receive emails from Nina Patel."]
    );
    assert_eq!(
        pat.texts(".pc-stopped-item button").await,
        ["Resume emails from Nina Patel"]
    );
    assert_eq!(
        pat.script("return document.documentElement.scrollWidth <= window.innerWidth;")
            .await,
        true,
        "the manage page fits the phone too"
    );
    pat.screenshot(&per_backend("preference-center-manage", backend))
        .await;

    // The confirmation email for that opt-out: its link asks before it changes anything.
    let received = smtp.wait_for(3).await;
    let confirmation = received
        .iter()
        .find(|m| {
            m.header("subject") == "You have unsubscribed"
                && m.text
                    .as_deref()
                    .is_some_and(|t| t.contains("receive emails from Nina Patel."))
        })
        .expect("the confirmation of the user-level opt-out");
    let opt_in = link_in(confirmation, "Opt back in");
    assert!(opt_in.starts_with(&format!("{}/opt-in/", app.address)));
    assert!(!opt_in.contains('@'));
    pat.visit_url(&opt_in).await;
    pat.wait_for_text("h1", "Opt back in?").await;
    assert_eq!(
        pat.texts(".opt-in-effects li").await,
        ["You will again receive emails from Nina Patel."]
    );
    assert_eq!(
        active_levels_of_pat(&app),
        ["user"],
        "opening the link changed nothing"
    );
    pat.click("form[action^='/opt-in/'] button[type=submit]")
        .await;
    pat.wait_for_text("h1", "You are subscribed again").await;
    assert!(active_levels_of_pat(&app).is_empty());
    pat.screenshot(&per_backend("opted-back-in", backend)).await;

    // The evidence, in order, made by this browser (its user agent is kept).
    let events: Vec<(String, Option<String>, String, Option<String>)> = consent_events::table
        .filter(consent_events::email.eq(PAT))
        .order(consent_events::id)
        .select((
            consent_events::kind,
            consent_events::level,
            consent_events::source,
            consent_events::user_agent,
        ))
        .load(&mut *app.conn())
        .unwrap();
    let steps: Vec<(&str, Option<&str>, &str)> = events
        .iter()
        .map(|(kind, level, source, _)| (kind.as_str(), level.as_deref(), source.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("opt_out", Some("group"), "preference_center"),
            ("confirmation_sent", Some("group"), "preference_center"),
            ("opt_in", Some("group"), "preference_center"),
            ("opt_out", Some("user"), "preference_center"),
            ("confirmation_sent", Some("user"), "preference_center"),
            ("opt_in", Some("user"), "confirmation_email"),
        ]
    );
    let browser_agent = pat
        .script("return navigator.userAgent;")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    for (kind, _, _, agent) in events.iter().filter(|e| e.0 != "confirmation_sent") {
        assert_eq!(agent.as_deref(), Some(browser_agent.as_str()), "{kind}");
    }

    pat.close().await;
    worker.stop().await;
}
