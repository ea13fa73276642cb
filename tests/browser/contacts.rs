//! Journey 2: the contacts page shows opted-out contacts struck through with their level, and
//! a contact is opted out by hand from its dropdown menu, through the confirmation step.

use crate::driver::{Browser, badge_of, is_struck_through, row_with_address};
use crate::helpers::{Backend, spawn_app, within};
use fantoccini::Locator;

const NINA: &str = "nina.patel@acme.example";
/// Opted out at group level in the demo data: struck through for every sender.
const SIOBHAN: &str = "siobhan.obrien@example.ie";
/// Opted out of Newsletters (Nina's client) in the demo data.
/// Stored as zoe@xn--mller-kva.example; staff pages show the domain in Unicode.
const ZOE: &str = "zoe@müller.example";
/// Pat O'Brien: a contact of every demo sender, opted out of nothing.
const PAT: &str = "o'brien@example.ie";

#[actix_web::test]
async fn opting_out_from_the_dropdown_strikes_the_contact_through() {
    within(120, opting_out_from_the_dropdown(Backend::Sqlite)).await
}

async fn opting_out_from_the_dropdown(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let browser = Browser::open(&app).await;
    browser.sign_in(NINA).await;
    browser.wait_for_text("h1", "Contacts").await;

    // Opted-out contacts: struck through (the computed style, not only a class) with the
    // level that stops them; a subscribed one is neither.
    let siobhan = row_with_address(&browser, "tr.contact", SIOBHAN).await;
    assert_eq!(badge_of(&siobhan).await, "Opted out · Group");
    assert!(is_struck_through(&siobhan).await, "siobhan struck through");
    let zoe = row_with_address(&browser, "tr.contact", ZOE).await;
    assert_eq!(badge_of(&zoe).await, "Opted out · Client");
    assert!(is_struck_through(&zoe).await, "zoe struck through");
    let pat = row_with_address(&browser, "tr.contact", PAT).await;
    assert_eq!(badge_of(&pat).await, "");
    assert!(!is_struck_through(&pat).await, "pat not struck through");
    assert_eq!(
        pat.find(Locator::Css(".subscribed"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "Subscribed"
    );

    // The dropdown is closed until its summary is clicked; then its items show.
    browser.scroll_to(&pat, "center").await;
    let menu_items = pat
        .find_all(Locator::Css("details.menu li a"))
        .await
        .unwrap();
    let opt_out = menu_items[0].clone();
    assert!(!opt_out.is_displayed().await.unwrap(), "menu starts closed");
    pat.find(Locator::Css("details.menu summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(opt_out.is_displayed().await.unwrap(), "menu opened");
    let mut labels = Vec::new();
    for item in &menu_items {
        labels.push(item.text().await.unwrap());
    }
    assert_eq!(
        labels,
        ["Opt out of emails from Nina Patel…", "View history"]
    );
    browser.screenshot("contacts-menu").await;

    // The confirmation step: nothing changes until it is confirmed.
    opt_out.click().await.unwrap();
    browser
        .wait_for_text("h1", &format!("Opt out {PAT}?"))
        .await;
    let level = browser.find("input[name=level][value=user]").await;
    assert!(
        level.is_selected().await.unwrap(),
        "the chosen level is preselected"
    );
    browser
        .type_into("#note", "Asked on the phone to stop")
        .await;
    browser.click("button[type=submit].primary").await;
    browser
        .wait_for_text(
            ".notice",
            "Opted out: this contact will no longer receive emails from Nina Patel.",
        )
        .await;

    // Back on the list: Pat is struck through at user level now.
    browser.visit("/contacts").await;
    let pat = row_with_address(&browser, "tr.contact", PAT).await;
    assert_eq!(badge_of(&pat).await, "Opted out · User");
    assert!(is_struck_through(&pat).await, "pat struck through");
    assert_eq!(
        pat.attr("class").await.unwrap().as_deref(),
        Some("contact opted-out")
    );
    // The screenshot shows Pat and, below, the other opted-out contacts of Nina's list.
    browser.scroll_to(&pat, "start").await;
    browser.screenshot("contacts").await;

    browser.close().await;
}
