//! Support's back end, seen from every page that shows its work: the written consent it
//! records reads as fields (never as JSON) on the support page, the contact's history,
//! Admin › Activity › Opt outs and the CSV export.

use diesel::prelude::*;
use optouts::db::consent_events::NewConsentEvent;
use optouts::db::schema::{consent_events, contacts, messages, opt_outs};
use optouts::domain::{ActorKind, EmailAddress, EventKind, Scope, Source};

use crate::campaigns::app_sending_to;
use crate::helpers::{Backend, TestApp, csrf_token_in, demo_app, location, signed_in, texts};
use crate::on_both_backends;
use crate::smtp::SmtpServer;

on_both_backends!(
    written_consent_reads_as_fields_everywhere,
    asked_by_must_be_staff_of_the_opt_outs_group,
    the_staff_member_who_asked_is_emailed_what_was_lifted,
);

const SASHA: &str = "sasha.support@optouts.example";
const GRACE: &str = "grace.hopper@acme.example";
const NINA: &str = "nina.patel@acme.example";
/// Opted out of all of Acme Holdings in the demo data.
const SIOBHAN: &str = "siobhan.obrien@example.ie";

/// The consent as support types it; the reference starts like a spreadsheet formula.
const CONSENT: [(&str, &str); 4] = [
    (
        "consent_given_by",
        "Siobhán O'Brien <siobhan.obrien@example.ie>",
    ),
    ("consent_received_on", "2026-11-20"),
    ("consent_reference", "=HYPERLINK(\"http://evil\")"),
    (
        "consent_text",
        "Please send me Acme's news again. {\"not\": \"json\"}",
    ),
];

/// The fields as pages show them.
fn shown_fields() -> Vec<(String, String)> {
    [
        ("Given by", "Siobhán O'Brien <siobhan.obrien@example.ie>"),
        ("Received on", "20 Nov 2026"),
        ("Reference", "=HYPERLINK(\"http://evil\")"),
        (
            "Consent text",
            "Please send me Acme's news again. {\"not\": \"json\"}",
        ),
    ]
    .into_iter()
    .map(|(l, v)| (l.to_owned(), v.to_owned()))
    .collect()
}

/// The (label, value) pairs of every written-consent list inside `css`.
fn consent_lists(html: &str, css: &str) -> Vec<Vec<(String, String)>> {
    let document = scraper::Html::parse_document(html);
    let lists = scraper::Selector::parse(&format!("{css} dl.written-consent")).unwrap();
    let dt = scraper::Selector::parse("dt").unwrap();
    let dd = scraper::Selector::parse("dd").unwrap();
    document
        .select(&lists)
        .map(|list| {
            let text = |e: scraper::ElementRef<'_>| e.text().collect::<String>();
            list.select(&dt)
                .map(text)
                .zip(list.select(&dd).map(text))
                .collect()
        })
        .collect()
}

/// Support lifts `address`'s only active opt-out with the written consent (and any extra
/// fields); returns the answer.
async fn lift_only_opt_out(
    app: &TestApp,
    sasha: &reqwest::Client,
    address: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    lift_all_opt_outs(app, sasha, address, 1, extra).await
}

/// Support ticks all `count` active opt-outs of `address` and lifts them with the written
/// consent (and any extra fields); returns the answer.
async fn lift_all_opt_outs(
    app: &TestApp,
    sasha: &reqwest::Client,
    address: &str,
    count: usize,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let html = app
        .get_with(sasha, &format!("/support?q={}", urlencoded(address)))
        .await
        .text()
        .await
        .unwrap();
    let ids: Vec<String> = scraper::Html::parse_document(&html)
        .select(&scraper::Selector::parse("input[name=opt_out]").unwrap())
        .map(|i| i.value().attr("value").unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), count, "active opt-outs of {address}");
    let token = csrf_token_in(&html);
    let mut form = vec![("csrf_token", token.as_str()), ("email", address)];
    form.extend(ids.iter().map(|id| ("opt_out", id.as_str())));
    form.extend(CONSENT);
    form.extend(extra.iter().copied());
    app.post_form_with(sasha, "/support/opt-in", &form).await
}

fn urlencoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn written_consent_reads_as_fields_everywhere(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let sasha = signed_in(&app, SASHA).await;
    let response = lift_only_opt_out(&app, &sasha, SIOBHAN, &[]).await;
    assert_eq!(response.status(), 303);

    // The support page's own history.
    let html = app
        .get_with(&sasha, &location(&response))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        consent_lists(&html, ".history td.evidence"),
        [shown_fields()]
    );
    assert!(
        !texts(&html, ".history td.evidence")
            .iter()
            .any(|e| e.contains("written_consent")),
        "no JSON on the page"
    );

    // The contact's consent history, for its owner.
    let nina = signed_in(&app, NINA).await;
    let contact: i64 = {
        let owner = optouts::db::accounts::find_user_by_email(
            &mut app.conn(),
            &optouts::domain::EmailAddress::parse(NINA).unwrap(),
        )
        .unwrap()
        .unwrap();
        contacts::table
            .filter(contacts::owner_user_id.eq(owner.id.0))
            .filter(contacts::email.eq(SIOBHAN))
            .select(contacts::id)
            .first(&mut *app.conn())
            .unwrap()
    };
    let html = app
        .get_with(&nina, &format!("/contacts/{contact}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(consent_lists(&html, ".history"), [shown_fields()]);
    assert!(!html.contains("written_consent"), "no JSON on the page");

    // Admin › Activity › Opt outs, lifted.
    let grace = signed_in(&app, GRACE).await;
    let html = app
        .get_with(&grace, "/admin/activity/opt-outs?lifted=1")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(consent_lists(&html, "tr.opt-out"), [shown_fields()]);
    assert!(!html.contains("written_consent"), "no JSON on the page");

    // The export: each field in a column of its own, formulas neutralised.
    let csv = app
        .get_with(&grace, "/admin/activity/opt-outs.csv?lifted=1")
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 1, "{csv}");
    let cell = |name: &str| {
        let column = header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
        records[0][column].to_owned()
    };
    assert_eq!(cell("address"), SIOBHAN);
    assert_eq!(cell("evidence"), "", "no JSON in the export");
    assert_eq!(
        cell("given_by"),
        "Siobhán O'Brien <siobhan.obrien@example.ie>"
    );
    assert_eq!(cell("received_on"), "2026-11-20");
    assert_eq!(cell("reference"), "'=HYPERLINK(\"http://evil\")");
    assert_eq!(
        cell("consent_text"),
        "Please send me Acme's news again. {\"not\": \"json\"}"
    );
    assert_eq!(cell("asked_by"), "");
}

/// Rows that a lift (or its refusal) could add or remove: active opt-outs, events, emails.
fn footprint(app: &TestApp) -> (i64, i64, i64) {
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

/// Records an opt-out of `email` at `scope` in the demo group, as staff would.
fn opt_out(app: &TestApp, email: &str, scope: impl FnOnce(&optouts::domain::Sender) -> Scope) {
    let mut conn = app.conn();
    let nina = crate::seed::demo_sender(&mut conn, NINA);
    let email = EmailAddress::parse(email).unwrap();
    let recorded = optouts::db::opt_outs::record(
        &mut conn,
        &NewConsentEvent {
            group_id: nina.group_id,
            email: &email,
            kind: EventKind::OptOut,
            scope: Some(scope(&nina)),
            source: Source::Manual,
            actor_kind: ActorKind::User,
            actor_user_id: Some(nina.user_id),
            campaign_id: None,
            message_id: None,
            reason: None,
            ip_address: None,
            user_agent: None,
            evidence: None,
        },
    )
    .unwrap();
    assert!(recorded);
}

async fn asked_by_must_be_staff_of_the_opt_outs_group(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    // Staff of another tenant.
    {
        let mut conn = app.conn();
        let globex = optouts::db::accounts::create_group(&mut conn, "Globex").unwrap();
        let client =
            optouts::db::accounts::create_client(&mut conn, globex.id, "Globex Mail").unwrap();
        optouts::db::accounts::create_user(
            &mut conn,
            &optouts::db::accounts::NewStaffUser {
                email: &EmailAddress::parse("ursula@globex.example").unwrap(),
                display_name: "Ursula",
                role: optouts::domain::Role::GroupAdmin,
                group_id: Some(globex.id),
                client_id: Some(client.id),
                password_hash: "not used",
            },
        )
        .unwrap();
    }
    let sasha = signed_in(&app, SASHA).await;
    let before = footprint(&app);
    for (asked_by, says) in [
        ("nina.patel", "must be a staff email address"),
        ("nobody@acme.example", "no staff account has the address"),
        ("ursula@globex.example", "is not staff of Acme Holdings"),
        (SASHA, "is not staff of Acme Holdings"),
    ] {
        let response = lift_only_opt_out(&app, &sasha, SIOBHAN, &[("asked_by", asked_by)]).await;
        assert_eq!(response.status(), 422, "asked by {asked_by}");
        let html = response.text().await.unwrap();
        let error = texts(&html, "#support-error");
        assert!(
            error.len() == 1
                && error[0].starts_with("Nothing was changed")
                && error[0].contains(says),
            "asked by {asked_by}: {error:?}"
        );
        // The form keeps what was typed.
        assert_eq!(
            scraper::Html::parse_document(&html)
                .select(&scraper::Selector::parse("#asked_by").unwrap())
                .next()
                .and_then(|input| input.value().attr("value").map(str::to_owned)),
            Some(asked_by.to_owned())
        );
        assert_eq!(footprint(&app), before, "nothing lifted, nothing queued");
    }
}

async fn the_staff_member_who_asked_is_emailed_what_was_lifted(backend: Backend) {
    let smtp = SmtpServer::start();
    let Some(app) = app_sending_to(backend, &smtp).await else {
        return;
    };
    // Siobhán: opted out of all of Acme (demo data) and of Nina's emails.
    opt_out(&app, SIOBHAN, |nina| Scope::User(nina.user_id));
    // Nina's own address is opted out too: the notice is not marketing and still goes.
    opt_out(&app, NINA, |nina| Scope::Group(nina.group_id));
    let sasha = signed_in(&app, SASHA).await;
    let response = lift_all_opt_outs(
        &app,
        &sasha,
        SIOBHAN,
        2,
        &[("asked_by", " Nina.Patel@ACME.example ")],
    )
    .await;
    assert_eq!(response.status(), 303);
    let after = location(&response);
    assert!(after.ends_with("&done=2&notified=1"), "{after}");
    let html = app.get_with(&sasha, &after).await.text().await.unwrap();
    assert!(
        texts(&html, ".notice")[0].contains("The staff member who asked gets an email"),
        "{html}"
    );

    // The evidence names who asked; the notice was queued with the lift.
    let evidence: Vec<Option<String>> = consent_events::table
        .filter(consent_events::source.eq("support"))
        .select(consent_events::evidence)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(evidence.len(), 2);
    for evidence in evidence {
        let consent =
            optouts::domain::consent::WrittenConsent::from_evidence(&evidence.unwrap()).unwrap();
        let asked = consent.asked_by.expect("who asked is recorded");
        assert_eq!(
            (asked.name.as_str(), asked.email.as_str()),
            ("Nina Patel", NINA)
        );
    }
    let support_page = app
        .get_with(&sasha, &format!("/support?q={SIOBHAN}"))
        .await
        .text()
        .await
        .unwrap();
    let lists = consent_lists(&support_page, ".history");
    assert_eq!(lists.len(), 2);
    for list in lists {
        assert_eq!(
            list.last().unwrap(),
            &(
                "Asked by".to_owned(),
                "Nina Patel <nina.patel@acme.example>".to_owned()
            )
        );
    }

    let worker = app.start_worker();
    let received = smtp.wait_for(1).await;
    worker.stop().await;
    assert_eq!(received.len(), 1, "only the notice");
    let notice = &received[0];
    assert_eq!(notice.header("to"), NINA);
    assert_eq!(
        notice.header("subject"),
        format!("Opted back in: {SIOBHAN}")
    );
    assert!(notice.header("from").starts_with("Support <support@"));
    for part in [
        notice.text.as_deref().unwrap(),
        notice.html.as_deref().unwrap(),
    ] {
        for expected in [
            "Hello Nina Patel",
            SIOBHAN,
            "Group level · Acme Holdings",
            "User level · Nina Patel",
            // The reference, as typed (HTML-escaped in the HTML part).
            "HYPERLINK",
        ] {
            assert!(part.contains(expected), "{expected:?} missing in {part}");
        }
    }
    assert!(
        notice
            .text
            .as_deref()
            .unwrap()
            .contains("Reference of the written consent: =HYPERLINK(\"http://evil\")")
    );
    let status: String = messages::table
        .filter(messages::kind.eq("support_lift_notice"))
        .select(messages::status)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(status, "sent");
}
