//! Account › Password: reachable by every signed-in person from the page header; refuses a
//! wrong current password, a mismatch, a short or unchanged new password without changing
//! anything; a change ends every other session and keeps this one; wrong current passwords
//! are throttled like sign-ins.

use optouts::db::accounts;
use optouts::domain::{EmailAddress, UserId};
use optouts::seed::demo::DEMO_PASSWORD;

use crate::helpers::{
    Backend, TestApp, assert_throttled, csrf_token_in, demo_app, location, new_client, signed_in,
    status_with_cookie, texts,
};
use crate::on_both_backends;
use crate::sessions::{session_cookie_in, session_id};
use crate::world::{CARL, GRACE, NINA, SASHA, Snapshot};

on_both_backends!(
    every_role_finds_the_password_page_in_the_header,
    refused_changes_change_nothing,
    a_password_change_ends_every_other_session_and_keeps_this_one,
    wrong_current_passwords_are_throttled_like_sign_in,
);

const NEW_PASSWORD: &str = "a brand new passphrase";

fn user_id(app: &TestApp, email: &str) -> UserId {
    accounts::find_user_by_email(&mut app.conn(), &EmailAddress::parse(email).unwrap())
        .unwrap()
        .unwrap()
        .id
}

async fn change_password(
    app: &TestApp,
    browser: &reqwest::Client,
    current: &str,
    new: &str,
    again: &str,
) -> reqwest::Response {
    let page = app.get_with(browser, "/account/password").await;
    assert_eq!(page.status(), 200);
    let token = csrf_token_in(&page.text().await.unwrap());
    app.post_form_with(
        browser,
        "/account/password",
        &[
            ("csrf_token", &token),
            ("current_password", current),
            ("new_password", new),
            ("new_password_again", again),
        ],
    )
    .await
}

async fn every_role_finds_the_password_page_in_the_header(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    for (email, landing) in [
        (GRACE, "/contacts"),
        (CARL, "/contacts"),
        (NINA, "/contacts"),
        (SASHA, "/support"),
    ] {
        let browser = signed_in(&app, email).await;
        let html = app.get_with(&browser, landing).await.text().await.unwrap();
        assert_eq!(
            texts(&html, r#".who-actions a[href="/account/password"]"#),
            ["Account"],
            "{email}"
        );
        let page = app.get_with(&browser, "/account/password").await;
        assert_eq!(page.status(), 200, "{email}");
        let html = page.text().await.unwrap();
        assert_eq!(texts(&html, "h1"), ["Change your password"]);
        for field in ["current_password", "new_password", "new_password_again"] {
            let css =
                format!(r#"form[action="/account/password"] input[type=password][name={field}]"#);
            assert_eq!(texts(&html, &css).len(), 1, "{email} {field}");
        }
    }
}

async fn refused_changes_change_nothing(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = user_id(&app, NINA);
    let browser = signed_in(&app, NINA).await;
    let other_session = signed_in(&app, NINA).await;
    let cases = [
        (
            DEMO_PASSWORD,
            NEW_PASSWORD,
            "a brand new passphrasf",
            "do not match",
        ),
        (DEMO_PASSWORD, "short", "short", "at least 12 characters"),
        (DEMO_PASSWORD, DEMO_PASSWORD, DEMO_PASSWORD, "must differ"),
        (
            "not my password",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "current password is not right",
        ),
    ];
    for (current, new, again, message) in cases {
        let before = Snapshot::of(&mut app.conn());
        let response = change_password(&app, &browser, current, new, again).await;
        assert_eq!(response.status(), 422, "{message}");
        let html = response.text().await.unwrap();
        let alert = texts(&html, "[role=alert]");
        assert!(alert.len() == 1 && alert[0].contains(message), "{alert:?}");
        for typed in [current, new, again] {
            assert!(!html.contains(typed), "the page repeats a typed password");
        }
        let after = Snapshot::of(&mut app.conn());
        assert_eq!(after.user(nina), before.user(nina), "{message}");
        let changes = after.differences(&before);
        if current == DEMO_PASSWORD {
            // Checked before the current password: no password check, nothing recorded.
            assert!(changes.is_empty(), "{message}: {changes:?}");
        } else {
            // A wrong current password counts as a failed attempt (for the account and
            // address pair, the address and the account) and as a password check from this
            // address; the two sign-ins above counted as two checks.
            assert_eq!(changes, ["login_failures: 2 rows -> 6"], "{message}");
        }
    }
    // Both sessions go on, and the old password still signs in.
    for session in [&browser, &other_session] {
        assert_eq!(app.get_with(session, "/contacts").await.status(), 200);
    }
    assert_eq!(
        app.login_with(&new_client(), NINA, DEMO_PASSWORD)
            .await
            .status(),
        303
    );
}

async fn a_password_change_ends_every_other_session_and_keeps_this_one(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = user_id(&app, NINA);
    let laptop = new_client();
    let before_change =
        session_cookie_in(&app.login_with(&laptop, NINA, DEMO_PASSWORD).await).unwrap();
    let phone = signed_in(&app, NINA).await;
    let colleague = signed_in(&app, GRACE).await;
    let old_token = csrf_token_in(
        &app.get_with(&laptop, "/contacts")
            .await
            .text()
            .await
            .unwrap(),
    );
    let (old_hash, old_version) = Snapshot::of(&mut app.conn()).user(nina);

    let response = change_password(&app, &laptop, DEMO_PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/account/password?changed=1");
    let reissued = session_cookie_in(&response).expect("this session gets a new cookie");
    assert_ne!(session_id(&reissued), session_id(&before_change));

    let (hash, version) = Snapshot::of(&mut app.conn()).user(nina);
    assert!(hash.starts_with("$argon2id$") && hash != old_hash, "{hash}");
    assert_eq!(version, old_version + 1);

    // This browser stays signed in and is told what happened.
    let html = app
        .get_with(&laptop, "/account/password?changed=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(texts(&html, "[role=status]")[0].contains("Every other session has been signed out"));
    assert_eq!(app.get_with(&laptop, "/contacts").await.status(), 200);
    // Every other session of Nina's has ended, a copy of this browser's old cookie too, and
    // the old session's CSRF token is worthless.
    let response = app.get_with(&phone, "/contacts").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?next=%2Fcontacts&expired=1");
    assert_eq!(
        status_with_cookie(&app, &before_change, "/contacts").await,
        303
    );
    let response = app
        .post_form_with(&laptop, "/logout/everywhere", &[("csrf_token", &old_token)])
        .await;
    assert_eq!(response.status(), 403);
    // Someone else's session is untouched.
    assert_eq!(app.get_with(&colleague, "/contacts").await.status(), 200);
    // The new password signs in; the old one no longer does.
    assert_eq!(
        app.login_with(&new_client(), NINA, DEMO_PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.login_with(&new_client(), NINA, NEW_PASSWORD)
            .await
            .status(),
        303
    );
}

async fn wrong_current_passwords_are_throttled_like_sign_in(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let nina = user_id(&app, NINA);
    let browser = signed_in(&app, NINA).await;
    for _ in 0..5 {
        let response =
            change_password(&app, &browser, "guess guess", NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(response.status(), 422);
    }
    let before = Snapshot::of(&mut app.conn());
    // Past the limit even the right current password is refused for now.
    let response = change_password(&app, &browser, DEMO_PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_throttled(&response);
    let html = response.text().await.unwrap();
    assert!(texts(&html, "[role=alert]")[0].contains("Too many wrong passwords"));
    let after = Snapshot::of(&mut app.conn());
    assert_eq!(after.user(nina), before.user(nina));
    assert!(after.differences(&before).is_empty());
    // It is the sign-in throttle: signing in as Nina is refused too, others are not.
    assert_eq!(
        app.login_with(&new_client(), NINA, DEMO_PASSWORD)
            .await
            .status(),
        429
    );
    assert_eq!(
        app.login_with(&new_client(), GRACE, DEMO_PASSWORD)
            .await
            .status(),
        303
    );
    // The session itself was not ended by the guesses.
    assert_eq!(app.get_with(&browser, "/contacts").await.status(), 200);
}
