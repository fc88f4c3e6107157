//! A progress bar on stderr while large inputs are read: only on a terminal, only for inputs
//! of 64 MiB or more, never mixed into the report (which goes to stdout). Its word is in the
//! reader's language (`progress-reading`).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tomskype::analyze::Progress;
use tomskype::report::lang::Messages;

/// Inputs smaller than this finish too fast for a bar to help.
const MIN_BYTES: u64 = 64 << 20;

/// Runs `work` with a progress counter, drawing a bar on stderr when it is a terminal.
pub fn run<T>(total: u64, wanted: bool, m: &Messages, work: impl FnOnce(&Progress) -> T) -> T {
    let progress = Progress::default();
    let show = wanted && total >= MIN_BYTES && std::io::stderr().is_terminal();
    if !show {
        return work(&progress);
    }
    let done = AtomicBool::new(false);
    let reading = m.text("progress-reading");
    std::thread::scope(|s| {
        let bar = s.spawn(|| {
            let start = Instant::now();
            while !done.load(Ordering::Acquire) {
                // Woken early when the work is done, so the bar never delays the exit.
                std::thread::park_timeout(Duration::from_millis(200));
                draw(
                    &reading,
                    progress.done.load(Ordering::Relaxed),
                    total,
                    start.elapsed(),
                );
            }
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        });
        let out = work(&progress);
        done.store(true, Ordering::Release);
        bar.thread().unpark();
        out
    })
}

fn draw(reading: &str, done: u64, total: u64, elapsed: Duration) {
    let frac = (done as f64 / total as f64).clamp(0.0, 1.0);
    let width = 30;
    let filled = (frac * width as f64) as usize;
    let rate = done as f64 / elapsed.as_secs_f64().max(1e-3) / 1e6;
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\r\x1b[2K{reading} [{}{}] {:>5.1}%  {:.0}/{:.0} MB  {rate:.0} MB/s",
        "#".repeat(filled),
        " ".repeat(width - filled),
        frac * 100.0,
        done as f64 / 1e6,
        total as f64 / 1e6,
    );
    let _ = err.flush();
}
