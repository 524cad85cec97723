//! Browser bindings of fhir-preflight (wasm-bindgen). They only convert between JavaScript values
//! and the core's types: bytes in, records (bytes, for Blob parts), table rows and the manifest
//! (JSON text) out. The core runs single-threaded here; the page runs it in a Web Worker.
//!
//! ```js
//! import init, { PreflightRun } from "./fhir_preflight_wasm.js";
//! await init();
//! const run = new PreflightRun(JSON.stringify({ level: "strict" }));
//! run.beginFile("patients.ndjson");
//! for await (const chunk of file.stream()) run.feed(chunk);
//! const report = JSON.parse(run.endFile(true));
//! const failures = run.takeFailureRecords();      // Uint8Array: FAILURE/patients.ndjson lines
//! const manifest = run.manifest("patients.ndjson"); // same text as the CLI's manifest.json
//! const notes = JSON.parse(run.runNotes());          // duplicate ids across files, …
//! ```

mod run;

pub use run::{options_from_json, Buffers, Run};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** Options (all optional); the CLI's flags of the same names. */
export interface PreflightOptions {
  maxLineBytes?: number;
  maxIssuesPerLine?: number;
  maxDepth?: number;
  level?: "strict" | "structure-only" | "minimal";
  /** US Core version for canonicals without a version (HealthLake's default: 3.1.1). */
  usCoreVersion?: "3.1.1" | "4.0.0" | "5.0.1" | "6.1.0" | "7.0.0";
}
/** What `endFile` returns (JSON). */
export interface FileReport {
  file: string;
  bytesScanned: number;
  resourcesScanned: number;
  resourcesImported: number;
  resourcesWithCustomerError: number;
  resourcesWithServerError: number;
  blankLines: number;
  /** Notes about the file: several resource types, blank lines, a byte-order mark, not NDJSON. */
  notes: Note[];
}
/** A note about a file (line ≥ 1) or the whole run (line 0). */
export interface Note { code: string; severity: string; line: number; message: string; }
/** One failed line, as `takeRows` returns them (JSON array). */
export interface FailedRow {
  file: string;
  line: number;
  status: 400 | 500;
  resourceType: string | null;
  resourceId: string | null;
  code: string | null;
  path: string | null;
  message: string | null;
  errors: number;
}
/** What `progress` returns (JSON). */
export interface Progress { bytes: number; lines: number; }
"#;

#[wasm_bindgen]
extern "C" {
    /// Defined by the page's worker: receives the panic message before wasm32 aborts.
    #[wasm_bindgen(js_namespace = globalThis, js_name = fhirPreflightPanic)]
    fn report_panic(message: &str);
}

/// A validation run over one or more files, fed chunk by chunk.
#[wasm_bindgen]
#[derive(Debug)]
pub struct PreflightRun {
    inner: Run,
}

#[wasm_bindgen]
impl PreflightRun {
    /// `options`: JSON text of `PreflightOptions`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str) -> Result<PreflightRun, JsError> {
        install_panic_hook();
        let options = options_from_json(options).map_err(|e| JsError::new(&e))?;
        Ok(PreflightRun { inner: Run::new(options) })
    }

    /// Also validate against the profiles of a FHIR package (the bytes of a `.tgz` as published),
    /// before the first file; returns its `name#version`.
    #[wasm_bindgen(js_name = addPackage)]
    pub fn add_package(&mut self, tgz: &[u8]) -> Result<String, JsError> {
        self.inner.add_package(tgz).map_err(|e| JsError::new(&e))
    }

    /// Start a file; `name` is its record name.
    #[wasm_bindgen(js_name = beginFile)]
    pub fn begin_file(&mut self, name: &str) {
        self.inner.begin_file(name);
    }

    /// The next bytes of the current file.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.inner.feed(chunk);
    }

    /// End the current file (`readOk`: it was read to the end); returns a `FileReport` as JSON.
    #[wasm_bindgen(js_name = endFile)]
    pub fn end_file(&mut self, read_ok: bool) -> String {
        self.inner.end_file(read_ok).to_string()
    }

    /// Count a file that could not be read at all.
    #[wasm_bindgen(js_name = unreadableFile)]
    pub fn unreadable_file(&mut self) {
        self.inner.unreadable_file();
    }

    /// FAILURE record lines produced since the last call.
    #[wasm_bindgen(js_name = takeFailureRecords)]
    pub fn take_failure_records(&mut self) -> Vec<u8> {
        self.inner.take_failure_records()
    }

    /// SUCCESS record lines produced since the last call.
    #[wasm_bindgen(js_name = takeSuccessRecords)]
    pub fn take_success_records(&mut self) -> Vec<u8> {
        self.inner.take_success_records()
    }

    /// Failed-line rows (`FailedRow[]` as JSON) produced since the last call.
    #[wasm_bindgen(js_name = takeRows)]
    pub fn take_rows(&mut self) -> String {
        serde_json::Value::Array(self.inner.take_rows()).to_string()
    }

    /// Warning rows of imported lines (`WarningRow[]` as JSON) produced since the last call.
    #[wasm_bindgen(js_name = takeWarningRows)]
    pub fn take_warning_rows(&mut self) -> String {
        serde_json::Value::Array(self.inner.take_warning_rows()).to_string()
    }

    /// Counts per code (errors, warnings) and per resource type of the files finished, as JSON
    /// (the core's `Tally`: the CLI's `Errors by code` and `Failed lines by resource type`).
    pub fn tally(&self) -> String {
        self.inner.tally().to_string()
    }

    /// `Progress` of the current file as JSON.
    pub fn progress(&self) -> String {
        self.inner.progress().to_string()
    }

    /// The manifest text, as the CLI writes it; `outputDir` as the CLI's `--output-dir`.
    pub fn manifest(&self, input_uri: &str, output_dir: Option<String>) -> String {
        self.inner.manifest(input_uri, output_dir)
    }

    /// The notes about the whole run (JSON `Note[]`, line 0): duplicate `(resourceType, id)`
    /// pairs across the files, more files than one import job takes. Call once, after the last file.
    #[wasm_bindgen(js_name = runNotes)]
    pub fn run_notes(&mut self) -> String {
        serde_json::to_string(&self.inner.run_notes()).unwrap_or_else(|_| "[]".into())
    }
}

/// wasm32 aborts on panic: tell the page which line was being validated first.
fn install_panic_hook() {
    #[cfg(target_arch = "wasm32")]
    std::panic::set_hook(Box::new(|info| {
        let line =
            fhir_preflight::line_in_progress().map_or_else(String::new, |n| format!(" while validating line {n}"));
        report_panic(&format!("fhir-preflight stopped{line}: {info}"));
    }));
}
