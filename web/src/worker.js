// One of the page's Web Workers (pool.js starts one per core). It validates parts of files — a
// whole file, or a byte range of one cut at newlines, numbered as in the whole file — with the
// WebAssembly core, and posts each part's rows as they come and, at its end, its records (as Blobs)
// and its summary (JSON) for the page to add up in input order. It also scans byte ranges for the
// first line start and the newlines in them, which is how a large file is cut.
import init, { PreflightParts } from "./fhir_preflight_wasm.js";

let lastPanic = null;
globalThis.fhirPreflightPanic = (message) => { lastPanic = message; };

const PROGRESS_MS = 100;

let ready = null;
/** The run's validator (options and packages of the run being made). */
let parts = null;

const failed = (err) => lastPanic ?? `fhir-preflight stopped: ${err && err.message ? err.message : err}`;

/** The first line start in bytes [start, end) of `file` and the newlines in [start - 1, end - 1)
 * (from byte 0 for the first range): the first step of cutting a file at newlines. */
async function scan(file, start, end) {
  const from = Math.max(start - 1, 0);
  const bytes = new Uint8Array(await file.slice(from, Math.max(end - 1, from)).arrayBuffer());
  let first = start === 0 ? 0 : null;
  let newlines = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) {
    if (first === null) first = from + i + 1;
    newlines += 1;
  }
  return { first, newlines };
}

/** Validate bytes [offset, stop) of `file` as the part whose first line is `line`. */
async function part(task, file, name, offset, stop, line) {
  parts.begin(name, line, offset);
  const failure = [];
  const success = [];
  const drain = () => {
    const f = parts.takeFailureRecords();
    const s = parts.takeSuccessRecords();
    if (f.length) failure.push(f);
    if (s.length) success.push(s);
    const rows = JSON.parse(parts.takeRows());
    const warnings = JSON.parse(parts.takeWarningRows());
    if (rows.length || warnings.length) self.postMessage({ type: "rows", task, rows, warnings });
  };
  const reader = file.slice(offset, stop).stream().getReader();
  let ok = true;
  let bytes = 0;
  let last = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parts.feed(value);
      bytes += value.length;
      const now = performance.now();
      if (now - last > PROGRESS_MS) {
        last = now;
        self.postMessage({ type: "progress", task, bytes, lines: JSON.parse(parts.progress()).lines });
        drain();
      }
    }
  } catch (readError) {
    if (readError instanceof WebAssembly.RuntimeError) throw readError;
    ok = false;
  }
  const summary = parts.end(ok);
  drain();
  const blob = (chunks) => (chunks.length ? new Blob(chunks) : null);
  self.postMessage({ type: "partDone", task, ok, bytes, summary, failure: blob(failure), success: blob(success) });
}

self.onmessage = async (e) => {
  const m = e.data;
  if (m.type === "init") {
    try {
      await (ready = ready ?? init());
      self.postMessage({ type: "ready" });
    } catch (err) {
      self.postMessage({ type: "error", message: `could not load the validator: ${err}` });
    }
    return;
  }
  try {
    await (ready = ready ?? init());
    if (m.type === "begin") {
      parts = new PreflightParts(JSON.stringify(m.options));
      const loaded = [];
      for (const pkg of m.packages ?? []) {
        try {
          loaded.push(parts.addPackage(new Uint8Array(await pkg.arrayBuffer())));
        } catch (err) {
          throw new Error(`${pkg.name}: ${err.message ?? err}`);
        }
      }
      self.postMessage({ type: "begun", loaded });
    } else if (m.type === "scan") {
      self.postMessage({ type: "scanned", task: m.task, ...(await scan(m.file, m.start, m.end)) });
    } else if (m.type === "part") {
      await part(m.task, m.file, m.name, m.offset, m.stop, m.line);
    }
  } catch (err) {
    self.postMessage({ type: "error", message: failed(err) });
  }
};
