//! Browser bindings of fhir-preflight (wasm-bindgen). They only convert between JavaScript values
//! and the core's types: bytes in, records (bytes, for Blob parts), table rows and the manifest
//! (JSON text) out. The core runs single-threaded here; the page runs it on several Web Workers,
//! each validating parts of files (`PreflightParts`), and adds up their summaries in input order
//! (`PreflightMerge`); `PreflightRun` is both on one thread.
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
//!
//! // The same on several workers: each validates parts (a whole file, or a byte range cut at
//! // newlines, numbered as in the whole file) …
//! const parts = new PreflightParts(JSON.stringify({ level: "strict" }));
//! parts.begin("big.ndjson", firstLine, offset);
//! for await (const chunk of file.slice(offset, stop).stream()) parts.feed(chunk);
//! const summary = parts.end(true);                    // JSON text, posted to the page
//! // … and the page adds the summaries up in input order.
//! const merge = new PreflightMerge();
//! merge.beginFile("big.ndjson");
//! merge.addPart(summary);                             // every part of the file, in order
//! const whole = JSON.parse(merge.endFile());          // the FileReport of the whole file
//! ```

mod run;

pub use run::{options_from_json, Buffers, LineIds, Merge, PartSummary, Parts, Run};
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

/// The methods of a type that validates (`$parts`: its `Parts`): packages, records, rows, progress.
macro_rules! validating {
    ($ty:ident, $parts:ident, $parts_ref:ident) => {
        #[wasm_bindgen]
        impl $ty {
            /// Also validate against the profiles of a FHIR package (the bytes of a `.tgz` as
            /// published), before the first file; returns its `name#version`.
            #[wasm_bindgen(js_name = addPackage)]
            pub fn add_package(&mut self, tgz: &[u8]) -> Result<String, JsError> {
                self.$parts().add_package(tgz).map_err(|e| JsError::new(&e))
            }

            /// FAILURE record lines produced since the last call.
            #[wasm_bindgen(js_name = takeFailureRecords)]
            pub fn take_failure_records(&mut self) -> Vec<u8> {
                self.$parts().take_failure_records()
            }

            /// SUCCESS record lines produced since the last call.
            #[wasm_bindgen(js_name = takeSuccessRecords)]
            pub fn take_success_records(&mut self) -> Vec<u8> {
                self.$parts().take_success_records()
            }

            /// Failed-line rows (`FailedRow[]` as JSON) produced since the last call.
            #[wasm_bindgen(js_name = takeRows)]
            pub fn take_rows(&mut self) -> String {
                serde_json::Value::Array(self.$parts().take_rows()).to_string()
            }

            /// Warning rows of imported lines (`WarningRow[]` as JSON) produced since the last call.
            #[wasm_bindgen(js_name = takeWarningRows)]
            pub fn take_warning_rows(&mut self) -> String {
                serde_json::Value::Array(self.$parts().take_warning_rows()).to_string()
            }

            /// `Progress` of the current file or part as JSON.
            pub fn progress(&self) -> String {
                self.$parts_ref().progress().to_string()
            }
        }
    };
}

/// The methods of a type that adds up (`$merge`: its `Merge`): counts, tally, notes, manifest.
macro_rules! merging {
    ($ty:ident, $merge:ident, $merge_ref:ident) => {
        #[wasm_bindgen]
        impl $ty {
            /// Count a file that could not be read at all.
            #[wasm_bindgen(js_name = unreadableFile)]
            pub fn unreadable_file(&mut self) {
                self.$merge().unreadable_file();
            }

            /// Counts per code (errors, warnings) and per resource type of the files finished, as
            /// JSON (the core's `Tally`: the CLI's `Errors by code` and `Failed lines by resource type`).
            pub fn tally(&self) -> String {
                self.$merge_ref().tally().to_string()
            }

            /// The manifest text, as the CLI writes it; `outputDir` as the CLI's `--output-dir`.
            pub fn manifest(&self, input_uri: &str, output_dir: Option<String>) -> String {
                self.$merge_ref().manifest(input_uri, output_dir)
            }

            /// The notes about the whole run (JSON `Note[]`, line 0): duplicate `(resourceType, id)`
            /// pairs across the files, more files than one import job takes, codes not checked.
            /// Call once, after the last file.
            #[wasm_bindgen(js_name = runNotes)]
            pub fn run_notes(&mut self) -> String {
                serde_json::to_string(&self.$merge().run_notes()).unwrap_or_else(|_| "[]".into())
            }
        }
    };
}

/// A validation run over one or more files, fed chunk by chunk, on one thread.
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
}

impl PreflightRun {
    fn parts(&mut self) -> &mut Parts {
        self.inner.parts()
    }
    fn parts_ref(&self) -> &Parts {
        self.inner.parts_ref()
    }
    fn merge(&mut self) -> &mut Merge {
        self.inner.merge()
    }
    fn merge_ref(&self) -> &Merge {
        self.inner.merge_ref()
    }
}

validating!(PreflightRun, parts, parts_ref);
merging!(PreflightRun, merge, merge_ref);

/// Parts of files validated one after the other (on one Web Worker of several): records and rows
/// as `PreflightRun` gives them, and a summary of each part for `PreflightMerge`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct PreflightParts {
    inner: Parts,
}

#[wasm_bindgen]
impl PreflightParts {
    /// `options`: JSON text of `PreflightOptions`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str) -> Result<PreflightParts, JsError> {
        install_panic_hook();
        let options = options_from_json(options).map_err(|e| JsError::new(&e))?;
        Ok(PreflightParts { inner: Parts::new(options) })
    }

    /// Start a part of the file `name` whose first line is numbered `firstLine` and starts at byte
    /// `offset` of the file (`1, 0`: the file's start; the byte ranges cut at newlines).
    pub fn begin(&mut self, name: &str, first_line: f64, offset: f64) -> Result<(), JsError> {
        let whole = |n: f64| (n >= 0.0 && n.fract() == 0.0 && n < 9e15).then_some(n as u64);
        let (Some(line), Some(at)) = (whole(first_line), whole(offset)) else {
            return Err(JsError::new(&format!("not a line number and offset: {first_line}, {offset}")));
        };
        if line == 0 {
            return Err(JsError::new("line numbers start at 1"));
        }
        self.inner.begin(name, line, at);
        Ok(())
    }

    /// The next bytes of the current part.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.inner.feed(chunk);
    }

    /// End the current part (`readOk`: read to its end); returns its summary (JSON text) for
    /// `PreflightMerge.addPart`.
    pub fn end(&mut self, read_ok: bool) -> String {
        serde_json::to_string(&self.inner.end(read_ok)).unwrap_or_default()
    }
}

impl PreflightParts {
    fn parts(&mut self) -> &mut Parts {
        &mut self.inner
    }
    fn parts_ref(&self) -> &Parts {
        &self.inner
    }
}

validating!(PreflightParts, parts, parts_ref);

/// The parts' summaries added up in input order: the files' reports, the run's notes, the tally
/// and the manifest, as one pass over the files gives them.
#[wasm_bindgen]
#[derive(Debug, Default)]
pub struct PreflightMerge {
    inner: Merge,
}

#[wasm_bindgen]
impl PreflightMerge {
    #[wasm_bindgen(constructor)]
    pub fn new() -> PreflightMerge {
        install_panic_hook();
        PreflightMerge::default()
    }

    /// Start the next file of the run.
    #[wasm_bindgen(js_name = beginFile)]
    pub fn begin_file(&mut self, name: &str) {
        self.inner.begin_file(name);
    }

    /// The next part's summary (`PreflightParts.end`) of the current file.
    #[wasm_bindgen(js_name = addPart)]
    pub fn add_part(&mut self, summary: &str) -> Result<(), JsError> {
        let part = serde_json::from_str(summary).map_err(|e| JsError::new(&format!("not a part summary: {e}")))?;
        self.inner.add_part(part).map_err(|e| JsError::new(&e))
    }

    /// End the current file; returns its `FileReport` as JSON.
    #[wasm_bindgen(js_name = endFile)]
    pub fn end_file(&mut self) -> String {
        self.inner.end_file().to_string()
    }
}

impl PreflightMerge {
    fn merge(&mut self) -> &mut Merge {
        &mut self.inner
    }
    fn merge_ref(&self) -> &Merge {
        &self.inner
    }
}

merging!(PreflightMerge, merge, merge_ref);

/// wasm32 aborts on panic: tell the page which line was being validated first.
fn install_panic_hook() {
    #[cfg(target_arch = "wasm32")]
    std::panic::set_hook(Box::new(|info| {
        let line =
            fhir_preflight::line_in_progress().map_or_else(String::new, |n| format!(" while validating line {n}"));
        report_panic(&format!("fhir-preflight stopped{line}: {info}"));
    }));
}
