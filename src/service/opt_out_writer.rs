//! Group commit for recipients' opt-outs on SQLite.
//!
//! Why: an opt-out must survive a power cut once the recipient has been told it is done, so its
//! commit has to reach the disk (`synchronous=FULL`, one fsync per commit). One transaction per
//! request then caps a burst of one-click unsubscribes at the disk's fsync rate (about 600 a
//! second here), and SQLite has only one writer at a time anyway.
//!
//! How: one thread owns one durable connection. Requests queue up while it commits; it takes
//! everything waiting (up to [`MAX_BATCH`]), records them all in one `BEGIN IMMEDIATE`
//! transaction with one multi-row statement per table ([`opt_out_batch`]), commits once, and
//! only then answers every waiting request.
//! Nothing waits for a batch to fill: a lone request is committed at once.
//!
//! Guarantees: each request is recorded exactly as [`unsubscribes::opt_out_from_link`] records
//! it (opt-out, consent event, confirmation email in the outbox); its answer comes after the
//! commit that holds it; if any item or the commit fails, the whole batch rolls back and every
//! item is recorded again in its own transaction, so a failing item fails alone.

use tokio::sync::{mpsc, oneshot};

use crate::db::opt_out_batch;
// The item type lives with the batch that records it; named here too for the writer's callers.
pub use crate::db::opt_out_batch::LinkOptOut;
use crate::db::{DatabaseUrl, DbConnection, write_transaction};
use crate::domain::OptOutId;
use diesel::QueryResult;

/// Most opt-outs in one transaction: enough to share one fsync among a burst, small enough that
/// the write lock is never held for long.
pub const MAX_BATCH: usize = 512;

/// Requests waiting beyond this make the handlers wait (back-pressure) instead of queueing
/// without bound.
const QUEUE_CAPACITY: usize = 4 * MAX_BATCH;

struct Queued {
    opt_out: LinkOptOut,
    answer: oneshot::Sender<QueryResult<Option<OptOutId>>>,
}

/// The handle handlers send opt-outs to; cheap to clone. The writer thread ends when the last
/// handle is dropped, after recording what was already queued.
#[derive(Clone)]
pub struct OptOutWriter {
    queue: mpsc::Sender<Queued>,
}

impl OptOutWriter {
    /// Opens the writer's own durable connection to the SQLite database at `url` and starts its
    /// thread.
    pub fn start(url: &DatabaseUrl) -> anyhow::Result<Self> {
        let conn = crate::db::open_durable_sqlite(url)?;
        let (queue, waiting) = mpsc::channel(QUEUE_CAPACITY);
        std::thread::Builder::new()
            .name("opt-out-writer".into())
            .spawn(move || run(conn, waiting))?;
        Ok(Self { queue })
    }

    /// Records `opt_out` and answers once the transaction holding it is committed. `None` when
    /// the writer has stopped (its thread died): nothing of this request was committed, so the
    /// caller may record it another way (a repeat is harmless anyway).
    pub async fn record(&self, opt_out: LinkOptOut) -> Option<QueryResult<Option<OptOutId>>> {
        let (answer, answered) = oneshot::channel();
        self.queue.send(Queued { opt_out, answer }).await.ok()?;
        answered.await.ok()
    }
}

fn run(mut conn: DbConnection, mut waiting: mpsc::Receiver<Queued>) {
    while let Some(first) = waiting.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match waiting.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch);
    }
}

/// Records the batch in one transaction (one statement per table: `opt_out_batch`) and answers
/// each request after the commit; when anything in it fails, the whole transaction rolls back
/// and each item is recorded on its own instead, so a failing item fails alone.
fn commit_batch(conn: &mut DbConnection, batch: Vec<Queued>) {
    let (opt_outs, answers): (Vec<LinkOptOut>, Vec<_>) = batch
        .into_iter()
        .map(|queued| (queued.opt_out, queued.answer))
        .unzip();
    match write_transaction(conn, |conn| opt_out_batch::record_all(conn, &opt_outs)) {
        Ok(outcomes) => {
            for (answer, recorded) in answers.into_iter().zip(outcomes) {
                // The request may have gone (client hung up); the opt-out stands all the same.
                let _ = answer.send(Ok(recorded));
            }
        }
        Err(error) => {
            tracing::warn!(%error, items = opt_outs.len(), "opt-out batch failed; recording one by one");
            for (opt_out, answer) in opt_outs.iter().zip(answers) {
                let _ = answer.send(opt_out.record(conn));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::messages::LinkedMessage;
    use crate::db::schema::{consent_events, messages, opt_outs};
    use crate::db::{build_pool, open_durable_sqlite, run_migrations};
    use crate::domain::{EmailAddress, Level, MessageId, Source};
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    /// A sent email from a demo sender to `to`, as the writer's callers load it.
    fn email_to(conn: &mut DbConnection, to: &str) -> LinkedMessage {
        let sender = crate::db::accounts::find_user_by_email(
            conn,
            &EmailAddress::parse("nina.patel@acme.example").unwrap(),
        )
        .unwrap()
        .unwrap();
        let now = crate::db::now();
        let id: MessageId = diesel::insert_into(messages::table)
            .values((
                messages::kind.eq(crate::domain::MessageKind::Campaign),
                messages::group_id.eq(sender.group_id.unwrap()),
                messages::client_id.eq(sender.client_id),
                messages::sender_user_id.eq(Some(sender.id)),
                messages::to_email.eq(to),
                messages::status.eq("sent"),
                messages::attempts.eq(1),
                messages::next_attempt_at.eq(now),
                messages::created_at.eq(now),
                messages::updated_at.eq(now),
            ))
            .returning(messages::id)
            .get_result(conn)
            .unwrap();
        crate::db::link_context::load_fresh(conn, id)
            .unwrap()
            .unwrap()
            .message
    }

    fn one_click(message: LinkedMessage) -> LinkOptOut {
        LinkOptOut {
            message,
            level: Level::User,
            source: Source::OneClick,
            reason: None,
            ip_address: Some("127.0.0.1".into()),
            user_agent: None,
            shown: None,
            confirm: true,
        }
    }

    fn stored(conn: &mut DbConnection, email: &str) -> (i64, i64) {
        let opt_outs = opt_outs::table
            .filter(opt_outs::email.eq(email))
            .count()
            .get_result(conn)
            .unwrap();
        let events = consent_events::table
            .filter(consent_events::email.eq(email))
            .count()
            .get_result(conn)
            .unwrap();
        (opt_outs, events)
    }

    #[test]
    fn an_item_that_fails_fails_alone_and_the_rest_of_its_batch_commits() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite {
            path: dir.path().join("t.sqlite"),
        };
        let pool = build_pool(&url, 2).unwrap();
        let mut conn = pool.get().unwrap();
        run_migrations(&mut conn).unwrap();
        crate::seed::demo::load(&mut conn).unwrap();
        let batch_emails = [
            "first@example.test",
            "poisoned@example.test",
            "last@example.test",
        ];
        let opt_outs: Vec<LinkOptOut> = batch_emails
            .iter()
            .map(|to| one_click(email_to(&mut conn, to)))
            .collect();
        // The poisoned item's opt-out row is written, then its event is refused: only a
        // savepoint per item keeps that half-written opt-out out while the others commit.
        conn.batch_execute(
            "CREATE TRIGGER poison BEFORE INSERT ON consent_events
             WHEN NEW.email = 'poisoned@example.test'
             BEGIN SELECT RAISE(ABORT, 'refused for the test'); END;",
        )
        .unwrap();

        let mut writer = open_durable_sqlite(&url).unwrap();
        let (batch, mut answers): (Vec<Queued>, Vec<oneshot::Receiver<_>>) = opt_outs
            .into_iter()
            .map(|opt_out| {
                let (answer, answered) = oneshot::channel();
                (Queued { opt_out, answer }, answered)
            })
            .unzip();
        commit_batch(&mut writer, batch);

        let outcomes: Vec<QueryResult<Option<OptOutId>>> =
            answers.iter_mut().map(|a| a.try_recv().unwrap()).collect();
        assert!(matches!(outcomes[0], Ok(Some(_))), "{:?}", outcomes[0]);
        assert!(outcomes[1].is_err(), "the poisoned item reports its error");
        assert!(matches!(outcomes[2], Ok(Some(_))), "{:?}", outcomes[2]);
        // opt-out + opt-out event + confirmation event each for the two good ones.
        assert_eq!(stored(&mut conn, "first@example.test"), (1, 2));
        assert_eq!(stored(&mut conn, "poisoned@example.test"), (0, 0));
        assert_eq!(stored(&mut conn, "last@example.test"), (1, 2));
    }

    #[test]
    fn the_writer_connection_flushes_every_commit_to_disk() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite {
            path: dir.path().join("t.sqlite"),
        };
        let mut writer = open_durable_sqlite(&url).unwrap();
        #[derive(QueryableByName)]
        struct Pragma {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            synchronous: i32,
        }
        let read: Pragma = diesel::sql_query("PRAGMA synchronous")
            .get_result(&mut writer)
            .unwrap();
        assert_eq!(read.synchronous, 2, "2 = FULL");
    }
}
