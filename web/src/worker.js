// One of the page's Web Workers (pool.js starts one per core). It validates parts of files — a
// whole file, or a byte range of a large one cut at newlines, numbered as in the whole file — with
// the WebAssembly core, and posts each part's rows as they come and, at its end, its records (as
// Blobs) and its summary (JSON) for the page to add up in input order. A range is read once, while
// the part before it is validated: its newlines are counted first (for the page to number the
// parts after it), then it is validated.
import init, { PreflightParts } from "./fhir_preflight_wasm.js";

let lastPanic = null;
globalThis.fhirPreflightPanic = (message) => { lastPanic = message; };

const PROGRESS_MS = 100;

let ready = null;
/** The run's validator (options and packages of the run being made). */
let parts = null;

const failed = (err) => lastPanic ?? `fhir-preflight stopped: ${err && err.message ? err.message : err}`;

/** Line numbers the page sends (`go`) once the ranges before a part are scanned: the number of a
 * part's first line (it may come before the part's turn), or what waits for it. */
const lineOf = new Map();
const waitLine = (task) => new Promise((resolve) => {
  const line = lineOf.get(task);
  if (typeof line === "number") {
    lineOf.delete(task);
    resolve(line);
  } else {
    lineOf.set(task, resolve);
  }
});
const gotLine = (task, line) => {
  const waiting = lineOf.get(task);
  if (waiting) {
    lineOf.delete(task);
    waiting(line);
  } else {
    lineOf.set(task, line);
  }
};

const FEED = 1 << 20;

/** Validate one part with the core, fed from `chunks` (async iterable of Uint8Array). */
async function validate(task, name, line, offset, chunks) {
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
  let ok = true;
  let bytes = 0;
  let last = 0;
  try {
    for await (const value of chunks) {
      for (let at = 0; at < value.length; at += FEED) {
        const piece = value.subarray(at, at + FEED);
        parts.feed(piece);
        bytes += piece.length;
        const now = performance.now();
        if (now - last > PROGRESS_MS) {
          last = now;
          self.postMessage({ type: "progress", task, bytes, lines: JSON.parse(parts.progress()).lines });
          drain();
        }
      }
    }
  } catch (readError) {
    if (readError instanceof WebAssembly.RuntimeError) throw readError;
    ok = false;
  }
  const summary = parts.end(ok);
  drain();
  const blob = (list) => (list.length ? new Blob(list) : null);
  self.postMessage({ type: "partDone", task, ok, bytes, summary, failure: blob(failure), success: blob(success) });
}

/** A whole file, streamed (a small one, or a compressed one). */
async function whole(task, file) {
  const reader = file.stream().getReader();
  await validate(task, file.name, 1, 0, (async function* () {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  })());
}

/** The byte range [start, end) of a large file, read once: scanned for its first line start and
 * the newlines in [start - 1, end - 1) (posted, so that the page can number the parts after it).
 * The read starts as soon as the page sends the range, while this worker still validates the part
 * before it (the browser reads the file on its own threads). Resolves to the bytes and the first
 * line start (`null`: no line start, inside one long line), or `null` if it could not be read. */
async function readRange(task, file, start, end) {
  const from = Math.max(start - 1, 0);
  let bytes;
  try {
    bytes = new Uint8Array(await file.slice(from, end).arrayBuffer());
  } catch {
    // Unreadable: a part that could not be read, which ends its file (the parts after it are not
    // added up, so their numbering does not matter).
    self.postMessage({ type: "scanned", task, first: start, newlines: 0 });
    return null;
  }
  const scanned = end - 1 - from;
  let first = start === 0 ? 0 : null;
  let newlines = 0;
  for (let i = bytes.indexOf(10); i !== -1 && i < scanned; i = bytes.indexOf(10, i + 1)) {
    if (first === null) first = from + i + 1;
    newlines += 1;
  }
  self.postMessage({ type: "scanned", task, first, newlines });
  return { bytes, from, first };
}

/** Validate a range read by `readRange`, once the page says which line its first line is: from
 * its first line start to the next line start at or after `end` (the part's last line read on
 * past the range). A range with no line start is no part. */
async function range(task, file, start, end, read) {
  const got = await read;
  if (got === null) {
    await validate(task, file.name, 1, start, (async function* () { throw new Error(`${file.name} could not be read`); })());
    return;
  }
  const { bytes, from, first } = got;
  if (first === null) {
    self.postMessage({ type: "partDone", task, skip: true });
    return;
  }
  const line = await waitLine(task);
  const size = file.size;
  async function* chunks() {
    yield bytes.subarray(first - from);
    // The part's last line goes on past the range, to the next newline.
    if (end >= size || bytes[bytes.length - 1] === 10) return;
    for (let at = end; at < size; at += 1 << 16) {
      const tail = new Uint8Array(await file.slice(at, Math.min(at + (1 << 16), size)).arrayBuffer());
      const nl = tail.indexOf(10);
      if (nl !== -1) {
        yield tail.subarray(0, nl + 1);
        return;
      }
      yield tail;
    }
  }
  await validate(task, file.name, line, first, chunks());
}

/** The parts sent to this worker are validated one after the other, in the order sent (the page
 * sends a worker its next part before the current one ends, so that its range is read meanwhile). */
let queue = Promise.resolve();
const enqueue = (job) => {
  queue = queue.then(job).catch((err) => self.postMessage({ type: "error", message: failed(err) }));
};

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
    } else if (m.type === "go") {
      gotLine(m.task, m.line);
    } else if (m.type === "whole") {
      enqueue(() => whole(m.task, m.file));
    } else if (m.type === "range") {
      const read = readRange(m.task, m.file, m.start, m.end);
      enqueue(() => range(m.task, m.file, m.start, m.end, read));
    }
  } catch (err) {
    self.postMessage({ type: "error", message: failed(err) });
  }
};
