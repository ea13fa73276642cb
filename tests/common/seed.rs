//! Data the fault tests (and the batch test) start from: the demo group plus many recipients of one sender, written
//! with the library's own queries (as the app would write them) before the server starts.

use diesel::prelude::*;
use optouts::db::schema::messages;
use optouts::db::{self, DbConnection, campaigns, contacts};
use optouts::domain::{EmailAddress, MessageId, Sender};

/// The demo sender whose mail the tests send and unsubscribe from.
pub const NINA: &str = "nina.patel@acme.example";

pub fn demo_sender(conn: &mut DbConnection, email: &str) -> Sender {
    let user = db::accounts::find_user_by_email(conn, &EmailAddress::parse(email).unwrap())
        .unwrap()
        .expect("demo user");
    Sender {
        user_id: user.id,
        client_id: user.client_id.expect("a sender has a client"),
        group_id: user.group_id.expect("a sender has a group"),
    }
}

/// `count` distinct recipient addresses under `domain`.
pub fn recipients(count: usize, domain: &str) -> Vec<String> {
    (0..count).map(|i| format!("r{i:04}@{domain}")).collect()
}

/// Campaign emails from `sender` already sent to each address (what one-click links point
/// at), inserted in one transaction; returns their ids in the order of `to`.
pub fn sent_messages(conn: &mut DbConnection, sender: &Sender, to: &[String]) -> Vec<MessageId> {
    let at = db::now();
    conn.transaction(|conn| {
        to.iter()
            .map(|email| {
                diesel::insert_into(messages::table)
                    .values((
                        messages::kind.eq("campaign"),
                        messages::group_id.eq(sender.group_id.0),
                        messages::client_id.eq(Some(sender.client_id.0)),
                        messages::sender_user_id.eq(Some(sender.user_id.0)),
                        messages::to_email.eq(email),
                        messages::status.eq("sent"),
                        messages::attempts.eq(1),
                        messages::next_attempt_at.eq(at),
                        messages::created_at.eq(at),
                        messages::updated_at.eq(at),
                        messages::sent_at.eq(Some(at)),
                    ))
                    .returning(messages::id)
                    .get_result::<i64>(conn)
                    .map(MessageId)
            })
            .collect::<QueryResult<Vec<_>>>()
    })
    .unwrap()
}

/// A campaign from `sender` to a new contact per address, queued for sending exactly as the
/// Send button queues it; returns the ids of the queued messages.
pub fn queued_campaign(conn: &mut DbConnection, sender: &Sender, to: &[String]) -> Vec<MessageId> {
    conn.transaction(|conn| {
        for email in to {
            let email = EmailAddress::parse(email).unwrap();
            contacts::insert_if_absent(
                conn,
                &contacts::NewContact {
                    owner_user_id: sender.user_id,
                    client_id: sender.client_id,
                    group_id: sender.group_id,
                    email: &email,
                    name: "Fault test recipient",
                },
            )?;
        }
        QueryResult::Ok(())
    })
    .unwrap();
    let id = campaigns::create_draft(
        conn,
        &campaigns::NewDraft {
            group_id: sender.group_id,
            client_id: sender.client_id,
            owner_user_id: sender.user_id,
            name: "Fault test",
            subject: "Autumn news",
            from_name: "Nina at Acme",
            body_text: "Hello!\n\nOur autumn news.",
            body_html: None,
        },
    )
    .unwrap();
    let campaign = campaigns::find(conn, id).unwrap().unwrap();
    let domain = to[0].rsplit_once('@').unwrap().1;
    let added = campaigns::add_matching(conn, &campaign, domain).unwrap();
    assert_eq!(added.contacts.len(), to.len(), "every recipient added");
    let queued = campaigns::queue_send(conn, &campaign).unwrap().unwrap();
    assert_eq!(queued.queued, to.len(), "every recipient queued");
    messages::table
        .filter(messages::campaign_id.eq(id.0))
        .select(messages::id)
        .order(messages::id)
        .load::<i64>(conn)
        .unwrap()
        .into_iter()
        .map(MessageId)
        .collect()
}

/// The id in a Message-ID header `<m{id}.{queued}@{host}>`.
pub fn message_id_number(header: &str) -> i64 {
    header
        .trim_start_matches("<m")
        .split('.')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected Message-ID {header}"))
}
