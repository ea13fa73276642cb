//! Composing a claimed row into the email to send: the confirmation, the opt-in request, the
//! support notice or the campaign, each with its stable Message-ID. The worker's delivery loop
//! lives in the parent module; this is the "what goes out" half.

use super::DeliveryWorker;
use crate::db::accounts::StaffAccount;
use crate::db::messages::{ConfirmationPayload, Delivery};
use crate::db::opt_in_requests::RequestPayload;
use crate::db::sender_profile::SenderProfile;
use crate::domain::{MessageId, MessageKind};
use crate::mail::campaign_email::{self, CampaignEmail};
use crate::mail::list_id::ListId;

impl DeliveryWorker {
    pub(super) fn build(
        &self,
        delivery: &Delivery,
        profile: &SenderProfile,
        asker: Option<&StaffAccount>,
    ) -> anyhow::Result<lettre::Message> {
        let mut message = match delivery.kind {
            MessageKind::Campaign => self.build_campaign(delivery, profile)?,
            MessageKind::OptOutConfirmation => self.build_confirmation(delivery, profile)?,
            MessageKind::OptInRequest => self.build_opt_in_request(delivery, profile, asker)?,
            // Notices have no sender, so `load_claimed` never returns one; built from
            // `load_claimed_notice` instead.
            MessageKind::SupportLiftNotice => anyhow::bail!(
                "message {}: a support lift notice loaded as a sender's email",
                delivery.id
            ),
        };
        if let Some(dkim) = &self.dkim {
            message.sign(dkim);
        }
        Ok(message)
    }

    /// The same on every try of one message, so a repeat after a crash (see the module notes)
    /// can be recognised downstream; the queueing time keeps it unique across databases that
    /// reuse ids under one host name.
    fn message_id(&self, delivery: &Delivery) -> String {
        self.stable_message_id(delivery.id, delivery.queued_at)
    }

    fn stable_message_id(&self, id: MessageId, queued_at: chrono::NaiveDateTime) -> String {
        format!(
            "<m{}.{}@{}>",
            id,
            queued_at.format("%Y%m%d%H%M%S%6f"),
            self.domain()
        )
    }

    fn domain(&self) -> String {
        self.config
            .base_url
            .host_str()
            .unwrap_or("localhost")
            .to_owned()
    }

    fn build_confirmation(
        &self,
        delivery: &Delivery,
        profile: &SenderProfile,
    ) -> anyhow::Result<lettre::Message> {
        let payload: ConfirmationPayload =
            serde_json::from_str(delivery.payload.as_deref().unwrap_or_default())?;
        let level: crate::domain::Level = payload.level.parse()?;
        let about = payload.about_message;
        let keys = &self.config.signing_keys;
        // The link lifts exactly the opt-out this email confirms (rows queued before the
        // payload named it: the one made from that email at that level).
        let token = match payload.opt_out {
            Some(opt_out) => keys.opt_in_token(about, opt_out),
            None => keys.legacy_opt_in_token(about, level),
        };
        let opt_in_url = self.config.public_link(&format!("/opt-in/{token}"));
        let names = profile.recipient_names();
        let what = crate::domain::wording::what_stops(level, &names);
        crate::mail::confirmation_email::build(
            &crate::mail::confirmation_email::ConfirmationEmail {
                from_name: names.at(level),
                from_address: &delivery.sender_email,
                to: &delivery.to_email,
                what: &what,
                opt_in_url: &opt_in_url,
                message_id: self.message_id(delivery),
            },
        )
    }

    fn build_opt_in_request(
        &self,
        delivery: &Delivery,
        profile: &SenderProfile,
        asker: Option<&StaffAccount>,
    ) -> anyhow::Result<lettre::Message> {
        let token = self.config.signing_keys.opt_in_request_token(delivery.id);
        let opt_in_url = self.config.public_link(&format!("/opt-in/{token}"));
        let names = profile.recipient_names();
        // What the request names, as queued (the evidence holds the same lines); a request
        // queued before requests named their opt-outs says what blocks the sender in general.
        let opt_outs = RequestPayload::parse(delivery.payload.as_deref())
            .map(|p| p.shown)
            .unwrap_or_else(|| {
                vec![format!(
                    "every opt-out that stops {}'s emails to you (the page lists each one)",
                    names.user
                )]
            });
        let (from_name, from_address) = match asker {
            Some(asker) => (asker.user.display_name.as_str(), asker.user.email.as_str()),
            None => (
                delivery.sender_name.as_str(),
                delivery.sender_email.as_str(),
            ),
        };
        crate::mail::opt_in_request_email::build(
            &crate::mail::opt_in_request_email::OptInRequestEmail {
                sender: &delivery.sender_name,
                asked_by: asker.map(|a| a.user.display_name.as_str()),
                from_name,
                from_address,
                organisation: names.group,
                opt_outs: &opt_outs,
                to: &delivery.to_email,
                opt_in_url: &opt_in_url,
                message_id: self.message_id(delivery),
            },
        )
    }

    /// From support, on the platform's own domain (the one in its links and Message-IDs).
    pub(super) fn build_support_lift_notice(
        &self,
        notice: &crate::db::messages::StaffNotice,
    ) -> anyhow::Result<lettre::Message> {
        let payload: crate::db::support_lifts::LiftNotice =
            serde_json::from_str(notice.payload.as_deref().unwrap_or_default())?;
        let from_address = format!("support@{}", self.domain());
        crate::mail::support_lift_notice_email::build(
            &crate::mail::support_lift_notice_email::SupportLiftNoticeEmail {
                from_address: &from_address,
                to: &notice.to_email,
                notice: &payload,
                message_id: self.stable_message_id(notice.id, notice.queued_at),
            },
        )
    }

    fn build_campaign(
        &self,
        delivery: &Delivery,
        profile: &SenderProfile,
    ) -> anyhow::Result<lettre::Message> {
        let campaign = delivery.campaign.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "message {} of kind {} has no campaign",
                delivery.id,
                delivery.kind
            )
        })?;
        let token = self.config.signing_keys.unsubscribe_token(delivery.id);
        let unsubscribe_url = self.config.public_link(&format!("/u/{token}"));
        let names = profile.recipient_names();
        campaign_email::build(&CampaignEmail {
            message_id: self.message_id(delivery),
            from_name: &campaign.from_name,
            from_address: &delivery.sender_email,
            to: &delivery.to_email,
            subject: &campaign.subject,
            body_text: &campaign.body_text,
            body_html: campaign.body_html.as_deref(),
            unsubscribe_url: &unsubscribe_url,
            // The footer and the list name the sender as recipients know it.
            sender_name: names.user,
            client_name: names.client,
            group_name: names.group,
            // The list is what this email's one-click stops.
            list_id: ListId::stopped_by_one_click(
                profile.settings.one_click_level,
                &delivery.sender,
                &names,
                &self.domain(),
            ),
        })
    }
}
