//! Security headers on every kind of page: a Content-Security-Policy everywhere (signed-in
//! pages, recipients' token pages, error pages, sign-in, the one-click answer); HSTS exactly
//! when the public address is https; `Referrer-Policy: no-referrer` on `/u/` and `/opt-in/`
//! pages, bad links included, so tokens never leak through Referer; `Cache-Control: no-store`
//! on signed-in and token pages.

use crate::flows::{GRACE, NINA, PAT, SASHA, message_to, queued_messages};
use crate::helpers::{Backend, TestApp, new_client, signed_in, spawn_app_with};
use crate::on_both_backends;
use reqwest::header::HeaderMap;

on_both_backends!(
    every_kind_of_page_carries_the_security_headers_over_http,
    hsts_only_when_the_public_address_is_https,
    forwarded_addresses_count_only_from_trusted_proxies,
);

/// What a page is, for the headers it must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Sign-in, the start page, static files, error pages outside token paths.
    Public,
    /// A signed-in person's page.
    SignedIn,
    /// A recipient's page (or error page) under `/u/` or `/opt-in/`.
    Token,
}

struct Seen {
    what: String,
    kind: Kind,
    status: u16,
    headers: HeaderMap,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

/// Opens every kind of page once and keeps what came back.
async fn visit_every_kind(app: &TestApp) -> Vec<Seen> {
    let sent = queued_messages(app).await;
    let pat = message_to(app, &sent, PAT);
    let keys = &app.config.signing_keys;
    let unsubscribe = format!("/u/{}", keys.unsubscribe_token(pat));
    let opt_in = format!(
        "/opt-in/{}",
        keys.opt_in_token(pat, optouts::domain::OptOutId(1))
    );
    let gone = format!(
        "/u/{}",
        keys.unsubscribe_token(optouts::domain::MessageId(987_654))
    );
    let anonymous = new_client();
    let nina = signed_in(app, NINA).await;
    let grace = signed_in(app, GRACE).await;
    let sasha = signed_in(app, SASHA).await;

    let mut seen = Vec::new();
    let mut keep = |what: &str, kind: Kind, response: reqwest::Response| {
        seen.push(Seen {
            what: what.to_owned(),
            kind,
            status: response.status().as_u16(),
            headers: response.headers().clone(),
        });
    };
    let get = |client: &reqwest::Client, path: &str| client.get(app.url(path)).send();
    keep(
        "sign-in page",
        Kind::Public,
        get(&anonymous, "/login").await.unwrap(),
    );
    keep(
        "start page, signed out (303)",
        Kind::Public,
        get(&anonymous, "/").await.unwrap(),
    );
    keep(
        "stylesheet",
        Kind::Public,
        get(&anonymous, "/static/app.css").await.unwrap(),
    );
    keep(
        "unknown path (404)",
        Kind::Public,
        get(&anonymous, "/nowhere").await.unwrap(),
    );
    keep(
        "sign-in without its token (403)",
        Kind::Public,
        app.post_form_with(&anonymous, "/login", &[("email", NINA)])
            .await,
    );
    keep(
        "contacts",
        Kind::SignedIn,
        get(&nina, "/contacts").await.unwrap(),
    );
    keep(
        "campaigns",
        Kind::SignedIn,
        get(&nina, "/campaigns").await.unwrap(),
    );
    keep(
        "activity",
        Kind::SignedIn,
        get(&grace, "/admin/activity/opt-outs").await.unwrap(),
    );
    keep(
        "activity CSV",
        Kind::SignedIn,
        get(&grace, "/admin/activity/opt-outs.csv").await.unwrap(),
    );
    keep(
        "settings",
        Kind::SignedIn,
        get(&grace, "/admin/settings/preference-center")
            .await
            .unwrap(),
    );
    keep(
        "support",
        Kind::SignedIn,
        get(&sasha, "/support").await.unwrap(),
    );
    keep(
        "a contact outside the scope (404)",
        Kind::SignedIn,
        get(&nina, "/contacts/987654").await.unwrap(),
    );
    keep(
        "signed-in form without CSRF (403)",
        Kind::SignedIn,
        app.post_form_with(&nina, "/contacts", &[("email", "x@example.com")])
            .await,
    );
    keep(
        "Preference Center",
        Kind::Token,
        get(&anonymous, &unsubscribe).await.unwrap(),
    );
    keep(
        "Preference Center HEAD",
        Kind::Token,
        anonymous.head(app.url(&unsubscribe)).send().await.unwrap(),
    );
    keep(
        "Preference Center refusing a missing choice (422)",
        Kind::Token,
        app.post_form_with(&anonymous, &unsubscribe, &[]).await,
    );
    keep(
        "Preference Center body too large (413)",
        Kind::Token,
        app.post_form_with(&anonymous, &unsubscribe, &[("level", &"g".repeat(20_000))])
            .await,
    );
    keep(
        "opt-in page",
        Kind::Token,
        get(&anonymous, &opt_in).await.unwrap(),
    );
    keep(
        "bad link (400)",
        Kind::Token,
        get(&anonymous, "/u/not-a-token").await.unwrap(),
    );
    keep(
        "bad opt-in link (400)",
        Kind::Token,
        get(&anonymous, "/opt-in/not-a-token").await.unwrap(),
    );
    keep(
        "email gone (404)",
        Kind::Token,
        get(&anonymous, &gone).await.unwrap(),
    );
    keep(
        "undo with a JSON body (415)",
        Kind::Token,
        anonymous
            .post(app.url(&format!("{unsubscribe}/undo")))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap(),
    );
    keep(
        "unsubscribed page",
        Kind::Token,
        app.post_form_with(&anonymous, &unsubscribe, &[("level", "user")])
            .await,
    );
    keep(
        "one-click answer",
        Kind::Token,
        app.post_form_with(
            &anonymous,
            &unsubscribe,
            &[("List-Unsubscribe", "One-Click")],
        )
        .await,
    );
    keep(
        "opted back in",
        Kind::Token,
        app.post_form_with(&anonymous, &opt_in, &[]).await,
    );
    seen
}

fn assert_csp(page: &Seen) {
    let csp = header(&page.headers, "content-security-policy")
        .unwrap_or_else(|| panic!("{}: no Content-Security-Policy", page.what));
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(
            csp.contains(directive),
            "{}: {directive} missing from {csp}",
            page.what
        );
    }
    assert!(!csp.contains("unsafe-inline"), "{}: {csp}", page.what);
    assert!(!csp.contains("unsafe-eval"), "{}: {csp}", page.what);
    assert_eq!(
        header(&page.headers, "x-content-type-options"),
        Some("nosniff"),
        "{}",
        page.what
    );
}

fn assert_kind_headers(page: &Seen) {
    assert_csp(page);
    if page.kind == Kind::Token {
        assert_eq!(
            header(&page.headers, "referrer-policy"),
            Some("no-referrer"),
            "{} ({})",
            page.what,
            page.status
        );
    }
    if page.kind != Kind::Public {
        assert_eq!(
            header(&page.headers, "cache-control"),
            Some("no-store"),
            "{} ({})",
            page.what,
            page.status
        );
    }
}

async fn every_kind_of_page_carries_the_security_headers_over_http(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    app.load_demo();
    let seen = visit_every_kind(&app).await;
    let statuses: Vec<(&str, u16)> = seen.iter().map(|p| (p.what.as_str(), p.status)).collect();
    // The visit reached what it meant to: each page answered as that kind of page does.
    for (what, status) in &statuses {
        let expected = expected_status(what);
        assert_eq!(*status, expected, "{what}");
    }
    for page in &seen {
        assert_kind_headers(page);
        assert!(
            header(&page.headers, "strict-transport-security").is_none(),
            "{}: HSTS over plain http",
            page.what
        );
    }
}

/// The status each visited page must have, so a header check never passes on a page that
/// was not the one meant (a redirect to sign-in, say).
fn expected_status(what: &str) -> u16 {
    let by_code = [
        ("(404)", 404),
        ("(405)", 405),
        ("(403)", 403),
        ("(422)", 422),
        ("(413)", 413),
        ("(400)", 400),
        ("(415)", 415),
        ("(303)", 303),
    ];
    by_code
        .iter()
        .find(|(code, _)| what.ends_with(code))
        .map_or(200, |(_, status)| *status)
}

async fn hsts_only_when_the_public_address_is_https(backend: Backend) {
    // Served behind a TLS proxy: the public address is https, the test talks plain http to
    // the app as the proxy would. Cookies are `Secure` then, so the signed-in pages are
    // visited by sending the session cookie by hand.
    let Some(app) = spawn_app_with(backend, |config| {
        config.base_url = url::Url::parse("https://optouts.example").unwrap();
    })
    .await
    else {
        return;
    };
    app.load_demo();
    let session = sign_in_by_hand(&app, NINA).await;
    let cookie = format!("optouts_session={session}");
    let contacts = reqwest::Client::new()
        .get(app.url("/contacts"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(contacts.status(), 200);
    let mut pages = vec![("contacts", contacts)];
    for path in ["/login", "/nowhere", "/u/not-a-token", "/static/app.css"] {
        pages.push((path, app.get(path).await));
    }
    for (what, response) in pages {
        let hsts = header(response.headers(), "strict-transport-security")
            .unwrap_or_else(|| panic!("{what}: no HSTS though the public address is https"))
            .to_owned();
        assert!(hsts.contains("max-age=31536000"), "{what}: {hsts}");
    }

    // Behind a proxy with an http public address, a forwarded "https" does not switch it on:
    // the configured address decides, not a request header.
    let Some(plain) = spawn_app_with(backend, |config| {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await
    else {
        return;
    };
    let response = reqwest::Client::new()
        .get(plain.url("/login"))
        .header("x-forwarded-proto", "https")
        .header("forwarded", "proto=https")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(header(response.headers(), "strict-transport-security").is_none());
}

/// Signs in with cookies carried by hand: over plain http a client keeps `Secure` cookies to
/// itself, as a browser would. Returns the session token after checking it is `Secure`.
async fn sign_in_by_hand(app: &TestApp, email: &str) -> String {
    let client = new_client();
    let page = client.get(app.url("/login")).send().await.unwrap();
    let form_cookie = page
        .cookies()
        .find(|c| c.name() == "optouts_login_csrf")
        .expect("the sign-in form's cookie");
    assert!(form_cookie.secure(), "the form cookie is Secure on https");
    let form_cookie = format!("optouts_login_csrf={}", form_cookie.value());
    let token = crate::helpers::csrf_token_in(&page.text().await.unwrap());
    let body = serde_urlencoded::to_string([
        ("csrf_token", token.as_str()),
        ("email", email),
        ("password", optouts::seed::demo::DEMO_PASSWORD),
    ])
    .unwrap();
    let response = client
        .post(app.url("/login"))
        .header("cookie", form_cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "signed in");
    let session = response
        .cookies()
        .find(|c| c.name() == "optouts_session")
        .expect("a session cookie");
    assert!(session.secure(), "the session cookie is Secure on https");
    session.value().to_owned()
}

/// The address kept with a one-click opt-out (and used for sign-in throttling): the socket's
/// peer unless it is a trusted proxy; then the right-most `X-Forwarded-For` entry that is not
/// a trusted proxy, whatever the client wrote to its left. `Forwarded` is never read.
async fn forwarded_addresses_count_only_from_trusted_proxies(backend: Backend) {
    use diesel::prelude::*;
    use optouts::db::schema::consent_events;
    for (trusted, header, expected) in [
        // No trusted proxies: forwarding headers are the client's own words.
        (Vec::new(), "198.51.100.1", "127.0.0.1"),
        // Behind a trusted proxy (this test's loopback): the entry the proxy appended.
        (
            vec!["127.0.0.1/32"],
            "198.51.100.1, 203.0.113.9",
            "203.0.113.9",
        ),
        // A chain of trusted proxies: the first entry from the right that is not one of them.
        (
            vec!["127.0.0.1/32", "10.0.0.0/8"],
            "198.51.100.1, 203.0.113.9, 10.4.5.6",
            "203.0.113.9",
        ),
    ] {
        let Some(app) = spawn_app_with(backend, |config| {
            config.trusted_proxies = trusted.iter().map(|t| t.parse().unwrap()).collect();
        })
        .await
        else {
            return;
        };
        app.load_demo();
        let sent = queued_messages(&app).await;
        let pat = message_to(&app, &sent, PAT);
        let url = app.url(&format!(
            "/u/{}",
            app.config.signing_keys.unsubscribe_token(pat)
        ));
        let response = reqwest::Client::new()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", header)
            .header("forwarded", "for=192.0.2.66")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let kept: Option<String> = consent_events::table
            .filter(consent_events::email.eq(PAT))
            .filter(consent_events::kind.eq("opt_out"))
            .select(consent_events::ip_address)
            .first(&mut *app.conn())
            .unwrap();
        assert_eq!(kept.as_deref(), Some(expected), "{trusted:?} {header}");
    }
}
