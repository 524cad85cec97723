//! `cargo codegen [--check]` (alias of `cargo run -p fhir-preflight-codegen`): write, or check for
//! drift, `crates/fhir-preflight/src/model/r4/generated.rs`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = match args.as_slice() {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            eprintln!("usage: cargo codegen [--check]");
            return ExitCode::from(2);
        }
    };
    match fhir_preflight_codegen::generate::run(check) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("codegen: {e}");
            ExitCode::FAILURE
        }
    }
}
