//! Who asks for a use case. Every service takes one, so the rights can be asked about the one
//! who acts, whichever way the request came in.

use crate::domain::{ActorKind, MessageId, Person, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in staff member other than support.
    Staff(Person),
    /// Support staff: they look everywhere and lift opt-outs on written consent.
    Support(Person),
    /// The recipient of an email, through a signed link that names it.
    Recipient(MessageId),
    /// The application itself: the command line, imports, the delivery worker.
    System,
}

impl Actor {
    /// The actor for a signed-in person.
    pub fn signed_in(person: Person) -> Self {
        // Which kind of actor, not what they may do: the rights still decide that.
        if person.role == Role::Support {
            Actor::Support(person)
        } else {
            Actor::Staff(person)
        }
    }

    /// The staff member acting, if a person acts.
    pub fn person(&self) -> Option<&Person> {
        match self {
            Actor::Staff(person) | Actor::Support(person) => Some(person),
            Actor::Recipient(_) | Actor::System => None,
        }
    }

    /// How the evidence names this actor.
    pub fn kind(&self) -> ActorKind {
        match self {
            Actor::Staff(_) => ActorKind::User,
            Actor::Support(_) => ActorKind::Support,
            Actor::Recipient(_) => ActorKind::Recipient,
            Actor::System => ActorKind::System,
        }
    }
}
