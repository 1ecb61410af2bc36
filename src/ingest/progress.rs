//! Progress of a long import on standard error: a bar with rate and ETA on a terminal, a
//! plain line every few seconds otherwise (logs, CI).

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Shared counters the import updates and the reporter reads.
#[derive(Debug, Default)]
pub struct Counters {
    /// Bytes of the main input read so far.
    pub bytes: AtomicU64,
    /// Records handled so far.
    pub records: AtomicU64,
    /// Set when the import is over.
    pub done: AtomicBool,
}

/// Starts the reporter thread; it stops when `done` is set.
pub fn start(
    label: String,
    total_bytes: u64,
    counters: Arc<Counters>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let tty = std::io::stderr().is_terminal();
        let started = Instant::now();
        let tick = if tty {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(2)
        };
        let mut last_line = Instant::now();
        while !counters.done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            if last_line.elapsed() < tick {
                continue;
            }
            last_line = Instant::now();
            let line = render(
                &label,
                counters.bytes.load(Ordering::Relaxed),
                total_bytes,
                counters.records.load(Ordering::Relaxed),
                started.elapsed(),
                tty,
            );
            let mut err = std::io::stderr().lock();
            if tty {
                let _ = write!(err, "\r{line}\x1b[K");
            } else {
                let _ = writeln!(err, "{line}");
            }
            let _ = err.flush();
        }
        if tty {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
        }
    })
}

/// One progress line: `label [#####-----] 45% 123 456 records, 12 345/s, ETA 0:42`.
#[must_use]
pub fn render(
    label: &str,
    bytes: u64,
    total: u64,
    records: u64,
    elapsed: Duration,
    bar: bool,
) -> String {
    let fraction = if total > 0 {
        (bytes as f64 / total as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let secs = elapsed.as_secs_f64().max(1e-3);
    let rate = records as f64 / secs;
    let eta = if fraction > 0.0 {
        let left = secs * (1.0 - fraction) / fraction;
        format!("{}:{:02}", (left / 60.0) as u64, (left % 60.0) as u64)
    } else {
        "?".to_owned()
    };
    let width = 24;
    let filled = (fraction * width as f64).round() as usize;
    let gauge = if bar {
        format!("[{}{}] ", "#".repeat(filled), "-".repeat(width - filled))
    } else {
        String::new()
    };
    format!(
        "{label} {gauge}{:>3.0}% {records} records, {rate:.0}/s, ETA {eta}",
        fraction * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_share_rate_and_time_left() {
        let line = render("import", 250, 1000, 5000, Duration::from_secs(10), true);
        assert_eq!(
            line,
            "import [######------------------]  25% 5000 records, 500/s, ETA 0:30"
        );
        let plain = render("import", 0, 0, 0, Duration::from_secs(1), false);
        assert_eq!(plain, "import   0% 0 records, 0/s, ETA ?");
    }
}
