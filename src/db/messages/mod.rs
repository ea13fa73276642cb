//! The outbox and delivery log in one table. Rows are written in the transaction of the state
//! change that caused them; delivery workers claim, send and mark them.
//!
//! Claiming: PostgreSQL uses `FOR UPDATE SKIP LOCKED`, so workers in several processes never
//! take the same row; SQLite (one writer at a time) claims with one UPDATE in a `BEGIN
//! IMMEDIATE` transaction. A claim expires: rows a crashed worker held go back to the queue.
//! Every mark is guarded by the claim, so a worker whose claim expired cannot overwrite the
//! outcome of the worker that took the row over.
//!
//! One module per concern: [`outbox`] queues rows, [`claims`] hands them to a worker,
//! [`outcomes`] records what a send did, [`log`] reads the delivery log, [`links`] reads the
//! email a recipient's link names. Callers use the names re-exported here.

mod claims;
mod links;
mod log;
mod outbox;
mod outcomes;

pub use claims::{
    CampaignContent, Claimed, Delivery, StaffNotice, claim_due, load_claimed, load_claimed_notice,
    recover_expired_claims, release, renew_claim,
};
pub use links::LinkedMessage;
pub(in crate::db) use links::{EmailRow, LinkedEmail, email_columns};
pub use log::{LogEntry, LogScope, StatusCounts, counts_for_campaign, log_page};
pub(in crate::db) use outbox::ConfirmationRow;
pub use outbox::{
    ConfirmationPayload, KIND_CAMPAIGN, KIND_OPT_IN_REQUEST, KIND_OPT_OUT_CONFIRMATION,
    KIND_SUPPORT_LIFT_NOTICE, queue_confirmation, queue_opt_in_request, queue_support_lift_notice,
};
pub use outcomes::{mark_failed, mark_sent, mark_suppressed, schedule_retry};
