// The page: files in, a Web Worker validates them (the core in WebAssembly), results out.
// Failed-line rows are kept up to MAX_ROWS; records stay Blob parts inside the worker until the
// zip is made. Nothing is sent anywhere.
import { downloadZip } from "./client-zip.js";

const MAX_ROWS = 10000;
const PAGE = 100;
const $ = (id) => document.getElementById(id);

let rows = [];
let rowsDropped = 0;
let page = 0;
let worker = null;
let zipUrl = null;

function fmt(n) { return Number(n).toLocaleString("en-US"); }

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

function renderRows() {
  const body = $("failed").querySelector("tbody");
  body.replaceChildren();
  for (const r of rows.slice(page * PAGE, (page + 1) * PAGE)) {
    const tr = document.createElement("tr");
    for (const v of [`${r.file}:${r.line}`, r.resourceType ?? "", r.resourceId ?? "", r.code ?? "", r.path ?? "", r.message ?? ""]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    body.append(tr);
  }
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  $("page").textContent = `page ${page + 1} of ${pages}`;
  $("prev").disabled = page === 0;
  $("next").disabled = page + 1 >= pages;
}

function renderCounts(manifest) {
  const m = JSON.parse(manifest);
  const keys = [
    "numberOfScannedFiles", "numberOfFilesImported", "numberOfFilesReadWithSuccess", "numberOfFilesReadWithCustomerError",
    "numberOfFilesReadWithServerError", "sizeOfScannedFilesInMB", "sizeOfDataImportedSuccessfullyInMB",
    "numberOfResourcesScanned", "numberOfResourcesImportedSuccessfully", "numberOfResourcesWithCustomerError",
    "numberOfResourcesWithServerError",
  ];
  const body = $("counts").querySelector("tbody");
  body.replaceChildren();
  for (const k of keys) {
    const tr = document.createElement("tr");
    tr.dataset.key = k;
    const name = document.createElement("td");
    name.textContent = k;
    const value = document.createElement("td");
    value.textContent = k.startsWith("size") ? manifest.match(new RegExp(`"${k}": ([0-9.]+)`))[1] : fmt(m[k]);
    tr.append(name, value);
    body.append(tr);
  }
  const bad = m.numberOfResourcesWithCustomerError + m.numberOfResourcesWithServerError;
  $("verdict").textContent = bad === 0
    ? `All ${fmt(m.numberOfResourcesScanned)} resources would import.`
    : `${fmt(bad)} of ${fmt(m.numberOfResourcesScanned)} resources would be rejected.`;
}

/** Notes about files and the run, each as the CLI's report writes it: `file:line: severity[code] message`. */
function renderNotes(notes) {
  const list = $("notes");
  list.replaceChildren();
  for (const n of notes) {
    const li = document.createElement("li");
    const where = n.file === null ? "(run)" : n.line > 0 ? `${n.file}:${n.line}` : n.file;
    li.textContent = `${where}: ${n.severity}[${n.code}] ${n.message}`;
    li.dataset.code = n.code;
    list.append(li);
  }
  $("notes-section").hidden = notes.length === 0;
}

async function finish(msg) {
  renderCounts(msg.manifest);
  renderNotes(msg.notes);
  $("failed-count").textContent = `(${fmt(rows.length + rowsDropped)})`;
  if (rowsDropped > 0) {
    $("rows-note").textContent = `Showing the first ${fmt(MAX_ROWS)} failed lines; the download has all of them.`;
    $("rows-note").hidden = false;
  }
  renderRows();
  const files = [{ name: "manifest.json", input: msg.manifest }];
  for (const f of msg.records) files.push({ name: f.name, input: f.blob });
  const blob = await downloadZip(files).blob();
  if (zipUrl) URL.revokeObjectURL(zipUrl);
  zipUrl = URL.createObjectURL(blob);
  $("download").href = zipUrl;
  $("results").hidden = false;
  document.body.dataset.state = "done";
}

function start(fileList) {
  const files = [...fileList];
  if (files.length === 0) return;
  const names = new Set();
  for (const f of files) {
    if (names.has(f.name)) {
      showError(`Two files are named ${f.name}: their records would collide. Validate them separately.`);
      return;
    }
    names.add(f.name);
  }
  rows = []; rowsDropped = 0; page = 0;
  $("error").hidden = true;
  $("results").hidden = true;
  $("progress").hidden = false;
  document.body.dataset.state = "running";
  const total = files.reduce((n, f) => n + f.size, 0);
  $("bar").max = Math.max(total, 1);
  const w = worker ?? startWorker();
  w.onmessage = (e) => {
    const msg = e.data;
    if (msg.type === "progress") {
      $("bar").value = msg.bytes;
      $("progress-text").textContent = `${fmt(msg.bytes)} of ${fmt(total)} bytes, ${fmt(msg.lines)} lines`;
      document.body.dataset.progressUpdates = String(Number(document.body.dataset.progressUpdates ?? 0) + 1);
    } else if (msg.type === "packages") {
      const list = $("package-list");
      list.replaceChildren(...msg.loaded.map((name) => {
        const li = document.createElement("li");
        li.textContent = `${name}: loaded`;
        return li;
      }));
      document.body.dataset.packages = msg.loaded.join(" ");
    } else if (msg.type === "rows") {
      const room = MAX_ROWS - rows.length;
      rows.push(...msg.rows.slice(0, Math.max(room, 0)));
      rowsDropped += Math.max(msg.rows.length - room, 0);
    } else if (msg.type === "done") {
      $("bar").value = total;
      finish(msg);
    } else if (msg.type === "error") {
      showError(msg.message);
      document.body.dataset.state = "error";
      // After a panic the WebAssembly instance is gone: the next run gets a new worker.
      w.terminate();
      worker = null;
    }
  };
  const options = { level: $("level").value, usCoreVersion: $("us-core-version").value };
  // Test hook (honoured only by a fault-injection build): ?panicMarker=… makes the validator panic.
  const marker = new URLSearchParams(location.search).get("panicMarker");
  if (marker) options.panicMarker = marker;
  w.postMessage({ type: "start", files, options, packages: [...$("packages").files] });
}

// The worker and the WebAssembly module load with the page, so that validating makes no request.
function startWorker() {
  worker = new Worker("worker.js", { type: "module" });
  worker.onmessage = (e) => {
    if (e.data.type === "ready") document.body.dataset.worker = "ready";
    if (e.data.type === "error") showError(e.data.message);
  };
  worker.postMessage({ type: "init" });
  return worker;
}
startWorker();

$("files").addEventListener("change", (e) => start(e.target.files));
$("packages").addEventListener("change", (e) => {
  const list = $("package-list");
  list.replaceChildren(...[...e.target.files].map((f) => {
    const li = document.createElement("li");
    li.textContent = `${f.name} (${fmt(f.size)} bytes): its profiles are used from the next validation`;
    return li;
  }));
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); start(e.dataTransfer.files); });
$("prev").addEventListener("click", () => { page = Math.max(0, page - 1); renderRows(); });
$("next").addEventListener("click", () => { page += 1; renderRows(); });
document.body.dataset.state = "ready";
