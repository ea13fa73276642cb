//! Opting out by hand, seeing and managing opt-outs, and opting back in.

use super::{Access, can_see_contact_of};
use crate::domain::{ClientId, GroupId, Level, Person, Role, Sender};

/// Whether the person may opt a contact of `owner` out by hand at `level` (the scope is the
/// owner's user, client or group at that level).
pub fn may_opt_out(person: &Person, owner: &Sender, level: Level) -> Access {
    if !can_see_contact_of(person, owner) {
        return Access::NotFound;
    }
    match (person.role, level) {
        (Role::Support, _) => {
            Access::Forbidden("Support staff can look at contacts but cannot opt anyone out.")
        }
        (Role::User, Level::User) => Access::Allowed,
        (Role::User, _) => Access::Forbidden(
            "Only an admin can opt a contact out at client or group level. You can opt them out of your own emails.",
        ),
        (Role::ClientAdmin, Level::User | Level::Client) => Access::Allowed,
        (Role::ClientAdmin, Level::Group) => {
            Access::Forbidden("Only a group admin can opt a contact out of the whole group.")
        }
        (Role::GroupAdmin, _) => Access::Allowed,
    }
}

/// The levels offered in a contact's menu: those [`may_opt_out`] allows.
pub fn manual_opt_out_levels(person: &Person, owner: &Sender) -> Vec<Level> {
    Level::ALL
        .into_iter()
        .filter(|level| may_opt_out(person, owner, *level) == Access::Allowed)
        .collect()
}

/// Where an opt-out sits, for deciding who may see it in Admin › Activity › Opt outs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptOutPlace {
    pub group_id: GroupId,
    pub level: Level,
    /// The client of the scope: the client itself at client level, the user's client at user
    /// level; None at group level.
    pub client_id: Option<ClientId>,
}

/// Whose opt-outs a person sees in Admin › Activity › Opt outs: the list form of
/// [`may_see_opt_out`], which the pages query by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptOutsVisible {
    /// A group admin: everything in their group.
    InGroup(GroupId),
    /// A client admin: the group-level rows of their group (read-only) and their client's
    /// client- and user-level rows.
    InClient { group: GroupId, client: ClientId },
    /// Support: any group, one at a time.
    AnyGroup,
    /// Everyone else, and accounts whose membership is incomplete.
    Nothing,
}

pub fn visible_opt_outs(person: &Person) -> OptOutsVisible {
    match (person.role, person.group_id, person.client_id) {
        (Role::GroupAdmin, Some(group), _) => OptOutsVisible::InGroup(group),
        (Role::ClientAdmin, Some(group), Some(client)) => {
            OptOutsVisible::InClient { group, client }
        }
        (Role::Support, _, _) => OptOutsVisible::AnyGroup,
        _ => OptOutsVisible::Nothing,
    }
}

/// Admin › Activity › Opt outs, row by row: group admins see everything in their group; client
/// admins the group-level rows (read-only) and their client's client- and user-level rows;
/// support any.
pub fn may_see_opt_out(person: &Person, place: &OptOutPlace) -> bool {
    match visible_opt_outs(person) {
        OptOutsVisible::AnyGroup => true,
        OptOutsVisible::InGroup(group) => place.group_id == group,
        OptOutsVisible::InClient { group, client } => {
            place.group_id == group
                && (place.level == Level::Group || place.client_id == Some(client))
        }
        OptOutsVisible::Nothing => false,
    }
}

/// The group whose opt-outs the person may import (and so is offered the import): an admin's
/// own. Which rows of a file they may add is [`may_manage_opt_out`], row by row.
pub fn opt_out_import_group(person: &Person) -> Option<GroupId> {
    person
        .group_id
        .filter(|_| super::may_administer_group(person))
}

/// Whether the person may add or import opt-outs at this place (client admins see group-level
/// rows but may not change them).
pub fn may_manage_opt_out(person: &Person, place: &OptOutPlace) -> bool {
    match person.role {
        Role::GroupAdmin => person.group_id == Some(place.group_id),
        Role::ClientAdmin => {
            person.group_id == Some(place.group_id)
                && place.level != Level::Group
                && place.client_id == person.client_id
        }
        Role::User | Role::Support => false,
    }
}

/// Sending an opt-in request for a contact of `owner`: the owner, or an admin whose client or
/// group holds the contact (the request says who asks). Support looks but does not ask.
pub fn may_request_opt_in(person: &Person, owner: &Sender) -> Access {
    if !can_see_contact_of(person, owner) {
        return Access::NotFound;
    }
    match person.role {
        Role::Support => Access::Forbidden(
            "Support staff cannot send opt-in requests; the contact's owner or an admin can.",
        ),
        Role::User | Role::ClientAdmin | Role::GroupAdmin => Access::Allowed,
    }
}

/// Lifting an opt-out from the back end, on written consent: support only.
pub fn may_lift_on_written_consent(person: &Person) -> bool {
    person.role == Role::Support
}

/// Who may be named as having asked support to lift an opt-out of `group` (and so hears
/// back when it is done): staff of that group, whatever their role, as the help article
/// tells every user to forward written consent to support. Support staff belong to no group.
pub fn may_ask_support_to_lift(asker: &Person, group: GroupId) -> bool {
    asker.role != Role::Support && asker.group_id == Some(group)
}

#[cfg(test)]
mod tests {
    use crate::domain::rights::fixtures::*;
    use crate::domain::rights::*;

    #[test]
    fn manual_opt_out_at_user_level() {
        // user: own account; client admin: any user in client; group admin: any user in group.
        assert!(allowed(may_opt_out(&user(), &own(), Level::User)));
        assert_eq!(
            may_opt_out(&user(), &colleague(), Level::User),
            Access::NotFound
        );
        assert!(allowed(may_opt_out(
            &client_admin(),
            &colleague(),
            Level::User
        )));
        assert_eq!(
            may_opt_out(&client_admin(), &other_client(), Level::User),
            Access::NotFound
        );
        assert!(allowed(may_opt_out(
            &group_admin(),
            &other_client(),
            Level::User
        )));
        assert_eq!(
            may_opt_out(&group_admin(), &other_group(), Level::User),
            Access::NotFound
        );
        assert!(matches!(
            may_opt_out(&support(), &own(), Level::User),
            Access::Forbidden(_)
        ));
    }

    #[test]
    fn manual_opt_out_at_client_level() {
        // user: no; client admin: own client; group admin: any client in group.
        assert!(matches!(
            may_opt_out(&user(), &own(), Level::Client),
            Access::Forbidden(_)
        ));
        assert!(allowed(may_opt_out(
            &client_admin(),
            &colleague(),
            Level::Client
        )));
        assert_eq!(
            may_opt_out(&client_admin(), &other_client(), Level::Client),
            Access::NotFound
        );
        assert!(allowed(may_opt_out(
            &group_admin(),
            &other_client(),
            Level::Client
        )));
        assert_eq!(
            may_opt_out(&group_admin(), &other_group(), Level::Client),
            Access::NotFound
        );
        assert!(matches!(
            may_opt_out(&support(), &own(), Level::Client),
            Access::Forbidden(_)
        ));
    }

    #[test]
    fn manual_opt_out_at_group_level() {
        // only a group admin, in their own group.
        assert!(matches!(
            may_opt_out(&user(), &own(), Level::Group),
            Access::Forbidden(_)
        ));
        assert!(matches!(
            may_opt_out(&client_admin(), &own(), Level::Group),
            Access::Forbidden(_)
        ));
        assert!(allowed(may_opt_out(&group_admin(), &own(), Level::Group)));
        assert_eq!(
            may_opt_out(&group_admin(), &other_group(), Level::Group),
            Access::NotFound
        );
        assert!(matches!(
            may_opt_out(&support(), &own(), Level::Group),
            Access::Forbidden(_)
        ));
    }

    #[test]
    fn menus_offer_exactly_the_allowed_levels() {
        assert_eq!(manual_opt_out_levels(&user(), &own()), [Level::User]);
        assert_eq!(
            manual_opt_out_levels(&client_admin(), &colleague()),
            [Level::Client, Level::User]
        );
        assert_eq!(
            manual_opt_out_levels(&group_admin(), &other_client()),
            Level::ALL
        );
        assert!(manual_opt_out_levels(&support(), &own()).is_empty());
    }

    #[test]
    fn opt_in_requests_by_the_owner_or_an_admin_over_them() {
        assert_eq!(may_request_opt_in(&user(), &own()), Access::Allowed);
        assert_eq!(may_request_opt_in(&user(), &colleague()), Access::NotFound);
        assert_eq!(
            may_request_opt_in(&client_admin(), &colleague()),
            Access::Allowed
        );
        assert_eq!(
            may_request_opt_in(&client_admin(), &other_client()),
            Access::NotFound
        );
        assert_eq!(
            may_request_opt_in(&group_admin(), &other_client()),
            Access::Allowed,
            "a group admin asks for any contact of the group, sending or not"
        );
        assert_eq!(
            may_request_opt_in(&group_admin(), &other_group()),
            Access::NotFound
        );
        assert!(matches!(
            may_request_opt_in(&support(), &own()),
            Access::Forbidden(_)
        ));
    }

    #[test]
    fn activity_opt_outs_visibility() {
        let place = |level, client| OptOutPlace {
            group_id: GROUP,
            level,
            client_id: client,
        };
        let group_row = place(Level::Group, None);
        let own_client_row = place(Level::Client, Some(NEWSLETTERS));
        let own_client_user_row = place(Level::User, Some(NEWSLETTERS));
        let other_client_row = place(Level::Client, Some(EVENTS));
        let other_client_user_row = place(Level::User, Some(EVENTS));
        let other_group_row = OptOutPlace {
            group_id: OTHER_GROUP,
            level: Level::Group,
            client_id: None,
        };
        let rows = [
            group_row,
            own_client_row,
            own_client_user_row,
            other_client_row,
            other_client_user_row,
            other_group_row,
        ];
        let table = [
            (user(), [false, false, false, false, false, false]),
            (client_admin(), [true, true, true, false, false, false]),
            (group_admin(), [true, true, true, true, true, false]),
            (support(), [true, true, true, true, true, true]),
        ];
        for (who, expected) in table {
            for (row, expected) in rows.iter().zip(expected) {
                assert_eq!(
                    may_see_opt_out(&who, row),
                    expected,
                    "{:?} sees {row:?}",
                    who.role
                );
            }
        }
        assert!(!may_view_activity(&user()));
        assert!(
            may_view_activity(&client_admin())
                && may_view_activity(&group_admin())
                && may_view_activity(&support())
        );
    }

    #[test]
    fn export_import_scope() {
        let place = |level, client| OptOutPlace {
            group_id: GROUP,
            level,
            client_id: client,
        };
        // Client admins see group-level rows but cannot change them.
        assert!(!may_manage_opt_out(
            &client_admin(),
            &place(Level::Group, None)
        ));
        assert!(may_manage_opt_out(
            &client_admin(),
            &place(Level::Client, Some(NEWSLETTERS))
        ));
        assert!(may_manage_opt_out(
            &client_admin(),
            &place(Level::User, Some(NEWSLETTERS))
        ));
        assert!(!may_manage_opt_out(
            &client_admin(),
            &place(Level::User, Some(EVENTS))
        ));
        assert!(may_manage_opt_out(
            &group_admin(),
            &place(Level::Group, None)
        ));
        assert!(may_manage_opt_out(
            &group_admin(),
            &place(Level::User, Some(EVENTS))
        ));
        let elsewhere = OptOutPlace {
            group_id: OTHER_GROUP,
            level: Level::Group,
            client_id: None,
        };
        assert!(!may_manage_opt_out(&group_admin(), &elsewhere));
        assert!(!may_manage_opt_out(
            &user(),
            &place(Level::User, Some(NEWSLETTERS))
        ));
        assert!(!may_manage_opt_out(&support(), &place(Level::Group, None)));
    }

    #[test]
    fn opt_in_on_written_consent_is_for_support_only() {
        assert!(may_lift_on_written_consent(&support()));
        for who in [user(), client_admin(), group_admin()] {
            assert!(!may_lift_on_written_consent(&who));
        }
    }

    #[test]
    fn staff_of_the_group_may_ask_support_to_lift() {
        for who in [user(), client_admin(), group_admin()] {
            assert!(may_ask_support_to_lift(&who, GROUP), "{:?}", who.role);
            assert!(
                !may_ask_support_to_lift(&who, OTHER_GROUP),
                "{:?}",
                who.role
            );
        }
        assert!(!may_ask_support_to_lift(&support(), GROUP));
    }
}
