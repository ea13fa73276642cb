//! Structured logs with tracing, on standard error (standard output is for command results),
//! written through a buffer ([`batched_stderr`]). Never log a recipient's address: log its
//! domain.

mod batched_stderr;
pub mod redact;

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

pub use batched_stderr::flush;

/// Installs the global subscriber once; later calls (tests spawn many apps) are no-ops.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(batched_stderr::writer())
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
