//! Staff passwords: Argon2id hashes (argon2's defaults: Argon2id, v19, salted per hash).

mod checker;

pub use checker::{CheckerBusy, PasswordChecker, release_big_allocations_when_freed};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use secrecy::{ExposeSecret, SecretString};
use std::sync::LazyLock;

/// Shorter passwords are refused when a login is created.
pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WeakPassword {
    #[error("The password must be at least {MIN_PASSWORD_CHARS} characters long.")]
    TooShort,
}

pub fn check_strength(password: &SecretString) -> Result<(), WeakPassword> {
    if password.expose_secret().chars().count() < MIN_PASSWORD_CHARS {
        return Err(WeakPassword::TooShort);
    }
    Ok(())
}

pub fn hash(password: &SecretString) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// True when `password` matches `stored_hash`. A malformed stored hash counts as no match.
pub fn verify(password: &SecretString, stored_hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.expose_secret().as_bytes(), stored_hash)
        .is_ok()
}

/// A real hash to verify against when the account does not exist, so an unknown address
/// costs the same time as a wrong password and response times do not reveal which is which.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash(&SecretString::from("no such account, no such password"))
        .expect("hashing a constant cannot fail")
});

pub fn verify_against_dummy(password: &SecretString) {
    let _ = verify(password, &DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_password() {
        let stored = hash(&SecretString::from("correct horse battery")).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(
            &SecretString::from("correct horse battery"),
            &stored
        ));
        assert!(!verify(&SecretString::from("wrong horse battery"), &stored));
        assert!(!verify(&SecretString::from("x"), "not a hash"));
    }

    #[test]
    fn short_passwords_are_weak() {
        assert_eq!(
            check_strength(&SecretString::from("short")),
            Err(WeakPassword::TooShort)
        );
        assert!(check_strength(&SecretString::from("long enough password")).is_ok());
    }
}
