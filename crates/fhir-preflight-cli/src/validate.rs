//! `fhir-preflight validate`: inputs → core validator → records, manifest, report, exit code.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use fhir_preflight::{Code, Counts, Error, FileRead, FileReport, Manifest, Options};

use crate::args::{Format, ValidateArgs};
use crate::human::{self, FileNote};
use crate::inputs::{self, Input};
use crate::interrupt::Interruptible;
use crate::ordered::{lock, Lane, Shared};
use crate::output::OutputDir;
use crate::progress::Counted;
use crate::records::{ErrorList, RecordSink, SinkTarget};
use crate::stream::{Out, Render};

const EXIT_OK: u8 = 0;
const EXIT_LINES_FAILED: u8 = 1;
const EXIT_TROUBLE: u8 = 2;

fn complain(message: impl std::fmt::Display) {
    eprintln!("fhir-preflight: {message}");
}

fn options(args: &ValidateArgs, threads: usize) -> Result<Options, Error> {
    Ok(Options::default()
        .with_max_line_bytes(args.max_line_bytes)?
        .with_max_issues_per_line(args.max_issues_per_line)?
        .with_max_depth(args.max_depth)?
        .with_chunk_bytes(args.chunk_bytes)?
        .with_redact(args.redact)
        .with_level(args.level.parse().map_err(|reason| Error::InvalidOption { option: "--level", reason })?)
        // Inside our own pool (threads > 1) the core uses the current pool.
        .with_threads(if threads == 1 { 1 } else { 0 }))
}

pub(crate) fn run(args: &ValidateArgs) -> ExitCode {
    crate::interrupt::install();
    let threads = args.threads.map_or_else(|| std::thread::available_parallelism().map_or(1, usize::from), usize::from);
    let options = match options(args, threads) {
        Ok(options) => options,
        Err(e) => {
            complain(e);
            return ExitCode::from(EXIT_TROUBLE);
        }
    };
    let mut skipped = Vec::new();
    let inputs = inputs::expand(&args.inputs, args.recursive, &mut skipped);
    for message in &skipped {
        complain(message);
    }
    let inputs = match inputs {
        Ok(inputs) => inputs,
        Err(e) => {
            complain(e);
            return ExitCode::from(EXIT_TROUBLE);
        }
    };
    let output = match args.output_dir.as_deref().map(|dir| OutputDir::prepare(dir, args.force)).transpose() {
        Ok(output) => output,
        Err(e) => {
            complain(e);
            return ExitCode::from(EXIT_TROUBLE);
        }
    };
    let out = match make_stream(args.format) {
        Ok(out) => out,
        Err(e) => {
            complain(format!("cannot write to standard output: {e}"));
            return ExitCode::from(EXIT_TROUBLE);
        }
    };
    let streamed = out.is_some();
    let shared = Mutex::new(Shared::new(out, args.redact));
    let run = Run {
        inputs: &inputs,
        options: &options,
        target: SinkTarget {
            output: output.as_ref(),
            render: streamed.then(|| render_of(args.format)).flatten(),
            shared: &shared,
            max_errors: args.max_errors,
            redact: args.redact,
        },
        warn_file_size: args.warn_file_size,
        bar: crate::progress::bar(&inputs, args.quiet),
        // One input at a time on one thread; otherwise a few more inputs in flight than threads,
        // so a thread that finishes an input finds the next one started.
        window: if threads == 1 { 1 } else { (2 * threads).min(inputs.len()).max(1) },
        schedule: Mutex::new(Schedule::default()),
    };
    let outcome = if threads > 1 {
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool.install(|| run.all()),
            Err(e) => {
                complain(format!("cannot start {threads} threads: {e}"));
                return ExitCode::from(EXIT_TROUBLE);
            }
        }
    } else {
        run.all()
    };
    let mut shared = shared.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    let outcome = Outcome { write_error: outcome.write_error.or(shared.error.take()), ..outcome };
    let Outcome { counts, errors, notes, write_error } = outcome;
    if crate::interrupt::interrupted() {
        drop(output);
        complain("interrupted; no manifest was written");
        return ExitCode::from(crate::interrupt::EXIT_INTERRUPTED);
    }
    if let Some(e) = write_error {
        complain(format!("cannot write records: {e}; no manifest was written"));
        return ExitCode::from(EXIT_TROUBLE);
    }
    let manifest = Manifest {
        input_uri: inputs::input_uri(&args.inputs),
        output_dir: args.output_dir.as_ref().map(|d| d.display().to_string()),
        counts,
    };
    let json = manifest.to_json();
    if let Some(output) = output {
        if let Err(e) = output.commit(&json) {
            complain(format!("cannot write the outputs: {e}; no manifest was written"));
            return ExitCode::from(EXIT_TROUBLE);
        }
    }
    if let Some(mut out) = shared.out {
        if out.end().is_err() {
            return ExitCode::from(EXIT_TROUBLE);
        }
        return ExitCode::from(exit_code(&counts));
    }
    let text = match args.format {
        Format::Json => json,
        _ => human::render(&manifest, &errors, &notes, args.color.enabled()),
    };
    let mut stdout = io::stdout().lock();
    if stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).is_err() {
        return ExitCode::from(EXIT_TROUBLE);
    }
    ExitCode::from(exit_code(&counts))
}

fn exit_code(c: &Counts) -> u8 {
    if c.files_read_with_customer_error + c.files_read_with_server_error > 0 {
        EXIT_TROUBLE
    } else if c.resources_customer_error + c.resources_server_error > 0 {
        EXIT_LINES_FAILED
    } else {
        EXIT_OK
    }
}

#[derive(Debug)]
struct Outcome {
    counts: Counts,
    errors: ErrorList,
    notes: Vec<FileNote>,
    write_error: Option<io::Error>,
}

/// The streamed formats write to standard output while the run goes on.
fn make_stream(format: Format) -> io::Result<Option<Out>> {
    render_of(format)
        .map(|render| Out::new(render, Box::new(io::BufWriter::with_capacity(1 << 16, io::stdout()))))
        .transpose()
}

fn render_of(format: Format) -> Option<Render> {
    match format {
        Format::Human | Format::Json => None,
        Format::Ndjson => Some(Render::Ndjson),
        Format::Operationoutcome => Some(Render::Bundle),
        Format::Sarif => Some(Render::Sarif),
    }
}

/// One input, validated.
struct Done {
    index: usize,
    report: FileReport,
    read: FileRead,
    errors: ErrorList,
    notes: Vec<FileNote>,
    write_error: Option<io::Error>,
}

/// Inputs validated, waiting for the ones before them; the next to take in order.
#[derive(Default)]
struct Schedule {
    next: usize,
    waiting: BTreeMap<usize, Done>,
    lanes: BTreeMap<usize, Arc<Lane>>,
    outcome: Option<Outcome>,
    stop: bool,
}

/// A run over the inputs. Up to `window` inputs are in flight at once, each validated by the core
/// on the shared rayon pool (its lines in parallel too); their outputs are taken in input order
/// (see [`crate::ordered`]), so a run's outputs do not depend on the number of threads, and memory
/// is bounded by the window.
struct Run<'a> {
    inputs: &'a [Input],
    options: &'a Options,
    target: SinkTarget<'a>,
    warn_file_size: Option<u64>,
    bar: Option<indicatif::ProgressBar>,
    window: usize,
    schedule: Mutex<Schedule>,
}

impl Run<'_> {
    fn all(&self) -> Outcome {
        {
            let mut schedule = lock(&self.schedule);
            schedule.outcome = Some(Outcome {
                counts: Counts::default(),
                errors: ErrorList::new(self.target.max_errors),
                notes: Vec::new(),
                write_error: None,
            });
            for i in 0..self.window.min(self.inputs.len()) {
                schedule.lanes.insert(i, Arc::new(Lane::new(i == 0)));
            }
        }
        if self.window == 1 {
            let mut todo = if self.inputs.is_empty() { vec![] } else { vec![0] };
            while let Some(i) = todo.pop() {
                todo.extend(self.step(i));
            }
        } else {
            rayon::scope_fifo(|scope| {
                for i in 0..self.window.min(self.inputs.len()) {
                    self.spawn(scope, i);
                }
            });
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let mut outcome = lock(&self.schedule).outcome.take().expect("the outcome is taken once");
        if !crate::interrupt::interrupted() {
            self.run_notes(&mut outcome);
        }
        outcome
    }

    fn spawn<'s>(&'s self, scope: &rayon::ScopeFifo<'s>, i: usize) {
        scope.spawn_fifo(move |scope| {
            for j in self.step(i) {
                self.spawn(scope, j);
            }
        });
    }

    /// Validate input `i`, take every input ready in order, and say which inputs to start next.
    fn step(&self, i: usize) -> Vec<usize> {
        let lane = lock(&self.schedule).lanes.get(&i).cloned();
        let Some(lane) = lane else { return Vec::new() };
        let done = self.one(i, &lane);
        let mut guard = lock(&self.schedule);
        let schedule = &mut *guard;
        schedule.waiting.insert(i, done);
        let mut start = Vec::new();
        loop {
            let next = schedule.next;
            let Some(done) = schedule.waiting.remove(&next) else { break };
            schedule.lanes.remove(&next);
            let Some(outcome) = schedule.outcome.as_mut() else { break };
            if !self.take(outcome, done) {
                schedule.stop = true;
            }
            schedule.next += 1;
            let later = next + self.window;
            if !schedule.stop && later < self.inputs.len() {
                let direct = later == schedule.next;
                schedule.lanes.insert(later, Arc::new(Lane::new(direct)));
                start.push(later);
            }
            if let Some(lane) = schedule.lanes.get(&schedule.next) {
                lane.go_direct(&mut lock(self.target.shared), &self.inputs[schedule.next].display);
            }
        }
        if schedule.stop {
            schedule.waiting.clear();
            schedule.lanes.clear();
            start.clear();
        }
        start
    }

    /// Add an input's results to the run's, in input order; `false` when the run must stop.
    fn take(&self, outcome: &mut Outcome, done: Done) -> bool {
        let input = &self.inputs[done.index];
        if crate::interrupt::interrupted() {
            return false;
        }
        if let Some(e) = done.write_error {
            outcome.write_error.get_or_insert(e);
            return false;
        }
        outcome.counts.add_file(&done.report, done.read);
        outcome.errors.absorb(done.errors);
        let mut shared = lock(self.target.shared);
        if let Some(render) = self.target.render {
            let mut items = Vec::new();
            render.notes(&input.display, &done.report.diagnostics, &mut items);
            shared.items(&items);
        }
        if shared.error.is_some() {
            return false;
        }
        outcome.notes.extend(done.notes);
        outcome.notes.extend(
            done.report.diagnostics.into_iter().map(|diagnostic| FileNote { input: input.display.clone(), diagnostic }),
        );
        true
    }

    /// Validate one input.
    fn one(&self, index: usize, lane: &Lane) -> Done {
        let input = &self.inputs[index];
        let mut sink = RecordSink::new(&self.target, input, index, lane);
        let mut notes = Vec::new();
        if crate::interrupt::interrupted() {
            return Done {
                index,
                report: FileReport::default(),
                read: FileRead::Success,
                errors: sink.errors,
                notes,
                write_error: None,
            };
        }
        if let Some(bar) = &self.bar {
            bar.set_message(input.display.clone());
        }
        let (report, read) = match open(input, self.bar.as_ref()) {
            Err(e) => {
                complain(format!("cannot read {}: {e}", input.display));
                (FileReport::default(), FileRead::CustomerError)
            }
            Ok(reader) => match fhir_preflight::validate_reader(reader, self.options, &mut sink) {
                Ok(report) => (report, FileRead::Success),
                Err(Error::Read { .. }) if crate::interrupt::interrupted() => {
                    (FileReport::default(), FileRead::Success)
                }
                Err(Error::Read { source, partial }) => {
                    complain(format!(
                        "error reading {} after {} bytes: {source}",
                        input.display, partial.bytes_scanned
                    ));
                    (*partial, FileRead::CustomerError)
                }
                Err(e) => {
                    complain(format!("{}: {e}", input.display));
                    (FileReport::default(), FileRead::ServerError)
                }
            },
        };
        if sink.types_in_file.len() > 1 {
            let types: Vec<&str> = sink.types_in_file.iter().map(String::as_str).collect();
            let message = format!(
                "the file holds {} resource types ({}): HealthLake accepts it; FHIR bulk data files hold one type each",
                types.len(),
                types.iter().take(5).copied().collect::<Vec<_>>().join(", ")
            );
            notes.push(note(&input.display, Code::NdjsonMixedTypes, 1, message));
        }
        if let (Some(limit), Some(path)) = (self.warn_file_size, &input.path) {
            let size = std::fs::metadata(path).map_or(0, |m| m.len());
            if size > limit {
                let message = format!("the file is {size} bytes, over --warn-file-size {limit}");
                notes.push(note(&input.display, Code::HealthlakeLimit, 1, message));
            }
        }
        let write_error = sink.close().err();
        Done { index, report, read, errors: sink.errors, notes, write_error }
    }

    /// Warnings about the whole run.
    fn run_notes(&self, outcome: &mut Outcome) {
        let shared = lock(self.target.shared);
        let ids = &shared.ids;
        if ids.duplicates > 0 {
            let first: Vec<String> =
                ids.first_duplicates.iter().map(|(file, line, what)| format!("{file}:{line} {what}")).collect();
            let message = format!(
                "{} lines repeat a (resourceType, id) seen earlier: HealthLake keeps the last one; first: {}",
                ids.duplicates,
                first.join(", ")
            );
            outcome.notes.push(note("(run)", Code::NdjsonDuplicateId, 0, message));
        }
        if ids.full {
            let message = format!(
                "more than {} distinct (resourceType, id) pairs: later duplicates were not checked",
                crate::ids::MAX_IDS
            );
            outcome.notes.push(note("(run)", Code::NdjsonDuplicateId, 0, message));
        }
        if self.inputs.len() > 10_000 {
            let message = format!(
                "{} files: a HealthLake import job takes at most 10,000 files; split the input",
                self.inputs.len()
            );
            outcome.notes.push(note("(run)", Code::HealthlakeLimit, 0, message));
        }
    }
}

fn note(input: &str, code: Code, line: u64, message: String) -> FileNote {
    let diagnostic = fhir_preflight::Diagnostic {
        code,
        severity: fhir_preflight::Severity::Warning,
        message,
        line,
        column: None,
        byte_offset: None,
        path: None,
    };
    FileNote { input: input.to_owned(), diagnostic }
}

fn open(input: &Input, bar: Option<&indicatif::ProgressBar>) -> io::Result<Box<dyn Read>> {
    match &input.path {
        None => Ok(Box::new(Interruptible(io::stdin().lock()))),
        Some(path) => {
            let file = Counted { inner: File::open(path)?, bar: bar.cloned() };
            if file.inner.metadata()?.is_dir() {
                return Err(io::Error::other("is a directory"));
            }
            if path.extension().is_some_and(|e| e == "gz") {
                // Read transparently; the counts are of the decompressed bytes.
                let gz = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(1 << 20, file));
                return Ok(Box::new(Interruptible(gz)));
            }
            Ok(Box::new(Interruptible(file)))
        }
    }
}
