#!/usr/bin/env node
// Plans a Terraform root module offline (no terraform binary, no provider, no broker) and prints what it would
// create, as JSON: { resources: [{ address, module, type, name, key, values }], outputs, providers }.
//
//   node tools/offline-check/terraform-plan.mjs terraform/examples/complete -var prefix=p. -var functions_dir=/abs/dir
//
// Relative paths in the configuration are relative to the root module directory, as for terraform run there.
// Exit status 1, with file:line, on a Terraform error (failed precondition or validation, bad reference,
// argument not in the provider's schema) and on anything the evaluator does not implement (never skipped).

import { Evaluator } from "./lib-terraform-eval.mjs";
import { TObj, toPlainJson } from "./lib-terraform-values.mjs";

function usage(message) {
  console.error(`${message}\nusage: terraform-plan.mjs <root-module-dir> [-var name=value]...`);
  process.exit(2);
}

const args = process.argv.slice(2);
let root = null;
const vars = new Map();
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "-var" || a === "--var") {
    const v = args[++i];
    if (v === undefined || !v.includes("=")) usage(`-var needs name=value`);
    vars.set(v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1));
  } else if (a.startsWith("-var=")) {
    const v = a.slice(5);
    vars.set(v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1));
  } else if (root === null) {
    root = a;
  } else {
    usage(`unexpected argument ${a}`);
  }
}
if (root === null) usage("no root module directory given");

try {
  const plan = new Evaluator(root, vars).plan();
  if (plan.problems.length) {
    console.error(plan.problems.map((p) => `Error: ${p}`).join("\n"));
    process.exit(1);
  }
  const resources = plan.resources.map((r) => new TObj([
    ["address", r.address],
    ["module", r.module],
    ["type", r.type],
    ["name", r.name],
    ["key", r.key === null ? null : typeof r.key === "number" ? String(r.key) : r.key],
    ["values", r.values],
  ]));
  const providers = plan.providers.map((p) => new TObj([["name", p.name], ["values", p.values]]));
  const out = new TObj([["resources", resources], ["outputs", plan.outputs], ["providers", providers]]);
  process.stdout.write(`${toPlainJson(out)}\n`);
} catch (e) {
  console.error(`Error: ${e.message}`);
  if (process.env.TERRAFORM_PLAN_DEBUG) console.error(e.stack);
  process.exit(1);
}
