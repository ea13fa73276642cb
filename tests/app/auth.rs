//! Sign-in, sessions, CSRF, sign-out.

use crate::helpers::{
    Backend, assert_throttled, csrf_token_in, demo_app, location, new_client, spawn_app_with,
    status_with_cookie, texts,
};
use crate::on_both_backends;
use optouts::seed::demo::DEMO_PASSWORD;
use std::time::Duration;

const NINA: &str = "nina.patel@acme.example";
const GRACE: &str = "grace.hopper@acme.example";

on_both_backends!(
    sign_in_opens_a_session_in_a_safe_cookie,
    wrong_password_and_unknown_account_read_the_same,
    sign_in_returns_to_the_page_asked_for,
    sign_in_without_its_form_token_is_refused,
    posts_without_the_session_csrf_token_are_refused,
    idle_session_expires_and_activity_keeps_it_alive,
    sign_out_ends_the_session_even_for_a_copied_cookie,
    sign_out_everywhere_ends_every_session,
    repeated_failures_are_slowed_down,
    pages_need_a_session,
);

async fn sign_in_opens_a_session_in_a_safe_cookie(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let response = app.login(NINA, DEMO_PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/");
    let session_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("optouts_session="))
        .expect("session cookie set");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(
        !session_cookie.contains("Secure"),
        "plain http must not mark it Secure"
    );

    let home = app.get("/").await;
    assert_eq!(location(&home), "/contacts");
    let page = app.get("/contacts").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert_eq!(texts(&html, ".who-name"), ["Nina Patel"]);
    assert_eq!(
        texts(&html, ".who-where"),
        ["User · Newsletters · Acme Holdings"]
    );
}

async fn wrong_password_and_unknown_account_read_the_same(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let wrong = app.login(NINA, "not the password").await;
    assert_eq!(wrong.status(), 401);
    assert!(
        wrong
            .headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("optouts_session="))
    );
    let wrong_html = wrong.text().await.unwrap();

    let unknown = app.login("nobody@acme.example", "not the password").await;
    assert_eq!(unknown.status(), 401);
    let unknown_html = unknown.text().await.unwrap();

    let message = texts(&wrong_html, "[role=alert]");
    assert_eq!(message.len(), 1);
    assert_eq!(message, texts(&unknown_html, "[role=alert]"));
    assert!(
        message[0].contains("do not match an account"),
        "{message:?}"
    );
    // The address typed stays in the form; the password does not.
    assert!(wrong_html.contains(r#"value="nina.patel@acme.example""#));
    assert!(!wrong_html.contains("not the password"));
    assert_eq!(app.get("/contacts").await.status(), 303);
}

async fn sign_in_returns_to_the_page_asked_for(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let page = app
        .get("/login?next=/admin/activity/opt-outs")
        .await
        .text()
        .await
        .unwrap();
    let token = csrf_token_in(&page);
    let response = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", GRACE),
                ("password", DEMO_PASSWORD),
                ("next", "/admin/activity/opt-outs"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/admin/activity/opt-outs");

    // Never off-site.
    let page = app.get("/login").await.text().await.unwrap();
    let token = csrf_token_in(&page);
    let response = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", GRACE),
                ("password", DEMO_PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/");

    // Nor by a character browsers drop (`/\t/evil.example` reads as `//evil.example`), nor a
    // 500 for a character no header may carry: the start page, after a good sign-in.
    for sneaky in [
        "/\t/evil.example",
        "/\\evil.example",
        "/ok\u{1}",
        "/%0d%0aSet-Cookie:x=y",
    ] {
        let client = crate::helpers::new_client();
        let page = app.get_with(&client, "/login").await.text().await.unwrap();
        let token = csrf_token_in(&page);
        let response = app
            .post_form_with(
                &client,
                "/login",
                &[
                    ("csrf_token", &token),
                    ("email", GRACE),
                    ("password", DEMO_PASSWORD),
                    ("next", sneaky),
                ],
            )
            .await;
        assert_eq!(response.status(), 303, "{sneaky:?}");
        assert_eq!(location(&response), "/", "{sneaky:?}");
    }
    // The sign-in page itself keeps only a safe `next` in its form.
    let page = app
        .get("/login?next=/%09/evil.example")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("evil.example"), "{page}");
}

async fn sign_in_without_its_form_token_is_refused(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    // A cross-site form post: no token cookie, no token.
    let response = app
        .post_form("/login", &[("email", NINA), ("password", DEMO_PASSWORD)])
        .await;
    assert_eq!(response.status(), 403);
    let html = response.text().await.unwrap();
    assert_eq!(texts(&html, "h1"), ["This form has expired"]);
    // A token from another browser's page does not match this browser's cookie.
    let other = new_client();
    let foreign = csrf_token_in(&app.get_with(&other, "/login").await.text().await.unwrap());
    app.get("/login").await;
    let response = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &foreign),
                ("email", NINA),
                ("password", DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        app.get("/contacts").await.status(),
        303,
        "no session was opened"
    );
}

async fn posts_without_the_session_csrf_token_are_refused(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    app.login_ok(GRACE, DEMO_PASSWORD).await;
    let token = app.session_csrf_token().await;

    for form in [
        vec![],
        vec![("csrf_token", "forged")],
        vec![("csrf_token", "")],
    ] {
        let response = app.post_form("/logout/everywhere", &form).await;
        assert_eq!(response.status(), 403, "form {form:?}");
        let html = response.text().await.unwrap();
        assert_eq!(texts(&html, "h1"), ["This form has expired"]);
        assert!(
            texts(&html, "p")
                .iter()
                .any(|p| p.contains("nothing was changed"))
        );
    }
    // Nothing changed: the session is still valid, and the real token still works.
    assert_eq!(app.get("/contacts").await.status(), 200);
    let response = app
        .post_form("/logout/everywhere", &[("csrf_token", &token)])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.get("/contacts").await.status(), 303);
}

async fn idle_session_expires_and_activity_keeps_it_alive(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |config| {
        config.session.idle_timeout = Duration::from_secs(3);
    })
    .await
    else {
        return;
    };
    app.load_demo();
    app.login_ok(NINA, DEMO_PASSWORD).await;
    // Activity within the timeout re-issues the cookie, so the session outlives the first
    // timeout.
    for _ in 0..3 {
        // 1.5 s of margin per step, so a slow machine does not time the session out early.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(app.get("/contacts").await.status(), 200);
    }
    tokio::time::sleep(Duration::from_millis(4200)).await;
    let response = app.get("/contacts").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?next=%2Fcontacts&expired=1");
    let html = app.get(&location(&response)).await.text().await.unwrap();
    assert_eq!(
        texts(&html, "[role=status]"),
        ["Your session has ended. Please sign in again."]
    );
}

async fn sign_out_ends_the_session_even_for_a_copied_cookie(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let response = app.login(NINA, DEMO_PASSWORD).await;
    let copied = response
        .cookies()
        .find(|c| c.name() == "optouts_session")
        .unwrap()
        .value()
        .to_owned();
    let token = app.session_csrf_token().await;
    let response = app.post_form("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?signed_out=1");
    assert_eq!(app.get("/contacts").await.status(), 303);

    assert_eq!(
        status_with_cookie(&app, &copied, "/contacts").await,
        303,
        "a copy of a signed-out session must not work"
    );
}

async fn sign_out_everywhere_ends_every_session(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let laptop = new_client();
    let phone = new_client();
    for client in [&laptop, &phone] {
        assert_eq!(
            app.login_with(client, NINA, DEMO_PASSWORD).await.status(),
            303
        );
    }
    let page = app
        .get_with(&laptop, "/contacts")
        .await
        .text()
        .await
        .unwrap();
    let token = csrf_token_in(&page);
    let response = app
        .post_form_with(&laptop, "/logout/everywhere", &[("csrf_token", &token)])
        .await;
    assert_eq!(location(&response), "/login?signed_out=everywhere");
    assert_eq!(app.get_with(&phone, "/contacts").await.status(), 303);
    assert_eq!(app.get_with(&laptop, "/contacts").await.status(), 303);
    // Signing in again works.
    assert_eq!(
        app.login_with(&phone, NINA, DEMO_PASSWORD).await.status(),
        303
    );
    assert_eq!(app.get_with(&phone, "/contacts").await.status(), 200);
}

async fn repeated_failures_are_slowed_down(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    for _ in 0..5 {
        assert_eq!(app.login(NINA, "guess guess guess").await.status(), 401);
    }
    // Past the limit even the right password is refused for now, with a clear message.
    let response = app.login(NINA, DEMO_PASSWORD).await;
    assert_throttled(&response);
    let html = response.text().await.unwrap();
    assert!(texts(&html, "[role=alert]")[0].contains("Too many failed sign-ins"));
    assert_eq!(app.get("/contacts").await.status(), 303);
    // Another account from the same address is not locked by Nina's failures.
    assert_eq!(app.login(GRACE, DEMO_PASSWORD).await.status(), 303);
}

async fn pages_need_a_session(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    for path in [
        "/contacts",
        "/campaigns",
        "/admin/activity/opt-outs",
        "/support",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 303, "{path}");
        let expected = format!("/login?next={}", path.replace('/', "%2F"));
        assert_eq!(
            location(&response),
            expected,
            "a first visit is not an expired session"
        );
    }
    // A forged session cookie is no session.
    let forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOjF9.";
    assert_eq!(status_with_cookie(&app, forged, "/contacts").await, 303);

    // A correctly signed token made for another purpose (an unsubscribe link) is no session.
    let user = optouts::db::accounts::find_user_by_email(
        &mut app.conn(),
        &optouts::domain::EmailAddress::parse(GRACE).unwrap(),
    )
    .unwrap()
    .unwrap();
    let claims = optouts::web::session::SessionClaims::new(user.id, user.session_version).unwrap();
    let wrong_purpose = app.config.signing_keys.sign(
        optouts::tokens::Purpose::Unsub,
        &claims,
        Duration::from_secs(600),
    );
    assert_eq!(
        status_with_cookie(&app, &wrong_purpose, "/contacts").await,
        303
    );
    // The same claims as a session token do work: the refusal above was the purpose.
    let right = app.config.signing_keys.sign(
        optouts::tokens::Purpose::Session,
        &claims,
        Duration::from_secs(600),
    );
    assert_eq!(status_with_cookie(&app, &right, "/contacts").await, 200);
}
