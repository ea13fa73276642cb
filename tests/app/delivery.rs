//! Campaigns end to end through a real SMTP server: who receives, what the emails carry,
//! opt-outs between queueing and delivery, SMTP outages, several workers, the file transport.

use crate::campaigns::{add_matching, app_sending_to, create_campaign, send};
use crate::helpers::{
    Backend, TestApp, csrf_on, csrf_token_in, signed_in, spawn_app, spawn_app_with, texts,
};
use crate::on_both_backends;
use crate::smtp::{SmtpServer, free_port};
use diesel::prelude::*;
use optouts::db::schema::{contacts, messages, users};
use optouts::mail::MailUrl;
use std::collections::HashSet;
use std::time::Duration;

const NINA: &str = "nina.patel@acme.example";

on_both_backends!(
    a_campaign_reaches_exactly_the_deliverable_contacts,
    an_opt_out_after_queueing_stops_that_message,
    smtp_down_then_up_delivers_every_message_once,
    the_file_transport_writes_eml_files_by_default,
    a_permanent_refusal_is_kept_with_the_servers_reply,
    campaigns_are_scoped_and_only_their_sender_sends,
    messages_are_dkim_signed_over_the_list_unsubscribe_headers,
);

fn contact_emails_of(app: &TestApp, owner: &str) -> Vec<String> {
    contacts::table
        .inner_join(users::table)
        .filter(users::email.eq(owner))
        .select(contacts::email)
        .load(&mut *app.conn())
        .unwrap()
}

/// The addresses a sender may not email right now, by the domain rule via the set-based query.
fn suppressed_for(app: &TestApp, owner: &str, emails: &[String]) -> HashSet<String> {
    let user = optouts::db::accounts::find_user_by_email(
        &mut app.conn(),
        &optouts::domain::EmailAddress::parse(owner).unwrap(),
    )
    .unwrap()
    .unwrap();
    let sender = optouts::domain::Person {
        id: user.id,
        role: user.role,
        group_id: user.group_id,
        client_id: user.client_id,
    }
    .as_sender()
    .unwrap();
    let parsed: Vec<_> = emails
        .iter()
        .map(|e| optouts::domain::EmailAddress::parse(e).unwrap())
        .collect();
    optouts::db::opt_outs::suppressed_among(&mut app.conn(), &sender, &parsed)
        .unwrap()
        .into_keys()
        .collect()
}

async fn a_campaign_reaches_exactly_the_deliverable_contacts(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    let campaign = create_campaign(&app, &nina, "Autumn").await;

    // Adding every contact: the dialog lists the opted-out ones with their level.
    let html = add_matching(&app, &nina, campaign, "").await;
    let all = contact_emails_of(&app, NINA);
    let blocked = suppressed_for(&app, NINA, &all);
    assert_eq!(
        blocked.len(),
        5,
        "demo: 2 group, 1 client, 2 user-level for Nina: {blocked:?}"
    );
    assert_eq!(texts(&html, "dialog h2"), ["Some contacts have opted out"]);
    let listed: HashSet<String> = texts(&html, "dialog .blocked .contact-address")
        .into_iter()
        .collect();
    // Listed as staff read addresses: internationalised domains in Unicode.
    let blocked_shown: HashSet<String> = blocked
        .iter()
        .map(|e| optouts::domain::EmailAddress::to_unicode_display(e))
        .collect();
    assert_eq!(listed, blocked_shown);
    let levels = texts(&html, "dialog .blocked .badge");
    assert_eq!(
        levels.iter().filter(|l| *l == "Opted out · Group").count(),
        2
    );
    assert_eq!(
        levels.iter().filter(|l| *l == "Opted out · Client").count(),
        1
    );
    assert_eq!(
        levels.iter().filter(|l| *l == "Opted out · User").count(),
        2
    );
    // On the list they are struck through; there is no control to force them.
    assert_eq!(texts(&html, "tr.recipient.opted-out").len(), 5);
    assert!(
        !html.contains("force"),
        "no way to force an opted-out contact"
    );

    send(&app, &nina, campaign).await;
    send(&app, &nina, campaign).await; // a second click changes nothing
    let worker = app.start_worker();
    let expected: HashSet<String> = all
        .iter()
        .filter(|e| !blocked.contains(*e))
        .cloned()
        .collect();
    let received = smtp.wait_for(expected.len()).await;
    worker.stop().await;
    assert_eq!(
        received.len(),
        expected.len(),
        "one email per deliverable contact, none twice"
    );
    let recipients: HashSet<String> = received.iter().map(|m| m.header("to").to_owned()).collect();
    assert_eq!(recipients, expected);

    for message in &received {
        assert_eq!(
            message.header("from"),
            "Nina at Acme <nina.patel@acme.example>"
        );
        assert_eq!(message.header("subject"), "Autumn news & offers");
        assert!(message.header("message-id").starts_with("<m"));
        assert!(!message.header("date").is_empty());
        // One-click stops Nina only (the default): her own list, named after her.
        let list_id = message.list_id.as_ref().unwrap();
        assert_eq!(list_id.phrase, "Nina Patel");
        assert!(list_id.rest.starts_with("<user-"), "{list_id:?}");
        assert_eq!(
            message.header("list-unsubscribe-post"),
            "List-Unsubscribe=One-Click"
        );
        assert_eq!(message.content_type, "multipart/alternative");
        let link = message
            .header("list-unsubscribe")
            .trim_matches(['<', '>'])
            .to_owned();
        assert!(link.starts_with(&format!("{}/u/", app.address)), "{link}");
        assert!(
            !link.contains('@') && !link.contains("%40"),
            "no address in the link: {link}"
        );
        let token = link.rsplit('/').next().unwrap();
        assert!(
            app.config
                .signing_keys
                .verify_unsubscribe_token(token)
                .is_ok()
        );
        let text = message.text.as_deref().unwrap();
        let html = message.html.as_deref().unwrap();
        assert!(
            text.contains("Our autumn news.") && text.contains(&format!("Unsubscribe: {link}"))
        );
        assert!(
            html.contains(&format!(r#"<a href="{link}">Unsubscribe</a>"#)),
            "{html}"
        );
        // The link answers, and opening it changes nothing.
        let page = app.client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), 200);
    }
    let page = app
        .get_with(&nina, &format!("/campaigns/{campaign}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&page, "#count-sent"), [expected.len().to_string()]);
    assert_eq!(texts(&page, "#count-suppressed"), ["5"]);
    assert_eq!(texts(&page, "#count-failed"), ["0"]);
}

async fn an_opt_out_after_queueing_stops_that_message(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    let campaign = create_campaign(&app, &nina, "Small").await;
    add_matching(&app, &nina, campaign, "alice").await;
    let queued_to = contact_emails_of(&app, NINA)
        .into_iter()
        .filter(|e| e.starts_with("alice"))
        .collect::<Vec<_>>();
    assert!(queued_to.len() >= 2, "{queued_to:?}");
    send(&app, &nina, campaign).await;

    // Between queueing and delivery, one recipient opts out (here: by hand, at user level).
    let late = &queued_to[0];
    let contact: i64 = contacts::table
        .inner_join(users::table)
        .filter(users::email.eq(NINA))
        .filter(contacts::email.eq(late))
        .select(contacts::id)
        .first(&mut *app.conn())
        .unwrap();
    let token = csrf_on(&app, &nina, "/campaigns").await;
    let response = app
        .post_form_with(
            &nina,
            &format!("/contacts/{contact}/opt-out"),
            &[("csrf_token", token.as_str()), ("level", "user")],
        )
        .await;
    assert_eq!(response.status(), 303);

    let worker = app.start_worker();
    let received = smtp.wait_for(queued_to.len() - 1).await;
    // Wait until the worker has handled the suppressed one too.
    for _ in 0..100 {
        let open: i64 = messages::table
            .filter(messages::status.eq_any(["queued", "sending"]))
            .count()
            .get_result(&mut *app.conn())
            .unwrap();
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.stop().await;
    let to: Vec<&str> = received.iter().map(|m| m.header("to")).collect();
    assert_eq!(to.len(), queued_to.len() - 1);
    assert!(!to.contains(&late.as_str()), "the late opt-out won");
    let status: String = messages::table
        .filter(messages::to_email.eq(late))
        .select(messages::status)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(status, "suppressed");
    let page = app
        .get_with(&nina, &format!("/campaigns/{campaign}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&page, "#count-suppressed"), ["1"]);
    assert!(
        texts(&page, "tr.recipient.opted-out .recipient-state")
            .contains(&"Will not be sent".to_owned())
    );
}

async fn smtp_down_then_up_delivers_every_message_once(backend: Backend) {
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let Some(app) = spawn_app_with(backend, move |config| {
        config.mail = MailUrl::parse(&url).unwrap();
    })
    .await
    else {
        return;
    };
    app.load_demo();
    let nina = signed_in(&app, NINA).await;
    let campaign = create_campaign(&app, &nina, "Outage").await;
    add_matching(&app, &nina, campaign, "example.org").await;
    send(&app, &nina, campaign).await;
    let queued: i64 = messages::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert!(queued >= 5, "{queued}");

    let worker = app.start_worker();
    // Nothing listens: every message fails and is rescheduled, keeping the error.
    for _ in 0..100 {
        let retried: i64 = messages::table
            .filter(messages::status.eq("queued"))
            .filter(messages::last_error.is_not_null())
            .count()
            .get_result(&mut *app.conn())
            .unwrap();
        if retried == queued {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let smtp = SmtpServer::start_on(port);
    let received = smtp.wait_for(queued as usize).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    worker.stop().await;
    let received_again = smtp.messages();
    assert_eq!(received.len(), queued as usize);
    assert_eq!(received_again.len(), queued as usize, "none sent twice");
    let ids: HashSet<&str> = received_again
        .iter()
        .map(|m| m.header("message-id"))
        .collect();
    assert_eq!(ids.len(), queued as usize);
    let attempts: Vec<i32> = messages::table
        .select(messages::attempts)
        .load(&mut *app.conn())
        .unwrap();
    assert!(
        attempts.iter().all(|a| *a >= 2),
        "every message was retried: {attempts:?}"
    );
    // The delivery log shows the retries.
    let carl = signed_in(&app, "carl.jensen@acme.example").await;
    let log = app
        .get_with(&carl, "/admin/activity/emails")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&log, "tr.email").len(), queued as usize);
    assert!(
        texts(&log, "tr.email .email-status")
            .iter()
            .all(|s| s == "sent")
    );
}

async fn the_file_transport_writes_eml_files_by_default(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let mail_dir = match &app.config.mail {
        MailUrl::File { dir } => dir.clone(),
        other => panic!("default mail transport should be files, got {other:?}"),
    };
    let nina = signed_in(&app, NINA).await;
    let campaign = create_campaign(&app, &nina, "Files").await;
    add_matching(&app, &nina, campaign, "example.co.uk").await;
    send(&app, &nina, campaign).await;
    let queued: i64 = messages::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    let worker = app.start_worker();
    let mut files = Vec::new();
    for _ in 0..100 {
        files = std::fs::read_dir(&mail_dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if files.len() as i64 >= queued {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.stop().await;
    assert_eq!(files.len() as i64, queued);
    for file in files {
        assert_eq!(file.extension().unwrap(), "eml");
        let raw = std::fs::read_to_string(&file).unwrap();
        assert!(
            raw.contains("List-Unsubscribe: <http://127.0.0.1:"),
            "{raw}"
        );
    }
}

async fn campaigns_are_scoped_and_only_their_sender_sends(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let nina = signed_in(&app, NINA).await;
    let campaign = create_campaign(&app, &nina, "Private").await;
    let path = format!("/campaigns/{campaign}");
    let omar = signed_in(&app, "omar.haddad@acme.example").await;
    assert_eq!(app.get_with(&omar, &path).await.status(), 404);
    let eva_admin = signed_in(&app, "eva.lindqvist@acme.example").await;
    assert_eq!(app.get_with(&eva_admin, &path).await.status(), 404);
    let sasha = signed_in(&app, "sasha.support@optouts.example").await;
    assert_eq!(app.get_with(&sasha, &path).await.status(), 404);
    assert_eq!(app.get_with(&sasha, "/campaigns").await.status(), 404);
    // The client admin and the group admin see it, but cannot send it.
    for admin in ["carl.jensen@acme.example", "grace.hopper@acme.example"] {
        let client = signed_in(&app, admin).await;
        let page = app.get_with(&client, &path).await;
        assert_eq!(page.status(), 200, "{admin}");
        let html = page.text().await.unwrap();
        assert!(texts(&html, ".send-form").is_empty());
        let token = csrf_token_in(&html);
        let response = app
            .post_form_with(&client, &format!("{path}/send"), &[("csrf_token", &token)])
            .await;
        assert_eq!(response.status(), 403, "{admin}");
        let listed = app
            .get_with(&client, "/campaigns")
            .await
            .text()
            .await
            .unwrap();
        assert!(texts(&listed, "tr.campaign a").contains(&"Private".to_owned()));
    }
    // Sending without recipients is refused with a reason; an invalid draft too.
    let token = csrf_on(&app, &nina, "/campaigns").await;
    let response = app
        .post_form_with(&nina, &format!("{path}/send"), &[("csrf_token", &token)])
        .await;
    assert_eq!(response.status(), 400);
    let response = app
        .post_form_with(
            &nina,
            "/campaigns",
            &[
                ("csrf_token", &token),
                ("name", "x"),
                ("subject", ""),
                ("from_name", "N"),
                ("body_text", "b"),
            ],
        )
        .await;
    assert_eq!(response.status(), 400);
    assert!(
        texts(&response.text().await.unwrap(), "p")
            .iter()
            .any(|p| p.contains("needs a subject"))
    );
}

/// Two workers (as in two processes) share one PostgreSQL outbox: no message goes out twice.
#[actix_web::test]
async fn two_workers_on_postgres_never_send_one_message_twice() {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(Backend::Postgres, &smtp).await else {
        return;
    };
    // 300 extra contacts for Nina, then one campaign to all of them.
    {
        let mut conn = app.conn();
        let nina = optouts::db::accounts::find_user_by_email(
            &mut conn,
            &optouts::domain::EmailAddress::parse(NINA).unwrap(),
        )
        .unwrap()
        .unwrap();
        for n in 0..300 {
            let email =
                optouts::domain::EmailAddress::parse(&format!("bulk{n}@bulk.example")).unwrap();
            optouts::db::contacts::insert_if_absent(
                &mut conn,
                &optouts::db::contacts::NewContact {
                    owner_user_id: nina.id,
                    client_id: nina.client_id.unwrap(),
                    group_id: nina.group_id.unwrap(),
                    email: &email,
                    name: "",
                },
            )
            .unwrap();
        }
    }
    let nina = signed_in(&app, NINA).await;
    let campaign = create_campaign(&app, &nina, "Bulk").await;
    add_matching(&app, &nina, campaign, "bulk.example").await;
    send(&app, &nina, campaign).await;
    let second_pool = app.db.migrated_pool();
    let first = app.start_worker();
    let second = optouts::mail::worker::DeliveryWorker::new(
        second_pool,
        std::sync::Arc::new(app.config.clone()),
    )
    .unwrap()
    .spawn();
    let received = smtp.wait_for(300).await;
    first.stop().await;
    second.stop().await;
    assert_eq!(received.len(), 300);
    let to: HashSet<&str> = received.iter().map(|m| m.header("to")).collect();
    assert_eq!(to.len(), 300, "each recipient exactly once");
    let attempts: Vec<i32> = messages::table
        .select(messages::attempts)
        .load(&mut *app.conn())
        .unwrap();
    assert!(
        attempts.iter().all(|a| *a == 1),
        "no message was claimed twice"
    );
}

/// With a key configured, every message is DKIM-signed over both List-Unsubscribe headers, and
/// an independent verifier (dkimpy) accepts the signature; a second From, Subject, List-Id or
/// List-Unsubscribe(-Post) added on the way makes it fail.
async fn messages_are_dkim_signed_over_the_list_unsubscribe_headers(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("dkim.pem");
    let made = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&key_file)
        .arg("2048")
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let public = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl rsa -in {} -pubout -outform DER 2>/dev/null | base64 -w0",
            key_file.display()
        ))
        .output()
        .unwrap();
    let public_key = String::from_utf8(public.stdout).unwrap();
    assert!(public_key.len() > 100);
    let pem = std::fs::read_to_string(&key_file).unwrap();

    let smtp = SmtpServer::start();
    let url = smtp.url();
    let Some(app) = spawn_app_with(backend, move |config| {
        config.mail = MailUrl::parse(&url).unwrap();
        config.dkim = Some(
            optouts::config::DkimSettings::checked(
                "mail2026",
                "acme.example",
                secrecy::SecretString::from(pem),
            )
            .unwrap(),
        );
    })
    .await
    else {
        return;
    };
    app.load_demo();
    assert!(
        !format!("{:?}", app.config).contains("PRIVATE KEY"),
        "the key stays out of Debug"
    );
    let nina = signed_in(&app, NINA).await;
    let campaign = create_campaign(&app, &nina, "Signed").await;
    add_matching(&app, &nina, campaign, "example.net").await;
    send(&app, &nina, campaign).await;
    let queued: i64 = messages::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    let worker = app.start_worker();
    let received = smtp.wait_for(queued as usize).await;
    worker.stop().await;
    assert!(!received.is_empty());
    for message in &received {
        assert!(message.header("dkim-signature").contains("d=acme.example"));
        assert!(message.header("dkim-signature").contains("s=mail2026"));
    }
    let oversigned = [
        "from",
        "subject",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ];
    let added: Vec<&str> = oversigned.iter().copied().chain(["x-relayed-by"]).collect();
    let checks = smtp.dkim_results(&public_key, &added);
    assert_eq!(checks.len(), received.len());
    for check in &checks {
        assert!(check.ok, "dkimpy rejected the signature: {check:?}");
        for header in ["to", "date", "message-id"] {
            let times = check.signed_headers.iter().filter(|h| *h == header).count();
            assert_eq!(times, 1, "{header} signed once: {check:?}");
        }
        // Listed once more than present: a copy added after signing breaks the signature.
        // (dkimpy on its own also rejects a second From; a second Subject or List-* header
        // it accepts unless the signature forbids it.)
        for header in oversigned {
            let times = check.signed_headers.iter().filter(|h| *h == header).count();
            assert_eq!(times, 2, "{header} oversigned: {check:?}");
            assert!(
                !check.with_a_second[header],
                "a second {header} added after signing still verified"
            );
        }
        assert!(
            check.with_a_second["x-relayed-by"],
            "an unsigned header added by a relay keeps the signature valid"
        );
    }
    // A wrong key does not verify: the check above can fail.
    let other = std::process::Command::new("sh")
        .arg("-c")
        .arg("openssl genrsa 2048 2>/dev/null | openssl rsa -pubout -outform DER 2>/dev/null | base64 -w0")
        .output()
        .unwrap();
    let other_key = String::from_utf8(other.stdout).unwrap();
    assert!(smtp.dkim_results(&other_key, &[]).iter().all(|c| !c.ok));
}

async fn a_permanent_refusal_is_kept_with_the_servers_reply(backend: Backend) {
    let smtp = SmtpServer::start_refusing("example.co.uk");
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    let campaign = create_campaign(&app, &nina, "Refused").await;
    // Recipients at example.co.uk are refused for good; those at example.org get through.
    add_matching(&app, &nina, campaign, "example.co.uk").await;
    add_matching(&app, &nina, campaign, "example.org").await;
    send(&app, &nina, campaign).await;
    let worker = app.start_worker();
    let mut settled = Vec::new();
    for _ in 0..200 {
        settled = messages::table
            .select((
                messages::to_email,
                messages::status,
                messages::attempts,
                messages::last_error,
            ))
            .load::<(String, String, i32, Option<String>)>(&mut *app.conn())
            .unwrap();
        if settled
            .iter()
            .all(|(_, status, _, _)| status == "sent" || status == "failed")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.stop().await;
    let refused: Vec<_> = settled
        .iter()
        .filter(|(to, ..)| to.ends_with("example.co.uk"))
        .collect();
    assert!(!refused.is_empty());
    for (to, status, attempts, error) in &refused {
        assert_eq!(status, "failed", "{to}");
        assert_eq!(*attempts, 1, "a permanent refusal is not retried");
        assert!(
            error
                .as_deref()
                .unwrap_or_default()
                .contains("mailbox unavailable"),
            "{error:?}"
        );
    }
    let delivered = settled.len() - refused.len();
    assert_eq!(smtp.count(), delivered);
    let page = app
        .get_with(&nina, &format!("/campaigns/{campaign}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&page, "#count-failed"), [refused.len().to_string()]);
    let carl = signed_in(&app, "carl.jensen@acme.example").await;
    let log = app
        .get_with(&carl, "/admin/activity/emails")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        texts(&log, "tr.status-failed .error-text")
            .iter()
            .all(|e| e.contains("mailbox unavailable"))
    );
}
