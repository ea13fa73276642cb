//! Standard error with a buffer in front: log lines are gathered and written many at a time.
//!
//! Why: every request writes one log line, and one `write` system call per line (standard
//! error has no buffer of its own) was the largest single cost of a recipient's page after
//! its query — on the two-core benchmark machine, buffering lifted `GET /u/{token}` by about
//! a sixth (docs/PERFORMANCE.md). The same trade as nginx's `access_log … buffer= flush=`.
//!
//! What it keeps: lines stay whole and in order (one buffer, one lock); a warning or an error
//! is written at once, together with everything before it; the rest reaches the terminal or
//! the journal within [`FLUSH_EVERY`], and at the end of every command ([`flush`]). Only a
//! process killed outright loses what it had buffered, at most that interval of lines.

use std::io::{self, BufWriter, Stderr, Write};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};
use std::time::Duration;
use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// The longest a buffered line waits before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Large enough for a few hundred request lines per system call.
const BUFFER_BYTES: usize = 64 * 1024;

static BUFFER: Mutex<Option<BufWriter<Stderr>>> = Mutex::new(None);
static FLUSHER: Once = Once::new();

/// The `MakeWriter` for the log subscriber; starts the thread that flushes the buffer.
pub fn writer() -> BatchedStderr {
    FLUSHER.call_once(|| {
        let started = std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    flush();
                }
            });
        if let Err(error) = started {
            // Without the thread, lines still leave when the buffer fills, on every warning
            // and at the end of the command.
            eprintln!("log lines are written late: no flush thread ({error})");
        }
    });
    BatchedStderr
}

/// Writes out everything buffered. Commands call it before they return.
pub fn flush() {
    let _ = with_buffer(|buffer| buffer.flush());
}

fn with_buffer<T>(work: impl FnOnce(&mut BufWriter<Stderr>) -> io::Result<T>) -> io::Result<T> {
    // A thread that panicked while holding the lock left whole lines only: keep going.
    let mut guard: MutexGuard<'_, _> = BUFFER.lock().unwrap_or_else(PoisonError::into_inner);
    let buffer = guard.get_or_insert_with(|| BufWriter::with_capacity(BUFFER_BYTES, io::stderr()));
    work(buffer)
}

pub struct BatchedStderr;

/// One event's writer: the subscriber formats the whole line first and hands it over in one
/// `write_all`.
pub struct EventWriter {
    urgent: bool,
}

impl<'a> MakeWriter<'a> for BatchedStderr {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> EventWriter {
        EventWriter { urgent: false }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> EventWriter {
        EventWriter {
            urgent: is_urgent(meta.level()),
        }
    }
}

/// Warnings and errors: an operator must see them at once. (tracing orders levels by
/// verbosity, so these are the ones at or below WARN.)
fn is_urgent(level: &Level) -> bool {
    *level <= Level::WARN
}

impl Write for EventWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        with_buffer(|buffer| {
            buffer.write_all(bytes)?;
            if self.urgent {
                buffer.flush()?;
            }
            Ok(bytes.len())
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        with_buffer(|buffer| buffer.flush())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_and_errors_are_written_at_once_the_rest_waits() {
        assert!(is_urgent(&Level::ERROR));
        assert!(is_urgent(&Level::WARN));
        assert!(!is_urgent(&Level::INFO));
        assert!(!is_urgent(&Level::DEBUG));
        assert!(!is_urgent(&Level::TRACE));
    }
}
