//! The delivery worker: claims queued messages, checks suppression once more just before
//! sending (an opt-out between queueing and sending wins), sends with lettre, and marks each
//! message sent, retried later (exponential back-off with a cap) or failed with the server's
//! reply. On shutdown it finishes the message in hand and gives back the rest of its claim.
//!
//! Crashes: delivery is at least once. A worker killed between the SMTP server accepting a
//! message (its `250` after DATA) and the `sent` mark reaching the database leaves that message
//! claimed; once the claim times out (`claim_timeout`) it is sent again. No database can share
//! a transaction with a remote SMTP server, so this one window cannot be closed; it is kept as
//! small as it can be: the claim is renewed per message just before sending (a worker never
//! sends on an expired claim, so two live workers never send one message), the mark is the
//! very next step, and a killed worker leaves at most the one message it had in hand at risk.
//! Such a repeat carries the same Message-ID (made from the row, not per try), so receiving
//! systems can recognise it as a duplicate.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

mod compose;

use super::{Mailer, SendFailure};
use crate::config::Config;
use crate::db::accounts::{self, StaffAccount};
use crate::db::messages::{self, Claimed, Delivery};
use crate::db::opt_in_requests::RequestPayload;
use crate::db::sender_profile::{self, SenderProfile};
use crate::db::{DbConnection, DbPool, now, opt_outs};
use crate::domain::{MessageId, MessageKind};

/// Senders' profiles read during one claimed batch.
type Profiles = std::collections::HashMap<crate::domain::Sender, Arc<SenderProfile>>;

pub struct DeliveryWorker {
    pool: DbPool,
    config: Arc<Config>,
    mailer: Mailer,
    /// Parsed once, with the configuration (`DkimSettings::checked`).
    dkim: Option<Arc<lettre::message::dkim::DkimConfig>>,
    /// Unique per worker: claims are made and checked under this name.
    name: String,
}

/// Stops a running worker; dropping it stops the worker too.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Asks the worker to stop and waits until it has released its claims.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.done.await;
    }
}

impl DeliveryWorker {
    pub fn new(pool: DbPool, config: Arc<Config>) -> anyhow::Result<Self> {
        let mailer = Mailer::from_url(&config.mail)?;
        let dkim = config.dkim.as_ref().map(|d| Arc::clone(&d.signing));
        let name = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Ok(Self {
            pool,
            config,
            mailer,
            dkim,
            name,
        })
    }

    /// Runs the worker on the current runtime until the handle says stop.
    pub fn spawn(self) -> WorkerHandle {
        let (stop, stopped) = watch::channel(false);
        let done = tokio::spawn(self.run(stopped));
        WorkerHandle { stop, done }
    }

    async fn run(self, mut stopped: watch::Receiver<bool>) {
        tracing::info!(worker = %self.name, mail = %self.config.mail.redacted(), "delivery worker started");
        while !*stopped.borrow() {
            let claimed = match self.claim().await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "delivery worker: claim failed");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.delivery.poll_interval) => {}
                    _ = stopped.changed() => {}
                }
                continue;
            }
            // Senders' profiles read once per claimed batch: a campaign's emails share a
            // sender, and a batch takes seconds, so a settings change is seen by the next one.
            let mut profiles = Profiles::new();
            for id in claimed {
                if *stopped.borrow() {
                    break;
                }
                if let Err(error) = self.deliver(id, &mut profiles).await {
                    tracing::error!(message = %id, error = %format!("{error:#}"), "delivery failed unexpectedly");
                }
            }
        }
        let name = self.name.clone();
        match self.db(move |conn| messages::release(conn, &name)).await {
            Ok(released) => {
                tracing::info!(worker = %self.name, released, "delivery worker stopped")
            }
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "delivery worker: release failed")
            }
        }
    }

    async fn claim(&self) -> anyhow::Result<Vec<MessageId>> {
        let name = self.name.clone();
        let batch = self.config.delivery.batch_size;
        let claim_until = self.claim_until()?;
        self.db(move |conn| {
            messages::recover_expired_claims(conn)?;
            messages::claim_due(conn, &name, batch, claim_until)
        })
        .await
    }

    /// A claim made (or renewed) now must be finished by then.
    fn claim_until(&self) -> anyhow::Result<chrono::NaiveDateTime> {
        Ok(now() + chrono::Duration::from_std(self.config.delivery.claim_timeout)?)
    }

    async fn deliver(&self, id: MessageId, profiles: &mut Profiles) -> anyhow::Result<()> {
        let name = self.name.clone();
        let claim_until = self.claim_until()?;
        let delivery = self
            .db(move |conn| {
                if !messages::renew_claim(conn, id, &name, claim_until)? {
                    return Ok(None);
                }
                messages::load_claimed(conn, id, &name)
            })
            .await?;
        let delivery = match delivery {
            Some(Claimed::Ready(delivery)) => *delivery,
            Some(Claimed::UnknownKind(kind)) => {
                // Not guessed at (it is not sent as a campaign or anything else): the row fails
                // with the reason in the delivery log.
                tracing::error!(message = %id, kind = %kind, "not sent: unknown message kind");
                let name = self.name.clone();
                let error = format!("unknown message kind {kind:?}");
                self.db(move |conn| messages::mark_failed(conn, id, &name, &error))
                    .await?;
                return Ok(());
            }
            // A notice to staff (no sender, no campaign), or no longer ours: the claim
            // expired (it is queued again or taken over).
            None => return self.deliver_notice(id).await,
        };
        // Campaign email is checked once more; a confirmation of an opt-out must still go.
        let is_campaign = delivery.kind == MessageKind::Campaign;
        if is_campaign && let Some(level) = self.suppressed_now(&delivery).await? {
            let name = self.name.clone();
            self.db(move |conn| messages::mark_suppressed(conn, id, &name, level))
                .await?;
            tracing::info!(message = %id, %level, "not sent: opted out after queueing");
            return Ok(());
        }
        let (profile, asker) = self.names_for(&delivery, profiles).await?;
        let email = self.build(&delivery, &profile, asker.as_ref())?;
        self.send_and_record(id, delivery.attempts, &delivery.to_email, email)
            .await
    }

    /// A notice to a staff member, if this worker holds one under `id`. It is not marketing:
    /// no suppression check, whatever opt-outs name the staff member's address.
    async fn deliver_notice(&self, id: MessageId) -> anyhow::Result<()> {
        let name = self.name.clone();
        let notice = self
            .db(move |conn| messages::load_claimed_notice(conn, id, &name))
            .await?;
        let Some(notice) = notice else {
            return Ok(()); // no longer ours
        };
        let mut email = self.build_support_lift_notice(&notice)?;
        if let Some(dkim) = &self.dkim {
            email.sign(dkim);
        }
        self.send_and_record(id, notice.attempts, &notice.to_email, email)
            .await
    }

    /// Sends and marks the message: sent, queued again after a back-off, or failed.
    async fn send_and_record(
        &self,
        id: MessageId,
        attempts: i32,
        to_email: &str,
        email: lettre::Message,
    ) -> anyhow::Result<()> {
        let domain = recipient_domain(to_email).to_owned();
        let outcome = self.mailer.send(email).await;
        let name = self.name.clone();
        match outcome {
            Ok(()) => {
                self.db(move |conn| messages::mark_sent(conn, id, &name))
                    .await?;
                tracing::info!(message = %id, recipient_domain = %domain, "sent");
            }
            Err(SendFailure::Transient(error)) if attempts < self.config.delivery.max_attempts => {
                let wait = backoff(&self.config, attempts);
                let next = now() + chrono::Duration::from_std(wait)?;
                tracing::warn!(message = %id, recipient_domain = %domain, attempt = attempts, retry_in = ?wait, error = %error, "send failed; will retry");
                self.db(move |conn| messages::schedule_retry(conn, id, &name, next, &error))
                    .await?;
            }
            Err(SendFailure::Transient(error) | SendFailure::Permanent(error)) => {
                tracing::warn!(message = %id, recipient_domain = %domain, attempt = attempts, error = %error, "send failed for good");
                self.db(move |conn| messages::mark_failed(conn, id, &name, &error))
                    .await?;
            }
        }
        Ok(())
    }

    /// The broadest opt-out that blocks this message right now, if any.
    async fn suppressed_now(
        &self,
        delivery: &Delivery,
    ) -> anyhow::Result<Option<crate::domain::Level>> {
        let (email, sender) = (delivery.to_email.clone(), delivery.sender);
        let levels = self
            .db(move |conn| opt_outs::blocking_levels(conn, &email, &sender))
            .await?;
        Ok(levels.first().copied())
    }

    /// The sender's profile (names as recipients see them, settings), as read for this batch:
    /// the one-click level in it decides a campaign email's `List-Id`, which must name what
    /// that email's one-click POST (which reads it afresh) stops. And for an opt-in request
    /// asked by someone else than the sender, who asked.
    async fn names_for(
        &self,
        delivery: &Delivery,
        profiles: &mut Profiles,
    ) -> anyhow::Result<(Arc<SenderProfile>, Option<StaffAccount>)> {
        let sender = delivery.sender;
        let asked_by = (delivery.kind == MessageKind::OptInRequest)
            .then(|| RequestPayload::parse(delivery.payload.as_deref()))
            .flatten()
            .map(|p| p.asked_by)
            .filter(|asker| *asker != sender.user_id);
        let known = profiles.get(&sender).cloned();
        let (profile, asker) = self
            .db(move |conn| {
                let profile = match known {
                    Some(profile) => Some(profile),
                    None => sender_profile::load(conn, sender)?.map(Arc::new),
                };
                let asker = match asked_by {
                    Some(id) => accounts::find_account(conn, id)?,
                    None => None,
                };
                Ok((profile, asker))
            })
            .await?;
        // The sender was found a moment ago; should it be gone now, this try fails (and is
        // tried again) rather than go out under guessed names or a guessed list.
        let profile = profile
            .ok_or_else(|| anyhow::anyhow!("message {}: its sender is gone", delivery.id))?;
        profiles.insert(sender, Arc::clone(&profile));
        Ok((profile, asker))
    }

    async fn db<T, F>(&self, work: F) -> anyhow::Result<T>
    where
        F: FnOnce(&mut DbConnection) -> diesel::QueryResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            Ok(work(&mut conn)?)
        })
        .await?
    }
}

/// The wait after the n-th failed try: base × 2^(n-1), at most the cap.
pub fn backoff(config: &Config, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    config
        .delivery
        .retry_base
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(config.delivery.retry_cap)
}

/// What logs may show of a recipient: the domain only.
fn recipient_domain(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}
