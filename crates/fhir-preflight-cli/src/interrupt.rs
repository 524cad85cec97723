//! Ctrl-C: stop reading, publish nothing, exit 130. The first signal sets a flag that the reading
//! loop sees at its next read; if the run is blocked (on standard input, say), a watchdog removes
//! the staging folder and exits 130 two seconds later. The manifest is written last, atomically,
//! so an interrupted run never leaves one that looks complete.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Exit status of an interrupted run (128 + SIGINT).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static STAGING: Mutex<Option<PathBuf>> = Mutex::new(None);

pub(crate) fn install() {
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        std::thread::spawn(|| {
            std::thread::sleep(Duration::from_secs(2));
            remove_staging();
            eprintln!("fhir-preflight: interrupted; no manifest was written");
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        });
    });
}

pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The staging folder to remove if the watchdog has to exit.
pub(crate) fn set_staging(path: Option<PathBuf>) {
    if let Ok(mut slot) = STAGING.lock() {
        *slot = path;
    }
}

fn remove_staging() {
    if let Ok(slot) = STAGING.lock() {
        if let Some(path) = slot.as_ref() {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// A reader that fails once Ctrl-C was pressed.
pub(crate) struct Interruptible<R>(pub(crate) R);

impl<R: Read> Read for Interruptible<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if interrupted() {
            return Err(io::Error::other("interrupted"));
        }
        self.0.read(buf)
    }
}
