//! The use cases, one function each, under every way in (HTML pages, the command line): each
//! takes the [`Actor`] and a typed command, asks `domain::rights`, does its work and returns a
//! typed result or a [`ServiceError`]. Callers only translate requests into commands and
//! results into pages or exit codes. Also the long-lived pieces the use cases share
//! ([`Services`]): the SQLite opt-out writer thread, the sender profile cache, the password
//! threads.

mod actor;
mod context;
mod error;

pub mod campaigns;
pub mod contacts;
pub mod export;
pub mod import;
pub mod manual_opt_out;
pub mod opt_in_request;
pub mod opt_out_writer;
pub mod password_change;
pub mod sender_profile_cache;
pub mod settings;
pub mod sign_in;
pub mod support_lift;

pub use actor::Actor;
pub use context::Services;
pub use error::ServiceError;
