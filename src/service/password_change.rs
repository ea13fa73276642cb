//! A signed-in person changes their own password. The current password is checked like a
//! sign-in (same throttle, so a stolen session cannot guess it), the new one must meet the same
//! rule as `optouts user add`, and the change ends every other session of the person.

use secrecy::{ExposeSecret, SecretString};

use super::sign_in::{Outcome, check_password};
use super::{Actor, ServiceError, Services};
use crate::db::accounts;
use crate::passwords;

pub struct ChangePassword {
    /// The actor's own address, as their session loaded it: the current password is checked
    /// against it as a sign-in would be.
    pub email: String,
    pub current_password: SecretString,
    pub new_password: SecretString,
    pub new_password_again: SecretString,
    /// Where the request comes from, for the sign-in throttle.
    pub client_address: String,
}

/// The session version after the change: only a session carrying it stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordChanged {
    pub session_version: i64,
}

/// A weak or mistyped new password is [`ServiceError::Invalid`] and costs no check; a wrong
/// current password is [`ServiceError::Forbidden`]; too many wrong ones,
/// [`ServiceError::Throttled`].
pub async fn change_password(
    services: &Services,
    actor: &Actor,
    change: ChangePassword,
) -> Result<PasswordChanged, ServiceError> {
    let Some(person) = actor.person() else {
        return Err(ServiceError::Forbidden(
            "Only a signed-in person can change their password.".into(),
        ));
    };
    let user_id = person.id;
    if let Some(problem) = new_password_problem(&change) {
        return Err(ServiceError::Invalid(problem));
    }
    let checked = check_password(
        services,
        change.email,
        change.current_password,
        change.client_address,
    )
    .await?;
    match checked {
        // The address is the actor's own; anything else is refused.
        Outcome::SignedIn(user) if user.id == user_id => {}
        _ => {
            tracing::info!(user = %user_id, "password change refused: wrong current password");
            return Err(ServiceError::Forbidden(
                "The current password is not right. Nothing was changed.".into(),
            ));
        }
    }
    let hash = services
        .passwords
        .hash(change.new_password)
        .await
        .map_err(|busy| ServiceError::Busy(busy.to_string()))??;
    let session_version = services
        .db(move |conn| accounts::change_password(conn, user_id, &hash))
        .await?;
    tracing::info!(user = %user_id, "password changed; other sessions ended");
    Ok(PasswordChanged { session_version })
}

/// What is wrong with the new password on its own, before the current one is checked: these
/// mistakes cost no password check and count as no failed attempt.
fn new_password_problem(change: &ChangePassword) -> Option<String> {
    let new = change.new_password.expose_secret();
    if new != change.new_password_again.expose_secret() {
        return Some("The two new passwords do not match. Type the same password twice.".into());
    }
    if let Err(weak) = passwords::check_strength(&change.new_password) {
        return Some(weak.to_string());
    }
    if new == change.current_password.expose_secret() {
        return Some("The new password must differ from the current one.".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passwords::MIN_PASSWORD_CHARS;

    fn form(current: &str, new: &str, again: &str) -> ChangePassword {
        ChangePassword {
            email: "someone@example.com".into(),
            current_password: current.into(),
            new_password: new.into(),
            new_password_again: again.into(),
            client_address: "192.0.2.1".into(),
        }
    }

    #[test]
    fn the_new_password_is_checked_before_the_current_one() {
        let long = "a long new password";
        assert!(new_password_problem(&form("old password!", long, long)).is_none());
        assert!(
            new_password_problem(&form("x", long, "a long new passwort"))
                .unwrap()
                .contains("do not match")
        );
        assert!(
            new_password_problem(&form("x", "short", "short"))
                .unwrap()
                .contains(&MIN_PASSWORD_CHARS.to_string())
        );
        assert!(
            new_password_problem(&form(long, long, long))
                .unwrap()
                .contains("differ")
        );
    }
}
