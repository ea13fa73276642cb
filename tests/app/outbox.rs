//! The outbox's claim rules on both backends: claims are exclusive, guarded, released on
//! shutdown and recovered after a crash.

use crate::helpers::{Backend, spawn_app};
use crate::on_both_backends;
use diesel::prelude::*;
use optouts::db::messages;
use optouts::db::schema::messages as table;

on_both_backends!(claims_are_exclusive_released_and_recovered);

async fn claims_are_exclusive_released_and_recovered(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let mut conn = app.conn();
    // Queue five messages directly (a campaign's send does the same).
    let group: i64 = optouts::db::schema::groups::table
        .select(optouts::db::schema::groups::id)
        .first(&mut *conn)
        .unwrap();
    let at = optouts::db::now();
    for n in 0..5 {
        diesel::insert_into(table::table)
            .values((
                table::kind.eq("campaign"),
                table::group_id.eq(group),
                table::to_email.eq(format!("r{n}@example.com")),
                table::status.eq("queued"),
                table::next_attempt_at.eq(at),
                table::created_at.eq(at),
                table::updated_at.eq(at),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    let later = at + chrono::Duration::minutes(10);
    let first = messages::claim_due(&mut conn, "worker-a", 3, later).unwrap();
    let second = messages::claim_due(&mut conn, "worker-b", 10, later).unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(second.len(), 2);
    assert!(
        first.iter().all(|id| !second.contains(id)),
        "no message claimed twice"
    );
    assert!(
        messages::claim_due(&mut conn, "worker-c", 10, later)
            .unwrap()
            .is_empty()
    );

    // Marks are guarded by the claim: another worker cannot settle a row it does not hold.
    assert!(!messages::mark_sent(&mut conn, first[0], "worker-b").unwrap());
    assert!(messages::mark_sent(&mut conn, first[0], "worker-a").unwrap());

    // Shutdown: worker-a gives back what it did not finish, and the try does not count.
    assert_eq!(messages::release(&mut conn, "worker-a").unwrap(), 2);
    let released: Vec<(String, i32)> = table::table
        .filter(table::id.eq_any([first[1].0, first[2].0]))
        .select((table::status, table::attempts))
        .load(&mut *conn)
        .unwrap();
    assert!(
        released.iter().all(|(s, a)| s == "queued" && *a == 0),
        "{released:?}"
    );

    // Crash: worker-b's claim expires and its rows return to the queue.
    diesel::update(table::table.filter(table::claimed_by.eq("worker-b")))
        .set(table::claim_expires_at.eq(at - chrono::Duration::minutes(1)))
        .execute(&mut *conn)
        .unwrap();
    assert_eq!(messages::recover_expired_claims(&mut conn).unwrap(), 2);
    let again = messages::claim_due(&mut conn, "worker-c", 10, later).unwrap();
    assert_eq!(again.len(), 4);
}
