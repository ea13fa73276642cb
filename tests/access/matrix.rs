//! The access matrix: every authenticated route × every role (and signed out) × objects inside
//! and outside the person's scope. Each cell's expected answer comes from `rules.rs`; every
//! GET and every refused POST must leave the database exactly as it was; list pages must show
//! what the person may see and nothing else.

use optouts::seed::demo::DEMO_PASSWORD;

use crate::helpers::{Backend, location};
use crate::on_both_backends;
use crate::rules::{self, Expect, Place, signed_in};
use crate::world::{
    ACME_GROUP_OPT_OUT, ACTORS, Actor, EVENTS_OPT_OUT, GLOBEX_LIFTABLE, GLOBEX_OPT_OUT,
    NEWSLETTERS_OPT_OUT, OWNERS, Owner, World,
};

on_both_backends!(
    every_route_answers_every_role_as_the_rights_say,
    every_authenticated_post_needs_its_csrf_token,
);

/// Routes that need no session, each with the reason; the route guard checks that every route
/// in src/web is either here or in the matrix.
pub const PUBLIC_ROUTES: [(&str, &str, &str); 13] = [
    ("GET", "/healthz", "operators' probe"),
    ("GET", "/static/{path}", "the stylesheet and script"),
    ("GET", "/login", "the sign-in page"),
    (
        "POST",
        "/login",
        "sign-in (its own double-submit CSRF token)",
    ),
    (
        "GET",
        "/u/{token}",
        "recipients: the Preference Center, by signed link",
    ),
    ("HEAD", "/u/{token}", "recipients: link prefetchers"),
    (
        "POST",
        "/u/{token}",
        "recipients and mail clients (RFC 8058 one-click)",
    ),
    (
        "POST",
        "/u/{token}/undo",
        "recipients: undo, by signed link",
    ),
    (
        "POST",
        "/u/{token}/resume",
        "recipients: resume their own opt-out, by signed link",
    ),
    (
        "GET",
        "/opt-in/{token}",
        "recipients: opting back in, by signed link",
    ),
    ("HEAD", "/opt-in/{token}", "recipients: link prefetchers"),
    (
        "POST",
        "/opt-in/{token}",
        "recipients: confirm opting back in",
    ),
    (
        "GET",
        "/",
        "the start page (sends everyone where they belong)",
    ),
];

/// Which actors something applies to.
pub type ActorRule = Box<dyn Fn(Actor) -> bool>;

pub enum Body {
    None,
    Form(Vec<(String, String)>),
    Multipart(Vec<(String, String)>),
}

/// One row of the matrix: a request, and what each actor must get for it.
pub struct Case {
    pub method: &'static str,
    /// The route as written in src/web (`/contacts/{id}`).
    pub route: &'static str,
    /// The concrete request: the object named and why it is interesting.
    pub label: String,
    pub path: String,
    pub body: Body,
    /// Runs in a browser signed in for this request alone (sign-out ends the session).
    pub fresh_session: bool,
    pub expect: Box<dyn Fn(Actor) -> Expect>,
    /// Text that must appear in a 200 answer exactly for the actors the rule names.
    pub shows: Vec<(String, ActorRule)>,
}

impl Case {
    fn get(route: &'static str, path: String, label: impl Into<String>) -> Self {
        Case {
            method: "GET",
            route,
            label: label.into(),
            path,
            body: Body::None,
            fresh_session: false,
            expect: Box::new(|_| Expect::SignIn),
            shows: Vec::new(),
        }
    }

    fn post(
        route: &'static str,
        path: String,
        label: impl Into<String>,
        form: &[(&str, &str)],
    ) -> Self {
        Case {
            method: "POST",
            body: Body::Form(owned_pairs(form)),
            ..Case::get(route, path, label)
        }
    }

    fn expect(mut self, rule: impl Fn(Actor) -> Expect + 'static) -> Self {
        self.expect = signed_in(rule);
        self
    }

    fn shows(mut self, text: impl Into<String>, rule: impl Fn(Actor) -> bool + 'static) -> Self {
        self.shows.push((text.into(), Box::new(rule)));
        self
    }
}

fn owned_pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The matrix. Cases that end sessions come last, so the long-lived sessions live until then.
pub fn cases(world: &World) -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(contact_cases(world));
    cases.extend(campaign_cases(world));
    cases.extend(activity_cases(world));
    cases.extend(settings_cases(world));
    cases.extend(support_and_account_cases(world));
    cases.extend(session_cases());
    cases
}

fn contact_cases(world: &World) -> Vec<Case> {
    let mut cases = vec![
        Case::get(
            "/contacts",
            "/contacts?q=contacts.example".into(),
            "the list",
        )
        .expect(|_| Expect::Ok(200)),
        Case::post(
            "/contacts",
            "/contacts".into(),
            "add a contact",
            &[
                ("email", "added-by-matrix@contacts.example"),
                ("name", "Added"),
            ],
        )
        .expect(|actor| {
            if rules::sends(actor) {
                Expect::Ok(303)
            } else {
                Expect::Forbidden
            }
        }),
    ];
    for owner in OWNERS {
        let plain = world.owned(owner).plain_contact;
        let address = format!("{}-plain@contacts.example", owner.key());
        cases[0].shows.push((
            address,
            Box::new(move |actor| rules::sees_contacts_of(actor, owner)),
        ));
        cases.push(
            Case::get(
                "/contacts/{id}",
                format!("/contacts/{plain}"),
                format!("{owner:?}'s contact"),
            )
            .expect(move |actor| visible_or_404(rules::sees_contacts_of(actor, owner))),
        );
        cases.push(
            Case::get(
                "/contacts/{id}/opt-out",
                format!("/contacts/{plain}/opt-out"),
                format!("{owner:?}'s contact"),
            )
            .expect(move |actor| match actor {
                _ if !rules::sees_contacts_of(actor, owner) => Expect::NotFound,
                Actor::Support => Expect::Forbidden,
                _ => Expect::Ok(200),
            }),
        );
        for level in ["user", "client", "group"] {
            cases.push(
                Case::post(
                    "/contacts/{id}/opt-out",
                    format!("/contacts/{plain}/opt-out"),
                    format!("{owner:?}'s contact at {level} level"),
                    &[("level", level), ("note", "matrix")],
                )
                .expect(move |actor| rules::manual_opt_out(actor, owner, level)),
            );
        }
        let suppressed = world.owned(owner).suppressed_contact;
        cases.push(
            Case::post(
                "/contacts/{id}/opt-in-request",
                format!("/contacts/{suppressed}/opt-in-request"),
                format!("{owner:?}'s opted-out contact"),
                &[],
            )
            .expect(move |actor| rules::opt_in_request(actor, owner)),
        );
    }
    cases
}

fn visible_or_404(visible: bool) -> Expect {
    if visible {
        Expect::Ok(200)
    } else {
        Expect::NotFound
    }
}

fn campaign_cases(world: &World) -> Vec<Case> {
    let mut list = Case::get("/campaigns", "/campaigns".into(), "the list")
        .expect(|actor| visible_or_404(actor != Actor::Support));
    for owner in OWNERS {
        list = list.shows(owner.campaign_name(), move |actor| {
            rules::campaign_visible(actor, owner)
        });
    }
    let mut cases = vec![
        list,
        Case::post(
            "/campaigns",
            "/campaigns".into(),
            "a new draft",
            &[
                ("name", "Created by the matrix"),
                ("subject", "Hello"),
                ("from_name", "Matrix"),
                ("body_text", "Hello"),
            ],
        )
        .expect(|actor| {
            if rules::sends(actor) {
                Expect::Ok(303)
            } else {
                Expect::Forbidden
            }
        }),
    ];
    for owner in OWNERS {
        let owned = world.owned(owner);
        let (draft, ready) = (owned.draft, owned.ready);
        let contact = owned.plain_contact.to_string();
        cases.push(
            Case::get(
                "/campaigns/{id}",
                format!("/campaigns/{draft}"),
                format!("{owner:?}'s draft"),
            )
            .expect(move |actor| visible_or_404(rules::campaign_visible(actor, owner))),
        );
        cases.push(
            Case::post(
                "/campaigns/{id}/recipients",
                format!("/campaigns/{draft}/recipients"),
                format!("{owner:?}'s draft, {owner:?}'s contact"),
                &[("contact", &contact)],
            )
            .expect(move |actor| rules::campaign_change(actor, owner, Expect::Ok(303))),
        );
        // Before the send below: the question, then a send without the confirmation.
        cases.push(
            Case::get(
                "/campaigns/{id}/send",
                format!("/campaigns/{ready}/send"),
                format!("{owner:?}'s draft with a recipient"),
            )
            .expect(move |actor| rules::campaign_change(actor, owner, Expect::Ok(200))),
        );
        cases.push(
            Case::post(
                "/campaigns/{id}/send",
                format!("/campaigns/{ready}/send"),
                format!("{owner:?}'s draft with a recipient, not confirmed"),
                &[],
            )
            .expect(move |actor| rules::campaign_change(actor, owner, Expect::OkUnchanged(422))),
        );
        cases.push(
            Case::post(
                "/campaigns/{id}/send",
                format!("/campaigns/{ready}/send"),
                format!("{owner:?}'s draft with a recipient"),
                &[("confirm", "1")],
            )
            .expect(move |actor| rules::campaign_change(actor, owner, Expect::Ok(303))),
        );
    }
    // An id of someone else's contact in the owner's own form is ignored: nothing is added.
    let nina = world.owned(Owner::Nina).draft;
    let evas_contact = world.owned(Owner::Eva).plain_contact.to_string();
    cases.push(
        Case::post(
            "/campaigns/{id}/recipients",
            format!("/campaigns/{nina}/recipients"),
            "Nina's draft, Eva's contact",
            &[("contact", &evas_contact)],
        )
        .expect(|actor| rules::campaign_change(actor, Owner::Nina, Expect::OkUnchanged(303))),
    );
    cases
}

fn activity_cases(world: &World) -> Vec<Case> {
    let places = [
        (ACME_GROUP_OPT_OUT, Place::AcmeGroup),
        (NEWSLETTERS_OPT_OUT, Place::Newsletters),
        (EVENTS_OPT_OUT, Place::Events),
        (GLOBEX_OPT_OUT, Place::Globex),
    ];
    let mut cases = Vec::new();
    for (route, path) in [
        ("/admin/activity/opt-outs", "/admin/activity/opt-outs"),
        (
            "/admin/activity/opt-outs.csv",
            "/admin/activity/opt-outs.csv",
        ),
    ] {
        // Admins cannot widen their scope by naming another group; support can pick one.
        for (picks_globex, query) in [
            (false, "?q=matrix-".to_owned()),
            (true, format!("?q=matrix-&group={}", world.globex)),
        ] {
            let mut case = Case::get(route, format!("{path}{query}"), query.clone())
                .expect(|actor| visible_or_404(actor != Actor::User));
            for (address, place) in places {
                case = case.shows(address, move |actor| {
                    rules::activity_shows(actor, place, picks_globex)
                });
            }
            cases.push(case);
        }
    }
    let mut emails = Case::get(
        "/admin/activity/emails",
        "/admin/activity/emails".into(),
        "the log",
    )
    .expect(|actor| visible_or_404(rules::is_admin(actor)));
    // Opt-in requests queued by Omar (Newsletters), Eva (Events) and Ursula (Globex).
    for owner in [Owner::Omar, Owner::Eva, Owner::Ursula] {
        emails = emails.shows(
            format!("{}-suppressed@contacts.example", owner.key()),
            move |actor| rules::sees_contacts_of(actor, owner),
        );
    }
    cases.push(emails);
    cases.push(
        Case::get(
            "/admin/activity/opt-outs/import",
            "/admin/activity/opt-outs/import".into(),
            "the form",
        )
        .expect(|actor| visible_or_404(rules::is_admin(actor))),
    );
    let import = |label: &str, csv: &str, rule: fn(Actor) -> Expect| Case {
        body: Body::Multipart(owned_pairs(&[
            ("mode", "commit"),
            ("file_name", "matrix.csv"),
            ("csv_text", csv),
        ])),
        ..Case::post(
            "/admin/activity/opt-outs/import",
            "/admin/activity/opt-outs/import".into(),
            label,
            &[],
        )
        .expect(rule)
    };
    cases.push(import(
        "a client-level row for Events",
        "address,level,client\nimported-by-matrix@contacts.example,client,Events\n",
        |actor| match actor {
            Actor::GroupAdmin => Expect::Ok(200),
            // Carl's import runs, and refuses the row: Events is not his client.
            Actor::ClientAdmin => Expect::OkUnchanged(200),
            _ => Expect::NotFound,
        },
    ));
    cases.push(import(
        "a user-level row for a user of another group",
        "address,level,user\nimported-user-by-matrix@contacts.example,user,ursula@globex.example\n",
        |actor| match actor {
            // The import runs for admins, and refuses the row: Ursula is not in their group.
            Actor::GroupAdmin | Actor::ClientAdmin => Expect::OkUnchanged(200),
            _ => Expect::NotFound,
        },
    ));
    cases.push(import(
        "a group-level row",
        "address,level\nimported-group-by-matrix@contacts.example,group\n",
        |actor| match actor {
            Actor::GroupAdmin => Expect::Ok(200),
            // Client admins see group-level rows but may not add them.
            Actor::ClientAdmin => Expect::OkUnchanged(200),
            _ => Expect::NotFound,
        },
    ));
    cases
}

fn settings_cases(world: &World) -> Vec<Case> {
    let targets = [
        ("the group defaults", String::new(), true),
        ("Events (another client)", world.events.to_string(), true),
        (
            "Globex Marketing (another group)",
            world.globex_client.to_string(),
            false,
        ),
    ];
    let mut cases = Vec::new();
    for (label, client, in_group) in targets {
        let query = if client.is_empty() {
            String::new()
        } else {
            format!("?client={client}")
        };
        cases.push(
            Case::get(
                "/admin/settings/preference-center",
                format!("/admin/settings/preference-center{query}"),
                label,
            )
            .expect(move |actor| rules::settings(actor, in_group, 200)),
        );
        let mut form = vec![
            ("override_group", "on"),
            ("level_user", "on"),
            ("level_client", "on"),
            ("one_click_level", "client"),
            ("display_name", "Changed by the matrix"),
        ];
        if !client.is_empty() {
            form.push(("client", &client));
        }
        cases.push(
            Case::post(
                "/admin/settings/preference-center",
                "/admin/settings/preference-center".into(),
                label,
                &form,
            )
            .expect(move |actor| rules::settings(actor, in_group, 303)),
        );
        let mut group_wide = vec![
            ("override_group", "on"),
            ("level_user", "on"),
            ("one_click_level", "group"),
        ];
        if !client.is_empty() {
            group_wide.push(("client", &client));
        }
        let is_group_defaults = client.is_empty();
        cases.push(
            Case::post(
                "/admin/settings/preference-center",
                "/admin/settings/preference-center".into(),
                format!("{label}, one-click at group level"),
                &group_wide,
            )
            .expect(move |actor| {
                rules::settings_group_one_click(actor, is_group_defaults, in_group)
            }),
        );
    }
    cases
}

fn support_and_account_cases(world: &World) -> Vec<Case> {
    let liftable = world.liftable.to_string();
    let others_opt_out = world.globex_marker.to_string();
    vec![
        Case::get(
            "/support",
            format!("/support?q={GLOBEX_OPT_OUT}"),
            "an address in Globex",
        )
        .expect(|actor| visible_or_404(actor == Actor::Support))
        .shows("Globex", |actor| actor == Actor::Support),
        Case::post(
            "/support/opt-in",
            "/support/opt-in".into(),
            "lift a Globex opt-out on written consent",
            &[
                ("email", GLOBEX_LIFTABLE),
                ("opt_out", &liftable),
                ("consent_given_by", "The recipient"),
                ("consent_received_on", "2026-01-02"),
                ("consent_reference", "TICKET-1"),
                ("consent_text", "Please email me again."),
            ],
        )
        .expect(|actor| {
            if actor == Actor::Support {
                Expect::Ok(303)
            } else {
                Expect::NotFound
            }
        }),
        // An opt-out id that belongs to another address lifts nothing.
        Case::post(
            "/support/opt-in",
            "/support/opt-in".into(),
            "another address's opt-out id",
            &[
                ("email", GLOBEX_LIFTABLE),
                ("opt_out", &others_opt_out),
                ("consent_given_by", "The recipient"),
                ("consent_received_on", "2026-01-02"),
                ("consent_reference", "TICKET-2"),
                ("consent_text", "Please email me again."),
            ],
        )
        .expect(|actor| {
            if actor == Actor::Support {
                Expect::OkUnchanged(303)
            } else {
                Expect::NotFound
            }
        }),
        Case::get(
            "/account/password",
            "/account/password".into(),
            "own account",
        )
        .expect(|_| Expect::Ok(200)),
        // Everyone reaches their own password form; a mismatch proves the handler ran.
        Case::post(
            "/account/password",
            "/account/password".into(),
            "own account, new passwords differ",
            &[
                ("current_password", DEMO_PASSWORD),
                ("new_password", "matrix new password 1"),
                ("new_password_again", "matrix new password 2"),
            ],
        )
        .expect(|_| Expect::OkUnchanged(422)),
    ]
}

fn session_cases() -> Vec<Case> {
    ["/logout", "/logout/everywhere"]
        .into_iter()
        .map(|route| Case {
            fresh_session: true,
            ..Case::post(route, route.to_owned(), "own session", &[]).expect(|_| Expect::Ok(303))
        })
        .collect()
}

/// How the CSRF token is sent.
#[derive(Debug, Clone)]
pub enum Token {
    Real,
    Missing,
    Other(String),
}

pub struct Answer {
    pub status: u16,
    pub location: String,
    pub body: String,
}

pub async fn send(
    client: &reqwest::Client,
    world: &World,
    case: &Case,
    real: &str,
    token: &Token,
) -> Answer {
    let url = world.app.url(&case.path);
    let token = match token {
        Token::Real => Some(real.to_owned()),
        Token::Missing => None,
        Token::Other(other) => Some(other.clone()),
    };
    let with_token = |fields: &[(String, String)]| {
        let mut all: Vec<(String, String)> = token
            .iter()
            .map(|t| ("csrf_token".to_owned(), t.clone()))
            .collect();
        all.extend(fields.iter().cloned());
        all
    };
    let request = match &case.body {
        Body::None => client.get(url),
        Body::Form(fields) => client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(with_token(fields)).unwrap()),
        Body::Multipart(fields) => {
            let form = with_token(fields)
                .into_iter()
                .fold(reqwest::multipart::Form::new(), |form, (k, v)| {
                    form.text(k, v)
                });
            client.post(url).multipart(form)
        }
    };
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let location = location(&response);
    let body = response.text().await.unwrap_or_default();
    Answer {
        status,
        location,
        body,
    }
}

/// The sign-in page, with or without the page to return to: what a missing session gets.
fn is_sign_in_redirect(location: &str) -> bool {
    location == "/login" || location.starts_with("/login?next=")
}

/// Runs one cell; returns what went wrong, if anything.
async fn run_cell(world: &World, case: &Case, actor: Actor) -> Vec<String> {
    let expect = (case.expect)(actor);
    let fresh;
    let (client, token) = if case.fresh_session {
        fresh = world.open_session(actor).await;
        (&fresh.0, fresh.1.as_str())
    } else {
        world.session(actor)
    };
    let before = world.snapshot();
    let answer = send(client, world, case, token, &Token::Real).await;
    let after = world.snapshot();
    let cell = format!("{actor:?} {} {} [{}]", case.method, case.path, case.label);
    let mut problems = Vec::new();
    let status_ok = match expect {
        Expect::Ok(status) | Expect::OkUnchanged(status) => {
            answer.status == status && !(status == 303 && is_sign_in_redirect(&answer.location))
        }
        Expect::Forbidden => answer.status == 403,
        Expect::NotFound => answer.status == 404,
        Expect::SignIn => answer.status == 303 && is_sign_in_redirect(&answer.location),
    };
    if !status_ok {
        problems.push(format!(
            "{cell}: expected {expect:?}, got {} {}",
            answer.status, answer.location
        ));
    }
    let must_not_change = case.method == "GET" || !matches!(expect, Expect::Ok(_));
    let changes = after.differences(&before);
    if must_not_change && !changes.is_empty() {
        problems.push(format!("{cell}: must change nothing, but {changes:?}"));
    }
    if answer.status == 200 {
        for (text, visible) in &case.shows {
            let shown = answer.body.contains(text.as_str());
            if shown != visible(actor) {
                problems.push(format!(
                    "{cell}: {text} shown = {shown}, expected {}",
                    !shown
                ));
            }
        }
    }
    problems
}

async fn every_route_answers_every_role_as_the_rights_say(backend: Backend) {
    let Some(world) = World::build(backend).await else {
        return;
    };
    let cases = cases(&world);
    let mut problems = Vec::new();
    let mut cells = 0;
    for case in &cases {
        for actor in ACTORS {
            problems.extend(run_cell(&world, case, actor).await);
            cells += 1;
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// For every POST in the matrix, a person who may make it sends it without a token, with a
/// forged one and with another session's real one: 403, and nothing changed.
async fn every_authenticated_post_needs_its_csrf_token(backend: Backend) {
    let Some(world) = World::build(backend).await else {
        return;
    };
    // A real token, but of another session (Nina's second browser).
    let (_, foreign) = world.open_session(Actor::User).await;
    let mut problems = Vec::new();
    let mut routes = std::collections::BTreeSet::new();
    for case in cases(&world).iter().filter(|c| c.method == "POST") {
        // Objects out of everyone's reach are refused before the token matters; the routes
        // are still covered through the cases someone may make (checked below).
        let Some(actor) = ACTORS.into_iter().find(|a| (case.expect)(*a).is_allowed()) else {
            continue;
        };
        routes.insert(case.route);
        let fresh;
        let (client, token) = if case.fresh_session {
            fresh = world.open_session(actor).await;
            (&fresh.0, fresh.1.as_str())
        } else {
            world.session(actor)
        };
        for bad in [
            Token::Missing,
            Token::Other(String::new()),
            Token::Other("forged-token".into()),
            Token::Other(foreign.clone()),
        ] {
            let before = world.snapshot();
            let answer = send(client, &world, case, token, &bad).await;
            let changes = world.snapshot().differences(&before);
            if answer.status != 403 || !changes.is_empty() {
                problems.push(format!(
                    "{actor:?} POST {} [{}] with token {bad:?}: {} and changes {changes:?}",
                    case.path, case.label, answer.status
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every POST route of the matrix was tried by someone allowed to use it.
    let expected: std::collections::BTreeSet<&str> = cases(&world)
        .iter()
        .filter(|c| c.method == "POST")
        .map(|c| c.route)
        .collect();
    assert_eq!(routes, expected);
}
