//! Progress on standard error for long runs (indicatif), only when standard error is a terminal and
//! not `--quiet`; silent when piped. With a known size (files only): a bar with bytes, rate, lines
//! and ETA. With an unknown size (standard input among the inputs): a spinner with bytes, rate and
//! lines — no total and no ETA, which would be made up.

use std::io::{self, IsTerminal, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::inputs::Input;

/// The progress display and its line counter (bumped by each input's sink).
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    pub(crate) bar: ProgressBar,
    pub(crate) lines: Arc<AtomicU64>,
}

/// The template for a known total, or for an unknown one.
fn template(known_total: bool) -> &'static str {
    if known_total {
        "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} {lines} ETA {eta} {msg}"
    } else {
        "{spinner} {bytes} {bytes_per_sec} {lines} {msg}"
    }
}

/// The display for `inputs`, or `None` when progress should not be shown.
pub(crate) fn bar(inputs: &[Input], quiet: bool) -> Option<Progress> {
    if quiet || !io::stderr().is_terminal() {
        return None;
    }
    Some(display(inputs, ProgressDrawTarget::stderr_with_hz(8)))
}

fn display(inputs: &[Input], target: ProgressDrawTarget) -> Progress {
    let known = inputs.iter().all(|i| i.path.is_some() || i.s3.is_some());
    let total: u64 = inputs.iter().filter_map(Input::size).sum();
    let bar = ProgressBar::with_draw_target(known.then_some(total), target);
    let lines = Arc::new(AtomicU64::new(0));
    let counter = lines.clone();
    let style = ProgressStyle::with_template(template(known))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("lines", move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let n = counter.load(Ordering::Relaxed);
            let _ = write!(w, "{n} {}", if n == 1 { "line" } else { "lines" });
        });
    bar.set_style(style);
    Progress { bar, lines }
}

/// Counts the bytes read from an input (before decompression) on the bar.
pub(crate) struct Counted<R> {
    pub(crate) inner: R,
    pub(crate) bar: Option<ProgressBar>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_size_has_no_total_and_no_eta() {
        let stdin = Input { path: None, s3: None, display: "-".into(), record_name: "stdin.ndjson".into() };
        let progress = display(&[stdin], ProgressDrawTarget::hidden());
        assert_eq!(progress.bar.length(), None);
        assert!(!template(false).contains("eta") && !template(false).contains("total"));
        assert!(template(true).contains("eta") && template(true).contains("{lines}"));
    }
}
