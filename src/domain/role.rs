//! The four kinds of staff login.

use std::fmt;
use std::str::FromStr;

/// What a signed-in person is allowed to do; see the rights table in DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Role {
    /// Owns contacts and sends campaigns inside one client.
    User,
    /// Administers one client.
    ClientAdmin,
    /// Administers the whole group.
    GroupAdmin,
    /// Platform operator's support staff: belongs to no group.
    Support,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::User,
        Role::ClientAdmin,
        Role::GroupAdmin,
        Role::Support,
    ];

    /// The value stored in the database and accepted on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::ClientAdmin => "client_admin",
            Role::GroupAdmin => "group_admin",
            Role::Support => "support",
        }
    }

    /// How the role reads on a page.
    pub fn label(self) -> &'static str {
        match self {
            Role::User => "User",
            Role::ClientAdmin => "Client admin",
            Role::GroupAdmin => "Group admin",
            Role::Support => "Support",
        }
    }

    pub fn is_admin(self) -> bool {
        matches!(self, Role::ClientAdmin | Role::GroupAdmin)
    }

    /// Users and client admins always belong to a client; a group admin only when they also
    /// send campaigns; support never.
    pub fn requires_client(self) -> bool {
        matches!(self, Role::User | Role::ClientAdmin)
    }

    pub fn requires_group(self) -> bool {
        !matches!(self, Role::Support)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown role {0:?}: expected one of user, client_admin, group_admin, support")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_stored_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
    }

    #[test]
    fn rejects_unknown_names_with_the_choices() {
        let err = "admin".parse::<Role>().unwrap_err();
        assert!(err.to_string().contains("client_admin"));
    }

    #[test]
    fn membership_rules_follow_the_design() {
        assert!(Role::User.requires_client());
        assert!(Role::ClientAdmin.requires_client());
        assert!(!Role::GroupAdmin.requires_client());
        assert!(Role::GroupAdmin.requires_group());
        assert!(!Role::Support.requires_group());
        assert!(!Role::Support.is_admin());
    }
}
