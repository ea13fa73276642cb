//! Admin pages: activity, and the preference center settings.

use super::Access;
use crate::domain::{ClientId, GroupId, Level, Person, Role};

/// Admin › Activity pages.
pub fn may_view_activity(person: &Person) -> bool {
    matches!(
        person.role,
        Role::ClientAdmin | Role::GroupAdmin | Role::Support
    )
}

/// The admin pages of a group: the delivery log and the preference center settings.
pub fn may_administer_group(person: &Person) -> bool {
    person.role.is_admin()
}

/// Whose emails a person sees in Admin › Activity › Emails (the delivery log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailsVisible {
    /// A group admin: the group's.
    InGroup(GroupId),
    /// A client admin: the client's.
    InClient(ClientId),
    /// Everyone else.
    Nothing,
}

pub fn visible_emails(person: &Person) -> EmailsVisible {
    match (person.role, person.group_id, person.client_id) {
        (Role::GroupAdmin, Some(group), _) => EmailsVisible::InGroup(group),
        (Role::ClientAdmin, _, Some(client)) => EmailsVisible::InClient(client),
        _ => EmailsVisible::Nothing,
    }
}

/// Preference center settings: group admins the group defaults, client admins their client's
/// overrides (`client` None means the group defaults).
pub fn may_edit_preference_settings(
    person: &Person,
    group: GroupId,
    client: Option<ClientId>,
) -> bool {
    match (person.role, client) {
        (Role::GroupAdmin, _) => person.group_id == Some(group),
        (Role::ClientAdmin, Some(client)) => {
            person.group_id == Some(group) && person.client_id == Some(client)
        }
        _ => false,
    }
}

/// The group whose preference center settings the person works on: an admin's own.
pub fn preference_settings_group(person: &Person) -> Option<GroupId> {
    person.group_id.filter(|_| may_administer_group(person))
}

/// The client whose settings row the person's form is about (`None`: the group defaults). A
/// client admin always works on their own client; a group admin on the one they chose.
pub fn preference_settings_client(person: &Person, chosen: Option<ClientId>) -> Option<ClientId> {
    match person.role {
        Role::ClientAdmin => person.client_id,
        Role::GroupAdmin | Role::User | Role::Support => chosen,
    }
}

/// The one-click level a settings row may set (`client` None: the group defaults). One-click
/// from a client's mail may stop at most that client: a group-wide level there would suppress
/// the address for every other client of the group, whose admins never chose it. So only the
/// group defaults say "group", and only a group admin sets them. Whether the person may edit
/// the row at all is [`may_edit_preference_settings`].
pub fn may_set_one_click_level(person: &Person, client: Option<ClientId>, level: Level) -> Access {
    match (level, client, person.role) {
        (Level::User | Level::Client, _, _) => Access::Allowed,
        (Level::Group, Some(_), _) => Access::Forbidden(
            "One-click unsubscribe from a client's emails cannot opt out of the whole group: \
             choose user or client level here. Only the group defaults, set by a group admin, \
             can make it group-wide.",
        ),
        (Level::Group, None, Role::GroupAdmin) => Access::Allowed,
        (Level::Group, None, _) => Access::Forbidden(
            "Only a group admin can make one-click unsubscribe opt out of the whole group, in \
             the group defaults.",
        ),
    }
}

/// The one-click levels a settings form offers: those [`may_set_one_click_level`] allows,
/// narrowest first (as the form lists levels).
pub fn one_click_levels(person: &Person, client: Option<ClientId>) -> Vec<Level> {
    [Level::User, Level::Client, Level::Group]
        .into_iter()
        .filter(|level| may_set_one_click_level(person, client, *level) == Access::Allowed)
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::domain::rights::fixtures::*;
    use crate::domain::rights::*;

    #[test]
    fn preference_center_settings() {
        assert!(may_edit_preference_settings(&group_admin(), GROUP, None));
        assert!(may_edit_preference_settings(
            &group_admin(),
            GROUP,
            Some(EVENTS)
        ));
        assert!(!may_edit_preference_settings(
            &group_admin(),
            OTHER_GROUP,
            None
        ));
        assert!(may_edit_preference_settings(
            &client_admin(),
            GROUP,
            Some(NEWSLETTERS)
        ));
        assert!(!may_edit_preference_settings(
            &client_admin(),
            GROUP,
            Some(EVENTS)
        ));
        assert!(!may_edit_preference_settings(&client_admin(), GROUP, None));
        assert!(!may_edit_preference_settings(
            &user(),
            GROUP,
            Some(NEWSLETTERS)
        ));
        assert!(!may_edit_preference_settings(&support(), GROUP, None));
    }

    #[test]
    fn only_the_group_defaults_make_one_click_group_wide() {
        // A client override: user or client level, whoever edits it.
        for who in [client_admin(), group_admin()] {
            for level in [Level::User, Level::Client] {
                assert!(allowed(may_set_one_click_level(
                    &who,
                    Some(NEWSLETTERS),
                    level
                )));
            }
            assert!(matches!(
                may_set_one_click_level(&who, Some(NEWSLETTERS), Level::Group),
                Access::Forbidden(_)
            ));
            assert_eq!(
                one_click_levels(&who, Some(NEWSLETTERS)),
                [Level::User, Level::Client]
            );
        }
        // The group defaults: group level by a group admin only.
        assert!(allowed(may_set_one_click_level(
            &group_admin(),
            None,
            Level::Group
        )));
        assert_eq!(
            one_click_levels(&group_admin(), None),
            [Level::User, Level::Client, Level::Group]
        );
        for who in [client_admin(), user(), support()] {
            assert!(matches!(
                may_set_one_click_level(&who, None, Level::Group),
                Access::Forbidden(_)
            ));
        }
    }
}
