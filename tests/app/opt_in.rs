//! Opting back in: opt-in requests from senders (through the real SMTP server) and the
//! support back end with written consent.

use crate::campaigns::app_sending_to;
use crate::helpers::{Backend, TestApp, csrf_token_in, input_value, location, signed_in, texts};
use crate::on_both_backends;
use crate::smtp::SmtpServer;
use diesel::prelude::*;
use optouts::db::schema::{consent_events, messages, opt_outs, users};

const NINA: &str = "nina.patel@acme.example";
const SASHA: &str = "sasha.support@optouts.example";
/// Zoë: demo client-level opt-out at Newsletters. We add a group- and a user-level one.
const ZOE: &str = "zoe@xn--mller-kva.example";

/// What a request about Nina's mail to Zoë lifts, worded for Zoë, broadest first.
const WHAT_A_REQUEST_LIFTS: [&str; 3] = [
    "any emails from Acme Holdings, including all its clients: Events, Newsletters and Tax",
    "any emails from Newsletters",
    "emails from Nina Patel",
];

on_both_backends!(
    an_opt_in_request_lifts_exactly_what_it_shows,
    opt_in_requests_are_limited_and_expire,
    support_lifts_only_with_complete_written_consent,
);

fn active_levels(app: &TestApp, email: &str) -> Vec<String> {
    let mut levels: Vec<String> = opt_outs::table
        .filter(opt_outs::email.eq(email))
        .select(opt_outs::level)
        .load(&mut *app.conn())
        .unwrap();
    levels.sort();
    levels
}

async fn contact_page(app: &TestApp, client: &reqwest::Client, id: i64) -> String {
    app.get_with(client, &format!("/contacts/{id}"))
        .await
        .text()
        .await
        .unwrap()
}

/// Adds user- and group-level opt-outs of Zoë (by Grace, at group level; Nina at user level)
/// so that all three levels block Nina.
async fn block_zoe_everywhere(app: &TestApp) {
    let grace = signed_in(app, "grace.hopper@acme.example").await;
    let contact = app.contact_id(NINA, ZOE);
    let token = csrf_token_in(&contact_page(app, &grace, contact).await);
    for level in ["group", "user"] {
        let response = app
            .post_form_with(
                &grace,
                &format!("/contacts/{contact}/opt-out"),
                &[("csrf_token", token.as_str()), ("level", level)],
            )
            .await;
        assert_eq!(response.status(), 303);
    }
    // Another user's user-level opt-out: not Nina's to lift.
    let omar = app.contact_id("omar.haddad@acme.example", ZOE);
    let response = app
        .post_form_with(
            &grace,
            &format!("/contacts/{omar}/opt-out"),
            &[("csrf_token", token.as_str()), ("level", "user")],
        )
        .await;
    assert_eq!(response.status(), 303);
}

async fn request_opt_in(
    app: &TestApp,
    client: &reqwest::Client,
    contact: i64,
) -> reqwest::Response {
    let token = csrf_token_in(&contact_page(app, client, contact).await);
    app.post_form_with(
        client,
        &format!("/contacts/{contact}/opt-in-request"),
        &[("csrf_token", &token)],
    )
    .await
}

async fn an_opt_in_request_lifts_exactly_what_it_shows(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    block_zoe_everywhere(&app).await;
    assert_eq!(
        active_levels(&app, ZOE),
        ["client", "group", "user", "user"]
    );
    let nina = signed_in(&app, NINA).await;
    let contact = app.contact_id(NINA, ZOE);

    // The menu offers "Opt in"; it sends a request, it does not opt anyone in.
    let page = contact_page(&app, &nina, contact).await;
    assert_eq!(
        texts(&page, ".menu-button"),
        ["Opt in: email them a request to confirm"]
    );
    let response = request_opt_in(&app, &nina, contact).await;
    assert_eq!(
        location(&response),
        format!("/contacts/{contact}?requested=1")
    );
    assert_eq!(active_levels(&app, ZOE).len(), 4, "nothing lifted yet");
    let page = contact_page(&app, &nina, contact).await;
    assert!(
        texts(&page, ".menu-note")[0].starts_with("Opt-in request sent"),
        "the menu says when the next is possible"
    );

    // The request email: fixed wording, a link, no marketing content.
    let worker = app.start_worker();
    let received = smtp.wait_for(1).await;
    worker.stop().await;
    let request = &received[0];
    assert_eq!(request.header("to"), ZOE);
    assert_eq!(
        request.header("subject"),
        "Nina Patel asks: would you like their emails again?"
    );
    assert!(!request.headers.contains_key("list-unsubscribe"));
    let text = request.text.as_deref().unwrap();
    // It names every opt-out a confirmation lifts, each in its real scope.
    for line in WHAT_A_REQUEST_LIFTS {
        assert!(text.contains(&format!("- {line}")), "{line} in {text}");
    }
    let link = text
        .lines()
        .find(|l| l.contains("/opt-in/"))
        .unwrap()
        .trim()
        .to_owned();
    let path = link.strip_prefix(&app.address).unwrap().to_owned();

    // The page says exactly what will be lifted: Nina's user, client and group levels.
    let before = active_levels(&app, ZOE);
    let html = app.get(&path).await.text().await.unwrap();
    let shown: Vec<String> = WHAT_A_REQUEST_LIFTS
        .iter()
        .map(|line| format!("You will again receive {line}."))
        .collect();
    assert_eq!(texts(&html, ".opt-in-effects li"), shown);
    assert_eq!(texts(&html, ".pc-sender"), ["Nina Patel asked."]);
    assert_eq!(active_levels(&app, ZOE), before, "GET changed nothing");
    // The POST lifts the list the page signed, and nothing without it.
    let lift = input_value(&html, r#"input[name="lift"]"#).expect("the page's list");
    let unsigned = app.post_form(&path, &[]).await;
    assert_eq!(unsigned.status(), 400);
    assert_eq!(active_levels(&app, ZOE), before, "no list, no lift");
    let html = app
        .post_form(&path, &[("lift", &lift)])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&html, ".pc-done"), shown);
    // Exactly those: Omar's own user-level opt-out stays.
    assert_eq!(active_levels(&app, ZOE), ["user"]);
    let remaining: i64 = opt_outs::table
        .inner_join(users::table.on(users::id.eq(opt_outs::scope_id)))
        .filter(opt_outs::email.eq(ZOE))
        .filter(users::email.eq("omar.haddad@acme.example"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(remaining, 1);
    // The evidence keeps what the page said.
    let evidence: Vec<Option<String>> = consent_events::table
        .filter(consent_events::kind.eq("opt_in"))
        .select(consent_events::evidence)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(evidence.len(), 3);
    for stored in evidence {
        let stored: serde_json::Value = serde_json::from_str(&stored.unwrap()).unwrap();
        assert_eq!(stored["shown"], serde_json::json!(shown));
    }
    let again = app
        .post_form(&path, &[("lift", &lift)])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&again, "h1"),
        ["Nothing to change"],
        "a second POST is harmless"
    );

    // The history shows every step with its actor.
    let page = contact_page(&app, &nina, contact).await;
    let history = texts(&page, ".history tr.event");
    // What the recipient was shown reads as lines, not as the stored JSON.
    assert!(
        texts(&page, ".history tr.event dd")
            .contains(&"You will again receive emails from Nina Patel.".to_owned()),
        "{history:?}"
    );
    assert!(
        !history.iter().any(|e| e.contains("\"shown\"")),
        "{history:?}"
    );
    assert!(
        history
            .iter()
            .any(|e| e.contains("Opt-in request sent") && e.contains("Nina Patel")),
        "{history:?}"
    );
    let lifts: Vec<&String> = history
        .iter()
        .filter(|e| e.contains("Opted back in"))
        .collect();
    assert_eq!(lifts.len(), 3, "{history:?}");
    assert!(
        lifts
            .iter()
            .all(|e| e.contains("The recipient") && e.contains("Link in an opt-in request"))
    );
    let request_events: Vec<Option<i64>> = consent_events::table
        .filter(consent_events::kind.eq("opt_in"))
        .filter(consent_events::source.eq("opt_in_request"))
        .select(consent_events::message_id)
        .load(&mut *app.conn())
        .unwrap();
    let request_id: i64 = messages::table
        .filter(messages::kind.eq("opt_in_request"))
        .select(messages::id)
        .first(&mut *app.conn())
        .unwrap();
    assert!(
        request_events.iter().all(|m| *m == Some(request_id)),
        "events name the request"
    );
}

async fn opt_in_requests_are_limited_and_expire(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    let contact = app.contact_id(NINA, ZOE);
    assert_eq!(request_opt_in(&app, &nina, contact).await.status(), 303);
    let second = request_opt_in(&app, &nina, contact).await;
    assert_eq!(second.status(), 429);
    let html = second.text().await.unwrap();
    assert!(
        texts(&html, "p")
            .iter()
            .any(|p| p.contains("The next one is possible on")),
        "{html}"
    );
    let queued: i64 = messages::table
        .filter(messages::kind.eq("opt_in_request"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(queued, 1, "at most one per contact and sender in 30 days");

    // Not opted out: nothing to ask. Someone else's contact: 404.
    let pat = app.contact_id(NINA, "o'brien@example.ie");
    assert_eq!(request_opt_in(&app, &nina, pat).await.status(), 400);
    let omars = app.contact_id("omar.haddad@acme.example", ZOE);
    let token = csrf_token_in(&contact_page(&app, &nina, contact).await);
    let response = app
        .post_form_with(
            &nina,
            &format!("/contacts/{omars}/opt-in-request"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(response.status(), 404);

    // An expired request link: a friendly page, nothing lifted.
    let request: i64 = messages::table
        .filter(messages::kind.eq("opt_in_request"))
        .select(messages::id)
        .first(&mut *app.conn())
        .unwrap();
    let expired = app.config.signing_keys.sign(
        optouts::tokens::Purpose::Optin,
        &optouts::tokens::OptInClaims {
            mid: request,
            lvl: Some("all".into()),
            oid: None,
        },
        std::time::Duration::ZERO,
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let before = active_levels(&app, ZOE);
    let response = app.post_form(&format!("/opt-in/{expired}"), &[]).await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("The link has expired.")
    );
    assert_eq!(active_levels(&app, ZOE), before);
}

async fn support_lifts_only_with_complete_written_consent(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    block_zoe_everywhere(&app).await;
    // Only support reaches the back end.
    for who in [
        NINA,
        "carl.jensen@acme.example",
        "grace.hopper@acme.example",
    ] {
        let client = signed_in(&app, who).await;
        assert_eq!(
            app.get_with(&client, "/support").await.status(),
            404,
            "{who}"
        );
        let token = csrf_token_in(
            &app.get_with(&client, "/contacts")
                .await
                .text()
                .await
                .unwrap(),
        );
        let response = app
            .post_form_with(
                &client,
                "/support/opt-in",
                &[("csrf_token", &token), ("email", ZOE)],
            )
            .await;
        assert_eq!(response.status(), 404, "{who}");
    }
    let sasha = signed_in(&app, SASHA).await;
    let html = app
        .get_with(&sasha, "/support?q=ZOE%40M%C3%BCller.example")
        .await
        .text()
        .await
        .unwrap();
    let rows = texts(&html, "tr.support-opt-out");
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(texts(&html, ".history tr.event").len() >= 4);
    let token = csrf_token_in(&html);
    let ids: Vec<String> = scraper::Html::parse_document(&html)
        .select(&scraper::Selector::parse("input[name=opt_out]").unwrap())
        .map(|i| i.value().attr("value").unwrap().to_owned())
        .collect();
    let group_row = scraper::Html::parse_document(&html)
        .select(&scraper::Selector::parse("tr.support-opt-out").unwrap())
        .find(|tr| tr.text().any(|t| t == "Group"))
        .and_then(|tr| {
            tr.select(&scraper::Selector::parse("input").unwrap())
                .next()
                .map(|i| i.value().attr("value").unwrap().to_owned())
        })
        .unwrap();
    assert!(ids.contains(&group_row));

    let complete = [
        ("consent_given_by", "Zoë Müller, zoe@müller.example"),
        ("consent_received_on", "2026-11-20"),
        ("consent_reference", "TICKET-4711"),
        ("consent_text", "I want Acme's newsletters again. Zoë"),
    ];
    let before = active_levels(&app, ZOE);
    // Each missing piece of evidence is refused with a clear message; nothing changes.
    for missing in 0..complete.len() {
        let mut form: Vec<(&str, &str)> = vec![
            ("csrf_token", &token),
            ("email", ZOE),
            ("opt_out", &group_row),
        ];
        form.extend(
            complete
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != missing)
                .map(|(_, f)| *f),
        );
        let response = app.post_form_with(&sasha, "/support/opt-in", &form).await;
        assert_eq!(response.status(), 422, "without {}", complete[missing].0);
        let html = response.text().await.unwrap();
        assert!(
            texts(&html, "#support-error")[0].starts_with("Nothing was changed"),
            "{html}"
        );
    }
    let mut future = vec![
        ("csrf_token", token.as_str()),
        ("email", ZOE),
        ("opt_out", group_row.as_str()),
    ];
    future.extend(complete.iter().map(|(k, v)| {
        if *k == "consent_received_on" {
            (*k, "2999-01-01")
        } else {
            (*k, *v)
        }
    }));
    assert_eq!(
        app.post_form_with(&sasha, "/support/opt-in", &future)
            .await
            .status(),
        422
    );
    let mut nothing_ticked = vec![("csrf_token", token.as_str()), ("email", ZOE)];
    nothing_ticked.extend(complete.iter().copied());
    assert_eq!(
        app.post_form_with(&sasha, "/support/opt-in", &nothing_ticked)
            .await
            .status(),
        422
    );
    assert_eq!(active_levels(&app, ZOE), before);

    // Complete evidence: the chosen opt-out is lifted, the evidence kept in the event.
    let mut form = vec![
        ("csrf_token", token.as_str()),
        ("email", ZOE),
        ("opt_out", group_row.as_str()),
    ];
    form.extend(complete.iter().copied());
    let response = app.post_form_with(&sasha, "/support/opt-in", &form).await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).ends_with("&done=1"));
    assert_eq!(active_levels(&app, ZOE), ["client", "user", "user"]);
    let (actor, evidence): (String, Option<String>) = consent_events::table
        .filter(consent_events::source.eq("support"))
        .select((consent_events::actor_kind, consent_events::evidence))
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(actor, "support");
    let evidence: serde_json::Value = serde_json::from_str(&evidence.unwrap()).unwrap();
    assert_eq!(evidence["written_consent"]["reference"], "TICKET-4711");
    assert_eq!(evidence["written_consent"]["received_on"], "2026-11-20");
    // Support cannot opt anyone out.
    let contact = app.contact_id(NINA, "o'brien@example.ie");
    let response = app
        .post_form_with(
            &sasha,
            &format!("/contacts/{contact}/opt-out"),
            &[("csrf_token", token.as_str()), ("level", "group")],
        )
        .await;
    assert_eq!(response.status(), 403);
}
