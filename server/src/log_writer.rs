//! Where log lines go: a buffer that a background thread writes to stderr
//! in batches. A request or a delivery attempt never waits on stderr, and
//! the thread wakes at most once per `GATHER` however many lines come
//! (`tracing-appender`'s worker woke once per line: at 400 events/s that
//! was 800 thread switches a second, a visible share of the CPU an event
//! costs). A buffer half full is written at once. Nothing is dropped:
//! when stderr cannot keep up and the buffer is full, loggers wait for room.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;
use tracing_subscriber::fmt::MakeWriter;

/// How long the writer lets lines gather after the first one arrives.
const GATHER: Duration = Duration::from_millis(50);
/// Buffered bytes past which loggers wait for the writer.
const MAX_BUFFERED: usize = 1 << 20;

#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    buffer: Mutex<Buffer>,
    /// Lines arrived in an empty buffer, or the writer is to stop.
    filled: Condvar,
    /// The writer took the buffer: room again.
    drained: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // A logger that panicked mid-line leaves bytes, not broken state.
        self.buffer.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What `tracing_subscriber` writes formatted lines to.
#[derive(Clone)]
pub struct LogWriter(Arc<Shared>);

/// Stops the writer thread when dropped, after it wrote what is buffered.
pub struct FlushOnDrop {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// The writer and its flushing thread, writing to `out`.
pub fn start(out: impl Write + Send + 'static) -> std::io::Result<(LogWriter, FlushOnDrop)> {
    let shared = Arc::new(Shared::default());
    let for_thread = shared.clone();
    let thread = std::thread::Builder::new().name("log-writer".into()).spawn(move || write_out(&for_thread, out))?;
    Ok((LogWriter(shared.clone()), FlushOnDrop { shared, thread: Some(thread) }))
}

fn write_out(shared: &Shared, mut out: impl Write) {
    let mut spare = Vec::new();
    loop {
        let mut buffer = shared.lock();
        while buffer.bytes.is_empty() && !buffer.closed {
            buffer = shared.filled.wait(buffer).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if !buffer.closed {
            // Let more lines join this write, unless the buffer fills up first.
            buffer = shared
                .filled
                .wait_timeout_while(buffer, GATHER, |b| b.bytes.len() < MAX_BUFFERED / 2 && !b.closed)
                .map_or_else(|poisoned| poisoned.into_inner().0, |(buffer, _)| buffer);
        }
        let closing = buffer.closed;
        std::mem::swap(&mut buffer.bytes, &mut spare);
        drop(buffer);
        shared.drained.notify_all();
        // stderr failing (closed) leaves nothing better to do than go on.
        let _ = out.write_all(&spare).and_then(|()| out.flush());
        spare.clear();
        if closing && shared.lock().bytes.is_empty() {
            return;
        }
    }
}

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.lock();
        while buffer.bytes.len() >= MAX_BUFFERED && !buffer.closed {
            buffer = self.0.drained.wait(buffer).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        let before = buffer.bytes.len();
        buffer.bytes.extend_from_slice(bytes);
        let after = buffer.bytes.len();
        drop(buffer);
        // The writer waits for a first line, then for half a buffer (or `GATHER`).
        if before == 0 || (before < MAX_BUFFERED / 2 && after >= MAX_BUFFERED / 2) {
            self.0.filled.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.filled.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Write` whose bytes the test can read, counting the writes.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut sink = self.0.lock().expect("sink");
            sink.0.extend_from_slice(bytes);
            sink.1 += 1;
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_and_lines_share_writes() {
        let sink = Sink::default();
        let (writer, flush) = start(sink.clone()).expect("start");
        for n in 0..1_000 {
            writer.make_writer().write_all(format!("line {n}\n").as_bytes()).expect("write");
        }
        drop(flush);
        let (bytes, writes) = sink.0.lock().expect("sink").clone();
        let text = String::from_utf8(bytes).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1_000, "nothing lost");
        assert!(lines.iter().enumerate().all(|(n, l)| *l == format!("line {n}")), "in order");
        assert!(writes < 100, "1,000 lines in {writes} writes: they should be gathered");
    }

    #[test]
    fn a_full_buffer_makes_loggers_wait_not_drop() {
        let sink = Sink::default();
        let (writer, flush) = start(sink.clone()).expect("start");
        let line = vec![b'x'; 64 * 1024];
        for _ in 0..64 {
            writer.make_writer().write_all(&line).expect("write");
        }
        drop(flush);
        let (bytes, writes) = sink.0.lock().expect("sink").clone();
        assert_eq!(bytes.len(), 64 * 64 * 1024, "every byte written");
        // 4 MiB through a 1 MiB buffer: written in several goes, not held at once.
        assert!(writes >= 4, "{writes} writes");
    }
}
