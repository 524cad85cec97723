// The page: files in, Web Workers validate them (the core in WebAssembly, one worker per core, a
// large file in parts: pool.js), a report out — a verdict first, charts of what is wrong (the
// core's per-code and per-type counts, as the CLI's summary lines), then the lines, filterable.
// Rows are kept up to MAX_ROWS per view; records stay Blob parts until the zip is made. Nothing
// is sent anywhere.
//
// Charts are plain tables with CSS bars (no chart library: nothing to bundle or to allow in the
// Content-Security-Policy, and a screen reader reads each chart as the table it is).
import { downloadZip } from "./client-zip.js";
import { Pool, PART_BYTES } from "./pool.js";

const MAX_ROWS = 10000;
const PAGE = 100;
const $ = (id) => document.getElementById(id);

const views = { failed: newView(), warnings: newView() };
let view = "failed";
let filters = { code: "", severity: "", type: "", file: "", id: "" };
let sort = { key: "line", dir: 1 };
let page = 0;
let zipUrl = null;

function newView() { return { rows: [], dropped: 0 }; }
function fmt(n) { return Number(n).toLocaleString("en-US"); }
function plural(n, one, many) { return `${fmt(n)} ${n === 1 ? one : many}`; }
function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

// ---- the lines table -------------------------------------------------------------------------

function matches(r) {
  return (!filters.code || (r.codes ?? [r.code]).includes(filters.code)) &&
    (!filters.severity || r.severity === filters.severity) &&
    (!filters.type || (r.resourceType ?? "(unknown)") === filters.type) &&
    (!filters.file || r.file === filters.file) &&
    (!filters.id || (r.resourceId ?? "").toLowerCase().includes(filters.id.toLowerCase()));
}

function compare(a, b) {
  if (sort.key === "line") return sort.dir * (a.i - b.i);
  const x = String(a[sort.key] ?? ""), y = String(b[sort.key] ?? "");
  return sort.dir * (x < y ? -1 : x > y ? 1 : 0) || a.i - b.i;
}

function renderRows() {
  const v = views[view];
  const shown = v.rows.filter(matches).sort(compare);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  page = Math.min(page, pages - 1);
  const body = $("lines");
  body.replaceChildren(...shown.slice(page * PAGE, (page + 1) * PAGE).map((r) => {
    const codes = r.codes && r.codes.length > 1 ? ` (+${r.codes.length - 1} more)` : "";
    return el("tr", { dataset: { code: r.code ?? "", severity: r.severity ?? "" } },
      el("td", {}, `${r.file}:${r.line}`),
      el("td", {}, r.resourceType ?? ""),
      el("td", {}, r.resourceId ?? ""),
      el("td", { class: `sev-${r.severity}` }, r.severity ?? ""),
      el("td", {}, `${r.code ?? ""}${codes}`),
      el("td", {}, r.path ?? ""),
      el("td", {}, r.message ?? ""));
  }));
  const what = view === "failed" ? "failed lines" : "warnings";
  const active = Object.values(filters).some(Boolean);
  $("shown-count").textContent = shown.length === 0
    ? (active ? `No ${what} match these filters.` : `No ${what}.`)
    : `Showing ${fmt(page * PAGE + 1)}–${fmt(Math.min((page + 1) * PAGE, shown.length))} of ${fmt(shown.length)} ${what}${active ? " matching the filters" : ""}.`;
  $("page").textContent = `page ${page + 1} of ${pages}`;
  $("prev").disabled = page === 0;
  $("next").disabled = page + 1 >= pages;
  const note = $("rows-note");
  note.hidden = v.dropped === 0;
  note.textContent = `Only the first ${fmt(MAX_ROWS)} ${what} are kept in this page (${fmt(v.dropped)} more are not listed here); the download has every record.`;
  document.body.dataset.shownRows = String(shown.length);
}

function fillSelect(id, values) {
  const select = $(id);
  const keep = select.value;
  select.replaceChildren(el("option", { value: "" }, "all"), ...values.map((v) => el("option", { value: v }, v)));
  select.value = values.includes(keep) ? keep : "";
}

function renderFilters(tally) {
  const rows = views[view].rows;
  const codes = Object.keys(view === "failed" ? tally.errorsByCode : tally.warningsByCode).sort();
  fillSelect("filter-code", codes);
  fillSelect("filter-severity", [...new Set(rows.map((r) => r.severity).filter(Boolean))].sort());
  fillSelect("filter-type", [...new Set(rows.map((r) => r.resourceType ?? "(unknown)"))].sort());
  fillSelect("filter-file", [...new Set(rows.map((r) => r.file))]);
  for (const [k, id] of [["code", "filter-code"], ["severity", "filter-severity"], ["type", "filter-type"], ["file", "filter-file"]]) {
    filters[k] = $(id).value;
  }
}

let lastTally = { errorsByCode: {}, warningsByCode: {}, byType: {} };

function selectView(name) {
  view = name;
  for (const [tab, v] of [["tab-failed", "failed"], ["tab-warnings", "warnings"]]) {
    $(tab).setAttribute("aria-selected", String(v === name));
    $(tab).tabIndex = v === name ? 0 : -1;
  }
  page = 0;
  renderFilters(lastTally);
  renderRows();
}

/** Show the lines of one code: a click on a chart's code. */
function filterByCode(code, which) {
  filters = { code: "", severity: "", type: "", file: "", id: "" };
  $("filter-id").value = "";
  selectView(which);
  $("filter-code").value = code;
  filters.code = code;
  page = 0;
  renderRows();
  $("lines-title").scrollIntoView({ block: "start" });
  $("filter-code").focus();
}

// ---- the verdict and the charts --------------------------------------------------------------

function renderCounts(manifest) {
  const m = JSON.parse(manifest);
  const keys = [
    "numberOfScannedFiles", "numberOfFilesImported", "numberOfFilesReadWithSuccess", "numberOfFilesReadWithCustomerError",
    "numberOfFilesReadWithServerError", "sizeOfScannedFilesInMB", "sizeOfDataImportedSuccessfullyInMB",
    "numberOfResourcesScanned", "numberOfResourcesImportedSuccessfully", "numberOfResourcesWithCustomerError",
    "numberOfResourcesWithServerError",
  ];
  $("counts").querySelector("tbody").replaceChildren(...keys.map((k) => el("tr", { dataset: { key: k } },
    el("td", {}, k),
    el("td", {}, k.startsWith("size") ? manifest.match(new RegExp(`"${k}": ([0-9.]+)`))[1] : fmt(m[k])))));
  return m;
}

function renderVerdict(m, files, tally) {
  const bad = m.numberOfResourcesWithCustomerError + m.numberOfResourcesWithServerError;
  const unread = m.numberOfFilesReadWithCustomerError + m.numberOfFilesReadWithServerError;
  const filesBad = files.filter((f) => f.failed > 0).length;
  const ok = bad === 0 && unread === 0;
  $("verdict").className = `verdict ${ok ? "ok" : "bad"}`;
  $("verdict").dataset.verdict = ok ? "clean" : "rejected";
  $("verdict-title").textContent = ok
    ? "✓ These files would import cleanly"
    : "✗ Some of this would not import";
  const scanned = m.numberOfResourcesScanned;
  const parts = [bad === 0
    ? `All ${plural(scanned, "resource", "resources")} would import (${plural(m.numberOfScannedFiles, "file", "files")})`
    : `${fmt(m.numberOfResourcesImportedSuccessfully)} of ${plural(scanned, "resource", "resources")} would import; ` +
      `${fmt(bad)} would be rejected in ${fmt(filesBad)} of ${fmt(m.numberOfScannedFiles)} files`];
  if (unread > 0) parts.push(`${plural(unread, "file", "files")} could not be read to the end`);
  $("verdict-text").textContent = `${parts.join("; ")}.`;
  $("verdict-warnings").textContent = tally.warnings === 0
    ? "No warnings."
    : `${plural(tally.warnings, "warning", "warnings")} on ${plural(tally.linesWithWarnings, "imported line", "imported lines")} (warnings do not stop an import).`;
}

/** A bar chart as a table: label, count(s), and the bar (CSS widths set through the CSSOM). */
function barRows(tableId, entries, max, makeLabel) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren(...entries.map(([label, values, kinds]) => {
    const bar = el("td", { class: "bar" });
    bar.setAttribute("aria-hidden", "true");
    values.forEach((n, i) => {
      const fill = el("span", { class: `fill ${kinds[i]}` });
      fill.style.width = `${max > 0 ? (100 * n) / max : 0}%`;
      bar.append(fill);
    });
    return el("tr", { dataset: { label } }, el("th", { scope: "row" }, makeLabel(label)),
      ...values.map((n) => el("td", { class: "n" }, fmt(n))), bar);
  }));
  body.closest(".chart").hidden = false;
  if (entries.length === 0) {
    const cells = $(tableId).querySelectorAll("thead th").length;
    body.append(el("tr", {}, el("td", { colSpan: cells, class: "note" }, "none")));
  }
}

function renderCharts(tally, notes, files) {
  const byCount = (o) => Object.entries(o).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const codeButton = (which) => (code) => {
    const b = el("button", { type: "button", class: "code" }, code);
    b.addEventListener("click", () => filterByCode(code, which));
    b.setAttribute("aria-label", `${code}: show these ${which === "failed" ? "failed lines" : "warnings"}`);
    return b;
  };
  const errors = byCount(tally.errorsByCode);
  barRows("chart-errors", errors.map(([c, n]) => [c, [n], ["error"]]), errors[0]?.[1] ?? 0, codeButton("failed"));
  // Warnings as the CLI's summary counts them: the lines' and the notes'.
  const warningCounts = { ...tally.warningsByCode };
  for (const n of notes.filter((n) => n.severity === "warning")) warningCounts[n.code] = (warningCounts[n.code] ?? 0) + 1;
  const warnings = byCount(warningCounts);
  barRows("chart-warnings", warnings.map(([c, n]) => [c, [n], ["warning"]]), warnings[0]?.[1] ?? 0, (code) =>
    tally.warningsByCode[code] ? codeButton("warnings")(code) : code);
  const types = Object.entries(tally.byType).sort((a, b) => b[1].failed - a[1].failed || b[1].lines - a[1].lines || (a[0] < b[0] ? -1 : 1));
  const maxLines = Math.max(0, ...types.map(([, t]) => t.lines));
  barRows("chart-types", types.map(([ty, t]) => [ty, [t.failed, t.lines - t.failed], ["error", "imported"]]), maxLines, (ty) => ty);
  $("chart-files-section").hidden = files.length < 2;
  if (files.length >= 2) {
    const maxFile = Math.max(0, ...files.map((f) => f.scanned));
    barRows("chart-files", files.map((f) => [f.file, [f.failed, f.imported], ["error", "imported"]]), maxFile, (name) => name);
  }
}

/** Notes about files and the run, each as the CLI's report writes it: `file:line: severity[code] message`. */
function renderNotes(notes) {
  $("notes").replaceChildren(...notes.map((n) => {
    const where = n.file === null ? "(run)" : n.line > 0 ? `${n.file}:${n.line}` : n.file;
    return el("li", { dataset: { code: n.code } }, `${where}: ${n.severity}[${n.code}] ${n.message}`);
  }));
  $("notes-section").hidden = notes.length === 0;
}

async function finish(msg) {
  const m = renderCounts(msg.manifest);
  lastTally = msg.tally;
  renderVerdict(m, msg.files, msg.tally);
  renderCharts(msg.tally, msg.notes, msg.files);
  renderNotes(msg.notes);
  const failedTotal = views.failed.rows.length + views.failed.dropped;
  const warningTotal = views.warnings.rows.length + views.warnings.dropped;
  $("tab-failed-count").textContent = `(${fmt(failedTotal)})`;
  $("tab-warnings-count").textContent = `(${fmt(warningTotal)})`;
  $("failed-count").textContent = "";
  selectView(failedTotal === 0 && warningTotal > 0 ? "warnings" : "failed");
  const files = [{ name: "manifest.json", input: msg.manifest }];
  for (const f of msg.records) files.push({ name: f.name, input: f.blob });
  const blob = await downloadZip(files).blob();
  if (zipUrl) URL.revokeObjectURL(zipUrl);
  zipUrl = URL.createObjectURL(blob);
  $("download").href = zipUrl;
  $("results").hidden = false;
  $("progress-text").textContent = `Done: ${$("verdict-text").textContent}`;
  document.body.dataset.state = "done";
}

function keep(v, rows, dropped = 0) {
  const room = MAX_ROWS - v.rows.length;
  const base = v.rows.length + v.dropped;
  v.rows.push(...rows.slice(0, Math.max(room, 0)).map((r, k) => ({ ...r, i: base + k })));
  v.dropped += Math.max(rows.length - Math.max(room, 0), 0) + dropped;
}

// Test and tuning hooks: ?workers=N (default: one per core) and ?partBytes=N (bytes per part of a
// large file).
const params = new URLSearchParams(location.search);
const workerCount = Number(params.get("workers")) || Math.min(Math.max(navigator.hardwareConcurrency || 1, 1), 8);
const partBytes = Number(params.get("partBytes")) || PART_BYTES;

async function start(fileList) {
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
  views.failed = newView(); views.warnings = newView(); page = 0;
  $("error").hidden = true;
  $("results").hidden = true;
  $("progress").hidden = false;
  document.body.dataset.state = "running";
  const total = files.reduce((n, f) => n + f.size, 0);
  $("bar").max = Math.max(total, 1);
  $("progress-text").textContent = `Validating ${plural(files.length, "file", "files")} (${fmt(total)} bytes) on ${plural(pool.workers.length, "worker", "workers")}…`;
  const options = { level: $("level").value, usCoreVersion: $("us-core-version").value };
  // Test hook (honoured only by a fault-injection build): ?panicMarker=… makes the validator panic.
  const marker = params.get("panicMarker");
  if (marker) options.panicMarker = marker;
  const t0 = performance.now();
  let shown = null;
  try {
    const result = await pool.run(files, { options, packages: [...$("packages").files], partBytes }, {
      // At most one update a frame: the workers report more often than the page can show.
      progress(bytes, lines) {
        const first = shown === null;
        shown = { bytes, lines };
        if (!first) return;
        requestAnimationFrame(() => {
          $("bar").value = shown.bytes;
          $("progress-text").textContent = `${fmt(shown.bytes)} of ${fmt(total)} bytes, ${fmt(shown.lines)} lines`;
          document.body.dataset.progressUpdates = String(Number(document.body.dataset.progressUpdates ?? 0) + 1);
          shown = null;
        });
      },
      packages(loaded) {
        $("package-list").replaceChildren(...loaded.map((name) => el("li", {}, `${name}: loaded`)));
        document.body.dataset.packages = loaded.join(" ");
      },
      rows(rows, dropped, warnings, droppedWarnings) {
        keep(views.failed, rows, dropped);
        keep(views.warnings, warnings, droppedWarnings);
      },
    });
    document.body.dataset.validateMs = String(Math.round(performance.now() - t0));
    document.body.dataset.workers = String(pool.workers.length);
    document.body.dataset.parts = String(result.parts);
    $("bar").value = total;
    await finish(result);
  } catch (err) {
    showError(err.message ?? String(err));
    document.body.dataset.state = "error";
    // After a panic the WebAssembly instances are gone: the next run gets new workers.
    pool.terminate();
    startPool();
  }
}

// The workers and the WebAssembly module load with the page, so that validating makes no request.
let pool = null;
function startPool() {
  pool = new Pool(workerCount);
  pool.ready.then(() => { document.body.dataset.worker = "ready"; }, (err) => showError(`could not load the validator: ${err.message ?? err}`));
}
startPool();

$("files").addEventListener("change", (e) => {
  const files = [...e.target.files];
  // Cleared, so that choosing the same file again validates it again.
  e.target.value = "";
  start(files);
});
$("packages").addEventListener("change", (e) => {
  $("package-list").replaceChildren(...[...e.target.files].map((f) =>
    el("li", {}, `${f.name} (${fmt(f.size)} bytes): its profiles are used from the next validation`)));
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); start(e.dataTransfer.files); });
drop.addEventListener("keydown", (e) => {
  if (e.target === drop && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); $("files").click(); }
});
$("prev").addEventListener("click", () => { page = Math.max(0, page - 1); renderRows(); });
$("next").addEventListener("click", () => { page += 1; renderRows(); });
for (const [k, id] of [["code", "filter-code"], ["severity", "filter-severity"], ["type", "filter-type"], ["file", "filter-file"]]) {
  $(id).addEventListener("change", () => { filters[k] = $(id).value; page = 0; renderRows(); });
}
$("filter-id").addEventListener("input", () => { filters.id = $("filter-id").value; page = 0; renderRows(); });
$("filters").addEventListener("submit", (e) => e.preventDefault());
$("filters").addEventListener("reset", () => {
  filters = { code: "", severity: "", type: "", file: "", id: "" };
  page = 0;
  setTimeout(renderRows, 0);
});
for (const b of document.querySelectorAll("#failed th button")) {
  b.addEventListener("click", () => {
    const key = b.dataset.sort;
    sort = { key, dir: sort.key === key ? -sort.dir : 1 };
    for (const th of document.querySelectorAll("#failed th")) th.setAttribute("aria-sort", "none");
    b.parentElement.setAttribute("aria-sort", sort.dir === 1 ? "ascending" : "descending");
    renderRows();
  });
}
$("tab-failed").addEventListener("click", () => selectView("failed"));
$("tab-warnings").addEventListener("click", () => selectView("warnings"));
for (const tab of [$("tab-failed"), $("tab-warnings")]) {
  tab.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      const next = view === "failed" ? "warnings" : "failed";
      selectView(next);
      $(`tab-${next}`).focus();
    }
  });
}
document.body.dataset.state = "ready";
