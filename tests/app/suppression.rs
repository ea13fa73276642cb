//! The suppression queries against the cascade rule, and recording and lifting with evidence,
//! on both backends.

use crate::helpers::{Backend, TestDatabase};
use crate::on_both_backends;
use diesel::prelude::*;
use optouts::db::accounts::{self, NewStaffUser};
use optouts::db::consent_events::NewConsentEvent;
use optouts::db::schema::consent_events;
use optouts::db::{DbConnection, opt_outs};
use optouts::domain::suppression::{applying_levels, broadest};
use optouts::domain::{
    ActorKind, EmailAddress, EventKind, GroupId, Level, Role, Scope, Sender, Source,
};

on_both_backends!(
    set_based_check_agrees_with_the_cascade_rule,
    every_suppression_query_agrees_with_the_cascade_rule,
    lifting_removes_exactly_one_opt_out_and_keeps_the_evidence,
    a_large_address_list_is_checked_in_one_query,
);

/// Two groups; the first with two clients of two users each, the second with one of one.
fn hierarchy(conn: &mut DbConnection) -> Vec<Sender> {
    let mut senders = Vec::new();
    for (g, clients) in [("G1", 2), ("G2", 1)] {
        let group = accounts::create_group(conn, g).unwrap();
        for c in 0..clients {
            let client = accounts::create_client(conn, group.id, &format!("{g}-C{c}")).unwrap();
            for u in 0..(3 - clients) {
                let email = EmailAddress::parse(&format!("{g}.{c}.{u}@staff.example")).unwrap();
                let id = accounts::create_user(
                    conn,
                    &NewStaffUser {
                        email: &email,
                        display_name: "Sender",
                        role: Role::User,
                        group_id: Some(group.id),
                        client_id: Some(client.id),
                        password_hash: "not used",
                    },
                )
                .unwrap();
                senders.push(Sender {
                    user_id: id,
                    client_id: client.id,
                    group_id: group.id,
                });
            }
        }
    }
    senders
}

pub(crate) fn event<'a>(
    group: GroupId,
    email: &'a EmailAddress,
    scope: Scope,
    kind: EventKind,
) -> NewConsentEvent<'a> {
    NewConsentEvent {
        group_id: group,
        email,
        kind,
        scope: Some(scope),
        source: Source::Manual,
        actor_kind: ActorKind::System,
        actor_user_id: None,
        campaign_id: None,
        message_id: None,
        reason: None,
        ip_address: None,
        user_agent: None,
        evidence: None,
    }
}

/// A tiny deterministic generator: the same "random" opt-outs on every run and backend.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % below
    }
}

async fn set_based_check_agrees_with_the_cascade_rule(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else {
        return;
    };
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let senders = hierarchy(&mut conn);
    let addresses: Vec<EmailAddress> = (0..40)
        .map(|n| EmailAddress::parse(&format!("r{n}@example.com")).unwrap())
        .collect();
    let mut rng = Lcg(7);
    let mut active: Vec<(String, GroupId, Scope)> = Vec::new();
    for _ in 0..120 {
        let email = &addresses[rng.next(addresses.len())];
        let owner = senders[rng.next(senders.len())];
        let scope = owner.scope_at(Level::ALL[rng.next(3)]);
        let recorded = opt_outs::record(
            &mut conn,
            &event(owner.group_id, email, scope, EventKind::OptOut),
        )
        .unwrap();
        let entry = (email.as_str().to_owned(), owner.group_id, scope);
        assert_eq!(
            recorded,
            !active.contains(&entry),
            "record is a no-op exactly for repeats"
        );
        if recorded {
            active.push(entry);
        }
    }
    // The check list holds every address, some twice, and addresses with no opt-out at all.
    let mut check: Vec<EmailAddress> = addresses.clone();
    check.extend(addresses.iter().take(5).cloned());
    check.push(EmailAddress::parse("never@example.com").unwrap());
    for sender in &senders {
        let found = opt_outs::suppressed_among(&mut conn, sender, &check).unwrap();
        for email in &addresses {
            let of_email: Vec<(GroupId, Scope)> = active
                .iter()
                .filter(|(e, _, _)| e == email.as_str())
                .map(|(_, g, s)| (*g, *s))
                .collect();
            assert_eq!(
                found.get(email.as_str()).copied(),
                broadest(&of_email, sender),
                "{email} for {sender:?}"
            );
            let explained = opt_outs::applying_to(&mut conn, email.as_str(), sender).unwrap();
            let levels: Vec<Level> = explained.iter().map(|o| o.opt_out.scope.level()).collect();
            assert_eq!(
                levels,
                applying_levels(&of_email, sender),
                "{email} for {sender:?}"
            );
        }
        assert!(!found.contains_key("never@example.com"));
    }
    let events: i64 = consent_events::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(
        events as usize,
        active.len(),
        "one event per recorded opt-out"
    );
}

async fn lifting_removes_exactly_one_opt_out_and_keeps_the_evidence(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else {
        return;
    };
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let sender = hierarchy(&mut conn)[0];
    let email = EmailAddress::parse("kim@example.com").unwrap();
    for level in [Level::Group, Level::User] {
        let scope = sender.scope_at(level);
        assert!(
            opt_outs::record(
                &mut conn,
                &event(sender.group_id, &email, scope, EventKind::OptOut)
            )
            .unwrap()
        );
    }
    let user_scope = sender.scope_at(Level::User);
    let user_level = opt_outs::applying_to(&mut conn, email.as_str(), &sender)
        .unwrap()
        .into_iter()
        .find(|o| o.opt_out.scope == user_scope)
        .unwrap()
        .opt_out
        .id;
    let lift =
        |_: &opt_outs::ActiveOptOut| event(sender.group_id, &email, user_scope, EventKind::OptIn);
    assert!(
        opt_outs::lift_exact(&mut conn, user_level, &email, lift)
            .unwrap()
            .is_some()
    );
    assert!(
        opt_outs::lift_exact(&mut conn, user_level, &email, lift)
            .unwrap()
            .is_none(),
        "lifting again changes nothing"
    );
    // A new opt-out of the same scope is another row: the old id does not lift it.
    assert!(
        opt_outs::record(
            &mut conn,
            &event(sender.group_id, &email, user_scope, EventKind::OptOut)
        )
        .unwrap()
    );
    assert!(
        opt_outs::lift_exact(&mut conn, user_level, &email, lift)
            .unwrap()
            .is_none(),
        "an id names one row, not its scope"
    );
    let remaining = opt_outs::applying_to(&mut conn, email.as_str(), &sender).unwrap();
    assert_eq!(remaining.len(), 2);
    assert_eq!(remaining[0].opt_out.scope, Scope::Group(sender.group_id));
    assert_eq!(remaining[1].opt_out.scope, user_scope);
    let kinds: Vec<String> = consent_events::table
        .order(consent_events::id)
        .select(consent_events::kind)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(kinds, ["opt_out", "opt_out", "opt_in", "opt_out"]);
}

async fn a_large_address_list_is_checked_in_one_query(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else {
        return;
    };
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let sender = hierarchy(&mut conn)[0];
    // Far beyond SQLite's and PostgreSQL's bind-parameter limits: one parameter carries all.
    let addresses: Vec<EmailAddress> = (0..70_000)
        .map(|n| EmailAddress::parse(&format!("bulk{n}@example.com")).unwrap())
        .collect();
    for n in [3, 33_333, 69_999] {
        let scope = sender.scope_at(Level::Client);
        opt_outs::record(
            &mut conn,
            &event(sender.group_id, &addresses[n], scope, EventKind::OptOut),
        )
        .unwrap();
    }
    let found = opt_outs::suppressed_among(&mut conn, &sender, &addresses).unwrap();
    let mut keys: Vec<&String> = found.keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "bulk33333@example.com",
            "bulk3@example.com",
            "bulk69999@example.com"
        ]
    );
    assert!(found.values().all(|level| *level == Level::Client));
}

#[derive(QueryableByName)]
struct PlanStep {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

/// The bulk check's plan on SQLite (the bundled one, as the app runs it): the address list
/// outside, one probe of the unique index per address inside. The other way round — the
/// opt-outs outside, the JSON list read again for each — grows as list × table: dropping the
/// subquery's DISTINCT once made SQLite choose it (P3 at 1M went from 0.6 s to not finishing).
/// PostgreSQL's plan is in docs/PERFORMANCE.md; its generic plan needs a server setting.
#[test]
fn on_sqlite_the_bulk_check_probes_the_index_once_per_address() {
    use diesel::connection::{Connection, InstrumentationEvent};
    use std::sync::{Arc, Mutex};

    let db = TestDatabase::create(Backend::Sqlite).expect("SQLite needs no server");
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let sender = hierarchy(&mut conn)[0];
    let last_sql = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&last_sql);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            *sink.lock().unwrap() = query.to_string();
        }
    });
    let addresses = [EmailAddress::parse("someone@example.com").unwrap()];
    opt_outs::suppressed_among(&mut conn, &sender, &addresses).unwrap();
    let sql = last_sql.lock().unwrap().clone();
    let sql = sql.split(" -- binds: ").next().unwrap();
    let plan: Vec<String> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load::<PlanStep>(&mut *conn)
        .unwrap()
        .into_iter()
        .map(|step| step.detail)
        .collect();
    let step = |starts: &str| plan.iter().position(|detail| detail.starts_with(starts));
    let list = step("SCAN json_each").unwrap_or_else(|| panic!("{plan:#?}"));
    let probe = step("SEARCH o USING COVERING INDEX opt_outs_one_active (email=? AND group_id=?)")
        .unwrap_or_else(|| panic!("{plan:#?}"));
    assert!(list < probe, "the list must be the outer loop: {plan:#?}");
    assert!(
        !plan.iter().any(|detail| detail.starts_with("SCAN o")),
        "{plan:#?}"
    );
}

/// Reopening the dialog of one "add recipients" submission (`?added=`) reads that batch by
/// index, not every recipient of the campaign.
#[test]
fn a_submissions_recipients_are_read_by_index() {
    let db = TestDatabase::create(Backend::Sqlite).expect("SQLite needs no server");
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let plan: Vec<String> = diesel::sql_query(
        "EXPLAIN QUERY PLAN SELECT contact_id FROM campaign_recipients \
         WHERE campaign_id = 1 AND added_at = '2026-11-30 12:00:00'",
    )
    .load::<PlanStep>(&mut *conn)
    .unwrap()
    .into_iter()
    .map(|step| step.detail)
    .collect();
    assert!(
        plan.iter()
            .any(|d| d.contains("campaign_recipients_batch (campaign_id=? AND added_at=?)")),
        "{plan:#?}"
    );
}

/// The oracle test over every query that decides suppression, each built from
/// `db::cascade` (the diesel expression or its SQL text), against `domain::suppression`:
///
/// - `opt_outs::suppressed_among` (SQL text, both backends' forms): the broadest level;
/// - `opt_outs::applying_to`: the applying levels, broadest first;
/// - `opt_outs::blocking_levels`: the same, without names;
/// - `opt_outs::broadest_for_contacts` (joined against each contact's owner): the broadest;
/// - `link_context::load_fresh` (joined against the email's sender): the blocking levels;
/// - `campaigns::count_suppressed_now`: how many recipients are blocked;
/// - `campaigns::queue_send`: which recipients are suppressed, and at which level.
///
/// (`bench_data` seeds messages with the same SQL text; it is not run here.)
async fn every_suppression_query_agrees_with_the_cascade_rule(backend: Backend) {
    use optouts::db::schema::messages;
    use optouts::db::{campaigns, contacts, link_context};
    use optouts::domain::{ContactId, MessageId};

    let Some(db) = TestDatabase::create(backend) else {
        return;
    };
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let senders = hierarchy(&mut conn);
    let addresses: Vec<EmailAddress> = (0..16)
        .map(|n| EmailAddress::parse(&format!("q{n}@example.com")).unwrap())
        .collect();
    let mut rng = Lcg(11);
    let mut active: Vec<(String, GroupId, Scope)> = Vec::new();
    for _ in 0..48 {
        let email = &addresses[rng.next(addresses.len())];
        let owner = senders[rng.next(senders.len())];
        let scope = owner.scope_at(Level::ALL[rng.next(3)]);
        if opt_outs::record(
            &mut conn,
            &event(owner.group_id, email, scope, EventKind::OptOut),
        )
        .unwrap()
        {
            active.push((email.as_str().to_owned(), owner.group_id, scope));
        }
    }
    let of_email = |email: &str| -> Vec<(GroupId, Scope)> {
        active
            .iter()
            .filter(|(e, _, _)| e == email)
            .map(|(_, g, s)| (*g, *s))
            .collect()
    };

    let mut blocked_anywhere = 0;
    for sender in &senders {
        // Each sender owns a contact at every address and has sent an email to each.
        let mut contact_of: Vec<(ContactId, &EmailAddress)> = Vec::new();
        for email in &addresses {
            let id = contacts::insert_if_absent(
                &mut conn,
                &contacts::NewContact {
                    owner_user_id: sender.user_id,
                    client_id: sender.client_id,
                    group_id: sender.group_id,
                    email,
                    name: "Recipient",
                },
            )
            .unwrap()
            .unwrap();
            contact_of.push((id, email));
        }
        let found = opt_outs::suppressed_among(&mut conn, sender, &addresses).unwrap();
        let broadest_of_contact = opt_outs::broadest_for_contacts(
            &mut conn,
            &contact_of.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        )
        .unwrap();
        let mut expected_blocked = 0;
        for (contact, email) in &contact_of {
            let oracle = of_email(email.as_str());
            let levels = applying_levels(&oracle, sender);
            let what = format!("{email} for {sender:?}");
            expected_blocked += usize::from(!levels.is_empty());

            assert_eq!(
                found.get(email.as_str()).copied(),
                broadest(&oracle, sender),
                "{what}"
            );
            let explained = opt_outs::applying_to(&mut conn, email.as_str(), sender).unwrap();
            let explained: Vec<Level> = explained.iter().map(|o| o.opt_out.scope.level()).collect();
            assert_eq!(explained, levels, "applying_to: {what}");
            assert_eq!(
                opt_outs::blocking_levels(&mut conn, email.as_str(), sender).unwrap(),
                levels,
                "blocking_levels: {what}"
            );
            assert_eq!(
                broadest_of_contact.get(contact).copied(),
                broadest(&oracle, sender),
                "broadest_for_contacts: {what}"
            );

            let at = optouts::db::now();
            let message: MessageId = diesel::insert_into(messages::table)
                .values((
                    messages::kind.eq(optouts::db::messages::KIND_CAMPAIGN),
                    messages::group_id.eq(sender.group_id),
                    messages::client_id.eq(Some(sender.client_id)),
                    messages::sender_user_id.eq(Some(sender.user_id)),
                    messages::to_email.eq(email.as_str()),
                    messages::status.eq("sent"),
                    messages::attempts.eq(1),
                    messages::next_attempt_at.eq(at),
                    messages::created_at.eq(at),
                    messages::updated_at.eq(at),
                ))
                .returning(messages::id)
                .get_result(&mut *conn)
                .unwrap();
            let linked = link_context::load_fresh(&mut conn, message)
                .unwrap()
                .unwrap();
            let blocking: Vec<Level> = linked.blocking.iter().map(|b| b.level).collect();
            assert_eq!(blocking, levels, "link_context: {what}");
        }

        let draft = campaigns::create_draft(
            &mut conn,
            &campaigns::NewDraft {
                group_id: sender.group_id,
                client_id: sender.client_id,
                owner_user_id: sender.user_id,
                name: "Oracle",
                subject: "Hello",
                from_name: "Sender",
                body_text: "Hello",
                body_html: None,
            },
        )
        .unwrap();
        let campaign = campaigns::find(&mut conn, draft).unwrap().unwrap();
        let ids: Vec<ContactId> = contact_of.iter().map(|(id, _)| *id).collect();
        campaigns::add_recipients(&mut conn, &campaign, &ids).unwrap();
        assert_eq!(
            campaigns::count_suppressed_now(&mut conn, &campaign).unwrap(),
            expected_blocked as i64,
            "count_suppressed_now for {sender:?}"
        );
        blocked_anywhere += expected_blocked;
        let queued = campaigns::queue_send(&mut conn, &campaign)
            .unwrap()
            .unwrap();
        assert_eq!(
            queued.suppressed, expected_blocked,
            "queue_send for {sender:?}"
        );
        let recipients = campaigns::recipients_page(&mut conn, draft, None, 1000).unwrap();
        assert_eq!(recipients.len(), addresses.len());
        for recipient in recipients {
            let oracle = of_email(&recipient.email);
            assert_eq!(
                recipient.suppressed_level,
                broadest(&oracle, sender),
                "queue_send: {} for {sender:?}",
                recipient.email
            );
        }
    }
    // Not vacuous: some recipients are blocked and some are not.
    assert!(blocked_anywhere > 0 && blocked_anywhere < senders.len() * addresses.len());
}
