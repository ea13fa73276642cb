//! Internationalised domains on staff pages: stored in ASCII (`zoe@xn--mller-kva.example`),
//! shown as people write them (`zoe@müller.example`), found by either form; exports keep
//! ASCII.

use crate::campaigns::{add_matching, create_campaign, send};
use crate::helpers::{Backend, TestApp, demo_app, signed_in, texts};
use crate::on_both_backends;

on_both_backends!(
    contacts_show_unicode_and_are_found_by_either_form,
    campaigns_show_unicode_and_add_by_either_form,
    activity_and_support_show_unicode_and_export_ascii,
);

const NINA: &str = "nina.patel@acme.example";
const EVA: &str = "eva.lindqvist@acme.example";
const GRACE: &str = "grace.hopper@acme.example";
const SASHA: &str = "sasha.support@optouts.example";
const STORED: &str = "zoe@xn--mller-kva.example";
const SHOWN: &str = "zoe@müller.example";

fn encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let response = app.get_with(client, path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn contacts_show_unicode_and_are_found_by_either_form(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    // The domain, in either form: every contact there (the demo has several), in Unicode.
    let mut found = Vec::new();
    for search in [
        "müller",
        "MÜLLER",
        "müller.example",
        "xn--mller",
        "xn--mller-kva.example",
    ] {
        let html = page(&app, &nina, &format!("/contacts?q={}", encoded(search))).await;
        let shown = texts(&html, "tr.contact .contact-address");
        assert!(
            shown.len() > 1 && shown.iter().all(|a| a.ends_with("@müller.example")),
            "search {search:?}: {shown:?}"
        );
        assert!(shown.contains(&SHOWN.to_owned()), "search {search:?}");
        found.push(shown);
    }
    assert!(found.windows(2).all(|w| w[0] == w[1]), "{found:?}");
    // The whole address, in either form: Zoë alone.
    for search in ["zoe@müller.example", "Zoe@Müller", STORED] {
        let html = page(&app, &nina, &format!("/contacts?q={}", encoded(search))).await;
        assert_eq!(
            texts(&html, "tr.contact .contact-address"),
            [SHOWN],
            "search {search:?}"
        );
    }
    // The name is still searched as typed.
    let html = page(
        &app,
        &nina,
        &format!("/contacts?q={}", encoded("Zoë Müller")),
    )
    .await;
    assert_eq!(texts(&html, "tr.contact .contact-address"), [SHOWN]);
    assert!(!html.contains(STORED), "the ASCII form is not shown");

    let link = scraper::Html::parse_document(&html)
        .select(&scraper::Selector::parse("tr.contact a.contact-address").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_owned();
    let detail = page(&app, &nina, &link).await;
    assert_eq!(texts(&detail, "h1"), [SHOWN]);
    let opt_out = page(&app, &nina, &format!("{link}/opt-out")).await;
    assert_eq!(texts(&opt_out, "h1"), [format!("Opt out {SHOWN}?")]);
}

async fn campaigns_show_unicode_and_add_by_either_form(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    for search in ["zoe@müller", "zoe@xn--mller"] {
        let campaign = create_campaign(&app, &nina, &format!("To {search}")).await;
        let picker = page(
            &app,
            &nina,
            &format!("/campaigns/{campaign}?q={}", encoded(search)),
        )
        .await;
        assert_eq!(
            texts(&picker, ".picker .contact-address"),
            [SHOWN],
            "{search}"
        );
        // "Add all that match": Zoë, opted out of Newsletters, listed in Unicode.
        let html = add_matching(&app, &nina, campaign, search).await;
        assert_eq!(
            texts(&html, "dialog .blocked li"),
            [format!("{SHOWN} Opted out · Client")],
            "{search}"
        );
        assert_eq!(texts(&html, "tr.recipient .contact-address"), [SHOWN]);
        assert!(!html.contains(STORED));
    }
}

async fn activity_and_support_show_unicode_and_export_ascii(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    // Eva (Events) may still email Zoë (opted out of Newsletters only): one email queued.
    let eva = signed_in(&app, EVA).await;
    let campaign = create_campaign(&app, &eva, "Events news").await;
    add_matching(&app, &eva, campaign, "müller").await;
    send(&app, &eva, campaign).await;

    let grace = signed_in(&app, GRACE).await;
    let emails = page(&app, &grace, "/admin/activity/emails").await;
    assert!(
        texts(&emails, "tr.email td").contains(&SHOWN.to_owned()),
        "{emails}"
    );
    for search in ["zoe@müller", "zoe@xn--mller", "ZOE@MÜLLER.example"] {
        let html = page(
            &app,
            &grace,
            &format!("/admin/activity/opt-outs?q={}", encoded(search)),
        )
        .await;
        assert_eq!(texts(&html, "tr.opt-out td.address"), [SHOWN], "{search}");
    }
    let csv = app
        .get_with(
            &grace,
            &format!("/admin/activity/opt-outs.csv?q={}", encoded("zoe@müller")),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains(&format!("\n{STORED},client,Newsletters,")),
        "{csv}"
    );
    assert!(!csv.contains(SHOWN), "exports keep ASCII");

    let sasha = signed_in(&app, SASHA).await;
    for search in [SHOWN, STORED] {
        let html = page(&app, &sasha, &format!("/support?q={}", encoded(search))).await;
        assert_eq!(
            texts(&html, "#active-title"),
            [format!("Active opt-outs of {SHOWN}")]
        );
        let sent_back = scraper::Html::parse_document(&html)
            .select(&scraper::Selector::parse("input[name=email]").unwrap())
            .next()
            .and_then(|input| input.value().attr("value").map(str::to_owned));
        assert_eq!(
            sent_back.as_deref(),
            Some(STORED),
            "the form sends the stored form"
        );
    }
}
