//! Pure types and rules: no I/O, no actix. Diesel appears only as derive markers saying which
//! SQL type a value is stored as; the conversions themselves live in `db::sql_types`.

pub mod consent;
pub mod email;
pub mod ids;
pub mod level;
pub mod message_kind;
pub mod person;
pub mod preferences;
pub mod rights;
pub mod role;
pub mod scope;
pub mod suppression;
pub mod wording;

pub use consent::{ActorKind, EventKind, Source};
pub use email::{EmailAddress, InvalidEmail};
pub use ids::*;
pub use level::Level;
pub use message_kind::MessageKind;
pub use person::{Person, Sender};
pub use role::Role;
pub use scope::Scope;
