//! Where password hashes are computed: a few dedicated threads fed by a bounded queue.
//!
//! Argon2id takes ~19 MiB and tens of milliseconds per hash on purpose. Run on the web's
//! blocking threads, every thread that ever hashed keeps its own malloc arena of that size
//! (resident memory reached ~1 GB under sign-in bursts) and a burst of sign-ins takes every
//! core from the recipients' pages. Here at most [`PasswordChecker::threads`] hashes run at
//! once (half the cores, at least one), on threads with a lower CPU priority (nice 10), so
//! public pages keep their share of the machine whatever anyone does to the sign-in form, and
//! the memory hashing can hold is bounded by the thread count. No database connection is held
//! while a hash is computed: callers read what they need first and give it back.

use secrecy::SecretString;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Jobs that may wait for a hashing thread. Past this the queue is full and the request is
/// answered "busy" at once rather than held: waiting work is bounded too.
const QUEUE_PER_THREAD: usize = 64;

/// Nice value of the hashing threads: a sign-in waits for a page a recipient asked for.
const HASHING_NICENESS: i32 = 10;

/// The queue was full: too many sign-ins at once. Answer 503 and let the client retry.
#[derive(Debug, thiserror::Error)]
#[error("too many password checks waiting")]
pub struct CheckerBusy;

enum Job {
    Verify {
        password: SecretString,
        /// `None`: no such account; checked against a dummy hash so it costs the same.
        stored_hash: Option<String>,
        answer: oneshot::Sender<bool>,
    },
    Hash {
        password: SecretString,
        answer: oneshot::Sender<anyhow::Result<String>>,
    },
}

#[derive(Clone)]
pub struct PasswordChecker {
    queue: SyncSender<Job>,
    threads: usize,
}

impl PasswordChecker {
    /// Starts the hashing threads: half the cores, at least one. They end when the last
    /// clone of the checker is dropped.
    pub fn start() -> std::io::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::with_threads((cores / 2).max(1))
    }

    pub fn with_threads(threads: usize) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let (queue, jobs) = sync_channel(threads * QUEUE_PER_THREAD);
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads {
            let jobs = Arc::clone(&jobs);
            std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || run(&jobs))?;
        }
        Ok(Self { queue, threads })
    }

    /// How many hashes may run at once.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// True when `password` matches `stored_hash`; with `None` (unknown account) the work of
    /// a check is done against a dummy hash and the answer is false.
    pub async fn verify(
        &self,
        password: SecretString,
        stored_hash: Option<String>,
    ) -> Result<bool, CheckerBusy> {
        let (answer, answered) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            stored_hash,
            answer,
        })?;
        // A dropped answer means the thread died mid-check: not a match.
        Ok(answered.await.unwrap_or(false))
    }

    /// A new Argon2id hash of `password` (a password change).
    pub async fn hash(
        &self,
        password: SecretString,
    ) -> Result<anyhow::Result<String>, CheckerBusy> {
        let (answer, answered) = oneshot::channel();
        self.submit(Job::Hash { password, answer })?;
        Ok(answered
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the hashing thread stopped"))))
    }

    fn submit(&self, job: Job) -> Result<(), CheckerBusy> {
        self.queue.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) | TrySendError::Disconnected(_) => CheckerBusy,
        })
    }
}

fn run(jobs: &Mutex<Receiver<Job>>) {
    lower_this_threads_priority();
    loop {
        // The lock is held only while taking the next job, never while hashing.
        let next = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else {
            return; // every sender dropped: the server is stopping
        };
        match job {
            Job::Verify {
                password,
                stored_hash,
                answer,
            } => {
                let matched = match &stored_hash {
                    Some(stored) => super::verify(&password, stored),
                    None => {
                        super::verify_against_dummy(&password);
                        false
                    }
                };
                let _ = answer.send(matched);
            }
            Job::Hash { password, answer } => {
                let _ = answer.send(super::hash(&password));
            }
        }
    }
}

/// Makes every allocation of a MiB or more its own mapping, given back to the system when
/// freed. Each Argon2 check allocates its ~19 MiB of blocks anew (64-byte aligned); glibc
/// serves aligned allocations that size from the heap once its adaptive threshold has risen,
/// and the heap kept ~8 of them: one hashing thread held 244 MiB after 1,000 failed sign-ins.
/// With a fixed threshold the hashing threads hold at most their blocks in flight. Process-wide,
/// so the binary calls it once at start; big allocations elsewhere (import buffers) also go
/// back to the system when freed, which is what a long-running service wants of them.
pub fn release_big_allocations_when_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; any value is valid for this one.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

/// On Linux a nice value set for a thread id applies to that thread only. Failing to lower it
/// (not permitted, say) leaves the thread as it was: nothing to report.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid has no preconditions; setpriority only reads its integer arguments.
    unsafe {
        let thread_id = libc::gettid();
        let _ = libc::setpriority(
            libc::PRIO_PROCESS,
            thread_id as libc::id_t,
            HASHING_NICENESS,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::rt::test]
    async fn checks_run_on_the_pool_and_unknown_accounts_never_match() {
        let checker = PasswordChecker::with_threads(1).unwrap();
        let stored = checker
            .hash(SecretString::from("correct horse battery"))
            .await
            .unwrap()
            .unwrap();
        assert!(
            checker
                .verify(
                    SecretString::from("correct horse battery"),
                    Some(stored.clone())
                )
                .await
                .unwrap()
        );
        assert!(
            !checker
                .verify(SecretString::from("wrong horse battery"), Some(stored))
                .await
                .unwrap()
        );
        assert!(
            !checker
                .verify(SecretString::from("correct horse battery"), None)
                .await
                .unwrap()
        );
    }

    #[test]
    fn a_full_queue_answers_busy_instead_of_holding_the_request() {
        // A queue with room for one job and no thread taking jobs off it.
        let (queue, jobs) = sync_channel(1);
        let checker = PasswordChecker { queue, threads: 1 };
        let (answer, _answered) = oneshot::channel();
        checker
            .submit(Job::Hash {
                password: SecretString::from("x"),
                answer,
            })
            .unwrap();
        let (answer, _answered) = oneshot::channel();
        assert!(
            checker
                .submit(Job::Hash {
                    password: SecretString::from("x"),
                    answer,
                })
                .is_err()
        );
        drop(jobs);
    }
}
