//! The opt-in request: fixed, non-marketing wording (nobody writes anything into it), the list
//! of every opt-out a confirmation would lift, each in its real scope, who asks, and a signed
//! link to the page where the recipient may confirm that list. Sent to someone who opted out,
//! so it is never suppressed, and rate-limited to one per contact and sender in 30 days.

use askama::Template;
use lettre::Message;
use lettre::message::Mailbox;

pub struct OptInRequestEmail<'a> {
    /// The sender whose mail the request is about.
    pub sender: &'a str,
    /// Who asked, when not the sender themself (an admin over them).
    pub asked_by: Option<&'a str>,
    pub from_name: &'a str,
    pub from_address: &'a str,
    /// The group's name for recipients.
    pub organisation: &'a str,
    /// What each opt-out to lift stops ("emails from Nina Patel", "any emails from …").
    pub opt_outs: &'a [String],
    pub to: &'a str,
    pub opt_in_url: &'a str,
    pub message_id: String,
}

#[derive(Template)]
#[template(path = "emails/opt_in_request/body.txt")]
struct TextBody<'a> {
    email: &'a OptInRequestEmail<'a>,
}

#[derive(Template)]
#[template(path = "emails/opt_in_request/body.html")]
struct HtmlBody<'a> {
    email: &'a OptInRequestEmail<'a>,
}

/// "Nina Patel asks: …" or "Grace Hopper asks, for Nina Patel: …".
fn subject(email: &OptInRequestEmail<'_>) -> String {
    match email.asked_by {
        None => format!("{} asks: would you like their emails again?", email.sender),
        Some(asker) => format!(
            "{asker} asks, for {}: would you like emails again?",
            email.sender
        ),
    }
}

pub fn build(email: &OptInRequestEmail<'_>) -> anyhow::Result<Message> {
    let text = TextBody { email }.render()?;
    let html = HtmlBody { email }.render()?;
    Ok(Message::builder()
        .from(Mailbox::new(
            Some(email.from_name.to_owned()),
            email.from_address.parse()?,
        ))
        .to(email.to.parse()?)
        .subject(subject(email))
        .message_id(Some(email.message_id.clone()))
        .multipart(super::parts::text_and_html(text, html))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_opt_out_and_who_asks() {
        let opt_outs = vec![
            "any emails from Acme Holdings, including all its clients: Newsletters, Events and Tax"
                .to_owned(),
            "emails from Nina Patel".to_owned(),
        ];
        let email = OptInRequestEmail {
            sender: "Nina Patel",
            asked_by: Some("Grace Hopper"),
            from_name: "Grace Hopper",
            from_address: "grace.hopper@acme.example",
            organisation: "Acme Holdings",
            opt_outs: &opt_outs,
            to: "zoe@example.org",
            opt_in_url: "https://optouts.example/opt-in/TOKEN",
            message_id: "<m1.2@optouts.example>".into(),
        };
        let text = TextBody { email: &email }.render().unwrap();
        for line in &opt_outs {
            assert!(text.contains(line.as_str()), "{text}");
        }
        assert!(text.contains("Grace Hopper"), "{text}");
        assert!(text.contains("https://optouts.example/opt-in/TOKEN"));
        assert_eq!(
            subject(&email),
            "Grace Hopper asks, for Nina Patel: would you like emails again?"
        );
    }
}
