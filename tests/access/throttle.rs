//! Sign-in throttling per network address. The per-account limit (five failures, then 429 even
//! with the right password) is proven in tests/app/auth.rs `repeated_failures_are_slowed_down`;
//! this proves the other half: many accounts guessed from one address lock that address out.

use optouts::demo::DEMO_PASSWORD;

use crate::helpers::{Backend, assert_throttled, demo_app, new_client};
use crate::on_both_backends;
use crate::world::{GRACE, NINA};

on_both_backends!(guessing_across_accounts_from_one_address_is_throttled);

/// Failures per address within the window before the address is refused (src/sign_in.rs).
const ADDRESS_LIMIT: usize = 20;

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
