//! The rights table of the design, as functions. Handlers ask these; nothing else decides.
//!
//! Outside a person's scope the answer is "not found" (404, so ids do not leak); inside the
//! scope but above the person's rights it is "forbidden" (403) with a reason to show.

mod contacts;
#[cfg(test)]
mod fixtures;
mod opt_outs;
mod settings;

pub use contacts::*;
pub use opt_outs::*;
pub use settings::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allowed,
    /// Inside the person's scope, above their rights; the reason is shown to them.
    Forbidden(&'static str),
    /// Outside the person's scope.
    NotFound,
}
