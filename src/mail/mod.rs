//! Email: where it goes (the transport URL). Message building, the transports and the
//! delivery worker arrive with the campaigns issue.

mod url;

pub use url::MailUrl;
