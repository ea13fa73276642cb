//! Sentences about opt-outs that recipients and staff both read, stated once. Each names the
//! real scope: the sender for user level, the client's name for client level, and for group
//! level the group's name with the clients it covers — a client's name never stands for the
//! group.

use super::Level;

/// The names of a sender's user, client and group, as the reader knows them.
#[derive(Debug, Clone, Copy)]
pub struct SenderNames<'a> {
    pub user: &'a str,
    pub client: &'a str,
    pub group: &'a str,
    /// The group's first clients, to say what a group-level opt-out covers; empty where the
    /// page does not list them.
    pub group_clients: &'a [String],
    /// How many clients the group has in all (more than listed: "and N more").
    pub group_client_count: usize,
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

/// Clients named one by one in a group's scope; past this, "and N more".
pub const CLIENTS_LISTED: usize = 6;

/// What an opt-out at `level` stops: "emails from Nina Patel", "any emails from Newsletters",
/// "any emails from Acme Holdings, including all its clients: Newsletters, Events and Tax".
pub fn what_stops(level: Level, names: &SenderNames<'_>) -> String {
    match level {
        Level::User => format!("emails from {}", names.user),
        Level::Client => format!("any emails from {}", names.client),
        Level::Group => format!("any emails from {}", group_scope(names)),
    }
}

/// The group with what it covers: "Acme Holdings, including all its clients: Newsletters,
/// Events and Tax" (or "Acme Holdings and all its clients" when they are not listed).
pub fn group_scope(names: &SenderNames<'_>) -> String {
    if names.group_clients.is_empty() {
        return format!("{} and all its clients", names.group);
    }
    format!(
        "{}, including all its clients: {}",
        names.group,
        in_a_list(names.group_clients, names.group_client_count)
    )
}

/// "A", "A and B", "A, B and C"; when `total` is more than the names given, "A, B, C and 4
/// more".
pub fn in_a_list(names: &[String], total: usize) -> String {
    let mut words: Vec<String> = names.to_vec();
    let more = total.saturating_sub(names.len());
    if more > 0 {
        words.push(format!("{more} more"));
    }
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, first)) => format!("{} and {last}", first.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn names_the_real_scope() {
        let clients = strings(&["Newsletters", "Events", "Tax"]);
        let names = SenderNames {
            user: "Nina Patel",
            client: "Acme Newsletters",
            group: "Acme Holdings",
            group_clients: &clients,
            group_client_count: 3,
        };
        assert_eq!(what_stops(Level::User, &names), "emails from Nina Patel");
        assert_eq!(
            what_stops(Level::Client, &names),
            "any emails from Acme Newsletters"
        );
        assert_eq!(
            what_stops(Level::Group, &names),
            "any emails from Acme Holdings, including all its clients: Newsletters, Events and Tax"
        );
        let unlisted = SenderNames {
            group_clients: &[],
            group_client_count: 0,
            ..names
        };
        assert_eq!(
            what_stops(Level::Group, &unlisted),
            "any emails from Acme Holdings and all its clients"
        );
    }

    #[test]
    fn lists_read_as_sentences() {
        assert_eq!(in_a_list(&[], 0), "");
        assert_eq!(in_a_list(&strings(&["A"]), 1), "A");
        assert_eq!(in_a_list(&strings(&["A", "B"]), 2), "A and B");
        assert_eq!(in_a_list(&strings(&["A", "B", "C"]), 3), "A, B and C");
        assert_eq!(
            in_a_list(&strings(&["A", "B", "C"]), 5),
            "A, B, C and 2 more"
        );
    }
}
