// Several Web Workers (one per core) validating the dropped files at once: several files side by
// side, and a large file in parts — byte ranges cut at newlines, each numbered as in the whole file.
// The parts' results are added up in input order by the core (PreflightMerge, in this thread), so
// counts, notes, records and the zip are those of one pass over the files, as the CLI makes them.
//
// How a large file is cut (as the Spark job cuts one): into byte ranges of partBytes; each range
// with a line start is a part, from its first line start to the next one at or after its end.
// A worker reads its range once, while it validates the part before: it counts the range's
// newlines first and posts them, the page numbers the range's first line once the ranges before
// it are counted, and the worker then validates it, numbered as in the whole file.
import init, { PreflightMerge } from "./fhir_preflight_wasm.js";

// The core names a panic here before wasm32 aborts (in the workers, worker.js does the same).
let lastPanic = null;
globalThis.fhirPreflightPanic = (message) => { lastPanic = message; };

/** Bytes per part of a large file: small enough to share a file among the workers, large enough
 * that a part's start costs nothing. */
export const PART_BYTES = 8 << 20;

/** Rows (failed lines, warnings) kept per part not yet in input order, as the page keeps: beyond
 * this they are only counted. */
const ROWS_PER_PART = 10000;

/** Tasks a worker holds at once: the part it validates and the next one, whose range is read
 * meanwhile (the browser reads files on its own threads). */
const AHEAD = 2;

export class Pool {
  /** `count` workers, loaded now so that validating makes no request. */
  constructor(count) {
    this.workers = Array.from({ length: Math.max(1, count) }, () => new Worker("worker.js", { type: "module" }));
    const loaded = (w) => new Promise((resolve, reject) => {
      w.onmessage = (e) => (e.data.type === "ready" ? resolve() : reject(new Error(e.data.message)));
      w.postMessage({ type: "init" });
    });
    this.ready = Promise.all([init(), ...this.workers.map(loaded)]);
  }

  terminate() {
    for (const w of this.workers) w.terminate();
  }

  /** Validate `files` (File objects, in input order); `on` receives progress, rows, packages.
   * Resolves to what the page shows: {manifest, records, notes, files, tally, parts}. */
  async run(files, { options, packages, partBytes = PART_BYTES }, on) {
    await this.ready;
    const workers = this.workers;
    let failure = null;
    const failed = new Promise((_, reject) => { failure = reject; });
    failed.catch(() => {});
    // A request is answered by messages naming its task (or, for a worker's own requests, by that
    // worker's); `ask` sends one and waits for its last message.
    const handlers = new Map();
    for (const w of workers) {
      w.onmessage = (e) => {
        const m = e.data;
        if (m.type === "error") failure(new Error(m.message));
        else handlers.get(m.task ?? w)?.(m);
      };
    }
    const ask = (w, message, until, each = () => {}) => new Promise((resolve) => {
      const key = message.task ?? w;
      handlers.set(key, (m) => {
        if (m.type !== until) {
          each(m);
          return;
        }
        handlers.delete(key);
        resolve(m);
      });
      w.postMessage(message);
    });
    // Tasks go to whichever worker has room, in the order given: each worker holds up to AHEAD
    // tasks, validating the first while the next one's range is read.
    const runAll = (tasks, send) => {
      let next = 0;
      const loop = async (w) => {
        const held = new Set();
        while (next < tasks.length || held.size) {
          while (held.size < AHEAD && next < tasks.length) {
            const done = send(w, tasks[next++]).then(() => held.delete(done));
            held.add(done);
          }
          await Promise.race(held);
        }
      };
      return Promise.race([Promise.all(workers.map(loop)), failed]);
    };

    const begun = await Promise.race([
      Promise.all(workers.map((w) => ask(w, { type: "begin", options, packages }, "begun"))),
      failed,
    ]);
    if (begun[0].loaded.length) on.packages(begun[0].loaded);

    // The tasks in input order: a small (or compressed) file whole; a large one in byte ranges,
    // each a part from its first line start on (a range with none is no part).
    const tasks = [];
    files.forEach((file, index) => {
      if (file.size <= partBytes || /\.gz$/i.test(file.name)) {
        tasks.push({ file, index, whole: true });
        return;
      }
      for (let start = 0; start < file.size; start += partBytes) {
        tasks.push({ file, index, start, end: Math.min(start + partBytes, file.size) });
      }
    });
    tasks.forEach((t, k) => {
      Object.assign(t, { task: k, last: k + 1 === tasks.length || tasks[k + 1].index !== t.index });
      Object.assign(t, { rows: [], warnings: [], dropped: 0, droppedWarnings: 0, bytes: 0, lines: 0, done: null });
    });
    // A range's first line is numbered once the ranges before it in its file are scanned (each
    // worker scans the range it reads before validating it, so this never waits long).
    const number = () => {
      let before = 0;
      for (const t of tasks) {
        if (t.whole) continue;
        if (t.start === 0) before = 0;
        if (!t.scan) return;
        if (!t.numbered && t.scan.first !== null) {
          t.numbered = true;
          t.worker.postMessage({ type: "go", task: t.task, line: t.scan.first === 0 ? 1 : before + 2 });
        }
        before += t.scan.newlines;
      }
    };

    // The parts validated on whichever worker is free, and added up in input order as they complete.
    const merge = new PreflightMerge();
    const records = new Map();
    const notes = [];
    const shownFiles = [];
    let merged = 0;
    let brokenFile = -1;
    const progress = () => on.progress(tasks.reduce((n, t) => n + t.bytes, 0), tasks.reduce((n, t) => n + t.lines, 0));
    const keepRows = (t, rows, warnings) => {
      for (const [list, extra, key] of [[rows, "rows", "dropped"], [warnings, "warnings", "droppedWarnings"]]) {
        const room = Math.max(ROWS_PER_PART - t[extra].length, 0);
        t[extra].push(...list.slice(0, room));
        t[key] += Math.max(list.length - room, 0);
      }
    };
    const addRecords = (folder, t, blob) => {
      if (!blob) return;
      const name = `${folder}/${t.file.name}`;
      if (!records.has(name)) records.set(name, []);
      records.get(name).push(blob);
    };
    let open = -1;
    const mergeReady = () => {
      while (merged < tasks.length && tasks[merged].done) {
        const t = tasks[merged++];
        if (t.index !== open) {
          merge.beginFile(t.file.name);
          open = t.index;
        }
        // A part that could not be read ends its file there, as a read error ends a file in the CLI.
        if (t.index !== brokenFile && !t.done.skip) {
          try {
            merge.addPart(t.done.summary);
          } catch (err) {
            throw new Error(lastPanic ?? `fhir-preflight stopped adding up the results: ${err.message ?? err}`);
          }
          addRecords("FAILURE", t, t.done.failure);
          addRecords("SUCCESS", t, t.done.success);
          on.rows(t.rows, t.dropped, t.warnings, t.droppedWarnings);
          if (!t.done.ok) brokenFile = t.index;
        }
        t.rows = t.warnings = t.done = null;
        if (t.last) {
          const report = JSON.parse(merge.endFile());
          shownFiles.push({
            file: t.file.name,
            scanned: report.resourcesScanned,
            imported: report.resourcesImported,
            failed: report.resourcesWithCustomerError + report.resourcesWithServerError,
          });
          for (const note of report.notes) notes.push({ file: t.file.name, ...note });
        }
      }
    };
    await runAll(tasks, async (w, t) => {
      t.worker = w;
      const message = t.whole
        ? { type: "whole", task: t.task, file: t.file }
        : { type: "range", task: t.task, file: t.file, start: t.start, end: t.end };
      const m = await ask(w, message, "partDone", (m) => {
        if (m.type === "scanned") {
          t.scan = { first: m.first, newlines: m.newlines };
          number();
        } else if (m.type === "progress") {
          t.bytes = m.bytes;
          t.lines = m.lines;
          progress();
        } else if (m.type === "rows") {
          keepRows(t, m.rows, m.warnings);
        }
      });
      t.bytes = t.whole ? t.file.size : t.end - t.start;
      // The count near the summary's start (the whole summary, with its ids, is the merge's to read).
      t.lines = m.skip ? 0 : Number(/"resourcesScanned":(\d+)/.exec(m.summary)?.[1] ?? 0);
      t.done = m;
      t.skipped = Boolean(m.skip);
      progress();
      mergeReady();
    });

    for (const note of JSON.parse(merge.runNotes())) notes.push({ file: null, ...note });
    const inputUri = files.length === 1 ? files[0].name : "./";
    const manifest = merge.manifest(inputUri, "fhir-preflight-results");
    const tally = JSON.parse(merge.tally());
    merge.free();
    const out = [...records.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([name, parts]) => ({ name, blob: new Blob(parts) }));
    return { manifest, records: out, notes, files: shownFiles, tally, parts: tasks.filter((t) => !t.skipped).length };
  }
}
