//! Access control, exhaustively: every authenticated route x every role x an object inside and
//! outside the person's scope; CSRF on every POST; session lifecycle; the password page;
//! sign-in throttling.

// Shared with the other test binaries; not every helper is used here.
#[allow(dead_code)]
#[path = "../common/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../common/smtp.rs"]
mod smtp;

mod matrix;
mod password;
mod route_guard;
mod rules;
mod sessions;
mod throttle;
mod world;
