//! The three levels of the account hierarchy at which a recipient can opt out.

use std::fmt;
use std::str::FromStr;

/// Ordered broadest first, so sorting a list of levels puts the reason to show first.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Level {
    /// No sender anywhere in the group may email the address.
    Group,
    /// No user of that client may email it.
    Client,
    /// That one user may not email it.
    User,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Group, Level::Client, Level::User];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Group => "group",
            Level::Client => "client",
            Level::User => "user",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Group => "Group",
            Level::Client => "Client",
            Level::User => "User",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown level {0:?}: expected group, client or user")]
pub struct UnknownLevel(pub String);

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|level| level.as_str() == s)
            .ok_or_else(|| UnknownLevel(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadest_sorts_first() {
        let mut levels = vec![Level::User, Level::Group, Level::Client];
        levels.sort();
        assert_eq!(levels, Level::ALL);
    }

    #[test]
    fn round_trips() {
        for level in Level::ALL {
            assert_eq!(level.as_str().parse(), Ok(level));
        }
        assert!("everything".parse::<Level>().is_err());
    }
}
