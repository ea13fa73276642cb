//! Support's notice to the staff member who asked it to lift opt-outs on written consent: the
//! confirmation the help article promises ("the team will confirm once completed"), naming
//! each opt-out lifted, the address and the consent's reference. Not marketing: it goes to our
//! own user, so it is never suppression-checked.

use askama::Template;
use lettre::Message;
use lettre::message::Mailbox;

use crate::db::support_lifts::LiftNotice;
use crate::domain::{EmailAddress, Level};

pub struct SupportLiftNoticeEmail<'a> {
    /// Support's address, on the platform's own domain.
    pub from_address: &'a str,
    pub to: &'a str,
    pub notice: &'a LiftNotice,
    pub message_id: String,
}

#[derive(Template)]
#[template(path = "emails/support_lift_notice/body.txt")]
struct TextBody<'a> {
    name: &'a str,
    address: &'a str,
    reference: &'a str,
    lifted: &'a [String],
}

#[derive(Template)]
#[template(path = "emails/support_lift_notice/body.html")]
struct HtmlBody<'a> {
    name: &'a str,
    address: &'a str,
    reference: &'a str,
    lifted: &'a [String],
}

pub fn build(email: &SupportLiftNoticeEmail<'_>) -> anyhow::Result<Message> {
    let notice = email.notice;
    let address = EmailAddress::to_unicode_display(&notice.address);
    let lifted = notice
        .lifted
        .iter()
        .map(|lifted| {
            let level: Level = lifted.level.parse()?;
            Ok(format!("{} level · {}", level.label(), lifted.scope))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (name, reference) = (notice.asked_by.as_str(), notice.reference.as_str());
    let text = TextBody {
        name,
        address: &address,
        reference,
        lifted: &lifted,
    }
    .render()?;
    let html = HtmlBody {
        name,
        address: &address,
        reference,
        lifted: &lifted,
    }
    .render()?;
    Ok(Message::builder()
        .from(Mailbox::new(
            Some("Support".to_owned()),
            email.from_address.parse()?,
        ))
        .to(email.to.parse()?)
        .subject(format!("Opted back in: {address}"))
        .message_id(Some(email.message_id.clone()))
        .multipart(super::parts::text_and_html(text, html))?)
}
