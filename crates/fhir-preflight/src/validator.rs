//! The push-based engine shared by the CLI and the browser: feed chunks as they arrive, get each
//! line's verdict in input order through a [`Sink`], finish with the file's [`FileReport`].
//!
//! Lines are gathered into batches of about 4 MiB; a batch is validated in parallel (rayon, with
//! the `parallel` feature) and its results are then handed to the sink in line order, so the output
//! never depends on thread count or chunk size.
//!
//! With more than one thread the work is pipelined (see `pipeline.rs`): a full batch is validated
//! in the background while the calling thread reads and frames the next one and hands earlier
//! results to the sink. At most two batches are in flight, plus the one being framed.

use std::io::Read;

use crate::diagnostic::Diagnostic;
use crate::json::framing::{Batch, Framer, PendingLine};
use crate::line::{self, LineOutcome, LineStatus};
use crate::{Error, Options};

/// The verdict on one line, as handed to a [`Sink`]. Borrowed: copy what you keep.
///
/// ```
/// let mut ids = Vec::new();
/// let mut sink = |l: &fhir_preflight::LineResult<'_>| ids.push((l.line, l.resource_id.map(str::to_owned)));
/// fhir_preflight::validate_bytes(b"\n{\"resourceType\":\"Patient\",\"id\":\"x\"}", &Default::default(), &mut sink);
/// assert_eq!(ids, vec![(2, Some("x".to_owned()))]); // physical line numbers: the blank line counts
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct LineResult<'a> {
    /// 1-based physical line number (blank lines count), HealthLake's `lineId`.
    pub line: u64,
    /// 0-based byte offset of the line's first byte in the input (in the whole file, for a part
    /// validated by [`Validator::continuing`]).
    pub byte_offset: u64,
    /// Length of the line in bytes, without its terminator.
    pub byte_len: u64,
    /// What HealthLake would do with it.
    pub status: LineStatus,
    /// The top-level `resourceType` string, if there is one (even an unknown type).
    pub resource_type: Option<&'a str>,
    /// The top-level `id` string, if there is one (even an invalid id).
    pub resource_id: Option<&'a str>,
    /// Every diagnostic of the line, in the order found.
    pub diagnostics: &'a [Diagnostic],
}

impl<'a> LineResult<'a> {
    /// The line as `--redact` shows it: no resource id, and the resource type only when it is an
    /// R4 resource type (an unknown one may be data: `"resourceType":"JohnSmithDOB"`).
    ///
    /// ```
    /// # use fhir_preflight::*;
    /// let mut seen = Vec::new();
    /// let mut sink = |l: &LineResult<'_>| seen.push((l.redacted().resource_type.map(str::to_owned), l.redacted().resource_id.is_none()));
    /// validate_bytes(b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"JohnSmith\",\"id\":\"b\"}\n", &Options::default(), &mut sink);
    /// assert_eq!(seen, [(Some("Patient".to_owned()), true), (Some("<redacted>".to_owned()), true)]);
    /// ```
    pub fn redacted(&self) -> LineResult<'a> {
        let resource_type =
            self.resource_type
                .map(|t| if crate::model::r4::is_resource_type(t) { t } else { crate::diagnostic::REDACTED });
        LineResult { resource_id: None, resource_type, ..*self }
    }
}

/// Receives each line's verdict, in input order, on the thread that calls `feed`/`finish`. A closure
/// `FnMut(&LineResult)` is a sink; so is any type implementing this trait.
///
/// ```
/// #[derive(Default)]
/// struct Count(u64);
/// impl fhir_preflight::Sink for Count {
///     fn line(&mut self, _: &fhir_preflight::LineResult<'_>) { self.0 += 1 }
/// }
/// let mut count = Count::default();
/// fhir_preflight::validate_bytes(b"{}\n{}\n", &Default::default(), &mut count);
/// assert_eq!(count.0, 2);
/// ```
pub trait Sink {
    /// One line was validated.
    fn line(&mut self, line: &LineResult<'_>);
}

impl<F: FnMut(&LineResult<'_>)> Sink for F {
    fn line(&mut self, line: &LineResult<'_>) {
        self(line)
    }
}

/// A borrowed sink, for the entry points that take `&mut S` (a closure is a sink by `&mut` too).
struct Borrowed<'a, S: ?Sized>(&'a mut S);

impl<S: Sink + ?Sized> Sink for Borrowed<'_, S> {
    fn line(&mut self, line: &LineResult<'_>) {
        self.0.line(line)
    }
}

/// A sink that ignores lines (when only the counts matter).
///
/// ```
/// let report = fhir_preflight::validate_bytes(b"{}\n", &Default::default(), &mut fhir_preflight::Discard);
/// assert_eq!(report.resources_customer_error, 1);
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl Sink for Discard {
    fn line(&mut self, _: &LineResult<'_>) {}
}

/// Counts and file-level diagnostics of one input.
///
/// ```
/// let report = fhir_preflight::validate_bytes(b"\xEF\xBB\xBF\n{}\n", &Default::default(), &mut fhir_preflight::Discard);
/// assert_eq!((report.bytes_scanned, report.blank_lines, report.resources_scanned), (7, 1, 1));
/// assert_eq!(report.diagnostics.len(), 2); // the byte-order mark and the blank line
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileReport {
    /// Bytes read (after decompression), every byte counted.
    pub bytes_scanned: u64,
    /// Bytes of imported lines, without terminators.
    pub bytes_imported: u64,
    /// Non-blank lines.
    pub resources_scanned: u64,
    /// Lines without error.
    pub resources_imported: u64,
    /// Lines rejected because of the data.
    pub resources_customer_error: u64,
    /// Lines the validator failed on.
    pub resources_server_error: u64,
    /// Blank lines (not resources, not scanned).
    pub blank_lines: u64,
    /// The first blank line's number, if any.
    pub first_blank_line: Option<u64>,
    /// File-level diagnostics: what the file is (gzip, UTF-16, a JSON array: errors), a byte-order
    /// mark, blank lines (warnings). They never change the counts: every line is judged alone.
    pub diagnostics: Vec<Diagnostic>,
}

impl FileReport {
    /// Add the report of the part of the same file that follows this one (see
    /// [`Validator::continuing`]): counts added, the blank-lines note said once for the whole, so
    /// that the reports of a file's consecutive parts add up to the report of the whole file.
    ///
    /// ```
    /// use fhir_preflight::{validate_bytes, Discard, Options, Validator};
    /// let file = b"\xEF\xBB\xBF{\"resourceType\":\"Patient\",\"id\":\"a\"}\n\n{}\n\n";
    /// let o = Options::default();
    /// let mut whole = validate_bytes(&file[..40], &o, &mut Discard);
    /// let mut rest = Validator::continuing(&o, Discard, 3, 40);
    /// rest.feed(&file[40..]);
    /// whole.then(rest.finish());
    /// assert_eq!(whole, validate_bytes(file, &o, &mut Discard));
    /// ```
    pub fn then(&mut self, next: FileReport) {
        let blank = |d: &Diagnostic| d.code() == crate::Code::NdjsonBlankLine;
        self.diagnostics.retain(|d| !blank(d));
        self.diagnostics.extend(next.diagnostics.into_iter().filter(|d| !blank(d)));
        self.bytes_scanned += next.bytes_scanned;
        self.bytes_imported += next.bytes_imported;
        self.resources_scanned += next.resources_scanned;
        self.resources_imported += next.resources_imported;
        self.resources_customer_error += next.resources_customer_error;
        self.resources_server_error += next.resources_server_error;
        self.blank_lines += next.blank_lines;
        self.first_blank_line = self.first_blank_line.or(next.first_blank_line);
        if let Some(first) = self.first_blank_line {
            self.diagnostics.push(crate::check::file::blank_lines(self.blank_lines, first));
        }
    }
}

/// Validates one input pushed in chunks of any size.
///
/// ```
/// use fhir_preflight::{LineStatus, Options, Validator};
/// let mut failed = Vec::new();
/// let mut sink = |line: &fhir_preflight::LineResult<'_>| {
///     if line.status != LineStatus::Imported {
///         failed.push(line.line);
///     }
/// };
/// let mut validator = Validator::new(&Options::default(), &mut sink);
/// validator.feed(b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Pat");
/// validator.feed(b"ient\"}\n");
/// let report = validator.finish();
/// assert_eq!(report.resources_scanned, 2);
/// assert_eq!(report.resources_customer_error, 1); // line 2 has no id
/// assert_eq!(failed, vec![2]);
/// ```
pub struct Validator<S: Sink> {
    options: Options,
    framer: Framer,
    batch: Batch,
    /// Batches validated in the background (more than one thread).
    #[cfg(feature = "parallel")]
    pipeline: crate::pipeline::Pipeline,
    /// A batch buffer to reuse.
    #[cfg(feature = "parallel")]
    spare: Batch,
    sink: S,
    report: FileReport,
    /// The file's first bytes, until [`crate::json::sniff::SNIFF_BYTES`] decide what kind of file it is.
    head: Option<Vec<u8>>,
    #[cfg(feature = "parallel")]
    pool: Option<rayon::ThreadPool>,
}

impl<S: Sink> std::fmt::Debug for Validator<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("options", &self.options)
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

impl<S: Sink> Validator<S> {
    /// A validator for one input. With `threads > 1` (and the `parallel` feature) it makes its own
    /// thread pool; with 0 it uses the current rayon pool; with 1 it runs on the calling thread.
    /// The sink is owned (get it back with [`Validator::finish_with_sink`]); a `&mut` closure is a
    /// sink too.
    pub fn new(options: &Options, sink: S) -> Self {
        crate::walk::memo::new_run();
        Validator {
            options: options.clone(),
            framer: Framer::new(options.max_line_bytes),
            batch: Batch::default(),
            #[cfg(feature = "parallel")]
            pipeline: Default::default(),
            #[cfg(feature = "parallel")]
            spare: Batch::default(),
            sink,
            report: FileReport::default(),
            head: Some(Vec::new()),
            #[cfg(feature = "parallel")]
            pool: (options.threads > 1)
                .then(|| rayon::ThreadPoolBuilder::new().num_threads(options.threads).build().ok())
                .flatten(),
        }
    }

    /// A validator for the part of a file that starts at a line start other than the first: its
    /// first line is numbered `line` (1-based) and starts at byte `offset` of the file, so line
    /// numbers, byte offsets and records are those of validating the whole file. The file's first
    /// bytes are not there, so nothing is said about them (byte-order mark, kind of file); the
    /// report's `bytes_scanned` is this part's. Parts cut at newlines and validated this way add
    /// up, line for line, to the whole file (the Python package's `byte_range`, the Spark job).
    ///
    /// ```
    /// use fhir_preflight::{Options, Validator};
    /// let file = b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Patient\"}\n";
    /// let mut failed = Vec::new();
    /// let mut sink = |l: &fhir_preflight::LineResult<'_>| failed.push(l.line);
    /// let mut part = Validator::continuing(&Options::default(), &mut sink, 2, 36);
    /// part.feed(&file[36..]);
    /// let report = part.finish();
    /// assert_eq!((report.resources_scanned, report.bytes_scanned), (1, 27));
    /// assert_eq!(failed, vec![2]);
    /// ```
    pub fn continuing(options: &Options, sink: S, line: u64, offset: u64) -> Self {
        let mut validator = Validator::new(options, sink);
        validator.framer.resume(line.max(1), offset);
        validator.head = None;
        validator
    }

    /// Push the next bytes of the input. Complete lines are validated as batches fill up.
    pub fn feed(&mut self, mut chunk: &[u8]) {
        if let Some(head) = &mut self.head {
            let take = chunk.len().min(crate::json::sniff::SNIFF_BYTES - head.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() >= crate::json::sniff::SNIFF_BYTES {
                self.sniff();
            }
        }
        while !chunk.is_empty() {
            let used = self.framer.feed(chunk, &mut self.batch, self.options.batch_bytes);
            chunk = &chunk[used..];
            if self.batch_full() {
                if self.pipelined() {
                    self.launch();
                } else {
                    self.flush();
                }
            }
        }
    }

    fn batch_full(&self) -> bool {
        self.batch.is_full(self.options.batch_bytes)
    }

    /// More than one thread: validate batches in the background of framing and delivery.
    fn pipelined(&self) -> bool {
        cfg!(feature = "parallel") && self.options.threads != 1
    }

    /// The batch is full. Wait for the batch before it (helping the pool meanwhile, when on it:
    /// only that batch's work is there to help with), hand this one to the pool, start the next
    /// one with the line being read, and give the earlier results to the sink while the pool works.
    #[cfg(feature = "parallel")]
    fn launch(&mut self) {
        let own_pool = self.pool.is_some();
        let previous = self.pipeline.next(own_pool);
        let mut full = std::mem::take(&mut self.spare);
        std::mem::swap(&mut full, &mut self.batch);
        self.framer.handover(&full, &mut self.batch);
        self.pipeline.launch(full, &self.options, self.pool.as_ref());
        if let Some((done, outcomes)) = previous {
            deliver(&mut self.report, &mut self.sink, &done, &outcomes);
            self.spare = done;
        }
    }

    #[cfg(not(feature = "parallel"))]
    fn launch(&mut self) {
        self.flush();
    }

    /// The oldest background batch's results, to the sink.
    #[cfg(feature = "parallel")]
    fn deliver_next(&mut self) {
        if let Some((done, outcomes)) = self.pipeline.next(self.pool.is_some()) {
            deliver(&mut self.report, &mut self.sink, &done, &outcomes);
            self.spare = done;
        }
    }

    /// Every background batch's results, to the sink, in order.
    fn deliver_ready(&mut self) {
        #[cfg(feature = "parallel")]
        while self.pipeline.len() > 0 {
            self.deliver_next();
        }
    }

    /// End of input: validate what is left and return the file's report.
    pub fn finish(self) -> FileReport {
        self.finish_with_sink().0
    }

    /// [`Validator::finish`], giving the sink back.
    pub fn finish_with_sink(mut self) -> (FileReport, S) {
        self.framer.finish(&mut self.batch);
        self.deliver_ready();
        self.flush();
        self.close()
    }

    /// The sink (for draining what it gathered mid-file; see [`Validator::lines_validated`] for
    /// how far behind the input it may be).
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// Bytes pushed so far.
    pub fn bytes_fed(&self) -> u64 {
        self.framer.offset - self.framer.start
    }

    /// Lines (non-blank) validated and handed to the sink so far. With more than one thread the
    /// sink runs up to two batches (about 8 MiB) behind what was fed; [`Validator::finish`]
    /// delivers everything.
    pub fn lines_validated(&self) -> u64 {
        self.report.resources_scanned
    }

    /// The input broke off with `source`: the error, with the report of the complete lines.
    fn read_error(self, source: std::io::Error) -> Error {
        Error::Read { source, partial: Box::new(self.finish_incomplete()) }
    }

    /// The input broke off (a read error): validate the complete lines, drop the partial last one.
    fn finish_incomplete(mut self) -> FileReport {
        self.framer.abandon_partial(&mut self.batch);
        self.deliver_ready();
        self.flush();
        self.close().0
    }

    fn sniff(&mut self) {
        if let Some(kind) = self.head.take().and_then(|head| crate::json::sniff::sniff(&head)) {
            self.report.diagnostics.push(crate::check::file::sniffed(kind));
        }
    }

    fn close(mut self) -> (FileReport, S) {
        if self.head.is_some() {
            self.sniff();
        }
        self.report.bytes_scanned = self.framer.offset - self.framer.start;
        self.report.blank_lines = self.framer.blank_lines;
        self.report.first_blank_line = self.framer.first_blank_line;
        if self.framer.had_bom {
            self.report.diagnostics.push(crate::check::file::byte_order_mark());
        }
        if let Some(first) = self.framer.first_blank_line {
            self.report.diagnostics.push(crate::check::file::blank_lines(self.framer.blank_lines, first));
        }
        (self.report, self.sink)
    }

    /// Validate the batch and hand its results to the sink (one thread, or the last batch).
    fn flush(&mut self) {
        if !self.batch.lines.is_empty() {
            let parallel = self.pipelined();
            #[cfg(feature = "parallel")]
            let outcomes = match (&self.pool, parallel) {
                // Own pool: validate the lines inside it.
                (Some(pool), true) => pool.install(|| validate_lines(&self.batch, &self.options, true)),
                _ => validate_lines(&self.batch, &self.options, parallel),
            };
            #[cfg(not(feature = "parallel"))]
            let outcomes = validate_lines(&self.batch, &self.options, parallel);
            deliver(&mut self.report, &mut self.sink, &self.batch, &outcomes);
        }
        self.framer.compact(&mut self.batch);
    }
}

/// Hand a validated batch's results to the sink, in line order, and count them.
fn deliver<S: Sink>(report: &mut FileReport, sink: &mut S, batch: &Batch, outcomes: &[LineOutcome]) {
    let buf = &batch.buf;
    for (pending, outcome) in batch.lines.iter().zip(outcomes) {
        let bytes = &buf[pending.start..pending.end];
        let len = pending.too_long.unwrap_or(bytes.len() as u64);
        report.resources_scanned += 1;
        match outcome.status {
            LineStatus::Imported => {
                report.resources_imported += 1;
                report.bytes_imported += len;
            }
            LineStatus::CustomerError => report.resources_customer_error += 1,
            LineStatus::ServerError => report.resources_server_error += 1,
        }
        sink.line(&LineResult {
            line: pending.number,
            byte_offset: pending.offset,
            byte_len: len,
            status: outcome.status,
            resource_type: outcome.resource_type.as_ref().and_then(|t| t.as_str(bytes)),
            resource_id: outcome.resource_id.as_ref().and_then(|t| t.as_str(bytes)),
            diagnostics: &outcome.diagnostics,
        });
    }
}

/// Validate a batch's lines: on the current rayon pool when `parallel` (and the feature is on),
/// else on this thread.
pub(crate) fn validate_lines(batch: &Batch, options: &Options, parallel: bool) -> Vec<LineOutcome> {
    let one = |pending: &PendingLine| match pending.too_long {
        Some(len) => line::too_long(pending.number, pending.offset, len, options.max_line_bytes),
        None => line::validate(&batch.buf[pending.start..pending.end], pending.number, pending.offset, options),
    };
    #[cfg(feature = "parallel")]
    if parallel {
        use rayon::prelude::*;
        return batch.lines.par_iter().with_min_len(8).map(one).collect();
    }
    let _ = parallel;
    batch.lines.iter().map(one).collect()
}

/// Validate everything `reader` yields, reading `options.chunk_bytes()` at a time. Memory stays
/// bounded by the chunk and batch sizes plus the longest line, whatever the input size.
///
/// A read error ends the input: the complete lines before it are validated and delivered, the
/// partial line is dropped, and [`Error::Read`] carries the partial report.
///
/// ```
/// let input = b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n\n{\"resourceType\":\"Patient\"}\n";
/// let report = fhir_preflight::validate_reader(&input[..], &Default::default(), &mut fhir_preflight::Discard)?;
/// assert_eq!((report.resources_imported, report.resources_customer_error, report.blank_lines), (1, 1, 1));
/// # Ok::<(), fhir_preflight::Error>(())
/// ```
pub fn validate_reader<R: Read, S: Sink + ?Sized>(
    mut reader: R,
    options: &Options,
    sink: &mut S,
) -> Result<FileReport, Error> {
    thread_local! {
        // The read buffer, kept per thread: validating many small files does not map and unmap a
        // chunk-sized buffer for each (which contends on the address space with several threads).
        static READ_BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let mut validator = Validator::new(options, Borrowed(sink));
    let mut buf = READ_BUFFER.take();
    buf.resize(options.chunk_bytes, 0);
    let result = loop {
        match reader.read(&mut buf) {
            Ok(0) => break Ok(validator.finish()),
            Ok(n) => validator.feed(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => break Err(validator.read_error(source)),
        }
    };
    READ_BUFFER.set(buf);
    result
}

/// Validate input that arrives in chunks of bytes (an HTTP body, an S3 object): each chunk is fed
/// as it comes, with no copy into a read buffer of its own (see [`validate_reader`] for readers).
/// Memory stays bounded by one chunk and the batch sizes plus the longest line.
///
/// A chunk that is an error ends the input, as a read error ends [`validate_reader`]'s.
///
/// ```
/// let chunks = [&b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resource"[..], &b"Type\":\"Patient\"}\n"[..]];
/// let report = fhir_preflight::validate_chunks(chunks.map(Ok), &Default::default(), &mut fhir_preflight::Discard)?;
/// assert_eq!((report.resources_imported, report.resources_customer_error), (1, 1));
/// let broken = [Ok(&b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{"[..]), Err(std::io::Error::other("reset"))];
/// let Err(fhir_preflight::Error::Read { partial, .. }) = fhir_preflight::validate_chunks(broken, &Default::default(), &mut fhir_preflight::Discard) else { panic!() };
/// assert_eq!((partial.resources_imported, partial.resources_scanned), (1, 1));
/// # Ok::<(), fhir_preflight::Error>(())
/// ```
pub fn validate_chunks<I, B, S>(chunks: I, options: &Options, sink: &mut S) -> Result<FileReport, Error>
where
    I: IntoIterator<Item = std::io::Result<B>>,
    B: AsRef<[u8]>,
    S: Sink + ?Sized,
{
    let mut validator = Validator::new(options, Borrowed(sink));
    for chunk in chunks {
        match chunk {
            Ok(bytes) => validator.feed(bytes.as_ref()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => return Err(validator.read_error(source)),
        }
    }
    Ok(validator.finish())
}

/// Validate an input held in memory.
///
/// ```
/// let report = fhir_preflight::validate_bytes(b"[1]\n", &Default::default(), &mut fhir_preflight::Discard);
/// assert_eq!(report.resources_customer_error, 1);
/// ```
pub fn validate_bytes<S: Sink + ?Sized>(input: &[u8], options: &Options, sink: &mut S) -> FileReport {
    let mut validator = Validator::new(options, Borrowed(sink));
    validator.feed(input);
    validator.finish()
}
