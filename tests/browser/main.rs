//! Browser journeys: headless Chromium (Debian's chromium + chromium-driver) driven over
//! WebDriver, against the app on a real port. Each journey saves a screenshot under target/.

// Shared with the other test binaries; not every helper is used here.
#[allow(dead_code)]
#[path = "../common/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../common/smtp.rs"]
mod smtp;

mod activity;
mod campaign;
mod contacts;
mod driver;
mod recipient;
mod sign_in;
