//! Ctrl-C: exit at once with status 130 and publish nothing, whatever the run is blocked on
//! (standard input, a slow disk, a full pool).
//!
//! The signal handler (ctrlc's own thread) takes the [`Cleanup`] lock, removes what the run has
//! staged — and the output folder if the run created it — and exits. Publishing (the few renames
//! that move records and the manifest into place) holds the same lock, so a signal during it waits
//! for it to finish: a run is either published whole, or not at all. A signal after publishing
//! leaves the run to end normally.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Exit status of an interrupted run (128 + SIGINT).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static CLEANUP: Mutex<Cleanup> = Mutex::new(Cleanup::Nothing);

/// What the handler must undo.
#[derive(Debug)]
pub(crate) enum Cleanup {
    /// No output folder (yet): nothing to remove.
    Nothing,
    /// Records being written into `staging`; `created`: the folders this run made for the output
    /// folder, deepest first.
    Staged { staging: PathBuf, created: Vec<PathBuf> },
    /// The outputs are published: a late signal changes nothing.
    Published,
}

impl Cleanup {
    /// Remove what is staged, and the folders this run created for the output (when empty).
    pub(crate) fn undo(&self) {
        if let Cleanup::Staged { staging, created } = self {
            crate::output::remove_staging(staging);
            for dir in created {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

pub(crate) fn install() {
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        let cleanup = state();
        if matches!(*cleanup, Cleanup::Published) {
            return;
        }
        cleanup.undo();
        eprintln!("fhir-preflight: interrupted; nothing was published");
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
}

pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The cleanup state, locked: publishing holds it so that a signal waits for the renames.
pub(crate) fn state() -> MutexGuard<'static, Cleanup> {
    CLEANUP.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
