//! `List-Id` (RFC 2919): which list a campaign email belongs to, and the header that says so.
//!
//! Mailbox providers treat one `List-Id` (with one DKIM domain) as one list: after a recipient
//! presses their unsubscribe button, further mail carrying that `List-Id` looks like an
//! unsubscribe that was ignored. So the list is exactly what that button's RFC 8058 POST stops:
//! the one-click level in force for the sender's client picks the sender, its client or its
//! group. Were the list wider than what the click stops (per client while one-click stops one
//! sender), a colleague's next email would arrive on the very list the recipient just left.
//!
//! The level is read when the email is sent; the POST reads it again when the button is
//! pressed (`link_context::load_fresh`). An email delivered before a settings change keeps the
//! list it was sent under: after a change to a broader level its click stops more than its
//! list, after a change to a narrower one less.

use std::fmt::Write as _;

use email_encoding::headers::quoted_string;
use email_encoding::headers::writer::EmailWriter;
use lettre::message::header::{HeaderName, HeaderValue};

use crate::domain::wording::SenderNames;
use crate::domain::{Level, Sender};

const HEADER: &str = "List-Id";

/// RFC 2919's namespace for a list whose owner has no domain to put it under.
const UNMANAGED_NAMESPACE: &str = "localhost";

/// One list: a phrase that describes it to people and the label that identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListId {
    /// Who the list is from, as the recipient knows them; free text, encoded on output.
    pub phrase: String,
    /// `<scope ids>.<namespace>`: ASCII dot-atoms only, so it needs no encoding.
    pub label: String,
}

impl ListId {
    /// The list of an email from `sender` whose one-click unsubscribe records an opt-out at
    /// `one_click_level`: one per sender at user level, per client at client level, per group
    /// at group level. `namespace` is our host name (a domain we control, as RFC 2919 asks).
    pub fn stopped_by_one_click(
        one_click_level: Level,
        sender: &Sender,
        names: &SenderNames<'_>,
        namespace: &str,
    ) -> Self {
        let group = format!("group-{}", sender.group_id);
        let client = format!("client-{}.{group}", sender.client_id);
        let scope = match one_click_level {
            Level::User => format!("user-{}.{client}", sender.user_id),
            Level::Client => client,
            Level::Group => group,
        };
        Self {
            phrase: names.at(one_click_level).trim().to_owned(),
            label: format!("{scope}.{}", dot_atom_or_unmanaged(namespace)),
        }
    }

    /// The header, encoded: the phrase as RFC 5322 allows it (as it is when plain, else a
    /// quoted-string, else RFC 2047 encoded-words, chosen by the `email-encoding` crate as
    /// lettre does for a `From` display name), then `<label>`.
    pub fn header(&self) -> HeaderValue {
        let raw = format!("{} <{}>", self.phrase, self.label);
        // Pre-encoded: lettre's `HeaderValue::new` encodes word by word, so a non-ASCII word
        // inside a quoted phrase would become an encoded-word within quotes, which no reader
        // decodes.
        HeaderValue::dangerous_new_pre_encoded(
            HeaderName::new_from_ascii_str(HEADER),
            raw,
            self.encoded(),
        )
    }

    fn encoded(&self) -> String {
        let mut out = String::new();
        {
            let mut w = EmailWriter::new(&mut out, HEADER.len() + ": ".len(), 0, false);
            // Writing to a String cannot fail.
            if !self.phrase.is_empty() {
                let _ = quoted_string::encode(&self.phrase, &mut w);
                w.space();
            }
            // In one piece, so it moves to a new line as a whole when the line is full.
            let _ = w.folding().write_str(&format!("<{}>", self.label));
        }
        out
    }
}

/// The namespace when it is a dot-atom (a host name or an IPv4 address); otherwise (an IPv6
/// literal such as `[::1]`, which may not appear in a `List-Id`) RFC 2919's unmanaged one.
fn dot_atom_or_unmanaged(namespace: &str) -> &str {
    let is_atom = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b))
    };
    if namespace.split('.').all(is_atom) {
        namespace
    } else {
        UNMANAGED_NAMESPACE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientId, GroupId, UserId};

    const SENDER: Sender = Sender {
        user_id: UserId(7),
        client_id: ClientId(3),
        group_id: GroupId(2),
    };

    fn names<'a>(user: &'a str, client: &'a str, group: &'a str) -> SenderNames<'a> {
        SenderNames {
            user,
            client,
            group,
            group_clients: &[],
            group_client_count: 0,
        }
    }

    fn list(level: Level) -> ListId {
        let names = names("Nina Patel", "Newsletters", "Acme Holdings");
        ListId::stopped_by_one_click(level, &SENDER, &names, "optouts.example")
    }

    fn encoded(phrase: &str) -> String {
        ListId {
            phrase: phrase.to_owned(),
            label: "client-3.group-2.optouts.example".to_owned(),
        }
        .encoded()
    }

    #[test]
    fn the_list_is_the_scope_one_click_stops() {
        assert_eq!(
            list(Level::User),
            ListId {
                phrase: "Nina Patel".into(),
                label: "user-7.client-3.group-2.optouts.example".into(),
            }
        );
        assert_eq!(
            list(Level::Client),
            ListId {
                phrase: "Newsletters".into(),
                label: "client-3.group-2.optouts.example".into(),
            }
        );
        assert_eq!(
            list(Level::Group),
            ListId {
                phrase: "Acme Holdings".into(),
                label: "group-2.optouts.example".into(),
            }
        );
    }

    #[test]
    fn colleagues_share_a_list_exactly_when_one_click_stops_them_both() {
        let omar = Sender {
            user_id: UserId(8),
            ..SENDER
        };
        let other_client = Sender {
            client_id: ClientId(4),
            ..SENDER
        };
        let names = names("Someone", "Client", "Group");
        let label = |level, sender: &Sender| {
            ListId::stopped_by_one_click(level, sender, &names, "optouts.example").label
        };
        assert_ne!(label(Level::User, &SENDER), label(Level::User, &omar));
        assert_eq!(label(Level::Client, &SENDER), label(Level::Client, &omar));
        assert_ne!(
            label(Level::Client, &SENDER),
            label(Level::Client, &other_client)
        );
        assert_eq!(
            label(Level::Group, &SENDER),
            label(Level::Group, &other_client)
        );
    }

    #[test]
    fn a_namespace_that_is_no_dot_atom_becomes_the_unmanaged_one() {
        let names = names("N", "C", "G");
        let label = |host| ListId::stopped_by_one_click(Level::Group, &SENDER, &names, host).label;
        assert_eq!(label("127.0.0.1"), "group-2.127.0.0.1");
        assert_eq!(label("[::1]"), "group-2.localhost");
        assert_eq!(label(""), "group-2.localhost");
    }

    #[test]
    fn a_plain_name_stays_as_it_is() {
        assert_eq!(
            encoded("Newsletters"),
            "Newsletters <client-3.group-2.optouts.example>"
        );
    }

    #[test]
    fn quotes_and_backslashes_are_escaped_in_a_quoted_string() {
        assert_eq!(
            encoded(r#"Say "Hi" \ Co"#),
            r#""Say \"Hi\" \\ Co" <client-3.group-2.optouts.example>"#
        );
    }

    #[test]
    fn specials_and_non_ascii_become_encoded_words() {
        // `,` `(` `)` `<` `@` `;` `:` may not stand in a phrase, and non-ASCII needs RFC 2047:
        // the crate writes the whole phrase as base64 encoded-words, which a phrase may hold.
        for phrase in [
            "Müller & Söhne, (Events)",
            r#"Tax, Legal (EU) "Müller""#,
            "a@b; c: <d>",
        ] {
            let value = encoded(phrase);
            assert!(value.starts_with("=?utf-8?b?"), "{value}");
            assert!(value.ends_with(" <client-3.group-2.optouts.example>"));
            assert!(value.is_ascii(), "{value}");
            let encoded_words = value.rsplit_once(" <").unwrap().0;
            for forbidden in [',', '(', ')', '"', '<', '@', ';', ':', '\\'] {
                assert!(!encoded_words.contains(forbidden), "{value}");
            }
        }
    }

    #[test]
    fn a_line_break_in_a_name_cannot_start_another_header() {
        let value = encoded("Newsletters\r\nBcc: everyone@example.com");
        assert!(value.starts_with("=?utf-8?b?"), "{value}");
        // Folding ("\r\n" and a space) continues this header; no other line break is left.
        let unfolded = value.replace("\r\n ", " ");
        assert!(!unfolded.contains(['\r', '\n']), "{value}");
    }

    #[test]
    fn a_long_name_is_folded_into_lines_of_at_most_78_characters() {
        let value = encoded(&"Müller & Söhne, Kommanditgesellschaft ".repeat(5));
        let header = format!("{HEADER}: {value}");
        assert!(header.contains("\r\n "), "{header}");
        assert!(
            header.split("\r\n").all(|line| line.len() <= 78),
            "{header}"
        );
    }

    #[test]
    fn an_empty_name_leaves_only_the_label() {
        let names = names("  ", "C", "G");
        let list = ListId::stopped_by_one_click(Level::User, &SENDER, &names, "optouts.example");
        assert_eq!(list.encoded(), "<user-7.client-3.group-2.optouts.example>");
    }
}
