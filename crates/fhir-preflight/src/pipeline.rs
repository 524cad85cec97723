//! Batches validated in the background (the `parallel` feature, more than one thread).
//!
//! When a batch is full it is handed, owned, to a rayon job that validates its lines in parallel
//! and leaves the results in a slot; the calling thread goes on reading and framing the next batch
//! at once, and takes the results in order later. So reading, framing and the sink (writing
//! records, say) run beside validation instead of between batches, and the pool does not wait at
//! batch boundaries. While it waits for a result, a calling thread that belongs to the pool runs
//! pool jobs (it helps validate); any other thread sleeps on a condition variable.
//!
//! A panic outside a line's own guard cannot hang the wait: the job catches it and reports every
//! line of the batch as a server error.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::json::framing::Batch;
use crate::line::{self, LineOutcome};
use crate::Options;

/// A validated batch and its results, in line order.
pub(crate) type Done = (Batch, Vec<LineOutcome>);

/// Where a job leaves its results.
#[derive(Default)]
struct Slot {
    done: Mutex<Option<Done>>,
    filled: Condvar,
}

/// The batches handed to the pool, oldest first.
#[derive(Default)]
pub(crate) struct Pipeline {
    queue: VecDeque<Arc<Slot>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("in_flight", &self.queue.len()).finish()
    }
}

impl Pipeline {
    /// Batches in flight.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Validate `batch` on `pool` (or the current pool) in the background.
    pub(crate) fn launch(&mut self, batch: Batch, options: &Options, pool: Option<&rayon::ThreadPool>) {
        let slot = Arc::new(Slot::default());
        let job_slot = Arc::clone(&slot);
        let options = options.clone();
        let job = move || {
            let outcomes = catch_unwind(AssertUnwindSafe(|| crate::validator::validate_lines(&batch, &options, true)))
                .unwrap_or_else(|_| {
                    let what = "the validator failed on this batch of lines";
                    batch.lines.iter().map(|l| line::server_error(l.number, l.offset, what)).collect()
                });
            *job_slot.done.lock().unwrap_or_else(PoisonError::into_inner) = Some((batch, outcomes));
            job_slot.filled.notify_all();
        };
        match pool {
            Some(pool) => pool.spawn(job),
            None => rayon::spawn(job),
        }
        self.queue.push_back(slot);
    }

    /// The oldest batch's results, once ready. `own_pool`: the batches run on a pool this thread
    /// is not part of (so it cannot help).
    pub(crate) fn next(&mut self, own_pool: bool) -> Option<Done> {
        let slot = self.queue.pop_front()?;
        if !own_pool && rayon::current_thread_index().is_some() {
            // On a pool thread: run pool jobs (this batch's lines among them) until it is done.
            loop {
                if let Some(done) = slot.done.lock().unwrap_or_else(PoisonError::into_inner).take() {
                    return Some(done);
                }
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    std::thread::yield_now();
                }
            }
        }
        let mut done = slot.done.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(result) = done.take() {
                return Some(result);
            }
            done = slot.filled.wait(done).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::framing::PendingLine;
    use crate::line::LineStatus;

    fn batch(lines: &[(usize, usize)]) -> Batch {
        let buf = b"{\"resourceType\":\"Patient\",\"id\":\"a\"}".to_vec();
        let lines = lines
            .iter()
            .enumerate()
            .map(|(i, &(start, end))| PendingLine { start, end, number: i as u64 + 1, offset: 0, too_long: None })
            .collect();
        Batch { buf, lines, line_bytes: 0 }
    }

    #[test]
    fn results_come_back_in_launch_order() {
        let mut pipeline = Pipeline::default();
        let options = Options::default();
        pipeline.launch(batch(&[(0, 35), (0, 10)]), &options, None);
        pipeline.launch(batch(&[(0, 35)]), &options, None);
        assert_eq!(pipeline.len(), 2);
        let (_, first) = pipeline.next(false).expect("first batch");
        let statuses: Vec<LineStatus> = first.iter().map(|o| o.status).collect();
        assert_eq!(statuses, [LineStatus::Imported, LineStatus::CustomerError]);
        let (_, second) = pipeline.next(false).expect("second batch");
        assert_eq!(second.len(), 1);
        assert!(pipeline.next(false).is_none());
    }

    /// A panic outside any line's own guard (here: a line span outside the buffer) turns the whole
    /// batch into server errors; the wait ends, on a pool thread and off it.
    #[test]
    fn a_panic_in_a_batch_is_server_errors_not_a_hang() {
        let options = Options::default();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
        for on_pool in [false, true] {
            let run = || {
                let mut pipeline = Pipeline::default();
                pipeline.launch(batch(&[(0, 35), (0, 10_000)]), &options, None);
                pipeline.next(false).expect("results")
            };
            let (_, outcomes) = if on_pool { pool.install(run) } else { run() };
            assert_eq!(outcomes.len(), 2);
            assert!(outcomes.iter().all(|o| o.status == LineStatus::ServerError), "on pool: {on_pool}");
        }
    }
}
