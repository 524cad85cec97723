//! `fhir-preflight validate`: inputs → core validator → records, manifest, report, exit code.

use std::fs::File;
use std::io::{self, Read, Write};
use std::process::ExitCode;

use fhir_preflight::{Code, Counts, Error, FileRead, FileReport, Manifest, Options};

use crate::args::{Format, ValidateArgs};
use crate::human::{self, FileNote};
use crate::inputs::{self, Input};
use crate::interrupt::Interruptible;
use crate::output::OutputDir;
use crate::progress::Counted;
use crate::records::{ErrorList, RecordSink};
use crate::stream::{Bundle, Ndjson, Sarif, Stream};

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
    let mut stream: Option<Box<dyn Stream + Send>> = match make_stream(args.format) {
        Ok(stream) => stream,
        Err(e) => {
            complain(format!("cannot write to standard output: {e}"));
            return ExitCode::from(EXIT_TROUBLE);
        }
    };
    let mut body = || {
        validate_all(&inputs, &options, output.as_ref(), args.max_errors, &mut stream, args.quiet, args.warn_file_size)
    };
    let outcome = if threads > 1 {
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool.install(body),
            Err(e) => {
                complain(format!("cannot start {threads} threads: {e}"));
                return ExitCode::from(EXIT_TROUBLE);
            }
        }
    } else {
        body()
    };
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
    if let Some(mut stream) = stream {
        if stream.end().is_err() {
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

struct Outcome {
    counts: Counts,
    errors: ErrorList,
    notes: Vec<FileNote>,
    write_error: Option<io::Error>,
}

/// The streamed formats write to standard output while the run goes on.
fn make_stream(format: Format) -> io::Result<Option<Box<dyn Stream + Send>>> {
    let out = io::BufWriter::with_capacity(1 << 16, io::stdout());
    Ok(match format {
        Format::Human | Format::Json => None,
        Format::Ndjson => Some(Box::new(Ndjson(out))),
        Format::Operationoutcome => Some(Box::new(Bundle::new(out)?)),
        Format::Sarif => Some(Box::new(Sarif::new(out)?)),
    })
}

fn validate_all(
    inputs: &[Input],
    options: &Options,
    output: Option<&OutputDir>,
    max_errors: usize,
    stream: &mut Option<Box<dyn Stream + Send>>,
    quiet: bool,
    warn_file_size: Option<u64>,
) -> Outcome {
    let bar = crate::progress::bar(inputs, quiet);
    let mut outcome =
        Outcome { counts: Counts::default(), errors: ErrorList::new(max_errors), notes: Vec::new(), write_error: None };
    for input in inputs {
        if crate::interrupt::interrupted() {
            return outcome;
        }
        let mut sink = RecordSink::new(
            output,
            &input.record_name,
            &input.display,
            &mut outcome.errors,
            options.redact(),
            stream.as_deref_mut().map(|s| s as &mut dyn Stream),
        );
        if let Some(bar) = &bar {
            bar.set_message(input.display.clone());
        }
        let (report, read) = match open(input, bar.as_ref()) {
            Err(e) => {
                complain(format!("cannot read {}: {e}", input.display));
                (FileReport::default(), FileRead::CustomerError)
            }
            Ok(reader) => match fhir_preflight::validate_reader(reader, options, &mut sink) {
                Ok(report) => (report, FileRead::Success),
                Err(Error::Read { .. }) if crate::interrupt::interrupted() => return outcome,
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
            outcome.notes.push(note(&input.display, Code::NdjsonMixedTypes, 1, message));
        }
        if let (Some(limit), Some(path)) = (warn_file_size, &input.path) {
            let size = std::fs::metadata(path).map_or(0, |m| m.len());
            if size > limit {
                let message = format!("the file is {size} bytes, over --warn-file-size {limit}");
                outcome.notes.push(note(&input.display, Code::HealthlakeLimit, 1, message));
            }
        }
        if let Err(e) = sink.close() {
            outcome.write_error.get_or_insert(e);
            return outcome;
        }
        outcome.counts.add_file(&report, read);
        if let Some(s) = stream.as_deref_mut() {
            if let Err(e) = s.notes(&input.display, &report.diagnostics) {
                outcome.write_error.get_or_insert(e);
                return outcome;
            }
        }
        outcome.notes.extend(
            report.diagnostics.into_iter().map(|diagnostic| FileNote { input: input.display.clone(), diagnostic }),
        );
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let errors = &outcome.errors;
    if errors.duplicates > 0 {
        let first: Vec<String> =
            errors.first_duplicates.iter().map(|(file, line, what)| format!("{file}:{line} {what}")).collect();
        let message = format!(
            "{} lines repeat a (resourceType, id) seen earlier: HealthLake keeps the last one; first: {}",
            errors.duplicates,
            first.join(", ")
        );
        outcome.notes.push(note("(run)", Code::NdjsonDuplicateId, 0, message));
    }
    if errors.ids_full {
        let message = format!(
            "more than {} distinct (resourceType, id) pairs: later duplicates were not checked",
            crate::records::MAX_IDS
        );
        outcome.notes.push(note("(run)", Code::NdjsonDuplicateId, 0, message));
    }
    if inputs.len() > 10_000 {
        let message =
            format!("{} files: a HealthLake import job takes at most 10,000 files; split the input", inputs.len());
        outcome.notes.push(note("(run)", Code::HealthlakeLimit, 0, message));
    }
    outcome
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
