//! Support's back end, seen from every page that shows its work: the written consent it
//! records reads as fields (never as JSON) on the support page, the contact's history,
//! Admin › Activity › Opt outs and the CSV export.

use diesel::prelude::*;
use optouts::db::schema::contacts;

use crate::helpers::{Backend, TestApp, csrf_token_in, demo_app, location, signed_in, texts};
use crate::on_both_backends;

on_both_backends!(written_consent_reads_as_fields_everywhere);

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

/// Support lifts `address`'s only active opt-out with `consent` (and any extra fields);
/// returns the answer.
pub async fn lift_only_opt_out(
    app: &TestApp,
    sasha: &reqwest::Client,
    address: &str,
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
    assert_eq!(ids.len(), 1, "one active opt-out of {address}");
    let token = csrf_token_in(&html);
    let mut form = vec![
        ("csrf_token", token.as_str()),
        ("email", address),
        ("opt_out", ids[0].as_str()),
    ];
    form.extend(CONSENT);
    form.extend(extra.iter().copied());
    app.post_form_with(sasha, "/support/opt-in", &form).await
}

pub fn urlencoded(text: &str) -> String {
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
