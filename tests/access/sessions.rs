//! The session lifecycle: a fresh session id at every sign-in (a cookie planted before sign-in
//! is never adopted), sign-out ends exactly this session (copies included), sign out everywhere
//! ends every session of the person.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use optouts::seed::demo::DEMO_PASSWORD;
use std::sync::Arc;

use crate::helpers::{
    Backend, TestApp, csrf_on, demo_app, location, new_client, status_with_cookie,
};
use crate::on_both_backends;
use crate::world::{GRACE, NINA};

on_both_backends!(
    sign_in_issues_a_new_session_and_never_adopts_a_planted_one,
    sign_out_ends_this_session_and_its_copies_only,
    sign_out_everywhere_ends_every_session_of_the_person,
);

/// The session cookie a response sets, if any.
pub fn session_cookie_in(response: &reqwest::Response) -> Option<String> {
    response
        .cookies()
        .find(|c| c.name() == "optouts_session")
        .map(|c| c.value().to_owned())
}

/// The `sid` claim of a session token (the payload is plain base64url JSON; the signature is
/// the server's business).
pub fn session_id(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sid"].as_str().expect("sid claim").to_owned()
}

/// A browser that already holds `cookie` for the app (as an attacker could plant it).
fn browser_holding(app: &TestApp, cookie: &str) -> reqwest::Client {
    let jar = reqwest::cookie::Jar::default();
    jar.add_cookie_str(
        &format!("optouts_session={cookie}; Path=/"),
        &app.address.parse::<reqwest::Url>().unwrap(),
    );
    reqwest::Client::builder()
        .cookie_provider(Arc::new(jar))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn sign_in_issues_a_new_session_and_never_adopts_a_planted_one(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    // The attacker signs in to a session of their own and plants its cookie in the victim's
    // browser; the victim then signs in.
    let attacker = new_client();
    let planted = session_cookie_in(&app.login_with(&attacker, NINA, DEMO_PASSWORD).await)
        .expect("attacker's session");
    let victim = browser_holding(&app, &planted);
    let response = app.login_with(&victim, GRACE, DEMO_PASSWORD).await;
    assert_eq!(response.status(), 303);
    let issued = session_cookie_in(&response).expect("sign-in sets a new session cookie");
    assert_ne!(issued, planted);
    assert_ne!(session_id(&issued), session_id(&planted));
    // The victim's browser now holds Grace's new session, not the attacker's.
    let html = app
        .get_with(&victim, "/contacts")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(crate::helpers::texts(&html, ".who-name"), ["Grace Hopper"]);

    // Signing in again as the same person, in a browser with a live session, starts a new
    // session too: ids are never reused.
    let again = session_cookie_in(&app.login_with(&attacker, NINA, DEMO_PASSWORD).await)
        .expect("second sign-in");
    assert_ne!(session_id(&again), session_id(&planted));
    assert_ne!(session_id(&again), session_id(&issued));

    // A made-up cookie value is replaced as well, and is no session by itself.
    let made_up = browser_holding(&app, "attacker-chosen-value");
    assert_eq!(app.get_with(&made_up, "/contacts").await.status(), 303);
    let response = app.login_with(&made_up, NINA, DEMO_PASSWORD).await;
    let issued = session_cookie_in(&response).expect("session cookie");
    assert_ne!(issued, "attacker-chosen-value");
    assert_eq!(app.get_with(&made_up, "/contacts").await.status(), 200);
}

async fn sign_out_ends_this_session_and_its_copies_only(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let laptop = new_client();
    let phone = new_client();
    let copied = session_cookie_in(&app.login_with(&laptop, NINA, DEMO_PASSWORD).await).unwrap();
    app.login_with(&phone, NINA, DEMO_PASSWORD).await;
    assert_eq!(status_with_cookie(&app, &copied, "/contacts").await, 200);

    let token = csrf_on(&app, &laptop, "/contacts").await;
    let response = app
        .post_form_with(&laptop, "/logout", &[("csrf_token", &token)])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?signed_out=1");
    // The browser forgets the cookie, and the server refuses a copy of it.
    assert_eq!(app.get_with(&laptop, "/contacts").await.status(), 303);
    assert_eq!(status_with_cookie(&app, &copied, "/contacts").await, 303);
    // A POST with the copy and its token changes nothing either.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/logout/everywhere"))
        .header("cookie", format!("optouts_session={copied}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
    assert!(
        location(&replay).starts_with("/login"),
        "{}",
        location(&replay)
    );
    // Nina's other session is not this one: it goes on.
    assert_eq!(app.get_with(&phone, "/contacts").await.status(), 200);
}

async fn sign_out_everywhere_ends_every_session_of_the_person(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let laptop = new_client();
    let phone = new_client();
    let colleague = new_client();
    let copied = session_cookie_in(&app.login_with(&laptop, NINA, DEMO_PASSWORD).await).unwrap();
    app.login_with(&phone, NINA, DEMO_PASSWORD).await;
    app.login_with(&colleague, GRACE, DEMO_PASSWORD).await;

    let token = csrf_on(&app, &phone, "/contacts").await;
    let response = app
        .post_form_with(&phone, "/logout/everywhere", &[("csrf_token", &token)])
        .await;
    assert_eq!(location(&response), "/login?signed_out=everywhere");
    for browser in [&laptop, &phone] {
        let response = app.get_with(browser, "/contacts").await;
        assert_eq!(response.status(), 303);
        assert!(location(&response).starts_with("/login"));
    }
    assert_eq!(status_with_cookie(&app, &copied, "/contacts").await, 303);
    // Another person's session is untouched, and Nina can sign in again.
    assert_eq!(app.get_with(&colleague, "/contacts").await.status(), 200);
    assert_eq!(
        app.login_with(&laptop, NINA, DEMO_PASSWORD).await.status(),
        303
    );
    assert_eq!(app.get_with(&laptop, "/contacts").await.status(), 200);
}
