//! Support lifting opt-outs on written consent, and telling the staff member who asked for it:
//! the lift, its evidence and the notice in the outbox, in one transaction, so the notice
//! never says more (or less) than what was lifted.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::accounts::StaffUser;
use super::opt_outs::{self, NamedOptOut};
use super::{DbConnection, messages, write_transaction};
use crate::domain::consent::WrittenConsent;
use crate::domain::{EmailAddress, OptOutId, UserId};

/// What the notice email says, kept as the outbox row's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiftNotice {
    /// The display name of the staff member who asked.
    pub asked_by: String,
    /// The address opted back in, as stored.
    pub address: String,
    /// The consent's reference (ticket or letter number).
    pub reference: String,
    pub lifted: Vec<LiftedScope>,
}

/// One lifted opt-out as support's page named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiftedScope {
    /// `group`, `client` or `user`.
    pub level: String,
    /// The group's, client's or user's name.
    pub scope: String,
}

/// Lifts the ticked opt-outs of `email` (those still active) with the written consent as
/// evidence and, when someone asked, queues their notice listing exactly what was lifted.
/// The caller has checked that `asked_by` may ask for every ticked opt-out
/// (`rights::may_ask_support_to_lift`). Returns the lifted opt-outs.
pub fn lift_and_notify(
    conn: &mut DbConnection,
    email: &EmailAddress,
    ticked: &[OptOutId],
    support_user: UserId,
    consent: &WrittenConsent,
    asked_by: Option<&StaffUser>,
) -> QueryResult<Vec<NamedOptOut>> {
    write_transaction(conn, |conn| {
        // The names of the ticked opt-outs, read in the same transaction as the lift.
        let named: Vec<NamedOptOut> = opt_outs::everywhere(conn, email.as_str())?
            .into_iter()
            .filter(|o| ticked.contains(&o.opt_out.id))
            .collect();
        let lifted_ids = opt_outs::lift_on_written_consent(
            conn,
            email,
            ticked,
            support_user,
            &consent.to_evidence(),
        )?;
        let lifted: Vec<NamedOptOut> = named
            .into_iter()
            .filter(|o| lifted_ids.contains(&o.opt_out.id))
            .collect();
        if let Some(asker) = asked_by
            && !lifted.is_empty()
        {
            queue_notice(conn, asker, email, consent, &lifted)?;
        }
        Ok(lifted)
    })
}

fn queue_notice(
    conn: &mut DbConnection,
    asker: &StaffUser,
    email: &EmailAddress,
    consent: &WrittenConsent,
    lifted: &[NamedOptOut],
) -> QueryResult<()> {
    let Some(group) = asker.group_id else {
        return Ok(()); // support staff belong to no group: the caller never names one
    };
    let notice = LiftNotice {
        asked_by: asker.display_name.clone(),
        address: email.as_str().to_owned(),
        reference: consent.reference.clone(),
        lifted: lifted
            .iter()
            .map(|o| LiftedScope {
                level: o.opt_out.scope.level().as_str().to_owned(),
                scope: o.scope_name.clone(),
            })
            .collect(),
    };
    let payload = serde_json::to_string(&notice)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    messages::queue_support_lift_notice(conn, group, asker.client_id, &asker.email, &payload)?;
    Ok(())
}
