//! The opt-in request: fixed, non-marketing wording (the sender writes nothing into it) and a
//! signed link to the page where the recipient may confirm. Sent to someone who opted out, so
//! it is never suppressed, and rate-limited to one per contact and sender in 30 days.

use askama::Template;
use lettre::Message;
use lettre::message::Mailbox;

pub struct OptInRequestEmail<'a> {
    pub sender: &'a str,
    pub sender_address: &'a str,
    pub organisation: &'a str,
    pub to: &'a str,
    pub opt_in_url: &'a str,
    pub message_id: String,
}

#[derive(Template)]
#[template(path = "emails/opt_in_request/body.txt")]
struct TextBody<'a> {
    sender: &'a str,
    organisation: &'a str,
    opt_in_url: &'a str,
}

#[derive(Template)]
#[template(path = "emails/opt_in_request/body.html")]
struct HtmlBody<'a> {
    sender: &'a str,
    organisation: &'a str,
    opt_in_url: &'a str,
}

pub fn build(email: &OptInRequestEmail<'_>) -> anyhow::Result<Message> {
    let (sender, organisation, opt_in_url) = (email.sender, email.organisation, email.opt_in_url);
    let text = TextBody {
        sender,
        organisation,
        opt_in_url,
    }
    .render()?;
    let html = HtmlBody {
        sender,
        organisation,
        opt_in_url,
    }
    .render()?;
    Ok(Message::builder()
        .from(Mailbox::new(
            Some(sender.to_owned()),
            email.sender_address.parse()?,
        ))
        .to(email.to.parse()?)
        .subject(format!("{sender} asks: would you like their emails again?"))
        .message_id(Some(email.message_id.clone()))
        .multipart(super::parts::text_and_html(text, html))?)
}
