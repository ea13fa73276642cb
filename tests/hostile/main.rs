//! Hostile input: oversized and malformed bodies, forged and altered tokens, markup and SQL
//! metacharacters in every displayed field; and the security headers on every kind of page.

// Shared with the other test binaries; not every helper is used here.
#[allow(dead_code)]
#[path = "../common/campaigns.rs"]
mod campaigns;
#[allow(dead_code)]
#[path = "../common/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../common/smtp.rs"]
mod smtp;

mod flows;
mod forms;
mod headers;
mod markup;
mod searches;
mod token_properties;
mod tokens;
