//! A log writer for the access log: lines go to an in-memory buffer that a
//! background thread writes to the output every few milliseconds, so a
//! request costs a short append instead of a locked write system call.
//! Warnings and errors flush at once (with the lines before them, in order).

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How often the background thread writes buffered lines.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(20);
/// A buffer this full is written by the request that filled it, so memory
/// stays bounded whatever the load.
const FLUSH_AT: usize = 64 * 1024;

type Sink = Box<dyn Write + Send>;

struct Shared {
    buffer: Mutex<Vec<u8>>,
    /// Held while writing to the output, so batches keep their order.
    out: Mutex<Output>,
}

struct Output {
    sink: Sink,
    /// Swapped with the buffer at each flush, so neither is reallocated.
    spare: Vec<u8>,
}

impl Shared {
    fn flush(&self) {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let Output { sink, spare } = &mut *out;
        std::mem::swap(
            &mut *self.buffer.lock().unwrap_or_else(PoisonError::into_inner),
            spare,
        );
        if !spare.is_empty() {
            // A log line that cannot be written has nowhere else to go.
            let _ = sink.write_all(spare);
            let _ = sink.flush();
            spare.clear();
        }
    }
}

/// The `MakeWriter` to give `tracing_subscriber::fmt().with_writer(..)`.
#[derive(Clone)]
pub struct BatchedWriter {
    shared: Arc<Shared>,
}

/// Writes what is buffered when dropped: keep it alive as long as the
/// process logs (e.g. in `main`'s scope).
pub struct FlushGuard {
    shared: Arc<Shared>,
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.flush();
    }
}

impl BatchedWriter {
    /// A writer to `out`, flushed every `interval` by a background thread
    /// that lives as long as the writer.
    pub fn new(
        out: impl Write + Send + 'static,
        interval: Duration,
    ) -> (BatchedWriter, FlushGuard) {
        let shared = Arc::new(Shared {
            buffer: Mutex::new(Vec::with_capacity(2 * FLUSH_AT)),
            out: Mutex::new(Output {
                sink: Box::new(out),
                spare: Vec::with_capacity(2 * FLUSH_AT),
            }),
        });
        let weak = Arc::downgrade(&shared);
        let spawned = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(interval);
                    match weak.upgrade() {
                        Some(shared) => shared.flush(),
                        None => break,
                    }
                }
            });
        if let Err(err) = spawned {
            // Without the thread, lines still go out when the buffer fills
            // and when the guard drops.
            eprintln!("cannot start the log writer thread: {err}");
        }
        (
            BatchedWriter {
                shared: Arc::clone(&shared),
            },
            FlushGuard { shared },
        )
    }

    /// The default: standard error.
    pub fn stderr() -> (BatchedWriter, FlushGuard) {
        BatchedWriter::new(io::stderr(), FLUSH_INTERVAL)
    }
}

/// Keeps a log writer's lines flowing; writes what is left when dropped.
pub enum LogGuard {
    Batched(FlushGuard),
    Appender(tracing_appender::non_blocking::WorkerGuard),
}

/// TEMPORARY (measurement): the access log's writer to stderr, chosen by
/// `APPSYNC_LOG_WRITER` = `batched` (default), `appender` or
/// `appender-buffered`.
pub fn stderr_writer() -> (tracing_subscriber::fmt::writer::BoxMakeWriter, LogGuard) {
    use tracing_subscriber::fmt::writer::BoxMakeWriter;
    let choice = std::env::var("APPSYNC_LOG_WRITER").unwrap_or_default();
    let appender = || {
        tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(true)
            .thread_name("log-writer")
    };
    match choice.as_str() {
        "appender" => {
            let (writer, guard) = appender().finish(io::stderr());
            (BoxMakeWriter::new(writer), LogGuard::Appender(guard))
        }
        "appender-buffered" => {
            let out = io::BufWriter::with_capacity(FLUSH_AT, io::stderr());
            let (writer, guard) = appender().finish(out);
            (BoxMakeWriter::new(writer), LogGuard::Appender(guard))
        }
        _ => {
            let (writer, guard) = BatchedWriter::stderr();
            (BoxMakeWriter::new(writer), LogGuard::Batched(guard))
        }
    }
}

/// One event's writer; `urgent` ones flush when dropped.
pub struct EventWriter<'a> {
    shared: &'a Shared,
    urgent: bool,
}

impl Write for EventWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let full = {
            let mut buffer = self
                .shared
                .buffer
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            buffer.extend_from_slice(bytes);
            buffer.len() >= FLUSH_AT
        };
        if full {
            self.shared.flush();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for EventWriter<'_> {
    fn drop(&mut self) {
        if self.urgent {
            self.shared.flush();
        }
    }
}

impl<'a> MakeWriter<'a> for BatchedWriter {
    type Writer = EventWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter {
            shared: &self.shared,
            urgent: true,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        EventWriter {
            shared: &self.shared,
            urgent: *meta.level() <= tracing::Level::WARN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Capture {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner))
                .into_owned()
        }
    }

    #[test]
    fn info_lines_wait_for_the_flush_and_warnings_flush_in_order() {
        let out = Capture::default();
        // An interval no test waits for: only explicit flushes write.
        let (writer, guard) = BatchedWriter::new(out.clone(), Duration::from_secs(3600));
        let subscriber = tracing_subscriber::fmt()
            .with_writer(writer)
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("first");
            assert_eq!(out.text(), "");
            tracing::warn!("second");
            let text = out.text();
            let first = text.find("first");
            let second = text.find("second");
            assert!(first.is_some() && first < second, "{text}");
            tracing::info!("third");
        });
        assert!(!out.text().contains("third"));
        drop(guard);
        assert!(out.text().contains("third"));
    }
}
