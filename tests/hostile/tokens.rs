//! Forged, altered, misdirected, damaged and expired tokens on the recipients' links
//! (`/u/{token}` GET, form POST, RFC 8058 one-click and undo; `/opt-in/{token}` GET and POST):
//! each is refused with the friendly bad-link page and changes nothing. The app runs with a
//! key whose secret the test knows, so the forgeries are as strong as they can be (a valid
//! HMAC under a switched `alg`, a correct signature with an unknown `kid`, ...), and a control
//! token built the same way must work, so each refusal is down to the one thing altered.

use crate::flows::{self, PAT, footprint, is_bad_link_page, message_to, queued_messages};
use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::on_both_backends;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use optouts::tokens::SigningKeys;
use serde_json::{Value, json};

on_both_backends!(
    forged_unsubscribe_tokens_are_refused_and_change_nothing,
    forged_opt_in_tokens_are_refused_and_lift_nothing,
);

/// A signing key whose secret the test holds, to forge with.
pub struct Forger {
    kid: String,
    secret: Vec<u8>,
}

impl Forger {
    pub fn new(kid: &str) -> Self {
        let mut secret = vec![0u8; 32];
        getrandom::fill(&mut secret).unwrap();
        Self {
            kid: kid.to_owned(),
            secret,
        }
    }

    /// The same secret under the app's configuration format.
    pub fn signing_keys(&self) -> SigningKeys {
        SigningKeys::parse(&format!(
            "{}:{}",
            self.kid,
            URL_SAFE_NO_PAD.encode(&self.secret)
        ))
        .unwrap()
    }

    /// The header our tokens carry.
    pub fn header(&self, alg: &str) -> Value {
        json!({ "typ": "JWT", "alg": alg, "kid": self.kid })
    }

    /// `header.claims.signature`, the signature made with `signing` over the first two parts
    /// whatever the header claims: that is how an algorithm-confusion forgery is built.
    pub fn token(&self, header: &Value, claims: &Value, signing: Algorithm) -> String {
        let message = format!("{}.{}", segment(header), segment(claims));
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(&self.secret),
            signing,
        )
        .unwrap();
        format!("{message}.{signature}")
    }

    /// A token exactly as the app makes them (HS256, our kid).
    pub fn genuine(&self, claims: &Value) -> String {
        self.token(&self.header("HS256"), claims, Algorithm::HS256)
    }
}

pub fn segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims as the app signs them: purpose, issued, expiry, then the link's own.
pub fn claims(purpose: &str, own: Value) -> Value {
    let mut claims = json!({ "pur": purpose, "iat": now(), "exp": now() + 3600 });
    claims
        .as_object_mut()
        .unwrap()
        .extend(own.as_object().unwrap().clone());
    claims
}

fn with(claims: &Value, key: &str, value: Value) -> Value {
    let mut changed = claims.clone();
    changed[key] = value;
    changed
}

fn without(claims: &Value, key: &str) -> Value {
    let mut changed = claims.clone();
    changed.as_object_mut().unwrap().remove(key);
    changed
}

/// `token` with its payload swapped for `claims`, header and signature kept.
fn repainted(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], segment(claims), parts[2])
}

/// Every way to fake or break a token whose genuine claims are `good`. `altered` lists
/// payload changes that would grant something else (another email, a wider lift).
fn forgeries(forger: &Forger, good: &Value, altered: &[(&str, Value)]) -> Vec<(String, String)> {
    let genuine = forger.genuine(good);
    let stranger = Forger::new(&forger.kid);
    let hs = |alg: &str, signing| forger.token(&forger.header(alg), good, signing);
    let mut cases: Vec<(String, String)> = vec![
        ("alg none, empty signature".into(), {
            let header = forger.header("none");
            format!("{}.{}.", segment(&header), segment(good))
        }),
        ("alg none, valid HMAC".into(), hs("none", Algorithm::HS256)),
        ("alg None, valid HMAC".into(), hs("None", Algorithm::HS256)),
        ("HS512 with our key".into(), hs("HS512", Algorithm::HS512)),
        ("HS384 with our key".into(), hs("HS384", Algorithm::HS384)),
        (
            "RS256 header, HMAC signature".into(),
            hs("RS256", Algorithm::HS256),
        ),
        (
            "ES256 header, HMAC signature".into(),
            hs("ES256", Algorithm::HS256),
        ),
        ("no kid".into(), {
            forger.token(
                &json!({ "typ": "JWT", "alg": "HS256" }),
                good,
                Algorithm::HS256,
            )
        }),
        ("unknown kid, our key".into(), {
            Forger {
                kid: "k-unknown".into(),
                secret: forger.secret.clone(),
            }
            .genuine(good)
        }),
        ("our kid, another key".into(), stranger.genuine(good)),
        (
            "purpose: session".into(),
            forger.genuine(&with(good, "pur", json!("session"))),
        ),
        (
            "purpose: unknown".into(),
            forger.genuine(&with(good, "pur", json!("admin"))),
        ),
        ("no purpose".into(), forger.genuine(&without(good, "pur"))),
        ("expired".into(), {
            let expired = with(
                &with(good, "exp", json!(now() - 5)),
                "iat",
                json!(now() - 3600),
            );
            forger.genuine(&expired)
        }),
        ("expired, expiry moved on, signature kept".into(), {
            let expired = with(good, "exp", json!(now() - 5));
            repainted(&forger.genuine(&expired), good)
        }),
        ("no expiry".into(), forger.genuine(&without(good, "exp"))),
        (
            "expiry as text".into(),
            forger.genuine(&with(good, "exp", json!("never"))),
        ),
        (
            "id as text".into(),
            forger.genuine(&with(good, "mid", json!("1 OR 1=1"))),
        ),
        (
            "truncated by one".into(),
            genuine[..genuine.len() - 1].to_owned(),
        ),
        (
            "cut in half".into(),
            genuine[..genuine.len() / 2].to_owned(),
        ),
        ("no signature".into(), {
            let cut = genuine.rfind('.').unwrap();
            genuine[..=cut].to_owned()
        }),
        (
            "two parts".into(),
            genuine[..genuine.rfind('.').unwrap()].to_owned(),
        ),
        ("four parts".into(), format!("{genuine}.{}", segment(good))),
        ("signature of another token".into(), {
            let other = forger.genuine(&with(good, "iat", json!(now() - 60)));
            format!(
                "{}.{}",
                &genuine[..genuine.rfind('.').unwrap()],
                &other[other.rfind('.').unwrap() + 1..]
            )
        }),
        ("not base64".into(), "not!a!token".into()),
        ("garbage".into(), "not-a-token".into()),
        ("only dots".into(), "...".into()),
        (
            "json, not base64".into(),
            r#"{"alg":"none"}.{"mid":1}."#.into(),
        ),
        (
            "header not json".into(),
            format!(
                "{}.{}.AAAA",
                URL_SAFE_NO_PAD.encode(b"alg=none"),
                segment(good)
            ),
        ),
        ("huge".into(), format!("{genuine}{}", "A".repeat(8 * 1024))),
        ("huge header, another key".into(), {
            let padded =
                json!({ "typ": "JWT", "alg": "HS256", "kid": forger.kid, "x": "A".repeat(6000) });
            stranger.token(&padded, good, Algorithm::HS256)
        }),
        ("huge payload, another key".into(), {
            stranger.genuine(&with(good, "x", json!("A".repeat(6000))))
        }),
    ];
    for (what, value) in altered {
        cases.push((
            format!("{what}, signature kept"),
            repainted(&genuine, &with(good, what, value.clone())),
        ));
    }
    cases
}

async fn app_with_key(backend: Backend, forger: &Forger) -> Option<TestApp> {
    let keys = forger.signing_keys();
    let app = spawn_app_with(backend, move |config| config.signing_keys = keys).await?;
    app.load_demo();
    Some(app)
}

/// Status and whether the body is the friendly bad-link page (with its no-referrer header).
async fn answer(response: reqwest::Response) -> (u16, bool) {
    let status = response.status().as_u16();
    let no_referrer = response
        .headers()
        .get("referrer-policy")
        .is_some_and(|v| v == "no-referrer");
    let html = response.text().await.unwrap();
    (status, no_referrer && is_bad_link_page(&html))
}

fn assert_refused(what: &str, endpoint: &str, (status, friendly): (u16, bool)) {
    assert_eq!(status, 400, "{what} on {endpoint}: status");
    assert!(friendly, "{what} on {endpoint}: the friendly bad-link page");
}

/// Every way a recipient's client uses an unsubscribe link.
async fn try_unsubscribe_link(app: &TestApp, bare: &reqwest::Client, what: &str, token: &str) {
    let path = format!("/u/{token}");
    assert_refused(what, "GET", answer(app.get_with(bare, &path).await).await);
    let form = app.post_form_with(bare, &path, &[("level", "group")]).await;
    assert_refused(what, "POST form", answer(form).await);
    let one_click = app
        .post_form_with(bare, &path, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert_refused(what, "one-click", answer(one_click).await);
    let multipart = reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click");
    let one_click = bare
        .post(app.url(&path))
        .multipart(multipart)
        .send()
        .await
        .unwrap();
    assert_refused(what, "one-click multipart", answer(one_click).await);
    let undo = app
        .post_form_with(bare, &format!("{path}/undo"), &[("level", "group")])
        .await;
    assert_refused(what, "undo", answer(undo).await);
}

async fn try_opt_in_link(app: &TestApp, bare: &reqwest::Client, what: &str, token: &str) {
    let path = format!("/opt-in/{token}");
    assert_refused(
        what,
        "GET opt-in",
        answer(app.get_with(bare, &path).await).await,
    );
    let confirm = app.post_form_with(bare, &path, &[]).await;
    assert_refused(what, "POST opt-in", answer(confirm).await);
}

/// The session token a real sign-in sets, as it would be pasted into a link.
async fn real_session_token(app: &TestApp) -> String {
    let client = crate::helpers::new_client();
    let response = app
        .login_with(&client, flows::NINA, optouts::seed::demo::DEMO_PASSWORD)
        .await;
    let cookie = response
        .cookies()
        .find(|c| c.name() == "optouts_session")
        .expect("a session cookie");
    cookie.value().to_owned()
}

async fn forged_unsubscribe_tokens_are_refused_and_change_nothing(backend: Backend) {
    let forger = Forger::new("k-test");
    let Some(app) = app_with_key(backend, &forger).await else {
        return;
    };
    let sent = queued_messages(&app).await;
    assert!(
        sent.len() >= 2,
        "two emails, so an altered id names a real one"
    );
    let (mine, other) = (sent[0], sent[1]);
    let good = claims("unsub", json!({ "mid": mine.0 }));
    let bare = reqwest::Client::new();

    // Control: a token built like the forgeries but honestly signed opens the page.
    let control = app
        .get_with(&bare, &format!("/u/{}", forger.genuine(&good)))
        .await;
    assert_eq!(control.status(), 200, "the control token works");

    let mut cases = forgeries(&forger, &good, &[("mid", json!(other.0))]);
    let keys = &app.config.signing_keys;
    cases.push((
        "a real opt-in token".into(),
        keys.opt_in_token(mine, optouts::domain::OptOutId(1)),
    ));
    cases.push((
        "a real opt-in request token".into(),
        keys.opt_in_request_token(mine),
    ));
    cases.push((
        "a real session token".into(),
        real_session_token(&app).await,
    ));

    let before = footprint(&app);
    for (what, token) in &cases {
        try_unsubscribe_link(&app, &bare, what, token).await;
    }
    // Near the longest URL a client can send (the http crate stops at 64 KiB): longer than
    // the request head the server reads, so refused before routing, still a 4xx.
    let enormous = format!("/u/{}{}", forger.genuine(&good), "A".repeat(60 * 1024));
    let response = bare.get(app.url(&enormous)).send().await.unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    let response = app
        .post_form_with(&bare, &enormous, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(
        footprint(&app),
        before,
        "no opt-out, event or email from a bad link"
    );

    // The genuine link still works afterwards: the refusals were about the tokens.
    let genuine = keys.unsubscribe_token(mine);
    let response = app
        .post_form_with(
            &bare,
            &format!("/u/{genuine}"),
            &[("List-Unsubscribe", "One-Click")],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(footprint(&app).opt_outs, before.opt_outs + 1);
}

async fn forged_opt_in_tokens_are_refused_and_lift_nothing(backend: Backend) {
    let forger = Forger::new("k-test");
    let Some(app) = app_with_key(backend, &forger).await else {
        return;
    };
    let sent = queued_messages(&app).await;
    let pat = message_to(&app, &sent, PAT);
    let other = *sent.iter().find(|m| **m != pat).unwrap();
    let bare = reqwest::Client::new();
    // Something to lift: Pat's group-level and user-level opt-outs from a real link.
    let keys = &app.config.signing_keys;
    let unsubscribe = format!("/u/{}", keys.unsubscribe_token(pat));
    for level in ["group", "user"] {
        let response = app
            .post_form_with(&bare, &unsubscribe, &[("level", level)])
            .await;
        assert_eq!(response.status(), 200, "opted out at {level} level");
    }

    let good = claims("optin", json!({ "mid": pat.0, "lvl": "user" }));
    let control = app
        .get_with(&bare, &format!("/opt-in/{}", forger.genuine(&good)))
        .await;
    assert_eq!(control.status(), 200, "the control token works");

    let mut cases = forgeries(
        &forger,
        &good,
        &[
            ("lvl", json!("all")),
            ("lvl", json!("group")),
            ("mid", json!(other.0)),
        ],
    );
    cases.push((
        "a real unsubscribe token".into(),
        keys.unsubscribe_token(pat),
    ));
    cases.push((
        "a real session token".into(),
        real_session_token(&app).await,
    ));
    cases.push((
        "an unknown level".into(),
        forger.genuine(&with(&good, "lvl", json!("everything"))),
    ));

    let before = footprint(&app);
    for (what, token) in &cases {
        try_opt_in_link(&app, &bare, what, token).await;
    }
    assert_eq!(footprint(&app), before, "nothing lifted, nothing recorded");
    assert_eq!(opt_outs_of(&app, PAT), 2, "both of Pat's opt-outs remain");
}

fn opt_outs_of(app: &TestApp, email: &str) -> i64 {
    use diesel::prelude::*;
    use optouts::db::schema::opt_outs;
    opt_outs::table
        .filter(opt_outs::email.eq(email))
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}
