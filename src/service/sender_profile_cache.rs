//! Sender profiles remembered for a few seconds. A campaign's wave of unsubscribe clicks opens
//! thousands of recipients' pages a second for the same few senders; reading each sender's
//! names and settings once per request was five of the seven tables a page read (on
//! PostgreSQL, a 7-table plan against a 2-table one: 29,700 against 46,200 statements a second
//! in pgbench on the same machine).
//!
//! Only what recipients' pages show comes from here: a recipient's POST (one-click, the form,
//! "I changed my mind", opting back in) reads the profile afresh, so the level it records, the
//! reason it keeps and whether a confirmation goes out follow the settings in force.
//!
//! What a shown page can miss, and for how long: a Preference Center settings change saved
//! through this process is seen from the next request on (`forget_all`, from the settings
//! page); one saved through another process (several servers on PostgreSQL) is seen within
//! [`SenderProfileCache::TTL`]. Names of users, clients and groups do not change once made; a
//! client added to the group shows in a group-level opt-out's list of clients within the TTL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::QueryResult;

use crate::db::DbConnection;
use crate::db::link_context::{self, LinkContext};
use crate::db::sender_profile::{self, SenderProfile};
use crate::domain::MessageId;
use crate::domain::Sender;

#[derive(Debug, Default)]
pub struct SenderProfileCache {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Sender, Entry>,
    /// Counts `forget_all` calls: a profile read before one is not remembered after it (it may
    /// predate the change that caused it).
    generation: u64,
}

#[derive(Debug)]
struct Entry {
    loaded_at: Instant,
    profile: Arc<SenderProfile>,
}

impl SenderProfileCache {
    /// How long a loaded profile is used before it is read again.
    pub const TTL: Duration = Duration::from_secs(10);
    /// Senders remembered at most; past it, the expired ones go, then (still full) all of them.
    /// A profile is typically a few hundred bytes (a few MB in all); at worst, with long
    /// custom messages, a few KB (a few tens of MB).
    pub const CAPACITY: usize = 10_000;

    pub fn new() -> Self {
        Self::default()
    }

    /// The sender's profile: the remembered one while it is fresh, else `load`'s (remembered
    /// when found). The lock is not held while `load` runs.
    pub fn get_or_load<E>(
        &self,
        sender: Sender,
        load: impl FnOnce() -> Result<Option<SenderProfile>, E>,
    ) -> Result<Option<Arc<SenderProfile>>, E> {
        self.get_or_load_at(Instant::now(), sender, load)
    }

    /// Forgets every profile: after a settings change, so this process's pages show it at once.
    /// For a page that shows the email: its context with the sender's names and settings as
    /// remembered here (read on a miss, on the same connection). `None` when the email no longer
    /// exists or has no sender.
    pub fn link_context(
        &self,
        conn: &mut DbConnection,
        id: MessageId,
    ) -> QueryResult<Option<LinkContext>> {
        link_context::load_with(conn, id, |conn, sender| {
            self.get_or_load(sender, || sender_profile::load(conn, sender))
        })
    }

    pub fn forget_all(&self) {
        let mut state = self.state();
        state.entries.clear();
        state.generation += 1;
    }

    fn get_or_load_at<E>(
        &self,
        now: Instant,
        sender: Sender,
        load: impl FnOnce() -> Result<Option<SenderProfile>, E>,
    ) -> Result<Option<Arc<SenderProfile>>, E> {
        let generation = {
            let state = self.state();
            if let Some(entry) = state.entries.get(&sender)
                && now.saturating_duration_since(entry.loaded_at) < Self::TTL
            {
                return Ok(Some(Arc::clone(&entry.profile)));
            }
            state.generation
        };
        let Some(profile) = load()?.map(Arc::new) else {
            return Ok(None);
        };
        let mut state = self.state();
        if state.generation != generation {
            return Ok(Some(profile));
        }
        let entries = &mut state.entries;
        if entries.len() >= Self::CAPACITY && !entries.contains_key(&sender) {
            entries.retain(|_, entry| now.saturating_duration_since(entry.loaded_at) < Self::TTL);
            if entries.len() >= Self::CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            sender,
            Entry {
                loaded_at: now,
                profile: Arc::clone(&profile),
            },
        );
        Ok(Some(profile))
    }

    /// The map and its generation; a panic elsewhere while they were held leaves nothing
    /// half-done (each change is one map operation, or a clear and an increment that may both
    /// stand alone), so a poisoned lock is used as it is.
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::preferences::PreferenceSettings;
    use crate::domain::{ClientId, GroupId, UserId};
    use std::convert::Infallible;

    fn sender(n: i64) -> Sender {
        Sender {
            user_id: UserId(n),
            client_id: ClientId(n),
            group_id: GroupId(1),
        }
    }

    fn profile(name: &str) -> SenderProfile {
        SenderProfile {
            sender_name: name.to_owned(),
            client_name: "Client".to_owned(),
            group_name: "Group".to_owned(),
            settings: PreferenceSettings::default(),
            group_display_name: None,
            client_display_name: None,
            group_clients: Vec::new(),
            group_client_count: 0,
        }
    }

    /// The name of the profile the cache answers at `now`, and whether it had to load it.
    fn name_at(cache: &SenderProfileCache, now: Instant, who: i64, fresh: &str) -> (String, bool) {
        let mut loaded = false;
        let found = cache
            .get_or_load_at(now, sender(who), || {
                loaded = true;
                Ok::<_, Infallible>(Some(profile(fresh)))
            })
            .unwrap()
            .unwrap();
        (found.sender_name.clone(), loaded)
    }

    #[test]
    fn a_profile_is_read_again_once_it_is_older_than_the_ttl() {
        let cache = SenderProfileCache::new();
        let start = Instant::now();
        assert_eq!(name_at(&cache, start, 1, "Nina"), ("Nina".into(), true));
        let nearly = start + SenderProfileCache::TTL - Duration::from_millis(1);
        assert_eq!(
            name_at(&cache, nearly, 1, "Renamed"),
            ("Nina".into(), false)
        );
        let expired = start + SenderProfileCache::TTL;
        assert_eq!(
            name_at(&cache, expired, 1, "Renamed"),
            ("Renamed".into(), true)
        );
    }

    #[test]
    fn forget_all_makes_the_next_request_read_the_profile_again() {
        let cache = SenderProfileCache::new();
        let now = Instant::now();
        name_at(&cache, now, 1, "Nina");
        cache.forget_all();
        assert_eq!(name_at(&cache, now, 1, "Renamed"), ("Renamed".into(), true));
    }

    #[test]
    fn a_profile_read_before_forget_all_is_used_once_and_not_remembered() {
        let cache = SenderProfileCache::new();
        let now = Instant::now();
        // The settings page saves and empties the cache while this read is under way.
        let found = cache
            .get_or_load_at(now, sender(1), || {
                cache.forget_all();
                Ok::<_, Infallible>(Some(profile("Before the change")))
            })
            .unwrap()
            .unwrap();
        assert_eq!(found.sender_name, "Before the change");
        assert_eq!(name_at(&cache, now, 1, "After"), ("After".into(), true));
    }

    #[test]
    fn senders_are_kept_apart_and_a_missing_one_is_not_remembered() {
        let cache = SenderProfileCache::new();
        let now = Instant::now();
        name_at(&cache, now, 1, "Nina");
        assert_eq!(name_at(&cache, now, 2, "Omar"), ("Omar".into(), true));
        let mut loads = 0;
        for _ in 0..2 {
            let found = cache
                .get_or_load_at(now, sender(3), || {
                    loads += 1;
                    Ok::<_, Infallible>(None)
                })
                .unwrap();
            assert!(found.is_none());
        }
        assert_eq!(loads, 2);
    }

    #[test]
    fn a_load_error_is_returned_and_nothing_is_remembered() {
        let cache = SenderProfileCache::new();
        let now = Instant::now();
        let failed = cache.get_or_load_at(now, sender(1), || Err("database gone"));
        assert_eq!(failed.unwrap_err(), "database gone");
        assert_eq!(name_at(&cache, now, 1, "Nina"), ("Nina".into(), true));
    }

    #[test]
    fn a_full_cache_drops_expired_profiles_first_and_never_grows_past_its_capacity() {
        let cache = SenderProfileCache::new();
        let start = Instant::now();
        let capacity = i64::try_from(SenderProfileCache::CAPACITY).unwrap();
        for who in 0..capacity - 1 {
            name_at(&cache, start, who, "old");
        }
        let later = start + SenderProfileCache::TTL / 2;
        name_at(&cache, later, capacity - 1, "recent");
        assert_eq!(cache.state().entries.len(), SenderProfileCache::CAPACITY);

        // Full: the next new sender makes room by dropping the expired ones only.
        let after_ttl = start + SenderProfileCache::TTL;
        name_at(&cache, after_ttl, capacity, "new");
        assert_eq!(cache.state().entries.len(), 2);
        assert_eq!(
            name_at(&cache, after_ttl, capacity - 1, "reloaded"),
            ("recent".into(), false)
        );

        // Full of fresh ones: it starts again rather than grow.
        for who in capacity + 1..2 * capacity - 1 {
            name_at(&cache, after_ttl, who, "fresh");
        }
        assert_eq!(cache.state().entries.len(), SenderProfileCache::CAPACITY);
        name_at(&cache, after_ttl, 2 * capacity, "one more");
        assert_eq!(cache.state().entries.len(), 1);
    }
}
