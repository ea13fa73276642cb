//! Writing the outbox: each kind of email is queued in the transaction of the state change
//! that caused it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::links::LinkedMessage;
use crate::db::schema::messages;
use crate::db::{DbConnection, now};
use crate::domain::{
    ClientId, ContactId, GroupId, Level, MessageId, MessageKind, OptOutId, Sender, UserId,
};
use crate::on_each_backend;

/// The stored names of the kinds, for code that compares `messages.kind` as text (tests, SQL
/// written by hand); queries in this crate use [`MessageKind`].
pub const KIND_CAMPAIGN: &str = MessageKind::Campaign.as_str();
pub const KIND_OPT_OUT_CONFIRMATION: &str = MessageKind::OptOutConfirmation.as_str();
pub const KIND_OPT_IN_REQUEST: &str = MessageKind::OptInRequest.as_str();
pub const KIND_SUPPORT_LIFT_NOTICE: &str = MessageKind::SupportLiftNotice.as_str();

/// Queues the confirmation of the opt-out `opt_out`, made from `about` at `level`. The payload
/// names the opt-out so the email can describe it and carry the link that lifts exactly it.
pub fn queue_confirmation(
    conn: &mut DbConnection,
    about: &LinkedMessage,
    level: Level,
    opt_out: OptOutId,
) -> QueryResult<MessageId> {
    // On the backend's own connection, as `consent_events::append`: once per opt-out of a burst.
    on_each_backend!(conn, |c| diesel::insert_into(messages::table)
        .values(ConfirmationRow::new(about, level, opt_out, now()))
        .returning(messages::id)
        .get_result::<MessageId>(c))
}

/// The outbox row of a confirmation email; `opt_out_batch` writes many in one statement.
#[derive(Insertable)]
#[diesel(table_name = messages, treat_none_as_default_value = false)]
pub(in crate::db) struct ConfirmationRow<'a> {
    kind: MessageKind,
    group_id: GroupId,
    client_id: ClientId,
    sender_user_id: UserId,
    to_email: &'a str,
    /// Which email, level and opt-out it confirms: also how a batch tells its rows apart.
    pub(in crate::db) payload: String,
    status: &'static str,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl<'a> ConfirmationRow<'a> {
    pub(in crate::db) fn new(
        about: &'a LinkedMessage,
        level: Level,
        opt_out: OptOutId,
        at: NaiveDateTime,
    ) -> Self {
        Self {
            kind: MessageKind::OptOutConfirmation,
            group_id: about.sender.group_id,
            client_id: about.sender.client_id,
            sender_user_id: about.sender.user_id,
            to_email: &about.to_email,
            payload: ConfirmationPayload {
                about_message: about.id,
                level: level.as_str().to_owned(),
                opt_out: Some(opt_out),
            }
            .to_json(),
            status: "queued",
            next_attempt_at: at,
            created_at: at,
            updated_at: at,
        }
    }
}

/// What a confirmation email is about. `opt_out` is absent from rows queued before the link
/// named the opt-out (their link lifts the opt-out made from that email at that level).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConfirmationPayload {
    // Typed ids serialise as plain numbers (`serde(transparent)`): the stored JSON is unchanged.
    pub about_message: MessageId,
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out: Option<OptOutId>,
}

impl ConfirmationPayload {
    fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain fields serialise")
    }
}

/// Queues an opt-in request about mail from `sender` to `to_email` (a contact who opted out);
/// `payload` is `opt_in_requests::RequestPayload` as JSON.
pub fn queue_opt_in_request(
    conn: &mut DbConnection,
    sender: &Sender,
    contact: ContactId,
    to_email: &str,
    payload: &str,
) -> QueryResult<MessageId> {
    queue(
        conn,
        QueuedRow::new(
            MessageKind::OptInRequest,
            sender.group_id,
            to_email,
            payload,
        )
        .sent_by(sender)
        .about_contact(contact),
    )
}

/// Queues support's notice to the staff member who asked it to lift opt-outs: to them, in
/// their group (and client, so their client's admins see it in the delivery log). It has no
/// sender and no campaign: it is the platform writing to its own user.
pub fn queue_support_lift_notice(
    conn: &mut DbConnection,
    group: GroupId,
    client: Option<ClientId>,
    to_email: &str,
    payload: &str,
) -> QueryResult<MessageId> {
    let mut row = QueuedRow::new(MessageKind::SupportLiftNotice, group, to_email, payload);
    row.client_id = client;
    queue(conn, row)
}

/// A message queued now with a JSON payload; its kind's builder reads the payload when it is
/// sent. The confirmation has a row type of its own ([`ConfirmationRow`]): it is written on
/// the backend's own connection, once per opt-out of a burst.
#[derive(Insertable)]
#[diesel(table_name = messages)]
struct QueuedRow<'a> {
    kind: MessageKind,
    group_id: GroupId,
    client_id: Option<ClientId>,
    sender_user_id: Option<UserId>,
    contact_id: Option<ContactId>,
    to_email: &'a str,
    payload: Option<&'a str>,
    status: &'static str,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl<'a> QueuedRow<'a> {
    fn new(kind: MessageKind, group: GroupId, to_email: &'a str, payload: &'a str) -> Self {
        let at = now();
        Self {
            kind,
            group_id: group,
            client_id: None,
            sender_user_id: None,
            contact_id: None,
            to_email,
            payload: Some(payload),
            status: "queued",
            next_attempt_at: at,
            created_at: at,
            updated_at: at,
        }
    }

    fn sent_by(mut self, sender: &Sender) -> Self {
        self.client_id = Some(sender.client_id);
        self.sender_user_id = Some(sender.user_id);
        self
    }

    fn about_contact(mut self, contact: ContactId) -> Self {
        self.contact_id = Some(contact);
        self
    }
}

fn queue(conn: &mut DbConnection, row: QueuedRow<'_>) -> QueryResult<MessageId> {
    diesel::insert_into(messages::table)
        .values(row)
        .returning(messages::id)
        .get_result::<MessageId>(conn)
}
