//! How the domain's typed ids and stored enums travel to and from SQL, on each backend and
//! through the connection enum. With these, queries bind `GroupId` or `Level` directly and
//! rows load them directly: no `.0` on the way in, no parsing by hand on the way out, and an
//! unknown stored name fails the row as a deserialization error.
//!
//! Three impls per direction are needed: one per concrete backend (the hot paths run on the
//! concrete connection, see `on_each_backend!`) and one for the enum's `MultiBackend`, which
//! hands the value to whichever backend the connection is.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::Sqlite;

use super::connection::MultiBackend;
use crate::domain::{
    ActorKind, CampaignId, ClientId, ConsentEventId, ContactId, EventKind, GroupId, Level,
    MessageId, MessageKind, OptOutId, Role, Source, UserId,
};

/// Ids are `BIGINT` on both backends and carry an `i64`.
macro_rules! id_as_bigint {
    ($($id:ty),* $(,)?) => {$(
        impl ToSql<BigInt, Sqlite> for $id {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <i64 as ToSql<BigInt, Sqlite>>::to_sql(&self.0, out)
            }
        }

        impl ToSql<BigInt, Pg> for $id {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <i64 as ToSql<BigInt, Pg>>::to_sql(&self.0, out)
            }
        }

        impl ToSql<BigInt, MultiBackend> for $id {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((BigInt, self));
                Ok(IsNull::No)
            }
        }

        impl FromSql<BigInt, Sqlite> for $id {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Sqlite>>::from_sql(bytes).map(Self)
            }
        }

        impl FromSql<BigInt, Pg> for $id {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Pg>>::from_sql(bytes).map(Self)
            }
        }

        impl FromSql<BigInt, MultiBackend> for $id {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, BigInt>()
            }
        }
    )*};
}

id_as_bigint!(
    GroupId,
    ClientId,
    UserId,
    ContactId,
    OptOutId,
    ConsentEventId,
    CampaignId,
    MessageId,
);

/// A stored name that is not one of the enum's: the row fails rather than being guessed at.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} {stored:?} in the database")]
pub struct UnknownStoredName {
    pub what: &'static str,
    pub stored: String,
}

/// Enums stored as `TEXT` by their `as_str` name; `$parse` turns the name back (`None` for an
/// unknown one).
macro_rules! enum_as_text {
    ($($kind:ty => $what:literal, $parse:expr;)*) => {$(
        impl ToSql<Text, Sqlite> for $kind {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, Pg> for $kind {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, MultiBackend> for $kind {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Sqlite> for $kind {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let stored = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
                parse_stored::<$kind>(stored, $what, $parse)
            }
        }

        impl FromSql<Text, Pg> for $kind {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let stored = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                parse_stored::<$kind>(stored, $what, $parse)
            }
        }

        impl FromSql<Text, MultiBackend> for $kind {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, Text>()
            }
        }
    )*};
}

fn parse_stored<T>(
    stored: String,
    what: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> deserialize::Result<T> {
    parse(&stored).ok_or_else(|| UnknownStoredName { what, stored }.into())
}

enum_as_text! {
    Level => "level", |s: &str| s.parse().ok();
    Role => "role", |s: &str| s.parse().ok();
    Source => "source", Source::from_stored;
    EventKind => "event kind", EventKind::from_stored;
    ActorKind => "actor kind", ActorKind::from_stored;
    MessageKind => "message kind", MessageKind::from_stored;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DbConnection;
    use diesel::prelude::*;
    use diesel::sql_types::Nullable;

    fn sqlite() -> DbConnection {
        DbConnection::Sqlite(SqliteConnection::establish(":memory:").expect("in-memory SQLite"))
    }

    /// PostgreSQL when the test server is configured (CI sets it; elsewhere the PostgreSQL
    /// half is skipped, as in the integration tests).
    fn postgres() -> Option<DbConnection> {
        let url = std::env::var("OPTOUTS_TEST_POSTGRES_URL").ok()?;
        Some(DbConnection::Postgresql(
            PgConnection::establish(&url).expect("OPTOUTS_TEST_POSTGRES_URL reachable"),
        ))
    }

    fn each_backend(check: impl Fn(&mut DbConnection)) {
        check(&mut sqlite());
        match postgres() {
            Some(mut pg) => check(&mut pg),
            None if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true but OPTOUTS_TEST_POSTGRES_URL is not set")
            }
            None => eprintln!("skipped: set OPTOUTS_TEST_POSTGRES_URL for the PostgreSQL half"),
        }
    }

    #[test]
    fn ids_round_trip_through_the_enum_and_each_backend() {
        each_backend(|conn| {
            let back: (GroupId, Option<UserId>, Option<ConsentEventId>) = diesel::select((
                GroupId(7).into_sql::<BigInt>(),
                Some(UserId(i64::MAX)).into_sql::<Nullable<BigInt>>(),
                None::<ConsentEventId>.into_sql::<Nullable<BigInt>>(),
            ))
            .get_result(conn)
            .unwrap();
            assert_eq!(back, (GroupId(7), Some(UserId(i64::MAX)), None));
            // The same on the concrete connection, where the hot paths run.
            let concrete: MessageId = crate::on_each_backend!(conn, |c| diesel::select(
                MessageId(-3).into_sql::<BigInt>()
            )
            .get_result(c))
            .unwrap();
            assert_eq!(concrete, MessageId(-3));
        });
    }

    #[test]
    fn enums_round_trip_by_their_stored_names() {
        each_backend(|conn| {
            for level in Level::ALL {
                let back: Level = diesel::select(level.into_sql::<Text>())
                    .get_result(conn)
                    .unwrap();
                assert_eq!(back, level);
                let concrete: Level =
                    crate::on_each_backend!(conn, |c| diesel::select(level.into_sql::<Text>())
                        .get_result(c))
                    .unwrap();
                assert_eq!(concrete, level);
            }
            for role in Role::ALL {
                let back: Role = diesel::select(role.into_sql::<Text>())
                    .get_result(conn)
                    .unwrap();
                assert_eq!(back, role);
            }
            for source in Source::ALL {
                let back: Source = diesel::select(source.into_sql::<Text>())
                    .get_result(conn)
                    .unwrap();
                assert_eq!(back, source);
            }
            for kind in EventKind::ALL {
                let back: EventKind = diesel::select(kind.into_sql::<Text>())
                    .get_result(conn)
                    .unwrap();
                assert_eq!(back, kind);
            }
            for kind in MessageKind::ALL {
                let back: MessageKind = diesel::select(kind.into_sql::<Text>())
                    .get_result(conn)
                    .unwrap();
                assert_eq!(back, kind);
            }
            for actor in ActorKind::ALL {
                let back: ActorKind = diesel::select(actor.into_sql::<Text>())
                    .get_result(conn)
                    .unwrap();
                assert_eq!(back, actor);
            }
        });
    }

    #[test]
    fn an_unknown_stored_name_fails_the_row() {
        each_backend(|conn| {
            let err = diesel::select("everything".into_sql::<Text>())
                .get_result::<Level>(conn)
                .unwrap_err();
            // diesel wraps it with the field; the cause is kept.
            assert!(format!("{err:?}").contains("UnknownStoredName"), "{err:?}");
        });
    }
}
