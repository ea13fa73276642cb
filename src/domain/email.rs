//! A recipient's or staff member's email address, normalised once at the edge.
//!
//! Normalisation (DESIGN.md §2): trim, convert the domain to ASCII (IDNA), lower-case the whole
//! address. Plus-tags are kept: `a+news@x.com` is a different recipient from `a@x.com`.

use std::fmt;

/// A syntactically valid, normalised address. The field is private so the only way to get one
/// is [`EmailAddress::parse`] (parse, don't validate).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

/// Why an address was rejected, worded for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmail {
    #[error("Enter an email address.")]
    Empty,
    #[error("An email address needs an @ between the name and the domain, like name@example.com.")]
    MissingAt,
    #[error("The part before the @ is missing.")]
    EmptyLocalPart,
    #[error("The part before the @ is longer than 64 characters.")]
    LocalPartTooLong,
    #[error("The part before the @ cannot start or end with a dot, or have two dots in a row.")]
    MisplacedDot,
    #[error("The part before the @ contains a character that is not allowed: {0:?}.")]
    ForbiddenCharacter(char),
    #[error("The domain after the @ is missing.")]
    EmptyDomain,
    #[error("The domain {0:?} is not a valid domain name.")]
    InvalidDomain(String),
    #[error("The domain needs a dot, like example.com.")]
    DomainWithoutDot,
    #[error("The address is longer than 254 characters.")]
    TooLong,
}

/// Characters RFC 5322 allows unquoted in a local part ("atext"), besides letters and digits.
const LOCAL_PART_SYMBOLS: &str = "!#$%&'*+-/=?^_`{|}~.";

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, InvalidEmail> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(InvalidEmail::Empty);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(InvalidEmail::MissingAt)?;
        let local = parse_local_part(local)?;
        let domain = parse_domain(domain)?;
        let address = format!("{local}@{domain}");
        if address.len() > 254 {
            return Err(InvalidEmail::TooLong);
        }
        Ok(Self(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the @: what logs may show instead of the address.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// How staff pages and staff emails show a stored address: an internationalised domain
    /// in Unicode (`zoe@müller.example` for `zoe@xn--mller-kva.example`), as people write it.
    /// Only for reading: forms, links, exports and the database keep the ASCII form. A domain
    /// that does not decode is shown as stored.
    pub fn to_unicode_display(stored: &str) -> String {
        match stored.rsplit_once('@') {
            Some((local, domain)) if has_ascii_compatible_label(domain) => {
                match idna::domain_to_unicode(domain) {
                    (unicode, Ok(())) => format!("{local}@{unicode}"),
                    (_, Err(_)) => stored.to_owned(),
                }
            }
            _ => stored.to_owned(),
        }
    }

    /// A staff search in the form addresses are stored, so `müller` finds
    /// `zoe@xn--mller-kva.example`: the domain part (after the last `@`), or the whole text
    /// when it looks like a domain, converted to ASCII when it is not. Anything else (an ASCII
    /// search, a name) is returned as typed. Punycode does not keep substrings, so part of an
    /// internationalised label (`mül`) finds nothing; the whole label does.
    pub fn search_in_stored_form(query: &str) -> String {
        let query = query.trim();
        if query.is_ascii() {
            return query.to_owned();
        }
        match query.rsplit_once('@') {
            Some((local, domain)) => match ascii_domain(domain) {
                Some(domain) => format!("{local}@{domain}"),
                None => query.to_owned(),
            },
            None => ascii_domain(query).unwrap_or_else(|| query.to_owned()),
        }
    }
}

/// `xn--…`: a label IDNA turned into ASCII.
fn has_ascii_compatible_label(domain: &str) -> bool {
    domain.split('.').any(|label| label.starts_with("xn--"))
}

/// Text that looks like (part of) a domain, in ASCII; None when it does not look like one
/// (spaces, punctuation) or IDNA refuses it.
fn ascii_domain(text: &str) -> Option<String> {
    let looks_like_domain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if !looks_like_domain {
        return None;
    }
    idna::domain_to_ascii(text).ok().filter(|a| !a.is_empty())
}

fn parse_local_part(local: &str) -> Result<String, InvalidEmail> {
    if local.is_empty() {
        return Err(InvalidEmail::EmptyLocalPart);
    }
    if local.len() > 64 {
        return Err(InvalidEmail::LocalPartTooLong);
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(InvalidEmail::MisplacedDot);
    }
    // Non-ASCII letters are allowed (RFC 6531 internationalised mailboxes); quoted local parts
    // and control characters are not, since no real recipient list needs them.
    if let Some(bad) = local
        .chars()
        .find(|c| !(c.is_alphanumeric() || LOCAL_PART_SYMBOLS.contains(*c)))
    {
        return Err(InvalidEmail::ForbiddenCharacter(bad));
    }
    Ok(local.to_lowercase())
}

fn parse_domain(domain: &str) -> Result<String, InvalidEmail> {
    if domain.is_empty() {
        return Err(InvalidEmail::EmptyDomain);
    }
    let invalid = || InvalidEmail::InvalidDomain(domain.to_owned());
    let ascii = idna::domain_to_ascii(domain).map_err(|_| invalid())?;
    if ascii.is_empty() || ascii.len() > 253 {
        return Err(invalid());
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return Err(InvalidEmail::DomainWithoutDot);
    }
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !labels.iter().all(label_ok) {
        return Err(invalid());
    }
    Ok(ascii.to_ascii_lowercase())
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        EmailAddress::parse(input).unwrap().into_string()
    }

    #[test]
    fn trims_and_lower_cases() {
        assert_eq!(ok("  Jane.Doe@Example.COM \n"), "jane.doe@example.com");
    }

    #[test]
    fn keeps_plus_tags() {
        assert_eq!(ok("a+News@x.com"), "a+news@x.com");
        assert_ne!(ok("a+news@x.com"), ok("a@x.com"));
    }

    #[test]
    fn converts_international_domains_to_ascii() {
        assert_eq!(ok("zoë@Müller.example"), "zoë@xn--mller-kva.example");
        assert_eq!(ok("info@bücher.de"), ok("INFO@xn--bcher-kva.de"));
    }

    #[test]
    fn staff_see_international_domains_in_unicode() {
        let show = EmailAddress::to_unicode_display;
        assert_eq!(show("zoe@xn--mller-kva.example"), "zoe@müller.example");
        assert_eq!(show("zoë@xn--bcher-kva.de"), "zoë@bücher.de");
        assert_eq!(show("jane+news@example.com"), "jane+news@example.com");
        // Stored forms that do not decode are shown as they are, never dropped.
        assert_eq!(show("a@xn--.example"), "a@xn--.example");
        assert_eq!(show("not an address"), "not an address");
        let stored = ok("Zoë@Müller.example");
        assert_eq!(show(&stored), "zoë@müller.example");
    }

    #[test]
    fn searches_reach_the_stored_ascii_form() {
        let search = EmailAddress::search_in_stored_form;
        assert_eq!(search("müller"), "xn--mller-kva");
        assert_eq!(search(" Müller.example "), "xn--mller-kva.example");
        assert_eq!(search("zoe@müller.example"), "zoe@xn--mller-kva.example");
        assert_eq!(search("zoë@müller"), "zoë@xn--mller-kva");
        // ASCII searches (including the stored form itself) and names stay as typed.
        assert_eq!(search("xn--mller"), "xn--mller");
        assert_eq!(search("Zoë Müller"), "Zoë Müller");
        assert_eq!(search("zoë@"), "zoë@");
        let stored = ok("zoe@müller.example");
        assert!(stored.contains(&search("müller")));
        assert!(stored.contains(&search("zoe@müller.example")));
    }

    #[test]
    fn domain_is_reported_for_logging() {
        assert_eq!(
            EmailAddress::parse("a@Mail.Example.org").unwrap().domain(),
            "mail.example.org"
        );
    }

    #[test]
    fn rejects_with_a_reason() {
        let cases = [
            ("", InvalidEmail::Empty),
            ("   ", InvalidEmail::Empty),
            ("jane.example.com", InvalidEmail::MissingAt),
            ("@example.com", InvalidEmail::EmptyLocalPart),
            ("jane@", InvalidEmail::EmptyDomain),
            (".jane@example.com", InvalidEmail::MisplacedDot),
            ("ja..ne@example.com", InvalidEmail::MisplacedDot),
            ("ja ne@example.com", InvalidEmail::ForbiddenCharacter(' ')),
            ("<jane>@example.com", InvalidEmail::ForbiddenCharacter('<')),
            ("jane@localhost", InvalidEmail::DomainWithoutDot),
        ];
        for (input, expected) in cases {
            assert_eq!(EmailAddress::parse(input), Err(expected), "input {input:?}");
        }
        assert!(matches!(
            EmailAddress::parse("jane@-bad-.com"),
            Err(InvalidEmail::InvalidDomain(_))
        ));
        assert!(matches!(
            EmailAddress::parse("jane@exa mple.com"),
            Err(InvalidEmail::InvalidDomain(_))
        ));
        assert_eq!(
            EmailAddress::parse(&format!("{}@example.com", "a".repeat(65))),
            Err(InvalidEmail::LocalPartTooLong)
        );
    }

    #[test]
    fn every_rejection_reads_as_a_sentence() {
        let message = EmailAddress::parse("nope").unwrap_err().to_string();
        assert!(message.ends_with('.'), "{message}");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Plausible addresses: atext local parts (with an optional plus-tag), mixed case,
        /// ASCII or internationalised domains.
        fn address() -> impl Strategy<Value = String> {
            let local = "[A-Za-z0-9][A-Za-z0-9_-]{0,10}";
            let tag = proptest::option::of("[A-Za-z0-9]{1,6}");
            let label = prop_oneof![
                "[A-Za-z0-9]{1,10}",
                Just("Bücher".to_owned()),
                Just("ZOË".to_owned())
            ];
            let tld = "[A-Za-z]{2,4}";
            (local, tag, label, tld).prop_map(|(local, tag, label, tld)| match tag {
                Some(tag) => format!("{local}+{tag}@{label}.{tld}"),
                None => format!("{local}@{label}.{tld}"),
            })
        }

        proptest! {
            #[test]
            fn normalising_twice_changes_nothing(raw in address()) {
                let once = EmailAddress::parse(&raw).unwrap();
                let twice = EmailAddress::parse(once.as_str()).unwrap();
                prop_assert_eq!(once, twice);
            }

            #[test]
            fn case_and_surrounding_space_do_not_matter(raw in address()) {
                let plain = EmailAddress::parse(&raw).unwrap();
                prop_assert_eq!(&EmailAddress::parse(&raw.to_uppercase()).unwrap(), &plain);
                prop_assert_eq!(&EmailAddress::parse(&raw.to_lowercase()).unwrap(), &plain);
                prop_assert_eq!(&EmailAddress::parse(&format!("  {raw}\t")).unwrap(), &plain);
            }

            #[test]
            fn plus_tags_are_kept(raw in address()) {
                let parsed = EmailAddress::parse(&raw).unwrap();
                let local = raw.rsplit_once('@').unwrap().0.to_lowercase();
                let prefix = format!("{local}@");
                prop_assert!(parsed.as_str().starts_with(&prefix));
                prop_assert!(parsed.domain().is_ascii(), "domain is ASCII after IDNA");
            }

            #[test]
            fn never_panics_on_any_input(raw in "\\PC{0,80}") {
                let _ = EmailAddress::parse(&raw);
            }
        }
    }
}
