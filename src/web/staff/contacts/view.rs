//! How contacts, opt-outs and events read on a page: the words for levels, scopes and the
//! history, shared by the contacts list, the detail page and the opt-out confirmation.

use chrono::NaiveDateTime;

use crate::db::consent_events::EventRecord;
use crate::db::contacts::Contact;
use crate::db::opt_outs::ExplainedOptOut;
use crate::domain::wording::{self, SenderNames};
use crate::domain::{ActorKind, EventKind, Level, Source};
use crate::web::admin::evidence::{ConsentLines, evidence_lines};

/// "Opted out · Group": the badge beside a struck-through contact.
pub fn badge(level: Level) -> String {
    format!("Opted out · {}", level.label())
}

fn names(contact: &Contact) -> SenderNames<'_> {
    SenderNames {
        user: &contact.owner_name,
        client: &contact.client_name,
        group: &contact.group_name,
        group_clients: &[],
        group_client_count: 0,
    }
}

/// The name of the group, client or user that an opt-out at `level` names for this contact.
pub fn scope_name(contact: &Contact, level: Level) -> &str {
    match level {
        Level::Group => &contact.group_name,
        Level::Client => &contact.client_name,
        Level::User => &contact.owner_name,
    }
}

/// What an opt-out at `level` stops, in words: "any emails from Acme Holdings and all its
/// clients".
pub fn what_stops(contact: &Contact, level: Level) -> String {
    wording::what_stops(level, &names(contact))
}

/// A menu or radio choice: opt out at this level.
pub struct LevelChoice {
    pub level: &'static str,
    pub label: String,
}

pub fn level_choices(contact: &Contact, levels: &[Level]) -> Vec<LevelChoice> {
    levels
        .iter()
        .map(|level| LevelChoice {
            level: level.as_str(),
            label: format!("Opt out of {}", what_stops(contact, *level)),
        })
        .collect()
}

/// Levels worth offering: those allowed that are broader than what already applies (a
/// narrower opt-out under a broader one would change nothing).
pub fn offered_levels(allowed: &[Level], current: Option<Level>) -> Vec<Level> {
    allowed
        .iter()
        .copied()
        .filter(|level| current.is_none_or(|current| *level < current))
        .collect()
}

pub fn when(at: &NaiveDateTime) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// One line of "Why is this contact suppressed?".
pub struct ReasonView {
    pub level: &'static str,
    pub scope: String,
    pub when: String,
    pub source: String,
    pub by: String,
    pub reason: Option<String>,
}

pub fn reason_view(contact: &Contact, explained: &ExplainedOptOut) -> ReasonView {
    let level = explained.opt_out.scope.level();
    ReasonView {
        level: level.label(),
        scope: scope_name(contact, level).to_owned(),
        when: when(&explained.opt_out.created_at),
        source: source_label(&explained.opt_out.source),
        by: match (&explained.actor_name, &explained.campaign_name) {
            (Some(actor), _) => actor.clone(),
            (None, Some(campaign)) => format!("The recipient, from the campaign “{campaign}”"),
            (None, None) => "The recipient".to_owned(),
        },
        reason: explained.opt_out.reason.clone(),
    }
}

/// One line of the consent history.
pub struct EventView {
    pub what: String,
    pub scope: String,
    pub when: String,
    pub source: String,
    pub by: String,
    pub reason: Option<String>,
    /// Support's written consent, or what the recipient was shown, as labelled lines.
    pub consent: Option<ConsentLines>,
}

pub fn event_view(contact: &Contact, event: &EventRecord) -> EventView {
    let what = EventKind::from_stored(&event.kind)
        .map(|k| k.label().to_owned())
        .unwrap_or_else(|| event.kind.clone());
    let scope = match event.scope {
        Some(scope) => {
            let level = scope.level();
            format!("{} · {}", level.label(), scope_name(contact, level))
        }
        None => String::new(),
    };
    let actor = match event.actor_kind.as_str() {
        k if k == ActorKind::Recipient.as_str() => "The recipient".to_owned(),
        k if k == ActorKind::System.as_str() => "The system".to_owned(),
        _ => event
            .actor_name
            .clone()
            .unwrap_or_else(|| "Staff".to_owned()),
    };
    let by = match &event.campaign_name {
        Some(campaign) => format!("{actor}, from the campaign “{campaign}”"),
        None => actor,
    };
    EventView {
        what,
        scope,
        when: when(&event.created_at),
        source: source_label(&event.source),
        by,
        reason: event.reason.clone(),
        consent: evidence_lines(&event.source, event.evidence.as_deref()),
    }
}

fn source_label(stored: &str) -> String {
    Source::from_stored(stored)
        .map(|s| s.label().to_owned())
        .unwrap_or_else(|| stored.to_owned())
}

/// The menu's "Opt in" item, for whoever may ask (the owner or an admin over them) when the
/// contact is suppressed for its owner — whoever made the opt-out.
pub enum OptInOffer {
    /// A request can be sent now.
    Available,
    /// One was sent recently; the text says when the next is possible.
    Waiting(String),
}

pub fn opt_in_offer(
    may_request: bool,
    suppressed: Option<Level>,
    last_request: Option<&NaiveDateTime>,
) -> Option<OptInOffer> {
    if !may_request || suppressed.is_none() {
        return None;
    }
    Some(match last_request {
        Some(last) if crate::db::opt_in_requests::next_possible(*last) > crate::db::now() => {
            OptInOffer::Waiting(format!(
                "Opt-in request sent {}; the next is possible on {}",
                when(last),
                when(&crate::db::opt_in_requests::next_possible(*last))
            ))
        }
        _ => OptInOffer::Available,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_broader_levels_are_offered() {
        assert_eq!(offered_levels(&Level::ALL, None), Level::ALL);
        assert_eq!(
            offered_levels(&Level::ALL, Some(Level::User)),
            [Level::Group, Level::Client]
        );
        assert_eq!(
            offered_levels(&Level::ALL, Some(Level::Client)),
            [Level::Group]
        );
        assert!(offered_levels(&Level::ALL, Some(Level::Group)).is_empty());
        assert!(offered_levels(&[Level::User], Some(Level::User)).is_empty());
    }
}
