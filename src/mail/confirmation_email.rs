//! The email that confirms an opt-out, with the link that lifts exactly that opt-out. It is
//! transactional: sent even though (because) the recipient just opted out.

use askama::Template;
use lettre::Message;
use lettre::message::Mailbox;

pub struct ConfirmationEmail<'a> {
    pub from_name: &'a str,
    pub from_address: &'a str,
    pub to: &'a str,
    /// "emails from Nina Patel", "any email from Acme Holdings", …
    pub what: &'a str,
    pub opt_in_url: &'a str,
    pub message_id: String,
}

#[derive(Template)]
#[template(path = "emails/opt_out_confirmation/body.txt")]
struct TextBody<'a> {
    what: &'a str,
    opt_in_url: &'a str,
}

#[derive(Template)]
#[template(path = "emails/opt_out_confirmation/body.html")]
struct HtmlBody<'a> {
    what: &'a str,
    opt_in_url: &'a str,
}

pub fn build(email: &ConfirmationEmail<'_>) -> anyhow::Result<Message> {
    let text = TextBody {
        what: email.what,
        opt_in_url: email.opt_in_url,
    }
    .render()?;
    let html = HtmlBody {
        what: email.what,
        opt_in_url: email.opt_in_url,
    }
    .render()?;
    Ok(Message::builder()
        .from(Mailbox::new(
            Some(email.from_name.to_owned()),
            email.from_address.parse()?,
        ))
        .to(email.to.parse()?)
        .subject("You have unsubscribed")
        .message_id(Some(email.message_id.clone()))
        .multipart(super::parts::text_and_html(text, html))?)
}
