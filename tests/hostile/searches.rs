//! Every free-text search and filter staff can type has a length cap: over it, a clear 400
//! page that says so, never a 500 (SQLite refuses LIKE patterns over 50,000 bytes), and
//! nothing changes.

use crate::campaigns::create_campaign;
use crate::flows::{NINA, footprint};
use crate::helpers::{Backend, csrf_on, demo_app, signed_in, texts};
use crate::on_both_backends;

on_both_backends!(every_search_has_a_cap_and_a_clear_answer);

const GRACE: &str = "grace.hopper@acme.example";
const SASHA: &str = "sasha.support@optouts.example";
const CAP: usize = optouts::web::search::MAX_SEARCH_CHARS;

async fn every_search_has_a_cap_and_a_clear_answer(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = signed_in(&app, NINA).await;
    let grace = signed_in(&app, GRACE).await;
    let sasha = signed_in(&app, SASHA).await;
    let campaign = create_campaign(&app, &nina, "Capped").await;
    let before = footprint(&app);
    let at_cap = "a".repeat(CAP);
    let over = format!("{at_cap}b");
    // Far past the cap: as long as a request line may be (GET), and past SQLite's LIKE limit
    // of 50,000 bytes in a form (POST).
    let long_in_a_url = "%_".repeat(4_000);
    let huge = "a".repeat(50_001);
    let pages = [
        (&nina, "/contacts"),
        (&nina, &format!("/campaigns/{campaign}")),
        (&grace, "/admin/activity/opt-outs"),
        (&grace, "/admin/activity/opt-outs.csv"),
        (&sasha, "/support"),
    ];
    for (client, page) in pages {
        let query: String = url::form_urlencoded::byte_serialize(at_cap.as_bytes()).collect();
        let ok = app.get_with(client, &format!("{page}?q={query}")).await;
        assert_eq!(ok.status(), 200, "{page} at the cap");
        for long in [&over, &long_in_a_url] {
            let query: String = url::form_urlencoded::byte_serialize(long.as_bytes()).collect();
            let refused = app.get_with(client, &format!("{page}?q={query}")).await;
            assert_eq!(refused.status(), 400, "{page} over the cap");
            let html = refused.text().await.unwrap();
            assert!(
                texts(&html, "p")
                    .iter()
                    .any(|p| p.contains(&format!("at most {CAP} characters"))),
                "{page}: {html}"
            );
        }
    }
    // "Add all matching" on a campaign: the search arrives in a POST.
    let token = csrf_on(&app, &nina, &format!("/campaigns/{campaign}")).await;
    for long in [&over, &huge] {
        let refused = app
            .post_form_with(
                &nina,
                &format!("/campaigns/{campaign}/recipients"),
                &[("csrf_token", &token), ("q", long), ("all", "1")],
            )
            .await;
        assert_eq!(refused.status(), 400, "add all matching over the cap");
    }
    assert_eq!(footprint(&app), before, "nothing changed");
}
