//! Sign-in throttling (src/service/sign_in/throttle.rs): guesses are limited per (account,
//! address) and per address, so nobody without the password can lock the owner out; failures
//! on an account from everywhere only slow it down; check and count are atomic under
//! concurrency; successful sign-ins are limited per address too. Other addresses are real: the
//! test's client binds 127.0.0.2, 127.0.0.3, … and the server sees each as a different network.

use futures_util::future::join_all;
use optouts::seed::demo::DEMO_PASSWORD;

use crate::helpers::{Backend, assert_throttled, demo_app, new_client, new_client_from};
use crate::on_both_backends;
use crate::world::{GRACE, NINA};

on_both_backends!(
    guessing_across_accounts_from_one_address_is_throttled,
    guesses_from_elsewhere_never_lock_the_owner_out,
    concurrent_guesses_get_only_the_limit_of_password_checks,
    successful_sign_ins_are_limited_per_address_too,
);

/// The limits of `ThrottlePolicy::default()`.
const PAIR_LIMIT: usize = 5;
const ADDRESS_LIMIT: usize = 20;
const CHECKS_PER_ADDRESS: usize = 40;
const ACCOUNT_FAILURES_BEFORE_SLOWING: usize = 10;

async fn guessing_across_accounts_from_one_address_is_throttled(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let browser = new_client();
    // One failure per address tried, so no single account reaches its own limit.
    for n in 0..ADDRESS_LIMIT {
        let response = app
            .login_with(
                &browser,
                &format!("guess{n}@acme.example"),
                "wrong password",
            )
            .await;
        assert_eq!(response.status(), 401, "attempt {n}");
    }
    // From this address even a right password for an untouched account is refused for now.
    let response = app.login_with(&browser, GRACE, DEMO_PASSWORD).await;
    assert_throttled(&response);
    assert!(
        response.cookies().all(|c| c.name() != "optouts_session"),
        "a throttled sign-in opens no session"
    );
    assert_eq!(app.get_with(&browser, "/contacts").await.status(), 303);
    // Every browser on this address is refused: the count is per address, not per cookie jar.
    assert_eq!(
        app.login_with(&new_client(), NINA, DEMO_PASSWORD)
            .await
            .status(),
        429
    );
}

async fn guesses_from_elsewhere_never_lock_the_owner_out(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    // A guesser on 127.0.0.2 fails five times on Nina's account and is refused from then on,
    // even with the right password.
    let guesser = new_client_from("127.0.0.2");
    for attempt in 0..PAIR_LIMIT {
        let response = app.login_with(&guesser, NINA, "guess guess guess").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    assert_throttled(&app.login_with(&guesser, NINA, DEMO_PASSWORD).await);

    // Nina, on 127.0.0.3, signs in with her password.
    let nina = new_client_from("127.0.0.3");
    assert_eq!(
        app.login_with(&nina, NINA, DEMO_PASSWORD).await.status(),
        303
    );
    assert_eq!(app.get_with(&nina, "/contacts").await.status(), 200);

    // More guessers, until the account as a whole has failed past the slow-down threshold:
    // checks on it are now slowed for everyone, yet the owner is never refused.
    let mut failures = PAIR_LIMIT;
    let mut next_address = 4;
    while failures <= ACCOUNT_FAILURES_BEFORE_SLOWING {
        let guesser = new_client_from(&format!("127.0.0.{next_address}"));
        next_address += 1;
        for _ in 0..PAIR_LIMIT {
            assert_eq!(
                app.login_with(&guesser, NINA, "guess guess guess")
                    .await
                    .status(),
                401
            );
            failures += 1;
        }
    }
    let nina_elsewhere = new_client_from("127.0.0.3");
    assert_eq!(
        app.login_with(&nina_elsewhere, NINA, DEMO_PASSWORD)
            .await
            .status(),
        303,
        "the owner signs in after {failures} failures on the account from other addresses"
    );
}

async fn concurrent_guesses_get_only_the_limit_of_password_checks(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let guesser = new_client_from("127.0.0.5");
    // Fifty wrong passwords at once on one account from one address.
    let statuses: Vec<u16> = join_all((0..50).map(|_| {
        let guesser = guesser.clone();
        let app = &app;
        async move {
            app.login_with(&guesser, GRACE, "guess guess guess")
                .await
                .status()
                .as_u16()
        }
    }))
    .await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (checked, refused),
        (PAIR_LIMIT, 50 - PAIR_LIMIT),
        "only the limit's worth of passwords were checked: {statuses:?}"
    );
}

async fn successful_sign_ins_are_limited_per_address_too(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let office = new_client_from("127.0.0.6");
    for n in 0..CHECKS_PER_ADDRESS {
        let response = app.login_with(&office, NINA, DEMO_PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-in {n}");
    }
    assert_throttled(&app.login_with(&office, NINA, DEMO_PASSWORD).await);
    // Another address is not affected.
    assert_eq!(
        app.login_with(&new_client_from("127.0.0.7"), NINA, DEMO_PASSWORD)
            .await
            .status(),
        303
    );
}
