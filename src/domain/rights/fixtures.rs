//! The people and senders the rights tests ask about.

use super::Access;
pub use crate::domain::{ClientId, GroupId, Level, Person, Role, Sender, UserId};

pub const GROUP: GroupId = GroupId(1);
pub const OTHER_GROUP: GroupId = GroupId(2);
pub const NEWSLETTERS: ClientId = ClientId(10);
pub const EVENTS: ClientId = ClientId(11);

pub fn person(role: Role, id: i64, group: Option<GroupId>, client: Option<ClientId>) -> Person {
    Person {
        id: UserId(id),
        role,
        group_id: group,
        client_id: client,
    }
}

pub fn user() -> Person {
    person(Role::User, 100, Some(GROUP), Some(NEWSLETTERS))
}
pub fn client_admin() -> Person {
    person(Role::ClientAdmin, 200, Some(GROUP), Some(NEWSLETTERS))
}
pub fn group_admin() -> Person {
    person(Role::GroupAdmin, 300, Some(GROUP), None)
}
pub fn support() -> Person {
    person(Role::Support, 400, None, None)
}

/// The user themself, a colleague in the same client, a user of another client, and a
/// user of another group.
pub fn own() -> Sender {
    Sender {
        user_id: UserId(100),
        client_id: NEWSLETTERS,
        group_id: GROUP,
    }
}
pub fn colleague() -> Sender {
    Sender {
        user_id: UserId(101),
        client_id: NEWSLETTERS,
        group_id: GROUP,
    }
}
pub fn other_client() -> Sender {
    Sender {
        user_id: UserId(102),
        client_id: EVENTS,
        group_id: GROUP,
    }
}
pub fn other_group() -> Sender {
    Sender {
        user_id: UserId(103),
        client_id: ClientId(20),
        group_id: OTHER_GROUP,
    }
}

pub fn allowed(access: Access) -> bool {
    access == Access::Allowed
}
