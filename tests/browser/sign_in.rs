//! Journey 1: signing in through the real form, typed and submitted, and signing out.

use crate::driver::Browser;
use crate::helpers::{Backend, spawn_app, within};
use optouts::seed::demo::DEMO_PASSWORD;

const GRACE: &str = "grace.hopper@acme.example";

#[actix_web::test]
async fn sign_in_from_a_protected_page_lands_there() {
    within(120, signing_in(Backend::Sqlite)).await
}

async fn signing_in(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let browser = Browser::open(&app).await;

    // A signed-out visit to a page that needs a session goes to the sign-in form, which
    // remembers where the person was going.
    browser.visit("/campaigns").await;
    browser.wait_for_path("/login").await;
    assert_eq!(browser.text("h1").await, "Sign in");
    assert_eq!(
        browser
            .find("input[name=next]")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("/campaigns")
    );

    // A wrong password: the message, the address kept, the password not.
    browser.fill_sign_in(GRACE, "not-the-password").await;
    browser
        .wait_for_text(
            "#login-error",
            "That email address and password do not match an account. Check both and try again.",
        )
        .await;
    let email = browser.find("#email").await;
    assert_eq!(email.prop("value").await.unwrap().as_deref(), Some(GRACE));
    let password = browser.find("#password").await;
    assert_eq!(password.prop("value").await.unwrap().as_deref(), Some(""));

    // The right password, typed into the same form: the page they asked for, signed in.
    browser.type_into("#password", DEMO_PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for_text("h1", "Campaigns").await;
    assert_eq!(browser.path().await, "/campaigns");
    assert_eq!(browser.text(".who-name").await, "Grace Hopper");
    assert_eq!(
        browser.text(".who-where").await,
        "Group admin · Acme Holdings"
    );
    assert_eq!(
        browser.texts(".main-nav a").await,
        [
            "Contacts",
            "Campaigns",
            "Activity › Opt outs",
            "Activity › Emails",
            "Settings › Preference center"
        ]
    );
    assert_eq!(
        browser.text(".main-nav a[aria-current=page]").await,
        "Campaigns"
    );

    // The start page sends a signed-in group admin to the contacts.
    browser.visit("/").await;
    browser.wait_for_text("h1", "Contacts").await;
    assert_eq!(browser.path().await, "/contacts");
    browser.screenshot("sign-in").await;

    // Signing out ends the session: the contacts ask for a sign-in again.
    browser
        .click(".who-actions form[action='/logout'] button")
        .await;
    browser
        .wait_for_text(".notice", "You have signed out.")
        .await;
    browser.visit("/contacts").await;
    browser.wait_for_path("/login").await;
    assert!(browser.find_all(".who-name").await.is_empty());

    browser.close().await;
}
