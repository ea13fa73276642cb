//! The frame every page shares: navigation by role, error pages, security headers, escaping.

use crate::helpers::{Backend, demo_app, texts};
use crate::on_both_backends;
use optouts::db::accounts::{self, NewStaffUser};
use optouts::domain::{EmailAddress, Role};
use optouts::seed::demo::{DEMO_PASSWORD, LOGINS};

on_both_backends!(
    navigation_follows_the_role,
    areas_outside_the_role_answer_404,
    unknown_pages_get_the_html_404_page,
    framework_errors_render_html_pages,
    oversized_forms_get_413,
    every_response_carries_security_headers,
    names_are_escaped_in_the_page_frame,
);

fn landing_page(role: Role) -> &'static str {
    if role == Role::Support {
        "/support"
    } else {
        "/contacts"
    }
}

async fn navigation_follows_the_role(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    for (email, name, role, client) in LOGINS {
        let browser = crate::helpers::new_client();
        assert_eq!(
            app.login_with(&browser, email, DEMO_PASSWORD)
                .await
                .status(),
            303
        );
        let html = app
            .get_with(&browser, landing_page(role))
            .await
            .text()
            .await
            .unwrap();
        let nav = texts(&html, ".main-nav a");
        let expected: Vec<&str> = match role {
            Role::User => vec!["Contacts", "Campaigns"],
            Role::ClientAdmin | Role::GroupAdmin => vec![
                "Contacts",
                "Campaigns",
                "Activity › Opt outs",
                "Activity › Emails",
                "Settings › Preference center",
            ],
            Role::Support => vec!["Contacts", "Support", "Activity › Opt outs"],
        };
        assert_eq!(nav, expected, "navigation of {email}");
        assert_eq!(
            texts(&html, ".nav-group-label").len(),
            usize::from(role != Role::User)
        );
        assert_eq!(texts(&html, ".who-name"), [name]);
        let place = match (role, client) {
            (Role::Support, _) => "Platform support".to_owned(),
            (_, Some(client)) => format!("{client} · Acme Holdings"),
            (_, None) => "Acme Holdings".to_owned(),
        };
        assert_eq!(
            texts(&html, ".who-where"),
            [format!("{} · {place}", role.label())]
        );
        assert_eq!(texts(&html, r#".main-nav a[aria-current="page"]"#).len(), 1);
    }
}

async fn areas_outside_the_role_answer_404(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let cases: [(&str, &[&str]); 3] = [
        (
            "nina.patel@acme.example",
            &[
                "/admin/activity/opt-outs",
                "/admin/activity/emails",
                "/admin/settings/preference-center",
                "/support",
            ],
        ),
        ("carl.jensen@acme.example", &["/support"]),
        (
            "sasha.support@optouts.example",
            &[
                "/campaigns",
                "/admin/settings/preference-center",
                "/admin/activity/emails",
            ],
        ),
    ];
    for (email, hidden) in cases {
        let browser = crate::helpers::new_client();
        app.login_with(&browser, email, DEMO_PASSWORD).await;
        for path in hidden {
            let response = app.get_with(&browser, path).await;
            assert_eq!(response.status(), 404, "{email} {path}");
            let html = response.text().await.unwrap();
            assert_eq!(texts(&html, "h1"), ["Page not found"]);
        }
    }
}

async fn unknown_pages_get_the_html_404_page(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert_eq!(texts(&html, "h1"), ["Page not found"]);
    assert_eq!(texts(&html, "a.button"), ["Go to the start page"]);
    assert_eq!(app.get("/static/missing.css").await.status(), 404);
}

async fn framework_errors_render_html_pages(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    // Wrong method on a known path.
    let response = app.client.delete(app.url("/login")).send().await.unwrap();
    assert!(
        response.status() == 405 || response.status() == 404,
        "{}",
        response.status()
    );
    let html = response.text().await.unwrap();
    assert_eq!(texts(&html, "h1").len(), 1);
    assert!(html.contains("<!doctype html>"));

    // A malformed form body on sign-in (valid token, unreadable fields) is a 400 page.
    let page = app.get("/login").await.text().await.unwrap();
    let token = crate::helpers::csrf_token_in(&page);
    let response = app.post_form("/login", &[("csrf_token", &token)]).await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert_eq!(texts(&html, "h1"), ["That request could not be understood"]);
    assert!(
        !html.contains("missing field"),
        "internal error text leaked"
    );
}

async fn oversized_forms_get_413(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let page = app.get("/login").await.text().await.unwrap();
    let token = crate::helpers::csrf_token_in(&page);
    let huge = "x".repeat(200 * 1024);
    let response = app
        .post_form(
            "/login",
            &[("csrf_token", &token), ("email", &huge), ("password", "x")],
        )
        .await;
    assert_eq!(response.status(), 413);
    let html = response.text().await.unwrap();
    assert_eq!(texts(&html, "h1"), ["That was too large"]);
}

async fn every_response_carries_security_headers(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    for path in [
        "/login",
        "/no/such/page",
        "/healthz",
        "/static/app.css",
        "/",
    ] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(headers.contains_key("x-request-id"), "{path}");
        assert!(
            !headers.contains_key("strict-transport-security"),
            "no HSTS over http"
        );
    }
    let page = app.get("/login").await;
    assert_eq!(page.headers()["cache-control"], "no-store");
    let css = app.get("/static/app.css").await;
    assert_eq!(css.headers()["cache-control"], "public, max-age=3600");
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

async fn names_are_escaped_in_the_page_frame(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let hostile = "<script>alert('x')</script> & \"Bobby\"";
    {
        let mut conn = app.conn();
        let group = accounts::find_group_by_name(&mut conn, "Acme Holdings")
            .unwrap()
            .unwrap();
        let client = accounts::find_client_by_name(&mut conn, group.id, "Tax")
            .unwrap()
            .unwrap();
        let email = EmailAddress::parse("bobby@acme.example").unwrap();
        let hash = optouts::passwords::hash(&secrecy::SecretString::from(DEMO_PASSWORD)).unwrap();
        accounts::create_user(
            &mut conn,
            &NewStaffUser {
                email: &email,
                display_name: hostile,
                role: Role::User,
                group_id: Some(group.id),
                client_id: Some(client.id),
                password_hash: &hash,
            },
        )
        .unwrap();
    }
    app.login_ok("bobby@acme.example", DEMO_PASSWORD).await;
    let html = app.get("/contacts").await.text().await.unwrap();
    assert!(!html.contains("<script>alert"), "raw script tag in page");
    assert!(
        html.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#38; &#34;Bobby&#34;")
    );
    assert_eq!(texts(&html, ".who-name"), [hostile]);
}
