//! Who is acting, and who is sending: the positions in the Group › Client › User hierarchy
//! that the rights and the cascade rule are stated in.

use super::{ClientId, GroupId, Level, Role, Scope, UserId};

/// A signed-in staff member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    pub id: UserId,
    pub role: Role,
    /// None for support staff.
    pub group_id: Option<GroupId>,
    /// Set for users and client admins; for a group admin only when they also send.
    pub client_id: Option<ClientId>,
}

/// A user who sends (and owns contacts), with the client and group above them. Every opt-out
/// that can block their mail names one of these three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sender {
    pub user_id: UserId,
    pub client_id: ClientId,
    pub group_id: GroupId,
}

impl Sender {
    /// The scope an opt-out at `level` would have for mail from this sender.
    pub fn scope_at(&self, level: Level) -> Scope {
        match level {
            Level::Group => Scope::Group(self.group_id),
            Level::Client => Scope::Client(self.client_id),
            Level::User => Scope::User(self.user_id),
        }
    }

    /// Whether an opt-out with `scope` inside `group` blocks this sender (the cascade rule).
    pub fn is_blocked_by(&self, group: GroupId, scope: Scope) -> bool {
        group == self.group_id
            && match scope {
                Scope::Group(id) => id == self.group_id,
                Scope::Client(id) => id == self.client_id,
                Scope::User(id) => id == self.user_id,
            }
    }
}

impl Person {
    /// The person as a sender, when they belong to a client (support and group admins without
    /// a client do not send).
    pub fn as_sender(&self) -> Option<Sender> {
        match (self.role, self.group_id, self.client_id) {
            (Role::Support, _, _) => None,
            (_, Some(group_id), Some(client_id)) => Some(Sender {
                user_id: self.id,
                client_id,
                group_id,
            }),
            _ => None,
        }
    }
}
