//! What every page's frame shows: the navigation for the person's role, who is signed in
//! (with their group and client), and the CSRF token for the sign-out forms.

use crate::db::accounts::StaffAccount;
use crate::domain::{Person, Role, rights};

/// The areas of the navigation, to mark the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    None,
    Contacts,
    Campaigns,
    ActivityOptOuts,
    ActivityEmails,
    Settings,
    Support,
}

pub struct Chrome {
    pub person: Option<NavPerson>,
    /// On recipients' pages: the sender's organisation instead of our name.
    pub brand: Option<String>,
    pub active: Area,
    pub csrf_token: String,
}

pub struct NavPerson {
    pub display_name: String,
    pub role: Role,
    /// Who they are to the rights, which decide the menus.
    pub acting_as: Person,
    /// "Newsletters · Acme Holdings", "Acme Holdings", or "Platform support".
    pub where_label: String,
}

pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

impl Chrome {
    /// For pages seen before sign-in, and error pages.
    pub fn anonymous() -> Self {
        Self {
            person: None,
            brand: None,
            active: Area::None,
            csrf_token: String::new(),
        }
    }

    /// For recipients' pages: no navigation, the organisation's name at the top.
    pub fn recipient(brand: &str) -> Self {
        Self {
            brand: Some(brand.to_owned()),
            ..Self::anonymous()
        }
    }

    pub fn signed_in(account: &StaffAccount, csrf_token: &str, active: Area) -> Self {
        let where_label = match (&account.client_name, &account.group_name) {
            (Some(client), Some(group)) => format!("{client} · {group}"),
            (None, Some(group)) => group.clone(),
            _ => "Platform support".to_owned(),
        };
        Self {
            brand: None,
            person: Some(NavPerson {
                display_name: account.user.display_name.clone(),
                role: account.user.role,
                acting_as: account.user.person(),
                where_label,
            }),
            active,
            csrf_token: csrf_token.to_owned(),
        }
    }

    /// The main navigation for the signed-in person's role.
    pub fn main_items(&self) -> Vec<NavItem> {
        let Some(person) = &self.person else {
            return Vec::new();
        };
        let mut items = vec![self.item("Contacts", "/contacts", Area::Contacts)];
        if rights::may_see_campaigns(&person.acting_as) {
            items.push(self.item("Campaigns", "/campaigns", Area::Campaigns));
        }
        if rights::may_lift_on_written_consent(&person.acting_as) {
            items.push(self.item("Support", "/support", Area::Support));
        }
        items
    }

    /// The Admin menu (Admin › Activity › Opt outs, …); empty for users.
    pub fn admin_items(&self) -> Vec<NavItem> {
        let Some(person) = &self.person else {
            return Vec::new();
        };
        let mut items = Vec::new();
        if rights::may_view_activity(&person.acting_as) {
            items.push(self.item(
                "Activity › Opt outs",
                "/admin/activity/opt-outs",
                Area::ActivityOptOuts,
            ));
        }
        if rights::may_administer_group(&person.acting_as) {
            items.push(self.item(
                "Activity › Emails",
                "/admin/activity/emails",
                Area::ActivityEmails,
            ));
            items.push(self.item(
                "Settings › Preference center",
                "/admin/settings/preference-center",
                Area::Settings,
            ));
        }
        items
    }

    fn item(&self, label: &'static str, href: &'static str, area: Area) -> NavItem {
        NavItem {
            label,
            href,
            current: self.active == area,
        }
    }
}
