//! The scope of an opt-out: the level plus which group, client or user it names.

use super::{ClientId, GroupId, Level, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Group(GroupId),
    Client(ClientId),
    User(UserId),
}

impl Scope {
    pub fn level(self) -> Level {
        match self {
            Scope::Group(_) => Level::Group,
            Scope::Client(_) => Level::Client,
            Scope::User(_) => Level::User,
        }
    }

    /// The id stored beside the level (`opt_outs.scope_id`).
    pub fn scope_id(self) -> i64 {
        match self {
            Scope::Group(id) => id.0,
            Scope::Client(id) => id.0,
            Scope::User(id) => id.0,
        }
    }

    /// Rebuilds a scope from its stored form.
    pub fn from_stored(level: Level, scope_id: i64) -> Self {
        match level {
            Level::Group => Scope::Group(GroupId(scope_id)),
            Level::Client => Scope::Client(ClientId(scope_id)),
            Level::User => Scope::User(UserId(scope_id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips() {
        for scope in [
            Scope::Group(GroupId(1)),
            Scope::Client(ClientId(2)),
            Scope::User(UserId(3)),
        ] {
            assert_eq!(Scope::from_stored(scope.level(), scope.scope_id()), scope);
        }
    }
}
