//! The use cases, under every way in (HTML pages, the command line): each rule in one place.
//! Also the long-lived pieces they share: the SQLite opt-out writer thread and the sender
//! profile cache.

pub mod export;
pub mod import;
pub mod opt_out_writer;
pub mod sender_profile_cache;
pub mod sign_in;
