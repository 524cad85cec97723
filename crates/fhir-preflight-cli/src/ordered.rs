//! Several inputs validated at the same time, with every output as if they had been validated one
//! after the other.
//!
//! Two things a run produces depend on the order of the inputs: the streamed formats on standard
//! output (`ndjson`, `operationoutcome`, `sarif`), and the core's duplicate `(resourceType, id)`
//! detection (`fhir_preflight::RunChecks`: the *later* line is the duplicate). Each input being validated has a [`Lane`]. The lane of the
//! first unfinished input writes through to [`Shared`] at once; the lanes of later inputs append
//! to a [`Spool`] — memory up to [`SPOOL_MEMORY`], then an unnamed temporary file — which is
//! replayed, in order, when the input before has finished. So a single big input streams as it
//! goes, outputs are byte-identical whatever the number of threads, and memory stays bounded by
//! the number of inputs in flight (the scheduler in `validate.rs` bounds that).
//!
//! The temporary file is created unnamed (`O_TMPFILE` where the OS has it), owner-only, and is gone
//! when the run ends, even if it is killed: it holds diagnostics, which may quote health data.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::sync::Mutex;

use fhir_preflight::RunChecks;

use crate::stream::Out;

/// A spool keeps this much in memory before it moves to a temporary file.
pub(crate) const SPOOL_MEMORY: usize = 4 << 20;

/// What the lanes write into, under one lock.
pub(crate) struct Shared {
    /// The streamed format, if one was asked for.
    pub(crate) out: Option<Out>,
    /// The core's run-level rules (duplicate ids), fed in input order.
    pub(crate) run: RunChecks,
    /// The first failure to write standard output or a spool; the run publishes nothing then.
    pub(crate) error: Option<io::Error>,
}

impl Shared {
    pub(crate) fn new(out: Option<Out>) -> Self {
        Shared { out, run: RunChecks::default(), error: None }
    }

    pub(crate) fn items(&mut self, items: &[u8]) {
        if let (Some(out), None) = (self.out.as_mut(), &self.error) {
            if let Err(e) = out.items(items) {
                self.error = Some(e);
            }
        }
    }
}

/// Bytes in memory up to [`SPOOL_MEMORY`], then in an unnamed temporary file.
#[derive(Default)]
pub(crate) struct Spool {
    memory: Vec<u8>,
    file: Option<BufWriter<File>>,
    error: Option<io::Error>,
}

impl Spool {
    fn write(&mut self, bytes: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if self.file.is_none() && self.memory.len() + bytes.len() <= SPOOL_MEMORY {
            self.memory.extend_from_slice(bytes);
            return;
        }
        let result = match &mut self.file {
            Some(file) => file.write_all(bytes),
            None => tempfile::tempfile().and_then(|f| {
                let mut file = BufWriter::with_capacity(1 << 16, f);
                file.write_all(bytes)?;
                self.file = Some(file);
                Ok(())
            }),
        };
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// Everything written, from the start.
    fn into_reader(self) -> io::Result<impl Read> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let file = match self.file {
            Some(file) => {
                let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.rewind()?;
                Some(BufReader::with_capacity(1 << 16, file))
            }
            None => None,
        };
        Ok(io::Cursor::new(self.memory)
            .chain(file.map_or_else(|| Box::new(io::empty()) as Box<dyn Read>, |f| Box::new(f))))
    }
}

// Spooled records: a tag byte, then the fields.
const TAG_ITEMS: u8 = 0;
const TAG_ID: u8 = 1;

fn put_bytes(spool: &mut Spool, bytes: &[u8]) {
    spool.write(&(bytes.len() as u64).to_le_bytes());
    spool.write(bytes);
}

fn get_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn get_bytes(r: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<()> {
    let len = get_u64(r)?;
    buf.clear();
    r.take(len).read_to_end(buf)?;
    if buf.len() as u64 != len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "spool ends early"));
    }
    Ok(())
}

/// A lane writes straight through in blocks of this size (fewer lock round trips with the other
/// threads than one per line).
const DIRECT_BLOCK: usize = 64 << 10;

struct LaneState {
    spool: Spool,
    /// The lane's turn has come: its spool goes to [`Shared`] in blocks, and at the end.
    direct: bool,
}

/// One input's way into [`Shared`]: through a spool, replayed when the input's turn comes and
/// from then on in blocks. Only the thread that validates the input writes to its lane, and a
/// writer releases the lane before it takes [`Shared`]; the one nesting is the scheduler's
/// (`Shared`, then the lane it turns direct), so there is no lock cycle.
pub(crate) struct Lane {
    state: Mutex<LaneState>,
}

impl Lane {
    pub(crate) fn new(direct: bool) -> Self {
        Lane { state: Mutex::new(LaneState { spool: Spool::default(), direct }) }
    }

    /// Append a record; a direct lane hands a full block to `shared`.
    fn write(&self, shared: &Mutex<Shared>, input: &str, record: impl FnOnce(&mut Spool)) {
        let block = {
            let mut state = lock(&self.state);
            record(&mut state.spool);
            let full = state.spool.memory.len() >= DIRECT_BLOCK || state.spool.file.is_some();
            (state.direct && full).then(|| std::mem::take(&mut state.spool))
        };
        if let Some(spool) = block {
            replay_into(spool, &mut lock(shared), input);
        }
    }

    /// Rendered items of the streamed format.
    pub(crate) fn items(&self, shared: &Mutex<Shared>, input: &str, items: &[u8]) {
        if items.is_empty() {
            return;
        }
        self.write(shared, input, |spool| {
            spool.write(&[TAG_ITEMS]);
            put_bytes(spool, items);
        });
    }

    /// An imported line's `(resourceType, id)`.
    pub(crate) fn id(&self, shared: &Mutex<Shared>, input: &str, line: u64, resource_type: &str, id: &str) {
        self.write(shared, input, |spool| {
            spool.write(&[TAG_ID]);
            spool.write(&line.to_le_bytes());
            put_bytes(spool, resource_type.as_bytes());
            put_bytes(spool, id.as_bytes());
        });
    }

    /// The input is validated: a direct lane hands over what it holds.
    pub(crate) fn finish(&self, shared: &Mutex<Shared>, input: &str) {
        let rest = {
            let mut state = lock(&self.state);
            state.direct.then(|| std::mem::take(&mut state.spool))
        };
        if let Some(spool) = rest {
            replay_into(spool, &mut lock(shared), input);
        }
    }

    /// The lane's turn (the inputs before it are done): replay the spool into `shared` (locked by
    /// the caller), then go direct.
    pub(crate) fn go_direct(&self, shared: &mut Shared, input: &str) {
        let spool = {
            let mut state = lock(&self.state);
            state.direct = true;
            std::mem::take(&mut state.spool)
        };
        replay_into(spool, shared, input);
    }
}

fn replay_into(spool: Spool, shared: &mut Shared, input: &str) {
    if let Err(e) = replay(spool, shared, input) {
        shared.error.get_or_insert(e);
    }
}

fn replay(spool: Spool, shared: &mut Shared, input: &str) -> io::Result<()> {
    let mut r = spool.into_reader()?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    loop {
        let mut tag = [0u8; 1];
        if r.read(&mut tag)? == 0 {
            return Ok(());
        }
        match tag[0] {
            TAG_ITEMS => {
                get_bytes(&mut r, &mut a)?;
                shared.items(&a);
            }
            TAG_ID => {
                let line = get_u64(&mut r)?;
                get_bytes(&mut r, &mut a)?;
                get_bytes(&mut r, &mut b)?;
                let (ty, id) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
                shared.run.id(input, line, &ty, &id);
            }
            other => return Err(io::Error::new(io::ErrorKind::InvalidData, format!("spool tag {other}"))),
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes_of(shared: Mutex<Shared>) -> Vec<String> {
        let shared = shared.into_inner().unwrap();
        shared.run.finish().iter().map(fhir_preflight::Diagnostic::message).collect()
    }

    /// A spooled lane replayed later gives what writing straight through in input order gives,
    /// including past the memory part of the spool.
    #[test]
    fn spooled_then_replayed_equals_direct() {
        let run = |direct: bool| {
            let shared = Mutex::new(Shared::new(None));
            let first = Lane::new(true);
            let second = Lane::new(direct);
            first.id(&shared, "a", 1, "Patient", "p1");
            // More than SPOOL_MEMORY of records, so the temporary file is used.
            let long = "x".repeat(1000);
            for i in 0..(SPOOL_MEMORY / 1000 + 100) as u64 {
                second.id(&shared, "b", i + 1, "Patient", &format!("{long}{}", i % 7));
            }
            second.id(&shared, "b", 9_999_999, "Patient", "p1");
            first.id(&shared, "a", 2, "Patient", "p1");
            first.finish(&shared, "a");
            second.go_direct(&mut lock(&shared), "b");
            second.finish(&shared, "b");
            notes_of(shared)
        };
        let (spooled, direct) = (run(false), run(true));
        // Spooled: all of a, then all of b (input order); direct: as written.
        let dups = (SPOOL_MEMORY / 1000 + 100 - 7) + 2;
        assert!(spooled[0].starts_with(&format!("{dups} lines repeat")), "{spooled:?}");
        assert!(spooled[0].contains("first: a:2 Patient/p1, b:8 Patient/"), "{spooled:?}");
        assert!(direct[0].starts_with(&format!("{dups} lines repeat")), "{direct:?}");
        assert!(direct[0].contains("first: b:8 Patient/"), "{direct:?}");
    }
}
