//! Journey 3: a sender adds contacts to a draft, opted-out ones among them; a real modal
//! dialog (static/app.js upgrades the server-rendered one) lists those with their level.

use crate::driver::{Browser, is_struck_through, row_with_address};
use crate::helpers::{Backend, spawn_app, within};
use fantoccini::key::Key;

const NINA: &str = "nina.patel@acme.example";
/// Opted out at user level for Nina (by hand, in the demo data).
const RENEE: &str = "renee.darc@example.fr";
/// Opted out at group level.
const SIOBHAN: &str = "siobhan.obrien@example.ie";
/// Opted out of Newsletters, Nina's client.
/// Stored as zoe@xn--mller-kva.example; staff pages show the domain in Unicode.
const ZOE: &str = "zoe@müller.example";
/// Opted out of nothing.
const PAT: &str = "o'brien@example.ie";

#[actix_web::test]
async fn adding_opted_out_contacts_shows_them_in_a_modal_dialog() {
    within(120, adding_opted_out_contacts(Backend::Sqlite)).await
}

/// Creates a draft through the campaigns page and returns its id (the browser is on it).
pub(crate) async fn create_draft(browser: &Browser, name: &str) -> i64 {
    browser.visit("/campaigns").await;
    browser.click("details.add-contact summary").await;
    browser.type_into("#name", name).await;
    browser.type_into("#subject", "Autumn news & offers").await;
    browser
        .type_into("#body_text", "Hello!\n\nOur autumn news.")
        .await;
    browser
        .click("form[action='/campaigns'] button[type=submit]")
        .await;
    browser.wait_for_text("h1", name).await;
    let path = browser.wait_for_path("/campaigns/").await;
    path.trim_start_matches("/campaigns/")
        .parse()
        .unwrap_or_else(|_| panic!("a campaign page, not {path}"))
}

/// Ticks the picker rows showing these addresses and adds them; the dialog is then open.
pub(crate) async fn add_ticked(browser: &Browser, addresses: &[&str]) {
    for address in addresses {
        let row = row_with_address(browser, ".picker div.choice", address).await;
        let checkbox = row
            .find(fantoccini::Locator::Css("input[type=checkbox]"))
            .await
            .unwrap();
        checkbox.click().await.unwrap();
        assert!(checkbox.is_selected().await.unwrap(), "{address} ticked");
    }
    browser.click("button[name=add][value=ticked]").await;
    browser.wait_for("dialog.suppressed-dialog").await;
}

/// Whether the page's dialog is shown as a modal (top layer, page behind inert).
async fn dialog_is_modal(browser: &Browser) -> bool {
    browser
        .script("return document.querySelector('dialog.suppressed-dialog').matches(':modal');")
        .await
        .as_bool()
        .unwrap()
}

async fn adding_opted_out_contacts(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let browser = Browser::open(&app).await;
    browser.sign_in(NINA).await;
    let campaign = create_draft(&browser, "Autumn news").await;
    assert_eq!(
        browser.text("#recipients-title + p.empty").await,
        "No recipients yet."
    );

    // The picker already marks opted-out contacts before they are added.
    let renee = row_with_address(&browser, ".picker div.choice", RENEE).await;
    assert!(
        is_struck_through(&renee).await,
        "Renée struck through in the picker"
    );

    add_ticked(&browser, &[PAT, RENEE, SIOBHAN, ZOE]).await;
    // The add answered with a redirect: the address bar names a real page with the dialog.
    let with_dialog = browser.path().await;
    let batch = with_dialog
        .strip_prefix(&format!("/campaigns/{campaign}?added="))
        .unwrap_or_else(|| panic!("the campaign page with the dialog, not {with_dialog}"));
    assert!(batch.bytes().all(|b| b.is_ascii_digit()), "{with_dialog}");

    // A real modal: in the top layer, focus on its button, the page behind unreachable.
    assert!(dialog_is_modal(&browser).await, "the dialog is modal");
    assert_eq!(
        browser
            .script("return document.activeElement.textContent.trim();")
            .await,
        "OK"
    );
    let behind = browser.find(".main-nav a[href='/contacts']").await;
    assert!(
        behind.click().await.is_err(),
        "a link behind the modal cannot be clicked"
    );

    // What it says: how many were added, and each opted-out one with its level, struck through.
    assert_eq!(
        browser.text("#dialog-title").await,
        "Some contacts have opted out"
    );
    assert!(
        browser
            .texts("dialog.suppressed-dialog p")
            .await
            .contains(&"4 contacts added.".to_owned())
    );
    assert_eq!(
        browser.texts("dialog .blocked li").await,
        [
            format!("{RENEE} Opted out · User"),
            format!("{SIOBHAN} Opted out · Group"),
            format!("{ZOE} Opted out · Client"),
        ]
    );
    for row in browser.find_all("dialog .blocked li").await {
        assert!(
            is_struck_through(&row).await,
            "struck through in the dialog"
        );
    }
    browser.screenshot("campaign-dialog").await;

    // Escape closes it, and the page behind is usable again.
    browser
        .find("dialog.suppressed-dialog")
        .await
        .send_keys(&Key::Escape)
        .await
        .unwrap();
    browser
        .wait_until(
            "the dialog and its backdrop are gone",
            "return document.querySelector('dialog, .dialog-backdrop') === null;",
        )
        .await;
    // Closed, the address names the page alone: a reload would not open it again.
    assert_eq!(browser.path().await, format!("/campaigns/{campaign}"));

    // The recipients: all four listed, the opted-out ones struck through with their level;
    // the send button counts every recipient and the page says who will be skipped.
    assert_eq!(browser.text("#count-recipients").await, "4");
    assert_eq!(browser.text("#count-suppressed").await, "3");
    for (address, badge) in [
        (PAT, ""),
        (RENEE, "Opted out · User"),
        (SIOBHAN, "Opted out · Group"),
        (ZOE, "Opted out · Client"),
    ] {
        let row = row_with_address(&browser, "tr.recipient", address).await;
        assert_eq!(crate::driver::badge_of(&row).await, badge, "{address}");
        assert_eq!(
            is_struck_through(&row).await,
            !badge.is_empty(),
            "{address}"
        );
    }
    assert_eq!(
        browser.text(".send-button").await,
        "Send to 1 contact (3 opted out will be skipped)"
    );
    behind
        .click()
        .await
        .expect("the page is usable after the dialog closed");
    browser.wait_for_text("h1", "Contacts").await;

    // Opening the dialog's address again (a reload, a bookmark) shows the same dialog and
    // adds nobody twice.
    browser.visit(&with_dialog).await;
    browser.wait_for("dialog.suppressed-dialog").await;
    assert_eq!(
        browser.texts("dialog .blocked li").await,
        [
            format!("{RENEE} Opted out · User"),
            format!("{SIOBHAN} Opted out · Group"),
            format!("{ZOE} Opted out · Client"),
        ]
    );
    assert_eq!(browser.text("#count-recipients").await, "4");

    // Sending asks first, with the same counts; cancelling sends nothing.
    browser.visit(&format!("/campaigns/{campaign}")).await;
    browser.click(".send-button").await;
    browser
        .wait_for_text(
            "#send-question",
            "Send to 1 contact (3 opted out will be skipped)",
        )
        .await;
    browser.click(".send-form a.button").await;
    browser.wait_for_text("h1", "Autumn news").await;
    assert!(browser.text("p.owner").await.contains("Draft"));

    browser.close().await;
}
