// Validates files in a Web Worker so the page stays responsive: File.stream() chunks go to the
// WebAssembly core; records are kept as Blob parts (not JS objects), rows go to the page.
import init, { PreflightRun } from "./fhir_preflight_wasm.js";

let lastPanic = null;
globalThis.fhirPreflightPanic = (message) => { lastPanic = message; };

const PROGRESS_MS = 100;

let ready = null;

self.onmessage = async (e) => {
  if (e.data.type === "init") {
    ready = ready ?? init();
    try {
      await ready;
      self.postMessage({ type: "ready" });
    } catch (err) {
      self.postMessage({ type: "error", message: `could not load the validator: ${err}` });
    }
    return;
  }
  if (e.data.type !== "start") return;
  try {
    await (ready = ready ?? init());
    const run = new PreflightRun(JSON.stringify(e.data.options));
    const loaded = [];
    for (const pkg of e.data.packages ?? []) {
      try {
        loaded.push(run.addPackage(new Uint8Array(await pkg.arrayBuffer())));
      } catch (err) {
        throw new Error(`${pkg.name}: ${err.message ?? err}`);
      }
    }
    if (loaded.length) self.postMessage({ type: "packages", loaded });
    const records = [];
    const notes = [];
    let done = 0;
    let linesBefore = 0;
    let last = 0;
    const drain = (name) => {
      const failure = run.takeFailureRecords();
      const success = run.takeSuccessRecords();
      const entry = (folder) => {
        let r = records.find((x) => x.name === `${folder}/${name}`);
        if (!r) { r = { name: `${folder}/${name}`, parts: [] }; records.push(r); }
        return r;
      };
      if (failure.length) entry("FAILURE").parts.push(new Blob([failure]));
      if (success.length) entry("SUCCESS").parts.push(new Blob([success]));
      const rows = JSON.parse(run.takeRows());
      if (rows.length) self.postMessage({ type: "rows", rows });
      const warnings = JSON.parse(run.takeWarningRows());
      if (warnings.length) self.postMessage({ type: "warnings", rows: warnings });
    };
    const files = [];
    for (const file of e.data.files) {
      run.beginFile(file.name);
      const reader = file.stream().getReader();
      let ok = true;
      try {
        for (;;) {
          const { value, done: end } = await reader.read();
          if (end) break;
          run.feed(value);
          done += value.length;
          const now = performance.now();
          if (now - last > PROGRESS_MS) {
            last = now;
            const p = JSON.parse(run.progress());
            self.postMessage({ type: "progress", bytes: done, lines: linesBefore + p.lines });
            drain(file.name);
          }
        }
      } catch (readError) {
        if (readError instanceof WebAssembly.RuntimeError) throw readError;
        ok = false;
      }
      const report = JSON.parse(run.endFile(ok));
      linesBefore += report.resourcesScanned;
      files.push({
        file: file.name,
        scanned: report.resourcesScanned,
        imported: report.resourcesImported,
        failed: report.resourcesWithCustomerError + report.resourcesWithServerError,
      });
      for (const note of report.notes) notes.push({ file: file.name, ...note });
      drain(file.name);
    }
    for (const note of JSON.parse(run.runNotes())) notes.push({ file: null, ...note });
    const inputUri = e.data.files.length === 1 ? e.data.files[0].name : "./";
    const manifest = run.manifest(inputUri, "fhir-preflight-results");
    const out = records
      .filter((r) => r.parts.length)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((r) => ({ name: r.name, blob: new Blob(r.parts) }));
    self.postMessage({ type: "progress", bytes: done, lines: linesBefore });
    self.postMessage({ type: "done", manifest, records: out, notes, files, tally: JSON.parse(run.tally()) });
  } catch (err) {
    const message = lastPanic ?? `fhir-preflight stopped: ${err && err.message ? err.message : err}`;
    self.postMessage({ type: "error", message });
  }
};
