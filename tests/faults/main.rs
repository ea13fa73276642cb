//! Faults: the server killed with SIGKILL mid-burst and restarted; the SMTP server going away
//! during a campaign. Nothing acknowledged may be lost, nothing sent twice. And the server's
//! log: its lines are buffered, so they must still arrive while it runs and when it stops.
//! And what anyone can make the process hold: memory after sign-in floods and huge bodies.

// Shared with the other test binaries; not every helper is used here.
#[allow(dead_code)]
#[path = "../common/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../common/seed.rs"]
mod seed;
#[allow(dead_code)]
#[path = "../common/smtp.rs"]
mod smtp;

mod delivery_crash;
mod log_lines;
mod one_click_crash;
mod resources;
mod server;
mod smtp_outage;
mod stalled_claim;
