//! Stage 1, capture: pipes, FIFOs and standard input, read once, on a thread of their own,
//! with a bounded wait.
//!
//! Opening a named pipe blocks until a writer comes, and reading one blocks until the writer
//! writes: an input that never delivers would stop the whole run. [`TimedStream`] opens and
//! reads the input on its own thread and hands the bytes over in chunks through a small
//! bounded channel; a reader that waits longer than the given time for the next chunk gets a
//! `TimedOut` error instead (the thread is left blocked and ends with the process). The bytes
//! are read exactly once, in order, so the format is sniffed from them without losing any.
//! Which inputs are streams, and what the reader makes of the bytes, is `file.rs`'s work.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::time::Duration;

/// Bytes handed over per chunk.
const CHUNK: usize = 256 << 10;
/// Chunks in flight between the reading thread and the reader (bounds the memory).
const IN_FLIGHT: usize = 4;

/// Where a [`TimedStream`] reads from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Standard input.
    Stdin,
    /// A path to open (a FIFO, a `/dev/fd/N` of a pipe, a device).
    Path(PathBuf),
}

/// A stream read on its own thread; each wait for more bytes is bounded.
pub(crate) struct TimedStream {
    rx: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
    wait: Duration,
    /// Bytes handed out so far.
    given: u64,
    done: bool,
}

impl TimedStream {
    /// Starts reading `source` on a thread of its own; `wait` bounds every wait for bytes (the
    /// first ones included, which covers opening a FIFO that has no writer yet); zero waits for
    /// ever.
    pub(crate) fn start(source: Source, wait: Duration) -> io::Result<TimedStream> {
        let (tx, rx) = sync_channel(IN_FLIGHT);
        std::thread::Builder::new()
            .name("stream-input".into())
            .spawn(move || {
                let mut input: Box<dyn Read> = match &source {
                    Source::Stdin => Box::new(io::stdin()),
                    Source::Path(path) => match File::open(path) {
                        Ok(file) => Box::new(file),
                        Err(err) => {
                            let _ = tx.send(Err(err));
                            return;
                        }
                    },
                };
                loop {
                    let mut buf = vec![0u8; CHUNK];
                    let got = match input.read(&mut buf) {
                        Ok(n) => n,
                        Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                        Err(err) => {
                            let _ = tx.send(Err(err));
                            return;
                        }
                    };
                    buf.truncate(got);
                    // An empty chunk says the input ended. A send fails only when the reader
                    // is gone (it timed out or stopped): then nobody wants more.
                    if tx.send(Ok(buf)).is_err() || got == 0 {
                        return;
                    }
                }
            })?;
        Ok(TimedStream {
            rx,
            chunk: Vec::new(),
            pos: 0,
            wait,
            given: 0,
            done: false,
        })
    }

    /// Bytes handed out so far.
    #[cfg(all(test, unix))]
    pub(crate) fn given(&self) -> u64 {
        self.given
    }
}

impl Read for TimedStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            let next = if self.wait.is_zero() {
                // No bound: wait for ever (a live `tcpdump -w -` on a quiet network).
                self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
            } else {
                self.rx.recv_timeout(self.wait)
            };
            match next {
                Ok(Ok(chunk)) if chunk.is_empty() => self.done = true,
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Ok(Err(err)) => {
                    self.done = true;
                    return Err(err);
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.done = true;
                    let secs = self.wait.as_secs_f64();
                    let what = if self.given == 0 {
                        format!(
                            "nothing arrived within {secs} s (a named pipe without a writer?); \
                             not read (--input-timeout sets the wait)"
                        )
                    } else {
                        format!(
                            "nothing more arrived for {secs} s after {} bytes (--input-timeout); \
                             the rest is not read",
                            self.given
                        )
                    };
                    return Err(io::Error::new(io::ErrorKind::TimedOut, what));
                }
                // The thread ended without saying why: treat it as the end of the input.
                Err(RecvTimeoutError::Disconnected) => self.done = true,
            }
        }
        let rest = self.chunk.get(self.pos..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        self.given += n as u64;
        Ok(n)
    }
}

/// Whether `path` names something to read as a stream (not a regular file or a folder).
pub(crate) fn is_stream(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

// The tests read from FIFOs (mkfifo): Unix only.
#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn fifo(dir: &Path) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let path = dir.join("f");
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        path
    }

    #[test]
    fn reads_everything_once_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = fifo(dir.path());
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let writer = {
            let (path, data) = (path.clone(), data.clone());
            std::thread::spawn(move || std::fs::write(path, data))
        };
        let mut s = TimedStream::start(Source::Path(path), Duration::from_secs(20)).unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        writer.join().unwrap().unwrap();
        assert_eq!(got, data);
        assert_eq!(s.given(), data.len() as u64);
    }

    #[test]
    fn zero_waits_for_ever() {
        let dir = tempfile::tempdir().unwrap();
        let path = fifo(dir.path());
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                std::fs::write(path, b"late")
            })
        };
        let mut s = TimedStream::start(Source::Path(path), Duration::ZERO).unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        writer.join().unwrap().unwrap();
        assert_eq!(got, b"late");
    }

    #[test]
    fn a_silent_fifo_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = fifo(dir.path());
        let mut s = TimedStream::start(Source::Path(path), Duration::from_millis(100)).unwrap();
        let err = s.read(&mut [0u8; 16]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(s.read(&mut [0u8; 16]).unwrap(), 0);
    }

    #[test]
    fn a_writer_that_stalls_times_out_after_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = fifo(dir.path());
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
                f.write_all(b"hello").unwrap();
                // Stall, with the pipe open, until the test is done.
                let _ = stop_rx.recv();
            })
        };
        let mut s = TimedStream::start(Source::Path(path), Duration::from_millis(200)).unwrap();
        let mut got = Vec::new();
        let err = s.read_to_end(&mut got).unwrap_err();
        assert_eq!(got, b"hello");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(stop_tx);
        writer.join().unwrap();
    }
}
