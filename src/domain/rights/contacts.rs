//! Who sees which contacts, who adds them, and who changes a campaign.

use crate::domain::{ClientId, GroupId, Person, Role, Sender, UserId};

/// Which contacts a person sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactsVisible {
    /// A user: their own contacts.
    OwnedBy(UserId),
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

/// Whether the person sees contacts (and campaigns) of senders other than themself, so lists
/// name each row's owner.
pub fn sees_other_senders(person: &Person) -> bool {
    !matches!(visible_contacts(person), ContactsVisible::OwnedBy(_))
}

/// Campaigns belong to a group's senders; support staff, who belong to no group, look at
/// contacts and opt-outs but not at campaigns.
pub fn may_see_campaigns(person: &Person) -> bool {
    person.role != Role::Support
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

/// Adding contacts: anyone who sends (contacts belong to a sender).
pub fn may_add_contacts(person: &Person) -> bool {
    person.as_sender().is_some()
}

/// Changing or sending a campaign (its recipients, its draft, the send): only the sender who
/// owns it; admins who can see it only look.
pub fn may_change_campaign(person: &Person, owner: &Sender) -> bool {
    person.id == owner.user_id
}

#[cfg(test)]
mod tests {
    use crate::domain::rights::fixtures::*;
    use crate::domain::rights::*;

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

    #[test]
    fn adding_contacts_needs_a_client() {
        assert!(may_add_contacts(&user()));
        assert!(may_add_contacts(&client_admin()));
        assert!(!may_add_contacts(&group_admin()));
        assert!(!may_add_contacts(&support()));
    }

    #[test]
    fn only_the_owner_changes_a_campaign() {
        assert!(may_change_campaign(&user(), &own()));
        assert!(!may_change_campaign(&client_admin(), &own()));
        assert!(!may_change_campaign(&group_admin(), &own()));
        assert!(!may_change_campaign(&user(), &colleague()));
    }
}
