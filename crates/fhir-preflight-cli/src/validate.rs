//! `fhir-preflight validate`: inputs → core validator → records, manifest, report, exit code.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use fhir_preflight::{Counts, Error, FileRead, FileReport, Manifest, Options, Severity};

use crate::args::{Format, ValidateArgs};
use crate::human::{self, FileNote};
use crate::inputs::{self, Input};
use crate::ordered::{lock, Lane, Shared};
use crate::output::OutputDir;
use crate::progress::{Counted, Progress};
use crate::records::{ErrorList, RecordSink, SinkTarget};
use crate::stream::{Out, Render};
use crate::text::{list_some, shown};

const EXIT_OK: u8 = 0;
const EXIT_LINES_FAILED: u8 = 1;
const EXIT_TROUBLE: u8 = 2;

/// One line on standard error; control characters (from file names) escaped.
pub(crate) fn complain(message: impl std::fmt::Display) {
    eprintln!("fhir-preflight: {}", shown(&message.to_string()));
}

fn options(args: &ValidateArgs, threads: usize) -> Result<Options, Error> {
    Ok(Options::default()
        .with_max_line_bytes(args.max_line_bytes)?
        .with_max_issues_per_line(args.max_issues_per_line)?
        .with_max_depth(args.max_depth)?
        .with_chunk_bytes(args.chunk_bytes)?
        .with_level(args.level.parse().map_err(|reason| Error::InvalidOption { option: "--level", reason })?)
        .with_profiles(profiles(args)?)
        .with_best_practice(match args.best_practice.as_str() {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            _ => Severity::Information,
        })
        // Inside our own pool (threads > 1) the core uses the current pool.
        .with_threads(if threads == 1 { 1 } else { 0 }))
}

/// US Core at `--us-core-version`, and every `--package`.
fn profiles(args: &ValidateArgs) -> Result<fhir_preflight::Profiles, Error> {
    let invalid = |reason: String| Error::InvalidOption { option: "--package", reason };
    let mut profiles = fhir_preflight::Profiles::default()
        .with_us_core_version(&args.us_core_version)
        .map_err(|reason| Error::InvalidOption { option: "--us-core-version", reason })?;
    for path in &args.package {
        let package = if path.is_dir() {
            let mut files = Vec::new();
            read_package_dir(path, path, &mut files)
                .map_err(|e| invalid(format!("{}: {e}", shown(&path.display().to_string()))))?;
            fhir_preflight::Package::from_files(files)
        } else {
            let bytes =
                std::fs::read(path).map_err(|e| invalid(format!("{}: {e}", shown(&path.display().to_string()))))?;
            fhir_preflight::Package::from_tgz(&bytes)
        }
        .map_err(|e| invalid(format!("{}: {e}", shown(&path.display().to_string()))))?;
        profiles = profiles.with_package(package);
    }
    Ok(profiles)
}

/// The files of an unpacked package folder (the folder holding `package/`, or `package/` itself),
/// named as in the archive (`package/…`).
fn read_package_dir(
    root: &std::path::Path,
    dir: &std::path::Path,
    files: &mut Vec<(String, Vec<u8>)>,
) -> std::io::Result<()> {
    let prefix = if root.join("package").is_dir() { "" } else { "package/" };
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            if path.file_name().is_some_and(|n| n == "package" || dir != root) {
                read_package_dir(root, &path, files)?;
            }
            continue;
        }
        let Ok(rel) = path.strip_prefix(root) else { continue };
        let name = format!("{prefix}{}", rel.to_string_lossy().replace('\\', "/"));
        if name.ends_with(".json") {
            files.push((name, std::fs::read(&path)?));
        }
    }
    Ok(())
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
    let shard = match args.shard.as_deref().map(|s| crate::shard::Shard::parse(s, |n| std::env::var(n).ok())) {
        Some(Err(reason)) => {
            complain(Error::InvalidOption { option: "--shard", reason });
            return ExitCode::from(EXIT_TROUBLE);
        }
        Some(Ok(shard)) => Some(shard),
        None => None,
    };
    let s3_output_uri = args.output_dir.as_deref().and_then(|d| fhir_preflight_s3::S3Uri::parse(&d.to_string_lossy()));
    let uses_s3 = s3_output_uri.is_some() || args.inputs.iter().any(|i| i.to_string_lossy().starts_with("s3://"));
    let s3 = match crate::s3::connect(uses_s3, &args.s3) {
        Ok(s3) => s3,
        Err(e) => {
            complain(e);
            return ExitCode::from(EXIT_TROUBLE);
        }
    };
    // An s3:// output folder: checked now, written from a private local staging folder at the end.
    let s3_output = match crate::s3::output(s3.as_ref(), s3_output_uri.as_ref(), args.force, &args.s3) {
        Ok(out) => out,
        Err(e) => {
            complain(e);
            return ExitCode::from(EXIT_TROUBLE);
        }
    };
    let staging = match s3_output.as_ref().map(|_| tempfile::Builder::new().prefix("fhir-preflight-s3-").tempdir()) {
        Some(Err(e)) => {
            complain(format!("cannot make a local staging folder for the s3:// outputs: {e}"));
            return ExitCode::from(EXIT_TROUBLE);
        }
        Some(Ok(dir)) => Some(dir),
        None => None,
    };
    let local_output = match &staging {
        Some(dir) => Some(dir.path().join("out")),
        None => args.output_dir.clone(),
    };
    let found = match inputs::expand(&args.inputs, args.recursive, local_output.as_deref(), s3.as_ref()) {
        Ok(found) => found,
        Err(e) => {
            complain(e);
            return ExitCode::from(EXIT_TROUBLE);
        }
    };
    for skipped in found.skipped.iter().filter(|s| !s.quiet) {
        complain(format!("skipped {}: {}", skipped.path, skipped.why));
    }
    for message in &found.unlisted {
        complain(message);
    }
    let inputs = match shard {
        Some(_) if found.inputs.iter().any(|i| i.path.is_none() && i.s3.is_none()) => {
            complain(Error::InvalidOption { option: "--shard", reason: "standard input cannot be sharded".into() });
            return ExitCode::from(EXIT_TROUBLE);
        }
        Some(shard) => shard.select(found.inputs),
        None => found.inputs,
    };
    if inputs.is_empty() && shard.is_some() && found.unlisted.is_empty() {
        // A part with nothing to do (more parts than inputs): an empty, valid result.
    } else if inputs.is_empty() {
        let skipped: Vec<String> = found.skipped.iter().map(|s| format!("{} ({})", s.path, s.why)).collect();
        let what = if skipped.is_empty() {
            "nothing to read".to_owned()
        } else {
            format!("skipped {}", list_some(&skipped, 20))
        };
        complain(format!("no input to validate: {what}"));
        return ExitCode::from(EXIT_TROUBLE);
    }
    if args.output_dir.is_some() {
        if let Err(e) = inputs::check_record_names(&inputs) {
            complain(e);
            return ExitCode::from(EXIT_TROUBLE);
        }
    }
    let output = match local_output.as_deref().map(|dir| OutputDir::prepare(dir, args.force)).transpose() {
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
    let shared = Mutex::new(Shared::new(out));
    let progress = crate::progress::bar(&inputs, args.quiet);
    let run = Run {
        inputs: &inputs,
        s3: s3.as_ref(),
        options: &options,
        target: SinkTarget {
            output: output.as_ref(),
            render: streamed.then(|| render_of(args.format)).flatten(),
            shared: &shared,
            max_errors: args.max_errors,
            max_warnings: args.max_warnings,
            redact: args.redact,
            lines: progress.as_ref().map(|p| p.lines.clone()),
        },
        warn_file_size: args.warn_file_size,
        progress,
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
    if let Some(e) = write_error {
        let incomplete = e.get_ref().is_some_and(|inner| inner.is::<IncompleteInput>());
        let what = if incomplete { "cannot complete the run" } else { "cannot write records" };
        complain(format!("{what}: {e}; no manifest was written"));
        return ExitCode::from(EXIT_TROUBLE);
    }
    let manifest = Manifest {
        input_uri: inputs::input_uri(&given_uris(&args.inputs)),
        output_dir: args.output_dir.as_ref().map(|d| d.display().to_string()),
        counts,
    };
    let json = match (&s3_output, &args.s3.kms_key_id) {
        (Some(_), Some(key)) => crate::s3::with_encryption_key(&manifest.to_json(), key),
        _ => manifest.to_json(),
    };
    if let Some(output) = output {
        if let Err(e) = output.commit(&json) {
            complain(format!("cannot write the outputs: {e}; no manifest was written"));
            return ExitCode::from(EXIT_TROUBLE);
        }
    }
    if let (Some(out), Some(dir)) = (&s3_output, &local_output) {
        if let Err(e) = out.publish(dir) {
            complain(format!("{e}; no manifest was written"));
            return ExitCode::from(EXIT_TROUBLE);
        }
    }
    let trouble = !found.unlisted.is_empty();
    if let Some(mut out) = shared.out {
        if out.end().is_err() {
            return ExitCode::from(EXIT_TROUBLE);
        }
        return ExitCode::from(exit_code(&counts, trouble));
    }
    let text = match args.format {
        Format::Json => json,
        _ => human::render(&human::Report {
            manifest: &manifest,
            errors: &errors,
            notes: &notes,
            skipped: &found.skipped,
            unlisted: found.unlisted.len(),
            color: args.color.enabled(),
            redaction: if args.redact { fhir_preflight::Redaction::On } else { fhir_preflight::Redaction::Off },
        }),
    };
    let mut stdout = io::stdout().lock();
    if stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).is_err() {
        return ExitCode::from(EXIT_TROUBLE);
    }
    ExitCode::from(exit_code(&counts, trouble))
}

/// The inputs as the manifest's `inputDataConfig.s3Uri` takes them: a directory as a prefix
/// (`bulk/`), as S3 prefixes are written, so that one run over a folder and the merge of per-file
/// shards of it name the same input.
fn given_uris(args: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    args.iter()
        .map(|a| {
            let text = a.to_string_lossy();
            if a.is_dir() && !text.ends_with('/') {
                std::path::PathBuf::from(format!("{text}/"))
            } else {
                a.clone()
            }
        })
        .collect()
}

/// An S3 object that stopped arriving: the run fails and publishes nothing (its records would be
/// partial). Carried as the run's write error, told apart by its type.
#[derive(Debug, thiserror::Error)]
#[error("{0} could not be read to the end")]
struct IncompleteInput(String);

/// 2 for inputs that could not be read (or listed), else 1 for failed lines, else 0.
fn exit_code(c: &Counts, trouble: bool) -> u8 {
    if trouble || c.files_read_with_customer_error + c.files_read_with_server_error > 0 {
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
    notes: Vec<fhir_preflight::Diagnostic>,
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
    s3: Option<&'a fhir_preflight_s3::S3>,
    options: &'a Options,
    target: SinkTarget<'a>,
    warn_file_size: Option<u64>,
    progress: Option<Progress>,
    window: usize,
    schedule: Mutex<Schedule>,
}

impl Run<'_> {
    fn all(&self) -> Outcome {
        {
            let mut schedule = lock(&self.schedule);
            schedule.outcome = Some(Outcome {
                counts: Counts::default(),
                errors: ErrorList::new(self.target.max_errors, self.target.max_warnings),
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
        if let Some(progress) = &self.progress {
            progress.bar.finish_and_clear();
        }
        let mut outcome = lock(&self.schedule).outcome.take().expect("the outcome is taken once");
        self.run_notes(&mut outcome);
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
        if let Some(e) = done.write_error {
            outcome.write_error.get_or_insert(e);
            return false;
        }
        outcome.counts.add_file(&done.report, done.read);
        lock(self.target.shared).run.file_done();
        outcome.errors.absorb(done.errors);
        let mut notes = done.notes;
        notes.extend(done.report.diagnostics);
        let mut shared = lock(self.target.shared);
        if let Some(render) = self.target.render {
            let mut items = Vec::new();
            render.notes(Some((done.index, &input.display)), &notes, self.target.redaction(), &mut items);
            shared.items(&items);
        }
        if shared.error.is_some() {
            return false;
        }
        outcome
            .notes
            .extend(notes.into_iter().map(|diagnostic| FileNote { input: Some(input.display.clone()), diagnostic }));
        true
    }

    /// Validate one input.
    fn one(&self, index: usize, lane: &Lane) -> Done {
        let input = &self.inputs[index];
        let mut sink = RecordSink::new(&self.target, input, index, lane);
        let mut notes = Vec::new();
        if let Some(progress) = &self.progress {
            progress.bar.set_message(shown(&input.display).into_owned());
        }
        // An S3 object that stops arriving (after its resumes) fails the whole run: its records
        // would be partial, so nothing is published. A missing or forbidden one is a file that
        // cannot be read, as a local one.
        let mut failed_run = None;
        let bar = self.progress.as_ref().map(|p| &p.bar);
        let (report, read) = match validate_input(input, self.s3, bar, self.options, &mut sink) {
            Err(e) => {
                complain(format!("cannot read {}: {e}", input.display));
                (FileReport::default(), FileRead::CustomerError)
            }
            Ok(Ok(report)) => (report, FileRead::Success),
            Ok(Err(Error::Read { source, partial })) => {
                complain(format!("error reading {} after {} bytes: {source}", input.display, partial.bytes_scanned));
                let transport = !matches!(source.kind(), io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied);
                if input.s3.is_some() && transport {
                    failed_run = Some(io::Error::other(IncompleteInput(input.display.clone())));
                }
                (*partial, FileRead::CustomerError)
            }
            Ok(Err(e)) => {
                complain(format!("{}: {e}", input.display));
                (FileReport::default(), FileRead::ServerError)
            }
        };
        let size = input.size();
        let file_checks = std::mem::take(&mut sink.file_checks);
        notes.extend(file_checks.finish(size, self.warn_file_size));
        let write_error = sink.close().err().or(failed_run);
        Done { index, report, read, errors: sink.errors, notes, write_error }
    }

    /// Warnings about the whole run, added to the report and to the streamed format.
    fn run_notes(&self, outcome: &mut Outcome) {
        let mut run = Vec::new();
        self.collect_run_notes(&mut run);
        if let Some(render) = self.target.render {
            let mut items = Vec::new();
            render.notes(None, &run, self.target.redaction(), &mut items);
            lock(self.target.shared).items(&items);
        }
        outcome.notes.extend(run.into_iter().map(|diagnostic| FileNote { input: None, diagnostic }));
    }

    fn collect_run_notes(&self, notes: &mut Vec<fhir_preflight::Diagnostic>) {
        let mut shared = lock(self.target.shared);
        let run = std::mem::take(&mut shared.run);
        notes.extend(run.finish());
        notes.extend(self.options.profiles().unchecked_binding_notes());
    }
}

/// Validate `input` into `sink`: an S3 object that is not compressed as its chunks arrive (no
/// copy into a read buffer), anything else through a reader. `Err`: it could not be opened.
fn validate_input(
    input: &Input,
    s3: Option<&fhir_preflight_s3::S3>,
    bar: Option<&indicatif::ProgressBar>,
    options: &Options,
    sink: &mut RecordSink<'_>,
) -> io::Result<Result<FileReport, Error>> {
    if let (Some((uri, size)), Some(s3)) = (&input.s3, s3) {
        if !uri.key.ends_with(".gz") {
            let chunks = s3.reader(uri, *size).inspect(|chunk| {
                if let (Some(bar), Ok(bytes)) = (bar, chunk) {
                    bar.inc(bytes.len() as u64);
                }
            });
            return Ok(fhir_preflight::validate_chunks(chunks, options, sink));
        }
    }
    Ok(fhir_preflight::validate_reader(open(input, s3, bar)?, options, sink))
}

fn open(
    input: &Input,
    s3: Option<&fhir_preflight_s3::S3>,
    bar: Option<&indicatif::ProgressBar>,
) -> io::Result<Box<dyn Read>> {
    if let Some((uri, size)) = &input.s3 {
        let Some(s3) = s3 else { return Err(io::Error::other("no S3 connection")) };
        let object = Counted { inner: s3.reader(uri, *size), bar: bar.cloned() };
        if uri.key.ends_with(".gz") {
            return Ok(Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(1 << 20, object))));
        }
        return Ok(Box::new(object));
    }
    match &input.path {
        None => Ok(Box::new(Counted { inner: io::stdin().lock(), bar: bar.cloned() })),
        Some(path) => {
            let file = Counted { inner: File::open(path)?, bar: bar.cloned() };
            if file.inner.metadata()?.is_dir() {
                return Err(io::Error::other("is a directory"));
            }
            if path.extension().is_some_and(|e| e == "gz") {
                // Read transparently; the counts are of the decompressed bytes.
                let gz = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(1 << 20, file));
                return Ok(Box::new(gz));
            }
            Ok(Box::new(file))
        }
    }
}
