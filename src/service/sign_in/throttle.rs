//! The throttle against password guessing, around each password check.
//!
//! A check is three steps, so that no database connection is held while a password is hashed:
//! 1. [`reserve`], one write transaction: refuse when a limit is reached; otherwise count this
//!    attempt as a failure *before* the password is checked, and read the stored hash. Check
//!    and count are one atomic step (SQLite's write lock, PostgreSQL advisory locks per key),
//!    so fifty concurrent guesses get exactly the limit's worth of password checks.
//! 2. The caller verifies the password on the [`PasswordChecker`](crate::passwords::PasswordChecker)
//!    (see [`super::check_password`]).
//! 3. [`settle`]: a right password takes back the failures counted up front.
//!
//! The limits (see [`ThrottlePolicy`]) are per (account, address) and per address, so a guesser
//! elsewhere never locks the owner out: the right password from an address that has not failed
//! signs in, whatever others did to the account. Failures on the account from all addresses
//! only slow its checks down. Successful sign-ins count towards a per-address limit too, since
//! each costs a hash. Counts live in the database, so every instance sees the same ones.
//! Unknown accounts and wrong passwords take the same time and give the same answer.

use chrono::{Duration, NaiveDateTime};

use crate::db::accounts::{self, StaffUser};
use crate::db::{DbConnection, login_failures, write_transaction};
use crate::domain::EmailAddress;

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub window: Duration,
    /// Failures on one account from one address: then that pair is refused.
    pub max_failures_per_account_and_address: i64,
    /// Failures on any accounts from one address: then the address is refused.
    pub max_failures_per_address: i64,
    /// Password checks from one address, right or wrong: each costs a hash.
    pub max_checks_per_address: i64,
    /// Failures on one account from all addresses before its checks are slowed down.
    pub account_failures_before_slowing: i64,
    /// The wait before each check on such an account. It never refuses the owner.
    pub account_slow_down: std::time::Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window: Duration::minutes(15),
            max_failures_per_account_and_address: 5,
            max_failures_per_address: 20,
            max_checks_per_address: 40,
            account_failures_before_slowing: 10,
            account_slow_down: std::time::Duration::from_secs(2),
        }
    }
}

/// What [`reserve`] decided.
#[derive(Debug)]
pub enum Reservation {
    /// Check the password (after `slow_down`, when set), then [`settle`] with the answer.
    Check(Ticket),
    /// A limit is reached; try again after this many seconds. No password was looked at.
    Throttled { retry_after_secs: u64 },
}

/// One reserved password check.
#[derive(Debug)]
pub struct Ticket {
    /// `None`: no such account. The check still runs (against a dummy hash) and fails.
    pub user: Option<StaffUser>,
    pub slow_down: Option<std::time::Duration>,
    /// This (account, address) pair's key: a right password forgets its earlier failures.
    pair_key: String,
    /// The failures counted up front, taken back when the password was right.
    provisional_failures: Vec<i64>,
}

impl Ticket {
    pub fn stored_hash(&self) -> Option<String> {
        self.user.as_ref().map(|user| user.password_hash.clone())
    }
}

/// What a finished check found.
#[derive(Debug)]
pub enum Outcome {
    SignedIn(Box<StaffUser>),
    /// Unknown address or wrong password: deliberately indistinguishable.
    Refused,
}

/// Step 1: refuse past a limit, or count the attempt as failed and hand out the stored hash.
pub fn reserve(
    conn: &mut DbConnection,
    email_input: &str,
    client_address: &str,
    policy: &ThrottlePolicy,
    at: NaiveDateTime,
) -> anyhow::Result<Reservation> {
    let email = EmailAddress::parse(email_input);
    let account = email
        .as_ref()
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|_| email_input.trim().to_lowercase());
    let keys = ThrottleKeys::new(&account, client_address);
    let since = at - policy.window;
    // A refused address is answered from a plain read first: a flood from it must not take
    // SQLite's one write lock per request, which the recipients' one-click opt-outs wait on.
    if let Some(refused) = refusal(conn, &keys, policy, at)? {
        return Ok(refused);
    }
    write_transaction(conn, |conn| {
        login_failures::lock_keys(conn, &keys.all())?;
        // Again under the lock: what decides is the count no concurrent attempt can change.
        if let Some(refused) = refusal(conn, &keys, policy, at)? {
            return Ok(refused);
        }
        let account_failures = login_failures::count_since(conn, &keys.account, since)?;
        let slow_down = (account_failures >= policy.account_failures_before_slowing)
            .then_some(policy.account_slow_down);
        let provisional_failures = login_failures::record(
            conn,
            &[
                keys.pair.clone(),
                keys.address.clone(),
                keys.account.clone(),
            ],
            at,
        )?;
        login_failures::record(conn, std::slice::from_ref(&keys.checks), at)?;
        let user = match &email {
            Ok(email) => accounts::find_user_by_email(conn, email)?,
            Err(_) => None,
        };
        Ok(Reservation::Check(Ticket {
            user,
            slow_down,
            pair_key: keys.pair,
            provisional_failures,
        }))
    })
}

/// `Throttled` when one of the refusing limits is reached for these keys at `at`.
fn refusal(
    conn: &mut DbConnection,
    keys: &ThrottleKeys,
    policy: &ThrottlePolicy,
    at: NaiveDateTime,
) -> anyhow::Result<Option<Reservation>> {
    let since = at - policy.window;
    for (key, limit) in [
        (&keys.pair, policy.max_failures_per_account_and_address),
        (&keys.address, policy.max_failures_per_address),
        (&keys.checks, policy.max_checks_per_address),
    ] {
        if login_failures::count_since(conn, key, since)? >= limit {
            let oldest = login_failures::oldest_since(conn, key, since)?.unwrap_or(at);
            return Ok(Some(Reservation::Throttled {
                retry_after_secs: seconds_until(oldest + policy.window, at),
            }));
        }
    }
    Ok(None)
}

/// Step 3: the password was right (take back the failures counted up front, and forget this
/// address's earlier failures on the account) or wrong (they stay).
pub fn settle(
    conn: &mut DbConnection,
    ticket: Ticket,
    password_matched: bool,
    at: NaiveDateTime,
) -> anyhow::Result<Outcome> {
    match ticket.user {
        Some(user) if password_matched => {
            write_transaction(conn, |conn| {
                login_failures::delete(conn, &ticket.provisional_failures)?;
                login_failures::clear(conn, &ticket.pair_key)
            })?;
            Ok(Outcome::SignedIn(Box::new(user)))
        }
        _ => {
            login_failures::prune(conn, at - Duration::days(1))?;
            Ok(Outcome::Refused)
        }
    }
}

/// The rows a sign-in attempt is counted under.
struct ThrottleKeys {
    pair: String,
    address: String,
    checks: String,
    account: String,
}

impl ThrottleKeys {
    fn new(account: &str, client_address: &str) -> Self {
        Self {
            pair: format!("pair:{client_address} {account}"),
            address: format!("ip:{client_address}"),
            checks: format!("checks:{client_address}"),
            account: format!("account:{account}"),
        }
    }

    fn all(&self) -> [&str; 4] {
        [&self.pair, &self.address, &self.checks, &self.account]
    }
}

fn seconds_until(later: NaiveDateTime, now: NaiveDateTime) -> u64 {
    u64::try_from((later - now).num_seconds())
        .unwrap_or(0)
        .max(1)
}
