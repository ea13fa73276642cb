//! Signing in, and the password check it shares with a password change: the throttle's
//! reservation, the hash on the password threads, the settlement. The database is used before
//! and after the hash, never during it (see [`throttle`]).

pub mod throttle;

use secrecy::SecretString;

use super::{ServiceError, Services};
use crate::db::now;
use throttle::{Reservation, ThrottlePolicy};

pub use throttle::Outcome;

/// A sign-in attempt. Nobody is acting yet: the attempt is what makes someone an actor.
pub struct SignIn {
    /// As typed; an address that does not parse is refused like a wrong password.
    pub email: String,
    pub password: SecretString,
    /// Where the attempt comes from, for the throttle.
    pub client_address: String,
}

/// Checks the address and password. Too many recent failures: [`ServiceError::Throttled`].
pub async fn sign_in(services: &Services, attempt: SignIn) -> Result<Outcome, ServiceError> {
    check_password(
        services,
        attempt.email,
        attempt.password,
        attempt.client_address,
    )
    .await
}

/// One throttled password check, counted as a sign-in attempt whatever asked for it, so a
/// stolen session guessing the current password is slowed like a guesser at the sign-in form.
pub(super) async fn check_password(
    services: &Services,
    email_input: String,
    password: SecretString,
    client_address: String,
) -> Result<Outcome, ServiceError> {
    let policy = ThrottlePolicy::default();
    let reservation = services
        .db(move |conn| throttle::reserve(conn, &email_input, &client_address, &policy, now()))
        .await?;
    let ticket = match reservation {
        Reservation::Throttled { retry_after_secs } => {
            return Err(ServiceError::Throttled { retry_after_secs });
        }
        Reservation::Check(ticket) => ticket,
    };
    if let Some(wait) = ticket.slow_down {
        // Holds nothing but this request: no connection, no hashing thread.
        tokio::time::sleep(wait).await;
    }
    // Busy (the hashing queue is full): 503, and the attempt stays counted as a failure, as
    // when the process stops mid-check — a refusal never gives a guesser a free try.
    let matched = services
        .passwords
        .verify(password, ticket.stored_hash())
        .await
        .map_err(|busy| ServiceError::Busy(busy.to_string()))?;
    services
        .db(move |conn| throttle::settle(conn, ticket, matched, now()))
        .await
}
