//! The public forms (sign-in, the Preference Center's form and one-click, undo, opting back in)
//! under hostile bodies: oversized (413, our HTML page), invalid UTF-8 (400), huge, unknown
//! and missing fields, wrong content types: always a clear 4xx page, never a 5xx, and nothing
//! changed. Extra fields cannot widen what a valid request does.

use crate::flows::{NINA, PAT, footprint, message_to, queued_messages};
use crate::helpers::{Backend, TestApp, csrf_token_in, input_value, new_client, spawn_app, texts};
use crate::on_both_backends;
use diesel::prelude::*;
use optouts::db::schema::{consent_events, opt_outs};

on_both_backends!(
    sign_in_refuses_hostile_bodies,
    recipient_links_refuse_hostile_bodies,
    extra_fields_cannot_widen_an_opt_out,
    huge_reasons_are_cut_to_size,
);

/// The largest form body the app accepts (`FORM_BODY_LIMIT`); one byte more is refused.
const FORM_LIMIT: usize = optouts::web::FORM_BODY_LIMIT;

/// One hostile request body and the status it must get.
struct Hostile<'a> {
    what: &'a str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
}

fn hostile(
    what: &'static str,
    content_type: Option<&'static str>,
    body: impl Into<Vec<u8>>,
    status: u16,
) -> Hostile<'static> {
    Hostile {
        what,
        content_type,
        body: body.into(),
        status,
    }
}

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

/// A multipart body with one field, for a given boundary.
fn multipart(boundary: &str, name: &str, value: &[u8]) -> Vec<u8> {
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
            .into_bytes();
    body.extend_from_slice(value);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// A multipart body of `count` tiny fields.
fn many_parts(boundary: &str, count: usize) -> Vec<u8> {
    let mut body = String::new();
    for n in 0..count {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"f{n}\"\r\n\r\nx\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body.into_bytes()
}

/// Sends each case and checks its status and that the answer is one of our HTML pages.
async fn send_all(app: &TestApp, client: &reqwest::Client, path: &str, cases: Vec<Hostile<'_>>) {
    for case in cases {
        let mut request = client.post(app.url(path)).body(case.body);
        if let Some(content_type) = case.content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let html = response.text().await.unwrap();
        assert_eq!(
            status,
            case.status,
            "{} on {path}: {:?}",
            case.what,
            texts(&html, "h1, p")
        );
        assert!(
            content_type.starts_with("text/html"),
            "{} on {path}: our HTML page, not {content_type:?}",
            case.what
        );
        assert!(
            !texts(&html, "h1").is_empty(),
            "{} on {path}: a page with a heading",
            case.what
        );
        if status == 413 {
            assert_eq!(texts(&html, "h1"), ["That was too large"], "{}", case.what);
        }
    }
}

fn oversized(field: &str, limit: usize) -> Vec<u8> {
    format!("{field}={}", "a".repeat(limit)).into_bytes()
}

async fn sign_in_refuses_hostile_bodies(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let oversized_body = |token: &str| {
        let mut body = format!("csrf_token={token}&email=x&password=").into_bytes();
        body.extend(oversized("pad", FORM_LIMIT));
        body
    };
    let raw_invalid_utf8 = |token: &str| {
        let mut body =
            format!("csrf_token={token}&email=nina.patel%40acme.example&password=").into_bytes();
        body.extend_from_slice(b"\xff\xfe");
        body
    };
    let json = |token: &str| {
        format!(r#"{{"csrf_token":"{token}","email":"{NINA}","password":"x"}}"#).into_bytes()
    };
    let huge_address = "n".repeat(FORM_LIMIT - 200);
    // (what, content type, the body given the form's CSRF token, status)
    let cases: Vec<(&str, Option<&str>, BodyWithToken, u16)> = vec![
        ("oversized", FORM, Box::new(oversized_body), 413),
        (
            "percent-encoded invalid UTF-8",
            FORM,
            with_token("email=nina%FF%FE%40acme.example&password=x"),
            400,
        ),
        ("raw invalid UTF-8", FORM, Box::new(raw_invalid_utf8), 400),
        (
            "missing password",
            FORM,
            with_token("email=nina.patel%40acme.example"),
            400,
        ),
        (
            "missing everything",
            FORM,
            Box::new(|_: &str| Vec::new()),
            403,
        ),
        ("a JSON body", Some("application/json"), Box::new(json), 403),
        (
            "unknown fields only",
            FORM,
            with_token("role=support&is_admin=1"),
            400,
        ),
        (
            "unknown fields beside a wrong password",
            FORM,
            with_token("email=nina.patel%40acme.example&password=wrong&role=support&sv=0"),
            401,
        ),
        (
            "a huge address",
            FORM,
            with_token(&format!("email={huge_address}%40acme.example&password=x")),
            401,
        ),
        (
            "no CSRF token",
            FORM,
            Box::new(|_: &str| b"email=nina.patel%40acme.example&password=x".to_vec()),
            403,
        ),
    ];
    let before = footprint(&app);
    for (what, content_type, body, status) in cases {
        // A refused sign-in hands out a new form token, so each case opens the page afresh.
        let client = new_client();
        let page = app.get_with(&client, "/login").await.text().await.unwrap();
        let token = csrf_token_in(&page);
        let case = Hostile {
            what,
            content_type,
            body: body(&token),
            status,
        };
        send_all(&app, &client, "/login", vec![case]).await;
    }
    assert_eq!(footprint(&app), before);
    // The sign-in still works for the real person afterwards.
    app.login_ok(NINA, optouts::seed::demo::DEMO_PASSWORD).await;
}

/// A sign-in body, made once the form's CSRF token is known.
type BodyWithToken = Box<dyn Fn(&str) -> Vec<u8>>;

/// A url-encoded sign-in body: the form's CSRF token, then `rest`.
fn with_token(rest: &str) -> BodyWithToken {
    let rest = rest.to_owned();
    Box::new(move |token: &str| format!("csrf_token={token}&{rest}").into_bytes())
}

/// What every link endpoint must refuse, whatever it reads from the body.
fn common_cases(limit: usize) -> Vec<Hostile<'static>> {
    vec![
        hostile("oversized", FORM, oversized("level", limit), 413),
        hostile(
            "oversized multipart",
            Some("multipart/form-data; boundary=XyZ"),
            multipart("XyZ", "level", "a".repeat(limit + 1).as_bytes()),
            413,
        ),
        hostile(
            "percent-encoded invalid UTF-8",
            FORM,
            b"level=us%FFer".to_vec(),
            400,
        ),
        hostile(
            "raw invalid UTF-8",
            FORM,
            b"level=user\xff\xfe".to_vec(),
            400,
        ),
        hostile(
            "invalid UTF-8 in multipart",
            Some("multipart/form-data; boundary=XyZ"),
            multipart("XyZ", "level", b"user\xff"),
            400,
        ),
        hostile(
            "a broken multipart body",
            Some("multipart/form-data; boundary=XyZ"),
            b"--nope\r\n\r\n".to_vec(),
            400,
        ),
    ]
}

async fn recipient_links_refuse_hostile_bodies(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let sent = queued_messages(&app).await;
    let pat = message_to(&app, &sent, PAT);
    let keys = &app.config.signing_keys;
    let unsubscribe = format!("/u/{}", keys.unsubscribe_token(pat));
    let bare = reqwest::Client::new();
    // Something for undo and opt-in to lift, so a wrongly accepted body would show.
    let made = app
        .post_form_with(&bare, &unsubscribe, &[("level", "group")])
        .await;
    assert_eq!(made.status(), 200);
    let undo =
        input_value(&made.text().await.unwrap(), r#"input[name="undo"]"#).expect("an undo button");
    let made_id: i64 = opt_outs::table
        .filter(opt_outs::email.eq(PAT))
        .select(opt_outs::id)
        .first(&mut *app.conn())
        .unwrap();
    let before = footprint(&app);

    // The Preference Center's form and one-click (a body of at most 16 KiB).
    let mut cases = common_cases(16 * 1024);
    cases.extend([
        // Multipart counts every byte, not only the values: a name, the parts' headers.
        hostile(
            "a multipart field name over the limit",
            Some("multipart/form-data; boundary=XyZ"),
            multipart("XyZ", &"n".repeat(16 * 1024), b"One-Click"),
            413,
        ),
        hostile(
            "more multipart parts than a form has",
            Some("multipart/form-data; boundary=XyZ"),
            many_parts("XyZ", 17),
            413,
        ),
        hostile(
            "one-click with invalid UTF-8",
            FORM,
            b"List-Unsubscribe=One-Click&x=%C3%28".to_vec(),
            400,
        ),
        hostile(
            "one-click as text/plain",
            Some("text/plain"),
            "List-Unsubscribe=One-Click",
            415,
        ),
        hostile(
            "one-click as JSON",
            Some("application/json"),
            r#"{"List-Unsubscribe":"One-Click"}"#,
            415,
        ),
        hostile(
            "one-click without a content type",
            None,
            "List-Unsubscribe=One-Click",
            415,
        ),
        hostile(
            "a level as JSON",
            Some("application/json"),
            r#"{"level":"group"}"#,
            415,
        ),
        hostile(
            "a huge level",
            FORM,
            format!("level={}", "g".repeat(15 * 1024)),
            422,
        ),
        hostile("an unknown level", FORM, "level=everyone", 422),
        hostile(
            "unknown fields only",
            FORM,
            "scope_id=1&group_id=1&email=victim%40example.com",
            422,
        ),
        hostile("missing fields", FORM, "", 422),
        hostile(
            "the one-click value misspelt",
            FORM,
            "List-Unsubscribe=one-click",
            422,
        ),
    ]);
    send_all(&app, &bare, &unsubscribe, cases).await;

    // "I changed my mind" (a url-encoded form).
    let mut cases = common_cases(FORM_LIMIT);
    cases.retain(|c| !c.what.contains("multipart"));
    cases.extend([
        hostile(
            "a level as JSON",
            Some("application/json"),
            r#"{"level":"group"}"#,
            415,
        ),
        hostile("an unknown level", FORM, "level=everyone", 400),
        hostile("unknown fields only", FORM, "scope=group", 400),
        hostile("missing fields", FORM, "", 400),
        hostile("a level instead of the signed id", FORM, "level=group", 400),
        hostile("a forged id", FORM, "undo=eyJhbGciOiJIUzI1NiJ9.e30.x", 400),
        hostile(
            "its id in the resume form's field",
            FORM,
            format!("lift={undo}"),
            400,
        ),
    ]);
    send_all(&app, &bare, &format!("{unsubscribe}/undo"), cases).await;

    // "Resume" on the manage page: the same checks; its own field holding the undo's signed
    // id (another act) is refused too.
    let mut cases = common_cases(FORM_LIMIT);
    cases.retain(|c| !c.what.contains("multipart"));
    cases.extend([
        hostile("missing fields", FORM, "", 400),
        hostile("a level instead of the signed id", FORM, "level=group", 400),
        hostile("an undo's id", FORM, format!("lift={undo}"), 400),
    ]);
    send_all(&app, &bare, &format!("{unsubscribe}/resume"), cases).await;

    // Opting back in (the form holds no fields).
    let opt_in = format!(
        "/opt-in/{}",
        keys.opt_in_token(pat, optouts::domain::OptOutId(made_id))
    );
    let mut cases = common_cases(FORM_LIMIT);
    cases.retain(|c| !c.what.contains("multipart"));
    cases.push(hostile(
        "a JSON body",
        Some("application/json"),
        r#"{"lvl":"all"}"#,
        415,
    ));
    send_all(&app, &bare, &opt_in, cases).await;

    assert_eq!(footprint(&app), before, "no hostile body changed anything");
    // And the same endpoints still work for a real recipient.
    let undone = app
        .post_form_with(&bare, &format!("{unsubscribe}/undo"), &[("undo", &undo)])
        .await;
    assert_eq!(undone.status(), 200);
    assert_eq!(footprint(&app).opt_outs, before.opt_outs - 1);
}

/// Fields a recipient could add to the form (an address, scope ids, a source) are ignored:
/// the opt-out is exactly the one the signed link and the chosen level name.
async fn extra_fields_cannot_widen_an_opt_out(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let sent = queued_messages(&app).await;
    let pat = message_to(&app, &sent, PAT);
    let unsubscribe = format!("/u/{}", app.config.signing_keys.unsubscribe_token(pat));
    let before = footprint(&app);
    let response = reqwest::Client::new()
        .post(app.url(&unsubscribe))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            "level=user&email=victim%40example.com&to_email=victim%40example.com&scope_id=1\
             &group_id=999&source=support&actor_kind=user&level=group&pur=session",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let nina = nina_id(&app);
    let pats: Vec<(String, i64)> = opt_outs::table
        .filter(opt_outs::email.eq(PAT))
        .select((opt_outs::level, opt_outs::scope_id))
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(
        pats,
        [("user".to_owned(), nina)],
        "the first level given, for the sender only"
    );
    let victims: i64 = opt_outs::table
        .filter(opt_outs::email.eq("victim@example.com"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(victims, 0, "no opt-out for an address named in the body");
    let source: String = consent_events::table
        .filter(consent_events::kind.eq("opt_out"))
        .order(consent_events::id.desc())
        .select(consent_events::source)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(source, "preference_center");
    assert_eq!(footprint(&app).opt_outs, before.opt_outs + 1);
}

fn nina_id(app: &TestApp) -> i64 {
    use optouts::db::schema::users;
    users::table
        .filter(users::email.eq(NINA))
        .select(users::id)
        .first(&mut *app.conn())
        .unwrap()
}

/// A reason longer than anyone would type is kept to 500 characters, not refused, so the
/// opt-out itself is never lost to it.
async fn huge_reasons_are_cut_to_size(backend: Backend) {
    let Some(app) = crate::flows::app_asking_reasons(backend).await else {
        return;
    };
    let sent = queued_messages(&app).await;
    let pat = message_to(&app, &sent, PAT);
    let unsubscribe = format!("/u/{}", app.config.signing_keys.unsubscribe_token(pat));
    // 2,000 characters, 12 KB encoded: within the body limit, four times the reason's.
    let huge = "ä".repeat(2000);
    let response = app
        .post_form_with(
            &reqwest::Client::new(),
            &unsubscribe,
            &[
                ("level", "user"),
                ("reason", "other"),
                ("reason_text", &huge),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let reason: Option<String> = opt_outs::table
        .filter(opt_outs::email.eq(PAT))
        .select(opt_outs::reason)
        .first(&mut *app.conn())
        .unwrap();
    let reason = reason.expect("the reason is kept");
    assert_eq!(reason.chars().count(), 500);
    assert!(reason.starts_with("Another reason: ää"));
}
