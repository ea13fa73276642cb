//! The rights table of the design, as functions. Handlers ask these; nothing else decides.
//!
//! Outside a person's scope the answer is "not found" (404, so ids do not leak); inside the
//! scope but above the person's rights it is "forbidden" (403) with a reason to show.

use super::{ClientId, GroupId, Level, Person, Role, Sender};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allowed,
    /// Inside the person's scope, above their rights; the reason is shown to them.
    Forbidden(&'static str),
    /// Outside the person's scope.
    NotFound,
}

/// Which contacts a person sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactsVisible {
    /// A user: their own contacts.
    OwnedBy(super::UserId),
    /// A client admin: their client's.
    InClient(ClientId),
    /// A group admin: their group's.
    InGroup(GroupId),
    /// Support: any contact, read-only.
    Everywhere,
    /// An account whose membership is incomplete sees nothing.
    Nothing,
}

pub fn visible_contacts(person: &Person) -> ContactsVisible {
    match (person.role, person.group_id, person.client_id) {
        (Role::Support, _, _) => ContactsVisible::Everywhere,
        (Role::GroupAdmin, Some(group), _) => ContactsVisible::InGroup(group),
        (Role::ClientAdmin, _, Some(client)) => ContactsVisible::InClient(client),
        (Role::User, _, _) => ContactsVisible::OwnedBy(person.id),
        _ => ContactsVisible::Nothing,
    }
}

/// Whether the person sees contacts owned by `owner`.
pub fn can_see_contact_of(person: &Person, owner: &Sender) -> bool {
    match visible_contacts(person) {
        ContactsVisible::OwnedBy(user) => owner.user_id == user,
        ContactsVisible::InClient(client) => owner.client_id == client,
        ContactsVisible::InGroup(group) => owner.group_id == group,
        ContactsVisible::Everywhere => true,
        ContactsVisible::Nothing => false,
    }
}

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

/// Admin › Activity › Opt outs: group admins see everything in their group; client admins the
/// group-level rows (read-only) and their client's client- and user-level rows; support any.
pub fn may_see_opt_out(person: &Person, place: &OptOutPlace) -> bool {
    match person.role {
        Role::Support => true,
        Role::GroupAdmin => person.group_id == Some(place.group_id),
        Role::ClientAdmin => {
            person.group_id == Some(place.group_id)
                && (place.level == Level::Group || place.client_id == person.client_id)
        }
        Role::User => false,
    }
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

/// Admin › Activity pages.
pub fn may_view_activity(person: &Person) -> bool {
    matches!(
        person.role,
        Role::ClientAdmin | Role::GroupAdmin | Role::Support
    )
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

/// Changing or sending a campaign (its recipients, its draft, the send): only the sender who
/// owns it; admins who can see it only look.
pub fn may_change_campaign(person: &Person, owner: &Sender) -> bool {
    person.id == owner.user_id
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

/// Adding contacts: anyone who sends (contacts belong to a sender).
pub fn may_add_contacts(person: &Person) -> bool {
    person.as_sender().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    const GROUP: GroupId = GroupId(1);
    const OTHER_GROUP: GroupId = GroupId(2);
    const NEWSLETTERS: ClientId = ClientId(10);
    const EVENTS: ClientId = ClientId(11);

    fn person(role: Role, id: i64, group: Option<GroupId>, client: Option<ClientId>) -> Person {
        Person {
            id: UserId(id),
            role,
            group_id: group,
            client_id: client,
        }
    }

    fn user() -> Person {
        person(Role::User, 100, Some(GROUP), Some(NEWSLETTERS))
    }
    fn client_admin() -> Person {
        person(Role::ClientAdmin, 200, Some(GROUP), Some(NEWSLETTERS))
    }
    fn group_admin() -> Person {
        person(Role::GroupAdmin, 300, Some(GROUP), None)
    }
    fn support() -> Person {
        person(Role::Support, 400, None, None)
    }

    /// The user themself, a colleague in the same client, a user of another client, and a
    /// user of another group.
    fn own() -> Sender {
        Sender {
            user_id: UserId(100),
            client_id: NEWSLETTERS,
            group_id: GROUP,
        }
    }
    fn colleague() -> Sender {
        Sender {
            user_id: UserId(101),
            client_id: NEWSLETTERS,
            group_id: GROUP,
        }
    }
    fn other_client() -> Sender {
        Sender {
            user_id: UserId(102),
            client_id: EVENTS,
            group_id: GROUP,
        }
    }
    fn other_group() -> Sender {
        Sender {
            user_id: UserId(103),
            client_id: ClientId(20),
            group_id: OTHER_GROUP,
        }
    }

    #[test]
    fn see_contacts() {
        // (person, [own, colleague, other client, other group])
        let table = [
            (user(), [true, false, false, false]),
            (client_admin(), [true, true, false, false]),
            (group_admin(), [true, true, true, false]),
            (support(), [true, true, true, true]),
        ];
        for (who, expected) in table {
            let owners = [own(), colleague(), other_client(), other_group()];
            for (owner, expected) in owners.iter().zip(expected) {
                assert_eq!(
                    can_see_contact_of(&who, owner),
                    expected,
                    "{:?} sees {:?}",
                    who.role,
                    owner
                );
            }
        }
    }

    fn allowed(access: Access) -> bool {
        access == Access::Allowed
    }

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
    fn only_the_owner_changes_a_campaign() {
        assert!(may_change_campaign(&user(), &own()));
        assert!(!may_change_campaign(&client_admin(), &own()));
        assert!(!may_change_campaign(&group_admin(), &own()));
        assert!(!may_change_campaign(&user(), &colleague()));
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

    #[test]
    fn adding_contacts_needs_a_client() {
        assert!(may_add_contacts(&user()));
        assert!(may_add_contacts(&client_admin()));
        assert!(!may_add_contacts(&group_admin()));
        assert!(!may_add_contacts(&support()));
    }
}
