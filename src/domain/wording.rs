//! Sentences about opt-outs that recipients and staff both read, stated once.

use super::Level;

/// The names of a sender's user, client and group.
#[derive(Debug, Clone, Copy)]
pub struct SenderNames<'a> {
    pub user: &'a str,
    pub client: &'a str,
    pub group: &'a str,
}

impl SenderNames<'_> {
    pub fn at(&self, level: Level) -> &str {
        match level {
            Level::User => self.user,
            Level::Client => self.client,
            Level::Group => self.group,
        }
    }
}

/// What an opt-out at `level` stops: "emails from Nina Patel", "all emails from Acme Holdings".
pub fn what_stops(level: Level, names: &SenderNames<'_>) -> String {
    match level {
        Level::User => format!("emails from {}", names.user),
        Level::Client | Level::Group => format!("all emails from {}", names.at(level)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_scope() {
        let names = SenderNames {
            user: "Nina Patel",
            client: "Newsletters",
            group: "Acme Holdings",
        };
        assert_eq!(what_stops(Level::User, &names), "emails from Nina Patel");
        assert_eq!(
            what_stops(Level::Client, &names),
            "all emails from Newsletters"
        );
        assert_eq!(
            what_stops(Level::Group, &names),
            "all emails from Acme Holdings"
        );
    }
}
