//! The access log's writer: tracing-appender's non-blocking writer. A
//! request hands its formatted line to a bounded queue that a background
//! thread writes to stderr, so a request makes no write system call. When
//! the queue is full (stderr is a pipe nobody reads, or a paused terminal)
//! new lines are dropped: logging must never stall a tokio worker, and with
//! it the requests the worker serves.

use std::io::Write;

use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};

/// Lines queued at most before new ones are dropped (tracing-appender's
/// default: about 13 MB of typical access-log lines).
const QUEUED_LINES: usize = 128_000;

/// The writer to give `tracing_subscriber::fmt().with_writer(..)`, and the
/// guard that writes what is queued when dropped: keep it alive as long as
/// the process logs (e.g. in `main`'s scope).
pub fn stderr_writer() -> (NonBlocking, WorkerGuard) {
    non_blocking(std::io::stderr(), QUEUED_LINES)
}

fn non_blocking(out: impl Write + Send + 'static, lines: usize) -> (NonBlocking, WorkerGuard) {
    NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(lines)
        .thread_name("log-writer")
        .finish(out)
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Condvar, Mutex, PoisonError, mpsc};
    use std::time::Duration;

    use super::*;

    /// An output whose writes wait until it is opened, like a full pipe.
    #[derive(Clone, Default)]
    struct Stalled {
        open: Arc<(Mutex<bool>, Condvar)>,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Stalled {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let (open, opened) = &*self.open;
            let guard = open.lock().unwrap_or_else(PoisonError::into_inner);
            drop(opened.wait_while(guard, |open| !*open));
            self.written
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Stalled {
        fn open(&self) {
            let (open, opened) = &*self.open;
            *open.lock().unwrap_or_else(PoisonError::into_inner) = true;
            opened.notify_all();
        }

        fn text(&self) -> String {
            let written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
            String::from_utf8_lossy(&written).into_owned()
        }
    }

    #[test]
    fn a_stalled_output_drops_lines_instead_of_blocking_the_caller() {
        let out = Stalled::default();
        let (writer, guard) = non_blocking(out.clone(), 4);
        let subscriber = tracing_subscriber::fmt()
            .with_writer(writer)
            .with_ansi(false)
            .without_time()
            .finish();
        let (done, logged) = mpsc::channel();
        std::thread::spawn(move || {
            tracing::subscriber::with_default(subscriber, || {
                for n in 0..1000 {
                    tracing::info!("line {n}");
                }
            });
            let _ = done.send(());
        });
        // Only a blocked caller misses this deadline.
        logged
            .recv_timeout(Duration::from_secs(30))
            .expect("logging returned while the output was stalled");
        out.open();
        drop(guard);
        let text = out.text();
        assert!(text.contains("line 0\n"), "{text}");
        // The one line being written and the four queued; the rest dropped.
        assert!(text.lines().count() <= 5, "{text}");
    }
}
