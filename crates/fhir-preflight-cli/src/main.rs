//! `fhir-preflight`: a thin shell over the `fhir_preflight` library. No validation rule lives here.

mod args;
mod earlier;
mod human;
mod inputs;
mod interrupt;
mod merge;
mod ordered;
mod output;
mod progress;
mod records;
mod s3;
mod shard;
mod stream;
mod text;
mod validate;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match &cli.command {
        args::Command::Validate(args) => validate::run(args),
        args::Command::Merge(args) => merge::run(args),
    }
}
