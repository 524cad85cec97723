//! Command-line arguments (clap). Only parsing lives here.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "fhir-preflight",
    version,
    about = "Validate NDJSON files of FHIR R4 resources before a bulk import (AWS HealthLake)"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Validate NDJSON inputs and report what HealthLake would import.
    ///
    /// Exit status: 0 every line would import; 1 some line would fail; 2 bad options, a refused
    /// output folder, no input found, an output that could not be written, or an input (file or
    /// directory) that could not be read (after validating every other input); 130 interrupted
    /// (Ctrl-C): nothing is published.
    Validate(Box<ValidateArgs>),
    /// Combine the manifests (and, with --output-dir, the records) of shards validated separately
    /// into what validating everything at once gives. Prints the merged manifest.
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct MergeArgs {
    /// Shards: manifest.json files, or output folders holding one (and SUCCESS/, FAILURE/).
    #[arg(required = true, value_name = "MANIFEST|DIR")]
    pub(crate) shards: Vec<PathBuf>,

    /// Also gather the shards' record files here, with the merged manifest.
    #[arg(short = 'o', long, value_name = "DIR")]
    pub(crate) output_dir: Option<PathBuf>,

    /// Replace an output folder that holds nothing but an earlier run's outputs.
    #[arg(long, requires = "output_dir")]
    pub(crate) force: bool,

    /// S3: the endpoint, the KMS key of an s3:// output folder, and its opt-out (as for validate).
    #[command(flatten)]
    pub(crate) s3: S3Args,
}

/// S3 options shared by `validate` and `merge`.
#[derive(Debug, clap::Args)]
pub(crate) struct S3Args {
    /// The S3 endpoint (an S3-compatible server); otherwise AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL,
    /// else AWS's. Credentials and region: as every AWS tool finds them.
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint_url: Option<String>,

    /// KMS key (ARN, id or alias) for SSE-KMS on every object written to an s3:// output folder;
    /// recorded as outputDataConfig.encryptionKeyID in the manifest.
    #[arg(long, value_name = "ARN")]
    pub(crate) kms_key_id: Option<String>,

    /// Write to an s3:// output folder without SSE-KMS (refused by default: the records describe
    /// health data).
    #[arg(long)]
    pub(crate) allow_unencrypted_output: bool,

    /// Records larger than this go to S3 by multipart upload, in parts of this size (at least 5 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    pub(crate) s3_part_size: u64,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// Files (.ndjson, or .ndjson.gz read transparently), directories (their *.ndjson and
    /// *.ndjson.gz files, sorted) or - for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) inputs: Vec<PathBuf>,

    /// Directories: include their subdirectories (record names keep the relative path).
    #[arg(short = 'r', long)]
    pub(crate) recursive: bool,

    /// Write manifest.json, SUCCESS/ and FAILURE/ records here (absent or empty folder). Never read
    /// as an input, even inside an input directory.
    #[arg(short = 'o', long, value_name = "DIR")]
    pub(crate) output_dir: Option<PathBuf>,

    /// Replace an output folder that holds nothing but an earlier run's outputs.
    #[arg(long, requires = "output_dir")]
    pub(crate) force: bool,

    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub(crate) format: Format,

    /// Threads for the whole run (reading, validating, writing); 1 runs on the calling thread.
    /// Default: the number of cores.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: Option<u16>,

    /// Lines longer than this (bytes, without terminator) are customer errors, never held in memory.
    #[arg(long, value_name = "BYTES", default_value_t = fhir_preflight::DEFAULT_MAX_LINE_BYTES)]
    pub(crate) max_line_bytes: u64,

    /// Diagnostics kept per line; then one "N more" diagnostic.
    #[arg(long, value_name = "N", default_value_t = fhir_preflight::DEFAULT_MAX_ISSUES_PER_LINE)]
    pub(crate) max_issues_per_line: usize,

    /// JSON nesting deeper than this is a customer error (2 to 1024).
    #[arg(long, value_name = "N", default_value_t = fhir_preflight::DEFAULT_MAX_DEPTH)]
    pub(crate) max_depth: usize,

    /// Validation level, as HealthLake names it: strict (base R4 and the profiles in meta.profile),
    /// structure-only (base R4, profiles ignored), minimal (line rules and JSON kinds only; other
    /// errors, profiles' included, are warnings).
    #[arg(long, value_name = "LEVEL", default_value = "strict", value_parser = ["strict", "structure-only", "minimal"])]
    pub(crate) level: String,

    /// US Core version for canonicals without a version (HealthLake's default: 3.1.1). US Core
    /// 3.1.1, 4.0.0, 5.0.1, 6.1.0 and 7.0.0 are built in; `canonical|version` picks one.
    #[arg(long, value_name = "VERSION", default_value = "3.1.1", value_parser = ["3.1.1", "4.0.0", "5.0.1", "6.1.0", "7.0.0"])]
    pub(crate) us_core_version: String,

    /// Another FHIR package whose profiles meta.profile may name (a .tgz as published, or its
    /// unpacked folder); repeatable, for its dependencies too.
    #[arg(long, value_name = "FILE.tgz|DIR")]
    pub(crate) package: Vec<std::path::PathBuf>,

    /// Severity of the constraints HL7 marks as best practice (dom-6: a resource should have a
    /// narrative, …). Information by default, so that they do not put a warning on every line.
    #[arg(long, value_name = "SEVERITY", default_value = "information", value_parser = ["information", "warning", "error"])]
    pub(crate) best_practice: String,

    /// FHIR version of the input. Only R4 (4.0.1) today; R4B and R5 will come from the same
    /// code generation over HL7's packages.
    #[arg(long, value_name = "VERSION", default_value = "R4", value_parser = ["R4", "4.0.1"])]
    pub(crate) fhir_version: String,

    /// Quote no value in any message, and write `"resourceId": null` in records (for sharing
    /// outputs of health data).
    #[arg(long)]
    pub(crate) redact: bool,

    /// Colors in the human report: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,

    /// No progress bar on standard error (it shows only when standard error is a terminal).
    #[arg(short = 'q', long)]
    pub(crate) quiet: bool,

    /// Warn about files larger than this many bytes (HealthLake once limited files to 50 MB).
    #[arg(long, value_name = "BYTES")]
    pub(crate) warn_file_size: Option<u64>,

    /// Errors listed in the human report.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub(crate) max_errors: usize,

    /// Warnings listed in the human report (all are counted by code).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub(crate) max_warnings: usize,

    /// Validate only this part of the inputs: INDEX/COUNT (0-based), each input file or object in
    /// exactly one of COUNT parts balanced by size; `auto/COUNT` takes INDEX from
    /// AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array jobs) or JOB_COMPLETION_INDEX (Kubernetes Indexed
    /// Jobs). Combine the parts' outputs with `merge`.
    #[arg(long, value_name = "INDEX/COUNT")]
    pub(crate) shard: Option<String>,

    /// S3: the endpoint, the KMS key of an s3:// output folder, and its opt-out.
    #[command(flatten)]
    pub(crate) s3: S3Args,

    /// Bytes read at a time (testing: results never depend on it).
    #[arg(long, value_name = "BYTES", default_value_t = fhir_preflight::DEFAULT_CHUNK_BYTES, hide = true)]
    pub(crate) chunk_bytes: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// A short summary and the first errors with file:line.
    Human,
    /// The manifest only, byte-identical to DIR/manifest.json.
    Json,
    /// One JSON object per diagnostic: file, line, column, code, severity, message, path, resourceType, resourceId.
    Ndjson,
    /// A FHIR collection Bundle with an OperationOutcome per failed line.
    Operationoutcome,
    /// SARIF 2.1.0, for CI code scanning.
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to color standard output.
    pub(crate) fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
            }
        }
    }
}
