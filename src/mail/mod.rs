//! Email: the transport URL, the transports, building messages, and the delivery worker that
//! sends what the outbox (`messages`) holds.

pub mod campaign_email;
pub mod confirmation_email;
pub mod dkim;
pub mod list_id;
pub mod opt_in_request_email;
mod parts;
pub mod support_lift_notice_email;
pub mod transport;
mod url;
pub mod worker;

pub use transport::{Mailer, SendFailure};
pub use url::MailUrl;
