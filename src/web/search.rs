//! Free-text searches and filters typed by staff (contacts, the campaign picker and "add all
//! matching", Admin › Activity's address, support's address): one length cap and one clear
//! answer over it. A search becomes a LIKE pattern, and SQLite refuses patterns over 50,000
//! bytes with an internal error; no address is longer than 254 characters (RFC 5321) and
//! nobody types a longer name to find a contact.

use super::errors::AppError;

/// The longest search accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 254;

/// The search as typed, trimmed; over [`MAX_SEARCH_CHARS`] a 400 that says so (nothing is
/// searched, nothing changes).
pub fn search_term(raw: Option<&str>) -> Result<String, AppError> {
    let term = raw.unwrap_or_default().trim();
    if term.chars().count() > MAX_SEARCH_CHARS {
        return Err(AppError::BadRequest(format!(
            "A search can be at most {MAX_SEARCH_CHARS} characters long. Shorten it and try again."
        )));
    }
    Ok(term.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_trimmed_and_capped() {
        assert_eq!(search_term(Some("  nina ")).unwrap(), "nina");
        assert_eq!(search_term(None).unwrap(), "");
        let longest = "ü".repeat(MAX_SEARCH_CHARS);
        assert_eq!(search_term(Some(&longest)).unwrap(), longest);
        assert!(matches!(
            search_term(Some(&format!("{longest}x"))),
            Err(AppError::BadRequest(_))
        ));
    }
}
