//! Checking a sign-in attempt, with throttling against password guessing.
//!
//! Failures are counted per account and per network address in the database (so every
//! instance sees the same counts). Past the limit, attempts are refused without checking the
//! password until the oldest failure leaves the window. Unknown accounts and wrong passwords
//! take the same time and give the same answer.

use chrono::{Duration, NaiveDateTime};
use secrecy::SecretString;

use crate::db::accounts::{self, StaffUser};
use crate::db::{DbConnection, login_failures, now};
use crate::domain::EmailAddress;
use crate::passwords;

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub window: Duration,
    pub max_failures_per_account: i64,
    pub max_failures_per_address: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window: Duration::minutes(15),
            max_failures_per_account: 5,
            max_failures_per_address: 20,
        }
    }
}

#[derive(Debug)]
pub enum Outcome {
    SignedIn(Box<StaffUser>),
    /// Unknown address or wrong password: deliberately indistinguishable.
    Refused,
    /// Too many recent failures; try again after this many seconds.
    Throttled {
        retry_after_secs: u64,
    },
}

pub fn attempt(
    conn: &mut DbConnection,
    email_input: &str,
    password: &SecretString,
    client_address: &str,
    policy: &ThrottlePolicy,
) -> anyhow::Result<Outcome> {
    let at = now();
    let since = at - policy.window;
    let email = EmailAddress::parse(email_input);
    let account_key = format!(
        "account:{}",
        email
            .as_ref()
            .map(|e| e.as_str().to_owned())
            .unwrap_or_else(|_| email_input.trim().to_lowercase())
    );
    let address_key = format!("ip:{client_address}");

    for (key, limit) in [
        (&account_key, policy.max_failures_per_account),
        (&address_key, policy.max_failures_per_address),
    ] {
        if login_failures::count_since(conn, key, since)? >= limit {
            let oldest = login_failures::oldest_since(conn, key, since)?.unwrap_or(at);
            return Ok(Outcome::Throttled {
                retry_after_secs: seconds_until(oldest + policy.window, at),
            });
        }
    }

    let user = match &email {
        Ok(email) => accounts::find_user_by_email(conn, email)?,
        Err(_) => None,
    };
    let verified = match &user {
        Some(user) => passwords::verify(password, &user.password_hash),
        None => {
            passwords::verify_against_dummy(password);
            false
        }
    };
    match user {
        Some(user) if verified => {
            login_failures::clear(conn, &account_key)?;
            Ok(Outcome::SignedIn(Box::new(user)))
        }
        _ => {
            login_failures::record(conn, &[account_key, address_key], at)?;
            login_failures::prune(conn, at - Duration::days(1))?;
            Ok(Outcome::Refused)
        }
    }
}

fn seconds_until(later: NaiveDateTime, now: NaiveDateTime) -> u64 {
    u64::try_from((later - now).num_seconds())
        .unwrap_or(0)
        .max(1)
}
