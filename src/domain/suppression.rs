//! The cascade rule, stated once:
//!
//! ```text
//! suppressed(E, U) = active opt-out (E, group, G) ∨ (E, client, C) ∨ (E, user, U)
//! ```
//!
//! for a send by user U of client C in group G. When several apply, the broadest is the reason
//! shown (group › client › user). The database queries implement the same rule in SQL, each
//! built from `db::cascade`; `tests/app/suppression.rs` checks every one against this module.

use super::{GroupId, Level, Scope, Sender};

/// The levels of the opt-outs that block `sender`, broadest first, without repeats.
/// `active` holds (group, scope) of the active opt-outs of one address.
pub fn applying_levels(active: &[(GroupId, Scope)], sender: &Sender) -> Vec<Level> {
    let mut levels: Vec<Level> = active
        .iter()
        .filter(|(group, scope)| sender.is_blocked_by(*group, *scope))
        .map(|(_, scope)| scope.level())
        .collect();
    levels.sort();
    levels.dedup();
    levels
}

/// The reason to show: the broadest applying level, if any.
pub fn broadest(active: &[(GroupId, Scope)], sender: &Sender) -> Option<Level> {
    applying_levels(active, sender).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientId, UserId};
    use proptest::prelude::*;

    const NINA: Sender = Sender {
        user_id: UserId(10),
        client_id: ClientId(1),
        group_id: GroupId(100),
    };

    #[test]
    fn a_group_opt_out_blocks_every_sender_of_the_group() {
        let active = [(GroupId(100), Scope::Group(GroupId(100)))];
        assert_eq!(broadest(&active, &NINA), Some(Level::Group));
        let other_client = Sender {
            user_id: UserId(99),
            client_id: ClientId(7),
            ..NINA
        };
        assert_eq!(broadest(&active, &other_client), Some(Level::Group));
        let other_group = Sender {
            group_id: GroupId(200),
            ..NINA
        };
        assert_eq!(broadest(&active, &other_group), None);
    }

    #[test]
    fn client_and_user_opt_outs_stay_in_their_scope() {
        let active = [
            (GroupId(100), Scope::Client(ClientId(2))),
            (GroupId(100), Scope::User(UserId(11))),
        ];
        assert_eq!(broadest(&active, &NINA), None);
        let colleague = Sender {
            user_id: UserId(11),
            ..NINA
        };
        assert_eq!(applying_levels(&active, &colleague), [Level::User]);
        let other_client_user = Sender {
            user_id: UserId(12),
            client_id: ClientId(2),
            ..NINA
        };
        assert_eq!(
            applying_levels(&active, &other_client_user),
            [Level::Client]
        );
    }

    #[test]
    fn the_broadest_is_the_reason() {
        let active = [
            (GroupId(100), Scope::User(UserId(10))),
            (GroupId(100), Scope::Group(GroupId(100))),
            (GroupId(100), Scope::Client(ClientId(1))),
        ];
        assert_eq!(applying_levels(&active, &NINA), Level::ALL);
        assert_eq!(broadest(&active, &NINA), Some(Level::Group));
    }

    fn small_scope() -> impl Strategy<Value = (GroupId, Scope)> {
        (1..3i64, 0..3usize, 1..4i64).prop_map(|(group, level, id)| {
            let group = GroupId(group);
            let scope = match level {
                0 => Scope::Group(group),
                1 => Scope::Client(ClientId(id)),
                _ => Scope::User(UserId(id)),
            };
            (group, scope)
        })
    }

    fn small_sender() -> impl Strategy<Value = Sender> {
        (1..3i64, 1..4i64, 1..4i64).prop_map(|(group, client, user)| Sender {
            user_id: UserId(user),
            client_id: ClientId(client),
            group_id: GroupId(group),
        })
    }

    proptest! {
        /// The cascade rule, literally: blocked iff the sender's own group, client or user
        /// scope is among the active opt-outs of the sender's group.
        #[test]
        fn suppressed_iff_one_of_the_three_scopes_is_active(
            active in proptest::collection::vec(small_scope(), 0..8),
            sender in small_sender(),
        ) {
            let has = |level: Level| active.contains(&(sender.group_id, sender.scope_at(level)));
            let expected = has(Level::Group) || has(Level::Client) || has(Level::User);
            prop_assert_eq!(broadest(&active, &sender).is_some(), expected);
            if has(Level::Group) {
                prop_assert_eq!(broadest(&active, &sender), Some(Level::Group));
            }
        }

        /// Adding an opt-out never un-suppresses anyone, and a group opt-out reaches every
        /// sender of that group.
        #[test]
        fn opt_outs_only_add_suppression(
            active in proptest::collection::vec(small_scope(), 0..8),
            extra in small_scope(),
            sender in small_sender(),
        ) {
            let before = applying_levels(&active, &sender);
            let mut more = active.clone();
            more.push(extra);
            let after = applying_levels(&more, &sender);
            prop_assert!(before.iter().all(|level| after.contains(level)));
            if extra.1 == Scope::Group(extra.0) && extra.0 == sender.group_id {
                prop_assert_eq!(after.first(), Some(&Level::Group));
            }
        }
    }
}
