//! Support lifts opt-outs on a recipient's written consent: the consent is checked and kept as
//! evidence, and the staff member who asked (if one did) hears back.

use super::{Actor, ServiceError, Services};
use crate::db::accounts::{self, StaffUser};
use crate::db::{opt_outs, support_lifts};
use crate::domain::consent::{AskedBy, ConsentFields, WrittenConsent};
use crate::domain::{EmailAddress, GroupId, OptOutId, rights};

pub struct SupportLift {
    /// The recipient's address.
    pub email: EmailAddress,
    /// The opt-outs to lift, each of this address.
    pub opt_outs: Vec<OptOutId>,
    pub given_by: String,
    pub received_on: String,
    pub reference: String,
    pub text: String,
    /// The sign-in address of the staff member who asked support; empty when nobody did.
    pub asked_by: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifted {
    /// How many of the opt-outs were still active and are now lifted.
    pub lifted: usize,
    /// Whether a staff member was named as asking (they are told when something was lifted).
    pub notified: bool,
}

/// Anyone but support: [`ServiceError::NotFound`]. A request that does not pass every check
/// (nothing ticked, incomplete consent, an "asked by" who may not ask):
/// [`ServiceError::Invalid`] saying what is wrong. Nothing changes then.
pub async fn lift_on_written_consent(
    services: &Services,
    actor: &Actor,
    lift: SupportLift,
) -> Result<Lifted, ServiceError> {
    let support = *actor.person().ok_or(ServiceError::NotFound)?;
    if !rights::may_lift_on_written_consent(&support) {
        return Err(ServiceError::NotFound);
    }
    let checked = checked_request(services, &lift).await?;
    let SupportLift {
        email, opt_outs, ..
    } = lift;
    let target = email.clone();
    let notified = checked.asker.is_some();
    let lifted = services
        .db(move |conn| {
            support_lifts::lift_and_notify(
                conn,
                &target,
                &opt_outs,
                support.id,
                &checked.consent,
                checked.asker.as_ref(),
            )
        })
        .await?
        .len();
    tracing::info!(support = %support.id, recipient_domain = %email.domain(), lifted, notified, "opted in on written consent");
    Ok(Lifted { lifted, notified })
}

/// A lift request that passed every check: the consent, and who asked (if anyone).
struct CheckedRequest {
    consent: WrittenConsent,
    asker: Option<StaffUser>,
}

/// Checks the request before anything changes.
async fn checked_request(
    services: &Services,
    lift: &SupportLift,
) -> Result<CheckedRequest, ServiceError> {
    if lift.opt_outs.is_empty() {
        return Err(ServiceError::Invalid(
            "Nothing was changed: tick the opt-outs to lift.".to_owned(),
        ));
    }
    let fields = ConsentFields {
        given_by: &lift.given_by,
        received_on: &lift.received_on,
        reference: &lift.reference,
        text: &lift.text,
    };
    let mut consent = WrittenConsent::from_fields(&fields, chrono::Utc::now().date_naive())
        .map_err(ServiceError::Invalid)?;
    let asker = asking_staff(services, lift).await?;
    // The evidence records who asked, as they were named then.
    consent.asked_by = asker.as_ref().map(|user| AskedBy {
        name: user.display_name.clone(),
        email: user.email.clone(),
    });
    Ok(CheckedRequest { consent, asker })
}

/// The staff member named in "Asked by", when one is: an account that may ask for every
/// ticked opt-out (staff of its group). Empty: nobody asked.
async fn asking_staff(
    services: &Services,
    lift: &SupportLift,
) -> Result<Option<StaffUser>, ServiceError> {
    let asked_by = lift.asked_by.trim();
    if asked_by.is_empty() {
        return Ok(None);
    }
    let asker_email = EmailAddress::parse(asked_by).map_err(|invalid| {
        ServiceError::Invalid(format!(
            "Nothing was changed: “Asked by” must be a staff email address. {invalid}"
        ))
    })?;
    let shown = EmailAddress::to_unicode_display(asker_email.as_str());
    let (address, ticked) = (lift.email.as_str().to_owned(), lift.opt_outs.clone());
    let (asker, groups) = services
        .db(move |conn| -> diesel::QueryResult<_> {
            let groups: Vec<(GroupId, String)> = opt_outs::everywhere(conn, &address)?
                .into_iter()
                .filter(|o| ticked.contains(&o.opt_out.id))
                .map(|o| (o.opt_out.group_id, o.group_name))
                .collect();
            Ok((accounts::find_user_by_email(conn, &asker_email)?, groups))
        })
        .await?;
    let Some(asker) = asker else {
        return Err(ServiceError::Invalid(format!(
            "Nothing was changed: no staff account has the address {shown} (“Asked by”)."
        )));
    };
    let person = asker.person();
    if let Some((_, group)) = groups
        .iter()
        .find(|(group, _)| !rights::may_ask_support_to_lift(&person, *group))
    {
        return Err(ServiceError::Invalid(format!(
            "Nothing was changed: {shown} (“Asked by”) is not staff of {group}, the group of \
             the opt-outs ticked."
        )));
    }
    Ok(Some(asker))
}
