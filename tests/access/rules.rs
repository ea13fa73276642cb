//! The rights of /work/shared/DESIGN.md ("Rights" table and "Anything outside a person's scope
//! answers 404, an action inside scope above the person's rights 403"), restated here on their
//! own — deliberately not by calling `optouts::domain::rights`, so a mistake there cannot hide
//! by agreeing with itself.
//!
//! One convention of the code base is part of the rules: an area a role does not have at all
//! (Admin pages for a user, Support for staff, Campaigns for support) answers 404 like an
//! object outside the person's scope (see tests/app/pages.rs `areas_outside_the_role_answer_404`).

use crate::world::{Actor, Owner};

/// What a cell must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Allowed: this status; a POST may change data.
    Ok(u16),
    /// Allowed, but this request must change nothing (a dry run, a form refused as invalid,
    /// a row refused inside an import).
    OkUnchanged(u16),
    /// Inside the person's scope, above their rights.
    Forbidden,
    /// Outside the person's scope (or an area the role does not have).
    NotFound,
    /// Signed out: a redirect to the sign-in page.
    SignIn,
}

impl Expect {
    pub fn is_allowed(self) -> bool {
        matches!(self, Expect::Ok(_) | Expect::OkUnchanged(_))
    }
}

/// Wraps a rule for signed-in people: the signed-out actor is always sent to sign in.
pub fn signed_in(rule: impl Fn(Actor) -> Expect + 'static) -> Box<dyn Fn(Actor) -> Expect> {
    Box::new(move |actor| match actor {
        Actor::SignedOut => Expect::SignIn,
        actor => rule(actor),
    })
}

/// "see contacts": a user their own, a client admin their client's, a group admin their
/// group's, support any.
pub fn sees_contacts_of(actor: Actor, owner: Owner) -> bool {
    match actor {
        Actor::User => owner == Owner::Nina,
        Actor::ClientAdmin => matches!(owner, Owner::Nina | Owner::Omar),
        Actor::GroupAdmin => owner != Owner::Ursula,
        Actor::Support => true,
        Actor::SignedOut => false,
    }
}

/// People who belong to a client send: they keep contacts and campaigns. Grace (a group admin
/// without a client) and support do not.
pub fn sends(actor: Actor) -> bool {
    matches!(actor, Actor::User | Actor::ClientAdmin)
}

pub fn is_admin(actor: Actor) -> bool {
    matches!(actor, Actor::GroupAdmin | Actor::ClientAdmin)
}

/// The one owner among the actors: Nina owns her own objects.
pub fn owns(actor: Actor, owner: Owner) -> bool {
    actor == Actor::User && owner == Owner::Nina
}

/// "send an opt-in request": the owner, or an admin who sees the contact; support never.
/// Actors are tried in `ACTORS` order on one world: the first one allowed sends it (303), and
/// every later one meets the limit of one request per contact and sender in 30 days (429,
/// nothing changed) — as does everyone for Omar's, Eva's and Ursula's contacts, which the
/// world asked already (`World::build`, for the delivery log).
pub fn opt_in_request(actor: Actor, owner: Owner) -> Expect {
    let allowed = |a: Actor| sees_contacts_of(a, owner) && a != Actor::Support;
    if !sees_contacts_of(actor, owner) {
        return Expect::NotFound;
    }
    if !allowed(actor) {
        return Expect::Forbidden;
    }
    let asked_already = owner != Owner::Nina;
    let first = crate::world::ACTORS.into_iter().find(|a| allowed(*a));
    if first == Some(actor) && !asked_already {
        Expect::Ok(303)
    } else {
        Expect::OkUnchanged(429)
    }
}

/// "manual opt-out": user level — a user their own contacts, a client admin any user in the
/// client, a group admin any user in the group; client level — a client admin their client, a
/// group admin any client in the group; group level — a group admin their group; support
/// never (they look, read-only).
pub fn manual_opt_out(actor: Actor, owner: Owner, level: &str) -> Expect {
    if !sees_contacts_of(actor, owner) {
        return Expect::NotFound;
    }
    let allowed = match actor {
        Actor::User => level == "user",
        Actor::ClientAdmin => level != "group",
        Actor::GroupAdmin => true,
        Actor::Support | Actor::SignedOut => false,
    };
    if allowed {
        Expect::Ok(303)
    } else {
        Expect::Forbidden
    }
}

/// Campaigns are the senders' area (admins in scope look); support has no campaigns.
pub fn campaign_visible(actor: Actor, owner: Owner) -> bool {
    actor != Actor::Support && sees_contacts_of(actor, owner)
}

/// Only a campaign's sender changes or sends it (and gets `for_owner`); admins who see it get
/// 403.
pub fn campaign_change(actor: Actor, owner: Owner, for_owner: Expect) -> Expect {
    if !campaign_visible(actor, owner) {
        Expect::NotFound
    } else if owns(actor, owner) {
        for_owner
    } else {
        Expect::Forbidden
    }
}

/// Where an opt-out sits, for Admin › Activity › Opt outs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    AcmeGroup,
    /// Carl's client.
    Newsletters,
    /// Another client of Acme.
    Events,
    /// Another group.
    Globex,
}

/// "Admin › Activity › Opt outs": a group admin everything in the group; a client admin the
/// group-level rows and their client's; support the group they pick (Acme, the first by name,
/// unless they pick Globex).
pub fn activity_shows(actor: Actor, place: Place, support_picks_globex: bool) -> bool {
    match actor {
        Actor::GroupAdmin => place != Place::Globex,
        Actor::ClientAdmin => matches!(place, Place::AcmeGroup | Place::Newsletters),
        Actor::Support => (place == Place::Globex) == support_picks_globex,
        Actor::User | Actor::SignedOut => false,
    }
}

/// "preference center settings": a group admin the group defaults and any client of the
/// group; a client admin their own client (whatever client the request names).
pub fn settings(actor: Actor, client_in_group: bool, allowed: u16) -> Expect {
    match actor {
        Actor::GroupAdmin if client_in_group => Expect::Ok(allowed),
        Actor::ClientAdmin => Expect::Ok(allowed),
        _ => Expect::NotFound,
    }
}

/// "one-click level 'group' in settings": a group admin, in the group defaults only. A
/// client's override never makes one-click group-wide: whoever may edit that override is
/// refused (a client admin always edits their own client's, whatever the request names).
pub fn settings_group_one_click(
    actor: Actor,
    group_defaults: bool,
    client_in_group: bool,
) -> Expect {
    match actor {
        Actor::GroupAdmin if group_defaults => Expect::Ok(303),
        Actor::GroupAdmin if client_in_group => Expect::Forbidden,
        Actor::ClientAdmin => Expect::Forbidden,
        _ => Expect::NotFound,
    }
}
