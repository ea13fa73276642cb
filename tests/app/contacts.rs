//! The contacts pages: scoping, cascade and strikethrough, the menu's opt-outs and the rights
//! table over HTTP, the detail page, adding contacts.

use crate::helpers::{Backend, TestApp, csrf_token_in, demo_app, location, signed_in, texts};
use crate::on_both_backends;
use diesel::prelude::*;
use optouts::db::schema::{consent_events, contacts, opt_outs};

const GRACE: &str = "grace.hopper@acme.example"; // group admin
const CARL: &str = "carl.jensen@acme.example"; // client admin, Newsletters
const NINA: &str = "nina.patel@acme.example"; // user, Newsletters
const OMAR: &str = "omar.haddad@acme.example"; // user, Newsletters
const EVA: &str = "eva.lindqvist@acme.example"; // user, Events
const SASHA: &str = "sasha.support@optouts.example"; // support

on_both_backends!(
    each_role_sees_its_own_contacts,
    cascade_strikes_contacts_through_for_every_sender_below,
    pages_walk_every_contact_exactly_once,
    search_matches_address_or_name,
    rights_table_over_http,
    refusals_change_nothing,
    concurrent_identical_opt_outs_make_one_row_and_one_event,
    adding_a_contact_validates_the_address,
    detail_explains_the_suppression_and_shows_the_history,
    awkward_names_are_escaped,
);

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let response = app.get_with(client, path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

fn count_opt_outs(app: &TestApp) -> i64 {
    opt_outs::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

fn count_events(app: &TestApp) -> i64 {
    consent_events::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

/// POST the opt-out form for a contact, with the browser's own CSRF token.
async fn opt_out(
    app: &TestApp,
    client: &reqwest::Client,
    contact: i64,
    level: &str,
    note: &str,
) -> reqwest::Response {
    let token = csrf_token_in(&page(app, client, "/contacts").await);
    app.post_form_with(
        client,
        &format!("/contacts/{contact}/opt-out"),
        &[("csrf_token", &token), ("level", level), ("note", note)],
    )
    .await
}

/// The rows of the contacts page: (address, badge or "").
fn rows(html: &str) -> Vec<(String, String)> {
    let document = scraper::Html::parse_document(html);
    let row = scraper::Selector::parse("tr.contact").unwrap();
    let address = scraper::Selector::parse(".contact-address").unwrap();
    let badge = scraper::Selector::parse(".badge").unwrap();
    document
        .select(&row)
        .map(|tr| {
            let text = |sel: &scraper::Selector| {
                tr.select(sel)
                    .next()
                    .map(|e| e.text().collect::<String>())
                    .unwrap_or_default()
            };
            (text(&address), text(&badge))
        })
        .collect()
}

async fn each_role_sees_its_own_contacts(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    // siobhan.obrien@example.ie is a contact of every demo sender (7 of them, 3 in Newsletters).
    for (who, expected) in [(NINA, 1), (CARL, 3), (GRACE, 7), (SASHA, 7)] {
        let client = signed_in(&app, who).await;
        let html = page(&app, &client, "/contacts?q=siobhan").await;
        assert_eq!(rows(&html).len(), expected, "{who}");
    }
    // A user never sees a colleague's contact, not even by id.
    let nina = signed_in(&app, NINA).await;
    let omars = app.contact_id(OMAR, "siobhan.obrien@example.ie");
    assert_eq!(
        app.get_with(&nina, &format!("/contacts/{omars}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_with(&nina, &format!("/contacts/{omars}/opt-out"))
            .await
            .status(),
        404
    );
    // Owners are shown to admins, not to users (it is always themselves).
    assert!(texts(&page(&app, &nina, "/contacts").await, "td.owner").is_empty());
    let grace = signed_in(&app, GRACE).await;
    assert!(!texts(&page(&app, &grace, "/contacts").await, "td.owner").is_empty());
}

async fn cascade_strikes_contacts_through_for_every_sender_below(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let eva = signed_in(&app, EVA).await;
    let nina = signed_in(&app, NINA).await;
    // Demo: group-level opt-out of siobhan (everyone), client-level of zoe at Newsletters.
    let html = page(&app, &eva, "/contacts?q=siobhan").await;
    assert_eq!(
        rows(&html),
        [(
            "siobhan.obrien@example.ie".into(),
            "Opted out · Group".into()
        )]
    );
    assert_eq!(
        texts(&html, "tr.opted-out .contact-address").len(),
        1,
        "struck through"
    );
    // Stored as zoe@xn--mller-kva.example; staff read the domain in Unicode.
    let zoe = "zoe@müller.example";
    assert_eq!(
        rows(&page(&app, &nina, "/contacts?q=zoe@").await),
        [(zoe.into(), "Opted out · Client".into())]
    );
    assert_eq!(
        rows(&page(&app, &eva, "/contacts?q=zoe@").await),
        [(zoe.into(), String::new())]
    );

    // A group admin opts out an Events contact at group level: it shows in Newsletters too.
    let grace = signed_in(&app, GRACE).await;
    let target = "jane+news@example.com";
    let evas_jane = app.contact_id(EVA, target);
    assert_eq!(
        opt_out(&app, &grace, evas_jane, "group", "asked by phone")
            .await
            .status(),
        303
    );
    for client in [&nina, &eva] {
        let html = page(&app, client, "/contacts?q=jane%2Bnews").await;
        assert_eq!(rows(&html), [(target.into(), "Opted out · Group".into())]);
    }
    // A client-level opt-out at Events applies to every Events user, nobody else.
    let sam = signed_in(&app, "sam.oconnor@acme.example").await;
    let evas_renee = app.contact_id(EVA, "renee.darc@example.fr");
    assert_eq!(
        opt_out(&app, &grace, evas_renee, "client", "")
            .await
            .status(),
        303
    );
    assert_eq!(
        rows(&page(&app, &sam, "/contacts?q=renee").await)[0].1,
        "Opted out · Client"
    );
    assert_eq!(
        rows(&page(&app, &eva, "/contacts?q=renee").await)[0].1,
        "Opted out · Client"
    );
    // Nina had her own user-level opt-out of renee (demo); nothing at client level.
    assert_eq!(
        rows(&page(&app, &nina, "/contacts?q=renee").await)[0].1,
        "Opted out · User"
    );
    assert_eq!(
        rows(&page(&app, &signed_in(&app, OMAR).await, "/contacts?q=renee").await)[0].1,
        ""
    );
}

async fn pages_walk_every_contact_exactly_once(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let grace = signed_in(&app, GRACE).await;
    let mut seen = Vec::new();
    let mut path = "/contacts".to_owned();
    for _ in 0..20 {
        let html = page(&app, &grace, &path).await;
        let page_rows = rows(&html);
        assert!(page_rows.len() <= 50);
        seen.extend(page_rows.into_iter().map(|(address, _)| address));
        let document = scraper::Html::parse_document(&html);
        let next = scraper::Selector::parse(r#"a[rel="next"]"#).unwrap();
        match document.select(&next).next() {
            Some(link) => path = link.value().attr("href").unwrap().to_owned(),
            None => break,
        }
    }
    let total: i64 = contacts::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(seen.len() as i64, total, "every contact once");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "ordered by address");
    // Shared addresses appear once per owner, consecutively, and none is lost at page edges.
    assert_eq!(
        seen.iter()
            .filter(|a| *a == "siobhan.obrien@example.ie")
            .count(),
        7
    );
    // A damaged cursor is a clear 400, not a 500.
    let response = app.get_with(&grace, "/contacts?after=%21%21").await;
    assert_eq!(response.status(), 400);
}

async fn search_matches_address_or_name(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    // By name, case-insensitively, with an apostrophe.
    let html = page(&app, &nina, "/contacts?q=o%27BRIEN").await;
    let found: Vec<String> = rows(&html).into_iter().map(|(a, _)| a).collect();
    assert_eq!(found, ["o'brien@example.ie", "siobhan.obrien@example.ie"]);
    // By part of the address.
    assert_eq!(
        rows(&page(&app, &nina, "/contacts?q=example.jp").await).len(),
        1
    );
    // LIKE wildcards typed by a person match literally.
    assert!(rows(&page(&app, &nina, "/contacts?q=%25").await).is_empty());
    assert!(rows(&page(&app, &nina, "/contacts?q=_").await).is_empty());
    let html = page(&app, &nina, "/contacts?q=nothing-like-this").await;
    assert_eq!(
        texts(&html, ".empty"),
        ["No contact matches “nothing-like-this”."]
    );
}

async fn rights_table_over_http(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let address = "yamada@example.jp";
    let ninas = app.contact_id(NINA, address);
    let omars = app.contact_id(OMAR, address);
    let evas = app.contact_id(EVA, address);
    // (who, contact, level, expected status)
    let cases: &[(&str, i64, &str, u16)] = &[
        (NINA, ninas, "user", 303),
        (NINA, ninas, "client", 403),
        (NINA, ninas, "group", 403),
        (NINA, omars, "user", 404),
        (NINA, evas, "user", 404),
        (CARL, omars, "user", 303),
        (CARL, omars, "client", 303),
        (CARL, omars, "group", 403),
        (CARL, evas, "user", 404),
        (CARL, evas, "client", 404),
        (GRACE, evas, "user", 303),
        (GRACE, evas, "client", 303),
        (GRACE, evas, "group", 303),
        (SASHA, ninas, "user", 403),
        (SASHA, ninas, "client", 403),
        (SASHA, ninas, "group", 403),
    ];
    for (who, contact, level, expected) in cases {
        let client = signed_in(&app, who).await;
        let response = opt_out(&app, &client, *contact, level, "").await;
        assert_eq!(
            response.status().as_u16(),
            *expected,
            "{who} opts out contact {contact} at {level}"
        );
        if *expected == 403 {
            let html = response.text().await.unwrap();
            assert_eq!(texts(&html, "h1"), ["You cannot do that"]);
            assert!(
                texts(&html, "p")
                    .iter()
                    .any(|p| p.contains("admin") || p.contains("Support")),
                "reason shown"
            );
        }
    }
    // The menu offers exactly what is allowed.
    let carl = signed_in(&app, CARL).await;
    let html = page(
        &app,
        &carl,
        &format!(
            "/contacts/{}/opt-out",
            app.contact_id(NINA, "siobhan.obrien@example.ie")
        ),
    )
    .await;
    let offered: Vec<String> = scraper::Html::parse_document(&html)
        .select(&scraper::Selector::parse("input[name=level]").unwrap())
        .map(|i| i.value().attr("value").unwrap().to_owned())
        .collect();
    assert_eq!(offered, ["client", "user"]);
    let sasha = signed_in(&app, SASHA).await;
    assert_eq!(
        app.get_with(&sasha, &format!("/contacts/{ninas}/opt-out"))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get_with(&sasha, &format!("/contacts/{ninas}"))
            .await
            .status(),
        200,
        "support reads"
    );
    // Support cannot add contacts either.
    let token = csrf_token_in(&page(&app, &sasha, "/contacts").await);
    let response = app
        .post_form_with(
            &sasha,
            "/contacts",
            &[("csrf_token", &token), ("email", "new@example.com")],
        )
        .await;
    assert_eq!(response.status(), 403);
}

async fn refusals_change_nothing(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let (opt_outs_before, events_before) = (count_opt_outs(&app), count_events(&app));
    let nina = signed_in(&app, NINA).await;
    let ninas = app.contact_id(NINA, "yamada@example.jp");
    let omars = app.contact_id(OMAR, "yamada@example.jp");
    assert_eq!(opt_out(&app, &nina, ninas, "group", "").await.status(), 403);
    assert_eq!(opt_out(&app, &nina, omars, "user", "").await.status(), 404);
    assert_eq!(
        opt_out(&app, &nina, ninas, "planet", "").await.status(),
        400
    );
    assert_eq!(
        opt_out(&app, &nina, 999_999, "user", "").await.status(),
        404
    );
    // Without the CSRF token, or with another session's.
    let response = app
        .post_form_with(
            &nina,
            &format!("/contacts/{ninas}/opt-out"),
            &[("level", "user")],
        )
        .await;
    assert_eq!(response.status(), 403);
    let omar = signed_in(&app, OMAR).await;
    let omars_token = csrf_token_in(&page(&app, &omar, "/contacts").await);
    let response = app
        .post_form_with(
            &nina,
            &format!("/contacts/{ninas}/opt-out"),
            &[("csrf_token", omars_token.as_str()), ("level", "user")],
        )
        .await;
    assert_eq!(response.status(), 403);
    let long_note = "x".repeat(501);
    assert_eq!(
        opt_out(&app, &nina, ninas, "user", &long_note)
            .await
            .status(),
        400
    );
    assert_eq!(
        (count_opt_outs(&app), count_events(&app)),
        (opt_outs_before, events_before)
    );
}

async fn concurrent_identical_opt_outs_make_one_row_and_one_event(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let grace = signed_in(&app, GRACE).await;
    let contact = app.contact_id(NINA, "yamada@example.jp");
    let token = csrf_token_in(&page(&app, &grace, "/contacts").await);
    let (opt_outs_before, events_before) = (count_opt_outs(&app), count_events(&app));
    let path = format!("/contacts/{contact}/opt-out");
    let form = [
        ("csrf_token", token.as_str()),
        ("level", "group"),
        ("note", ""),
    ];
    let requests = (0..50).map(|_| app.post_form_with(&grace, &path, &form));
    let responses = crate::helpers::within(60, futures_util::future::join_all(requests)).await;
    for response in &responses {
        assert_eq!(response.status(), 303);
    }
    let fresh = responses
        .iter()
        .filter(|r| !location(r).contains("already"))
        .count();
    assert_eq!(
        fresh, 1,
        "exactly one request recorded it; the others found it done"
    );
    assert_eq!(count_opt_outs(&app), opt_outs_before + 1);
    assert_eq!(count_events(&app), events_before + 1);
}

async fn adding_a_contact_validates_the_address(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    let token = csrf_token_in(&page(&app, &nina, "/contacts").await);
    let add = |email: &'static str| {
        let token = token.clone();
        let nina = nina.clone();
        let app = &app;
        async move {
            app.post_form_with(
                &nina,
                "/contacts",
                &[
                    ("csrf_token", token.as_str()),
                    ("email", email),
                    ("name", "Kim Lee"),
                ],
            )
            .await
        }
    };
    let invalid = add("kim.lee@").await;
    assert_eq!(invalid.status(), 422);
    let html = invalid.text().await.unwrap();
    assert_eq!(
        texts(&html, "#add-error"),
        ["The domain after the @ is missing."]
    );
    assert!(
        html.contains(r#"value="kim.lee@""#),
        "the typed address is kept"
    );

    let added = add("  Kim.Lee@Bücher.example ").await;
    assert_eq!(added.status(), 303);
    let detail = location(&added);
    let html = page(&app, &nina, &detail).await;
    // Stored in ASCII (the duplicate below proves it), shown as typed.
    assert_eq!(texts(&html, "h1"), ["kim.lee@bücher.example"]);
    assert_eq!(texts(&html, "[role=status]"), ["Contact added."]);

    let duplicate = add("KIM.LEE@xn--bcher-kva.example").await;
    assert_eq!(duplicate.status(), 409);
    let html = duplicate.text().await.unwrap();
    assert!(texts(&html, "#add-error")[0].contains("already have a contact"));
    // Another user may keep the same address.
    let omar = signed_in(&app, OMAR).await;
    let token = csrf_token_in(&page(&app, &omar, "/contacts").await);
    let response = app
        .post_form_with(
            &omar,
            "/contacts",
            &[
                ("csrf_token", token.as_str()),
                ("email", "kim.lee@bücher.example"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
}

async fn detail_explains_the_suppression_and_shows_the_history(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    let grace = signed_in(&app, GRACE).await;
    let contact = app.contact_id(NINA, "yamada@example.jp");
    // Nina opts out at user level with a note; then Grace at group level.
    let response = opt_out(
        &app,
        &nina,
        contact,
        "user",
        "Asked at the fair <b>twice</b>",
    )
    .await;
    assert_eq!(
        location(&response),
        format!("/contacts/{contact}?opted_out=user")
    );
    let again = opt_out(&app, &nina, contact, "user", "").await;
    assert_eq!(
        location(&again),
        format!("/contacts/{contact}?opted_out=user&already=1")
    );
    assert_eq!(
        opt_out(&app, &grace, contact, "group", "").await.status(),
        303
    );

    let html = page(
        &app,
        &nina,
        &format!("/contacts/{contact}?opted_out=user&already=1"),
    )
    .await;
    assert_eq!(
        texts(&html, "[role=status]"),
        ["This contact was already opted out of emails from Nina Patel; nothing changed."]
    );
    assert_eq!(texts(&html, ".contact-card .badge"), ["Opted out · Group"]);
    assert_eq!(
        texts(&html, ".contact-card.opted-out h1 .contact-address").len(),
        1
    );
    let reasons = texts(&html, ".reasons li strong");
    // The demo's client-level opt-out of this address is at Events: not a reason for Nina.
    assert_eq!(reasons, ["Group · Acme Holdings", "User · Nina Patel"]);
    let reason_lines = texts(&html, ".reasons li");
    assert!(
        reason_lines[0].contains("By hand · by Grace Hopper"),
        "{reason_lines:?}"
    );
    assert!(
        reason_lines[1].contains("Asked at the fair <b>twice</b>"),
        "{reason_lines:?}"
    );
    assert!(!html.contains("<b>twice</b>"), "the note is escaped");
    // History: newest first, each step with its actor. The demo's client-level opt-out of
    // yamada at Events does not concern Nina and is not shown.
    let events = texts(&html, ".history tr.event");
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        events[0].contains("Opted out")
            && events[0].contains("Group · Acme Holdings")
            && events[0].contains("Grace Hopper"),
        "{events:?}"
    );
    assert!(
        events[1].contains("User · Nina Patel") && events[1].contains("Nina Patel"),
        "{events:?}"
    );
    // No menu item can widen a group-level opt-out.
    assert!(texts(&html, ".contact-card .menu a").is_empty());
    // A recipient-made opt-out reads as such.
    let siobhan = app.contact_id(NINA, "siobhan.obrien@example.ie");
    let html = page(&app, &nina, &format!("/contacts/{siobhan}")).await;
    assert!(texts(&html, ".reasons li")[0].contains("Preference Center · by The recipient"));
}

async fn awkward_names_are_escaped(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    let html = page(&app, &nina, "/contacts?q=script").await;
    assert!(!html.contains("<script>alert"), "raw script in the page");
    assert!(html.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; Mallory"));
    assert_eq!(
        texts(&html, ".contact-name"),
        ["<script>alert('x')</script> Mallory"]
    );
    let html = page(&app, &nina, "/contacts?q=%E5%90%8D%E5%89%8D").await;
    assert_eq!(texts(&html, ".contact-name"), ["名前 山田"]);
    let html = page(&app, &nina, "/contacts?q=Zo%C3%AB").await;
    assert_eq!(texts(&html, ".contact-name"), ["Zoë Müller"]);
    // The search term itself is escaped when echoed.
    let html = page(&app, &nina, "/contacts?q=%3Cimg%20src%3Dx%3E").await;
    assert!(!html.contains("<img src=x>"));
}
