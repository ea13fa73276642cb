//! A worker that stalls (a long GC pause, a hung SMTP connection) past its claim must not send:
//! by then the message may be back in the queue or another worker's. The per-message renewal
//! just before sending is what stops it; the marks are guarded by the claim as well.

use optouts::db::messages;

use crate::helpers::{Backend, TestDatabase};
use crate::on_both_backends;
use crate::seed;

on_both_backends!(a_worker_whose_claim_expired_may_not_send_or_mark);

async fn a_worker_whose_claim_expired_may_not_send_or_mark(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else {
        return;
    };
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    optouts::seed::demo::load(&mut conn).unwrap();
    let sender = seed::demo_sender(&mut conn, seed::NINA);
    let queued = seed::queued_campaign(&mut conn, &sender, &seed::recipients(3, "stall.example"));
    let now = optouts::db::now();
    let (past, future) = (
        now - chrono::Duration::seconds(1),
        now + chrono::Duration::minutes(10),
    );

    // The stalled worker's claim has run out before it gets to send.
    let stalled = messages::claim_due(&mut conn, "stalled", 10, past).unwrap();
    assert_eq!(stalled, queued);
    for id in &queued {
        assert!(
            !messages::renew_claim(&mut conn, *id, "stalled", future).unwrap(),
            "message {id}: an expired claim is not renewed, so the stalled worker does not send"
        );
    }

    // Its messages go back to the queue and another worker takes them.
    assert_eq!(
        messages::recover_expired_claims(&mut conn).unwrap(),
        queued.len()
    );
    let live = messages::claim_due(&mut conn, "live", 10, future).unwrap();
    assert_eq!(live, queued);
    for id in &queued {
        assert!(messages::renew_claim(&mut conn, *id, "live", future).unwrap());
        assert!(!messages::renew_claim(&mut conn, *id, "stalled", future).unwrap());
        assert!(
            !messages::mark_sent(&mut conn, *id, "stalled").unwrap(),
            "message {id}: the stalled worker cannot mark what it no longer holds"
        );
        assert!(messages::mark_sent(&mut conn, *id, "live").unwrap());
    }
}
