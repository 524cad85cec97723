// The differential oracle's other half: HL7's FHIRPath engine for JavaScript (npm `fhirpath`, R4
// model) evaluates the constraints fhir-preflight evaluated, on the same elements.
//
// Input (stdin), one JSON object a line: {"id", "resource", "evals": [{"key", "expression",
// "path", "base", "item"}]} as `cargo xtask invariant-oracle` writes it (`path`: the element's
// FHIR path with JSON names and indexes; `base`: its type path; `item`: for a constraint on an
// element's items, {"name", "index"}, `base` then being the holder's type path). Output (stdout), one line per
// input line: {"id", "holds": "1 or 0 per evaluation", "errors": {"index": "message"}}.
//
// A constraint holds when its expression evaluates to exactly `[true]`: the HL7 validator's rule
// (an empty result or an error fails it). %resource is the nearest resource on the path,
// %rootResource the nearest one not inside `contained`.
import fhirpath from "fhirpath";
import r4 from "fhirpath/fhir-context/r4/index.js";
import readline from "node:readline";

// The regular-expression dialect is the one place where the oracle does not use fhirpath.js's
// own functions: the HL7 validator (Java) matches the whole string (`String.matches`, the 2020
// build's `matches()`) with Java's syntax, which accepts escapes such as `\'` and a lone `]`
// that JavaScript's unicode-mode RegExp (fhirpath.js's `u` flag) rejects with an exception
// (eld-16, eld-19, eld-20 on every StructureDefinition). So `matches` and `replaceMatches` here
// compile the pattern without the `u` flag, `matches` anchored to the whole string. Everything
// else is fhirpath.js as published.
function text(coll) {
  if (!Array.isArray(coll) || coll.length !== 1) return undefined;
  const v = coll[0];
  const data = v !== null && typeof v === "object" && "data" in v ? v.data : v;
  return typeof data === "string" ? data : undefined;
}
const userInvocationTable = {
  matches: {
    fn: (coll, regex) => {
      const s = text(coll);
      if (s === undefined || regex === undefined || regex === null) return [];
      return new RegExp(`^(?:${regex})$`, "s").test(s);
    },
    arity: { 1: ["String"] },
  },
  replaceMatches: {
    fn: (coll, regex, substitution) => {
      const s = text(coll);
      if (s === undefined || regex === undefined || regex === null || substitution === undefined) return [];
      return s.replace(new RegExp(regex, "gs"), substitution);
    },
    arity: { 2: ["String", "String"] },
  },
};

const compiled = new Map();
function compile(base, expression, isResource) {
  const cacheKey = `${base}\u0000${expression}`;
  let fn = compiled.get(cacheKey);
  if (!fn) {
    // trace() writes to the console unless given a function of its own.
    const options = { traceFn: () => {}, userInvocationTable };
    fn = isResource ? fhirpath.compile(expression, r4, options) : fhirpath.compile({ base, expression }, r4, options);
    compiled.set(cacheKey, fn);
  }
  return fn;
}

// Walk `path` (`Type.a[0].b`) from the resource: the element, and the resources around it.
function locate(resource, path) {
  let node = resource;
  let current = resource;
  let root = resource;
  let contained = false;
  const steps = path.split(".").slice(1);
  for (const step of steps) {
    const m = /^([^[\]]+)(?:\[(\d+)\])?$/.exec(step);
    if (!m || node === null || typeof node !== "object") return null;
    node = node[m[1]];
    if (m[2] !== undefined) node = Array.isArray(node) ? node[Number(m[2])] : undefined;
    if (node === undefined) return null;
    if (m[1] === "contained") contained = true;
    if (node && typeof node === "object" && typeof node.resourceType === "string") {
      current = node;
      if (!contained) root = node;
    }
  }
  return { node, current, root };
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const text of rl) {
  if (!text.trim()) continue;
  const task = JSON.parse(text);
  let holds = "";
  const errors = {};
  task.evals.forEach((e, i) => {
    let ok = false;
    try {
      // A constraint on an element's items is evaluated from the object holding the element,
      // on the item: `name[index].all(expression)` (true only when the expression gives true).
      const path = e.item ? e.path.slice(0, e.path.lastIndexOf(".")) : e.path;
      const expression = e.item ? `${e.item.name}[${e.item.index}].all(${e.expression})` : e.expression;
      const at = locate(task.resource, path);
      if (!at) throw new Error(`no element at ${path}`);
      const isResource = at.node === at.current;
      const fn = compile(e.base, expression, isResource);
      const result = fn(at.node, { resource: at.current, rootResource: at.root });
      ok = Array.isArray(result) && result.length === 1 && result[0] === true;
    } catch (err) {
      errors[i] = String(err && err.message ? err.message : err).slice(0, 200);
    }
    holds += ok ? "1" : "0";
  });
  process.stdout.write(JSON.stringify({ id: task.id, holds, errors }) + "\n");
}
