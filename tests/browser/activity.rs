//! Journey 5: a group admin opens Admin › Activity › Opt outs from the navigation and narrows
//! the list with the filter form.

use crate::driver::{Browser, per_backend};
use crate::helpers::{Backend, TestApp, spawn_app, within};
use crate::on_both_backends;
use diesel::prelude::*;
use optouts::db::schema::opt_outs;

const GRACE: &str = "grace.hopper@acme.example";
/// Opted out of Newsletters in the demo data.
/// Stored as zoe@xn--mller-kva.example; staff pages show the domain in Unicode.
const ZOE: &str = "zoe@müller.example";

// Both backends: the filters are SQL that each backend runs its own way.
on_both_backends!(an_admin_filters_the_opt_outs);

async fn an_admin_filters_the_opt_outs(backend: Backend) {
    within(120, filtering_the_opt_outs(backend)).await
}

/// The stored opt-outs at `level`, sorted: what the filtered page must list.
/// The addresses opted out at `level`, as the page shows them (domains in Unicode), sorted.
fn stored_at_level(app: &TestApp, level: &str) -> Vec<String> {
    let stored: Vec<String> = opt_outs::table
        .filter(opt_outs::level.eq(level))
        .select(opt_outs::email)
        .load(&mut *app.conn())
        .unwrap();
    sorted(
        stored
            .iter()
            .map(|e| optouts::domain::EmailAddress::to_unicode_display(e))
            .collect(),
    )
}

fn sorted(mut texts: Vec<String>) -> Vec<String> {
    texts.sort();
    texts
}

async fn filtering_the_opt_outs(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let total: i64 = opt_outs::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    let browser = Browser::open(&app).await;
    browser.sign_in(GRACE).await;

    // From the navigation: every active opt-out of the group.
    browser
        .click(".main-nav a[href='/admin/activity/opt-outs']")
        .await;
    browser.wait_for_text("h1", "Opt outs").await;
    assert_eq!(
        browser.text("#match-count").await,
        format!("{total} opt-outs match.")
    );
    assert_eq!(browser.find_all("tr.opt-out").await.len() as i64, total);

    // Level: Client.
    browser
        .find("select#level")
        .await
        .select_by_value("client")
        .await
        .unwrap();
    browser.click("form.filters button[type=submit]").await;
    browser
        .wait_for_text("#match-count", "2 opt-outs match.")
        .await;
    assert!(browser.path().await.contains("level=client"));
    assert_eq!(
        sorted(browser.texts("tr.opt-out td.address").await),
        stored_at_level(&app, "client")
    );
    assert_eq!(
        browser.texts("tr.opt-out td.level").await,
        ["Client", "Client"]
    );
    assert_eq!(
        sorted(browser.texts("tr.opt-out td:nth-child(3)").await),
        ["Events", "Newsletters"]
    );
    // The form shows the filter that is applied.
    assert_eq!(
        browser
            .find("select#level")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("client")
    );

    // And the client: Newsletters, on top of the level.
    browser
        .find("select#client")
        .await
        .select_by_label("Newsletters")
        .await
        .unwrap();
    browser.click("form.filters button[type=submit]").await;
    browser
        .wait_for_text("#match-count", "1 opt-out match.")
        .await;
    assert_eq!(browser.texts("tr.opt-out td.address").await, [ZOE]);
    assert_eq!(
        browser.texts("tr.opt-out td:nth-child(3)").await,
        ["Newsletters"]
    );
    assert_eq!(
        browser.texts("tr.opt-out td:nth-child(4)").await,
        ["Preference Center"]
    );
    browser
        .screenshot(&per_backend("activity-opt-outs", backend))
        .await;

    browser.close().await;
}
