//! Where log lines go on their way to stderr.
//!
//! A request's line is copied into a shared buffer and the request goes on; a
//! thread of its own takes the whole buffer every 100 ms, or as soon as
//! 256 KiB wait, and writes it in one go, outside the lock, so a slow stderr
//! holds up no request until 4 MiB (some 16,000 request lines) wait. Then requests wait to log: no line is
//! dropped. tracing-appender, used before, woke its thread for nearly every
//! line: with the thread's few lines per write, that was 7 % of the CPU of a
//! small kept answer (perf, December 2026).

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How often the waiting lines are written.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);
/// How much may wait before requests wait to log.
const MAX_WAITING: usize = 4 * 1024 * 1024;
/// How much makes the writer write before its 100 ms are up: under load the
/// buffer stays small, and the writer wakes once per some 1,000 lines.
const WRITE_AT: usize = 256 * 1024;

/// The lines not yet written, shared by the loggers and the writer thread.
#[derive(Clone)]
pub struct LogBuffer(Arc<Shared>);

struct Shared {
    waiting: Mutex<Vec<u8>>,
    /// Signalled when the writer took the waiting lines.
    taken: Condvar,
    /// Signalled when [`WRITE_AT`] bytes wait.
    full: Condvar,
    /// Held while writing, so that lines leave in the order they came.
    output: Mutex<Box<dyn Write + Send>>,
}

impl LogBuffer {
    /// A buffer writing to `output` every [`FLUSH_INTERVAL`] from a thread
    /// named `jeugdregio-logs`; [`LogBuffer::flush`] writes at once.
    pub fn start(output: impl Write + Send + 'static) -> std::io::Result<Self> {
        let buffer = Self::new(output);
        let writer = buffer.clone();
        std::thread::Builder::new().name("jeugdregio-logs".into()).spawn(move || {
            loop {
                let waiting = lock(&writer.0.waiting);
                if waiting.len() < WRITE_AT {
                    let _ = writer.0.full.wait_timeout(waiting, FLUSH_INTERVAL);
                } else {
                    drop(waiting);
                }
                writer.flush();
            }
        })?;
        Ok(buffer)
    }

    fn new(output: impl Write + Send + 'static) -> Self {
        LogBuffer(Arc::new(Shared {
            waiting: Mutex::new(Vec::new()),
            taken: Condvar::new(),
            full: Condvar::new(),
            output: Mutex::new(Box::new(output)),
        }))
    }

    /// Writes every waiting line.
    pub fn flush(&self) {
        let mut output = lock(&self.0.output);
        let lines = std::mem::take(&mut *lock(&self.0.waiting));
        self.0.taken.notify_all();
        // Nowhere to say that stderr failed: the lines are lost, as with eprintln.
        let _ = output.write_all(&lines).and_then(|()| output.flush());
    }

    /// Adds one formatted line (or part of one), waiting while the buffer is full.
    fn append(&self, line: &[u8]) {
        let mut waiting = lock(&self.0.waiting);
        while !waiting.is_empty() && waiting.len() + line.len() > MAX_WAITING {
            waiting = self.0.taken.wait(waiting).unwrap_or_else(PoisonError::into_inner);
        }
        let below = waiting.len() < WRITE_AT;
        waiting.extend_from_slice(line);
        if below && waiting.len() >= WRITE_AT {
            self.0.full.notify_one();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = &'a LogBuffer;

    fn make_writer(&'a self) -> &'a LogBuffer {
        self
    }
}

impl Write for &LogBuffer {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        self.append(line);
        Ok(line.len())
    }

    /// Lines are written every [`FLUSH_INTERVAL`] and by [`LogBuffer::flush`], not one by one.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output whose bytes the test can read.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_wait_until_flushed_and_then_leave_in_order() {
        let sink = Sink::default();
        let buffer = LogBuffer::new(sink.clone());
        (&buffer).write_all(b"first\n").unwrap();
        (&buffer).write_all(b"second\n").unwrap();
        assert!(sink.0.lock().unwrap().is_empty(), "nothing is written line by line");
        buffer.flush();
        assert_eq!(&sink.0.lock().unwrap()[..], b"first\nsecond\n");
    }

    #[test]
    fn a_full_buffer_makes_the_logger_wait_instead_of_dropping_lines() {
        let sink = Sink::default();
        let buffer = LogBuffer::new(sink.clone());
        let line = vec![b'x'; MAX_WAITING / 2 + 1];
        (&buffer).write_all(&line).unwrap();
        let logger = {
            let buffer = buffer.clone();
            let line = line.clone();
            std::thread::spawn(move || (&buffer).write_all(&line).unwrap())
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!logger.is_finished(), "the second line does not fit and waits");
        buffer.flush();
        logger.join().unwrap();
        buffer.flush();
        assert_eq!(sink.0.lock().unwrap().len(), 2 * line.len(), "both lines were written");
    }
}
