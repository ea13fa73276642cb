//! A campaign email as recipients and their mail clients see it: multipart text + HTML, the
//! footer with a visible Unsubscribe link (always added, cannot be removed), and the RFC 2369 /
//! RFC 8058 headers that give mail clients their one-click button, with the RFC 2919 `List-Id`
//! of the list that button leaves (`super::list_id`).

use askama::Template;
use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::{HeaderName, HeaderValue};

use super::list_id::ListId;

/// Everything a campaign email is built from.
pub struct CampaignEmail<'a> {
    /// The Message-ID header, the same on every try (see `DeliveryWorker::message_id`).
    pub message_id: String,
    pub from_name: &'a str,
    pub from_address: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    /// The sender's own HTML; when absent, the text body is shown as HTML paragraphs.
    pub body_html: Option<&'a str>,
    pub unsubscribe_url: &'a str,
    /// Who the footer says sent it: the user, their client and group.
    pub sender_name: &'a str,
    pub client_name: &'a str,
    pub group_name: &'a str,
    /// `List-Id` (RFC 2919): the list the one-click unsubscribe leaves.
    pub list_id: ListId,
}

#[derive(Template)]
#[template(path = "emails/campaign/body.txt")]
struct TextBody<'a> {
    email: &'a CampaignEmail<'a>,
}

#[derive(Template)]
#[template(path = "emails/campaign/body.html")]
struct HtmlBody<'a> {
    email: &'a CampaignEmail<'a>,
    paragraphs: Vec<&'a str>,
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

pub fn build(email: &CampaignEmail<'_>) -> anyhow::Result<Message> {
    let from = Mailbox::new(
        Some(email.from_name.to_owned()),
        email.from_address.parse()?,
    );
    let to: Mailbox = email.to.parse()?;
    let text = TextBody { email }.render()?;
    let html = HtmlBody {
        email,
        paragraphs: email.body_text.split("\n\n").collect(),
    }
    .render()?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(email.subject)
        .message_id(Some(email.message_id.clone()))
        .raw_header(email.list_id.header())
        .raw_header(header(
            "List-Unsubscribe",
            format!("<{}>", email.unsubscribe_url),
        ))
        .raw_header(header(
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".to_owned(),
        ))
        .multipart(super::parts::text_and_html(text, html))?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'a>(html: Option<&'a str>) -> CampaignEmail<'a> {
        CampaignEmail {
            message_id: "<m7.20261126083000123456@optouts.example>".to_owned(),
            from_name: "Nina Patel",
            from_address: "nina.patel@acme.example",
            to: "zoe@xn--mller-kva.example",
            subject: "Hello <there>",
            body_text: "First paragraph.\n\nSecond & last.",
            body_html: html,
            unsubscribe_url: "https://optouts.example/u/TOKEN",
            sender_name: "Nina Patel",
            client_name: "Newsletters",
            group_name: "Acme Holdings",
            list_id: ListId {
                phrase: "Tax, Legal (EU) \"Müller\"".to_owned(),
                label: "client-1.group-1.optouts.example".to_owned(),
            },
        }
    }

    fn formatted(email: &CampaignEmail<'_>) -> String {
        String::from_utf8(build(email).unwrap().formatted()).unwrap()
    }

    #[test]
    fn carries_the_list_headers() {
        let raw = formatted(&sample(None));
        assert!(
            raw.contains("List-Unsubscribe: <https://optouts.example/u/TOKEN>"),
            "{raw}"
        );
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(
            raw.contains("\r\nList-Id: =?utf-8?b?")
                && raw.contains(" <client-1.group-1.optouts.example>\r\n"),
            "the phrase encoded once, the label as it is: {raw}"
        );
        assert!(raw.contains("Message-ID: <m7."));
        assert!(raw.contains("@optouts.example>"));
        assert!(raw.contains("multipart/alternative"));
    }

    #[test]
    fn both_parts_have_the_visible_unsubscribe_link() {
        let text = TextBody {
            email: &sample(None),
        }
        .render()
        .unwrap();
        assert!(text.contains("Unsubscribe: https://optouts.example/u/TOKEN"));
        let email = sample(Some("<p>Own <b>HTML</b></p>"));
        let html = HtmlBody {
            email: &email,
            paragraphs: vec![],
        }
        .render()
        .unwrap();
        assert!(
            html.contains("<p>Own <b>HTML</b></p>"),
            "the sender's HTML is kept"
        );
        assert!(
            html.contains(r#"<a href="https://optouts.example/u/TOKEN">Unsubscribe</a>"#),
            "{html}"
        );
    }

    #[test]
    fn text_bodies_are_escaped_in_the_html_part() {
        let email = sample(None);
        let html = HtmlBody {
            email: &email,
            paragraphs: email.body_text.split("\n\n").collect(),
        }
        .render()
        .unwrap();
        assert!(html.contains("<p>Second &#38; last.</p>"), "{html}");
    }
}
