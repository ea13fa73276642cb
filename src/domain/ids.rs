//! Typed ids, so a client id can never be passed where a user id is meant. Each is stored as a
//! `BIGINT`; the derives below only mark that, the conversions live in `db::sql_types`.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            Serialize,
            Deserialize,
            diesel::AsExpression,
            diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl From<i64> for $name {
            fn from(raw: i64) -> Self {
                Self(raw)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

typed_id!(
    /// A group: the whole customer ("Acme Holdings").
    GroupId
);
typed_id!(
    /// A client: a brand or department inside a group.
    ClientId
);
typed_id!(
    /// A staff login (user, admin or support).
    UserId
);
typed_id!(
    /// A contact owned by a user.
    ContactId
);
typed_id!(
    /// An active opt-out row.
    OptOutId
);
typed_id!(
    /// An appended consent event (evidence).
    ConsentEventId
);
typed_id!(
    /// A campaign.
    CampaignId
);
typed_id!(
    /// An outbox message.
    MessageId
);
