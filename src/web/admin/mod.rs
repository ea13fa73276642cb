//! Pages of admins and support: activity (emails, opt-outs), preference center settings,
//! support's lifts, and how evidence reads on them.

pub mod activity_emails;
pub mod activity_opt_outs;
pub mod evidence;
pub mod settings;
pub mod support;
