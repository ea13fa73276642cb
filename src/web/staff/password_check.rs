//! A staff password check (sign-in, and the current password on a password change): the
//! throttle's reservation, the hash on the password threads, the settlement. The database is
//! used before and after the hash, never during it (see `crate::service::sign_in`).

use secrecy::SecretString;

use crate::db::now;
use crate::service::sign_in::{self, Outcome, Reservation, ThrottlePolicy};
use crate::web::errors::AppError;
use crate::web::state::AppState;

pub async fn check_password(
    state: &AppState,
    email_input: String,
    password: SecretString,
    client_address: String,
) -> Result<Outcome, AppError> {
    let policy = ThrottlePolicy::default();
    let reservation = state
        .db(move |conn| sign_in::reserve(conn, &email_input, &client_address, &policy, now()))
        .await?;
    let ticket = match reservation {
        Reservation::Throttled { retry_after_secs } => {
            return Ok(Outcome::Throttled { retry_after_secs });
        }
        Reservation::Check(ticket) => ticket,
    };
    if let Some(wait) = ticket.slow_down {
        // Holds nothing but this request: no connection, no hashing thread.
        actix_web::rt::time::sleep(wait).await;
    }
    // Busy (the hashing queue is full): 503, and the attempt stays counted as a failure, as
    // when the process stops mid-check — a refusal never gives a guesser a free try.
    let matched = state
        .passwords
        .verify(password, ticket.stored_hash())
        .await
        .map_err(|busy| AppError::Busy(busy.to_string()))?;
    state
        .db(move |conn| sign_in::settle(conn, ticket, matched, now()))
        .await
}
