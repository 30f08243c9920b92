#!/usr/bin/env node
// The offline stand-in for `terraform init -backend=false && terraform validate` on terraform/ and its examples,
// on HashiCorp's own HCL parser (@cdktf/hcl2json); nothing here evaluates Terraform:
//
//  1. every .tf file parses as HCL2, errors as file:line:column;
//  2. every resource type, argument and nested block is one the cyrilgdn/rabbitmq provider has
//     (lib-terraform-schema.mjs), required ones are present, arguments and arguments_json are not both set;
//     provider blocks use only its arguments (the required ones may come from RABBITMQ_* variables);
//  3. every module using the provider pins it in required_providers (source cyrilgdn/rabbitmq, ~> 1.10, which
//     the reference version satisfies) and says which Terraform it needs; provider blocks only in root
//     modules; module sources exist, and a module call sets only variables the module declares, and every
//     one without a default; every var.<name> and local.<name> a module uses is declared.
//
//   node tools/offline-check/terraform-check.mjs [terraform-dir]     (default: terraform)
//   node tools/offline-check/terraform-check.mjs --json file.tf      (prints HashiCorp's parse of one file)
// Prints every file checked; exit status 1 with every problem found.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { PROVIDER, RESOURCES, RESOURCE_META_ARGS, RESOURCE_META_BLOCKS, satisfies } from "./lib-terraform-schema.mjs";

const require = createRequire(import.meta.url);
const hcl2json = require("@cdktf/hcl2json");

if (process.argv[2] === "--json") {
  const file = process.argv[3];
  console.log(JSON.stringify(await hcl2json.parse(file, fs.readFileSync(file, "utf8")), null, 2));
  process.exit(0);
}

const root = path.resolve(process.argv[2] || "terraform");
const problems = [];
/** A problem at the line of `label` (a block header or an argument) in the file, or at the file. */
const problem = (file, at, message) => problems.push(`${file}:${at ? `${at.line}:${at.col}` : "1:1"}: ${message}`);
const texts = new Map();

/**
 * Where a block's argument or nested block is written: the first line after the block header `header` (the words
 * of its type and labels) that assigns `name` or opens a block `name`. hcl2json keeps no positions; this only
 * finds the line for the message.
 */
function locate(file, header, name) {
  const lines = texts.get(file).split("\n");
  const words = header.map((w, i) => (i === 0 ? w : `"${w}"`)).join("\\s+");
  const start = lines.findIndex((l) => new RegExp(`^\\s*${words}\\s*\\{`).test(l));
  if (start < 0) return null;
  if (name === undefined) return { line: start + 1, col: lines[start].search(/\S/) + 1 };
  for (let i = start + 1; i < lines.length; i++) {
    if (/^(resource|data|module|provider|variable|output|locals|terraform)\b/.test(lines[i])) break;
    const m = new RegExp(`^(\\s*)${name}\\s*(=|\\{)`).exec(lines[i]);
    if (m) return { line: i + 1, col: m[1].length + 1 };
  }
  return { line: start + 1, col: lines[start].search(/\S/) + 1 };
}

function tfFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === ".terraform") continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tfFiles(p));
    else if (e.name.endsWith(".tf")) out.push(p);
  }
  return out.sort();
}

const isLiteral = (v) => typeof v !== "string" || !v.includes("${");
const bodies = (v) => (Array.isArray(v) && v.every((b) => b && typeof b === "object" && !Array.isArray(b)) ? v : null);

// ---------------------------------------------------------------- 2. the provider's schema

/** A block body as hcl2json gives it: arguments are values, nested blocks are lists of bodies. */
function checkBody(file, header, where, body, args, blocks, exclusive, meta = { args: [], blocks: [] }) {
  for (const [name, value] of Object.entries(body)) {
    if (meta.args.includes(name)) continue;
    if (meta.blocks.includes(name)) {
      for (const b of bodies(value) || []) checkLifecycle(file, header, `${where}.${name}`, b);
      continue;
    }
    if (name === "dynamic") {
      problem(file, locate(file, header, name), `${where}: dynamic blocks are not checked offline; write the blocks out`);
      continue;
    }
    const block = (blocks || {})[name];
    if (block) {
      const list = bodies(value);
      if (!list) {
        problem(file, locate(file, header, name), `${where}: "${name}" is a block, not an argument`);
        continue;
      }
      if (list.length < block.min) problem(file, locate(file, header), `${where}: the block "${name}" is required`);
      if (list.length > block.max) problem(file, locate(file, header, name), `${where}: at most ${block.max} "${name}" block(s)`);
      list.forEach((b) => checkBody(file, header, `${where}.${name}`, b, block.args, block.blocks, block.exclusive));
      continue;
    }
    const spec = args[name];
    if (!spec) {
      problem(file, locate(file, header, name), `${where}: the provider has no argument "${name}" here (allowed: ${Object.keys(args).join(", ")})`);
      continue;
    }
    if (spec.oneOf && isLiteral(value) && !spec.oneOf.includes(value)) problem(file, locate(file, header, name), `${where}: "${name}" must be one of ${spec.oneOf.join(", ")}`);
  }
  for (const [name, spec] of Object.entries(args)) {
    if (spec.required && !(name in body)) problem(file, locate(file, header), `${where}: the required argument "${name}" is missing`);
  }
  for (const [name, spec] of Object.entries(blocks || {})) {
    if (spec.min > 0 && !(name in body)) problem(file, locate(file, header), `${where}: the block "${name}" is required`);
  }
  for (const set of exclusive || []) {
    const given = set.filter((n) => n in body);
    if (given.length > 1) problem(file, locate(file, header, given[1]), `${where}: only one of ${given.join(", ")} may be set`);
  }
}

function checkLifecycle(file, header, where, body) {
  const allowed = ["create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by", "precondition", "postcondition"];
  for (const [name, value] of Object.entries(body)) {
    if (!allowed.includes(name)) {
      problem(file, locate(file, header, name), `${where}: unexpected "${name}"`);
    } else if (name.endsWith("condition")) {
      for (const c of bodies(value) || []) {
        if (JSON.stringify(Object.keys(c).sort()) !== JSON.stringify(["condition", "error_message"])) {
          problem(file, locate(file, header, name), `${where}.${name}: needs exactly condition and error_message`);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- 3. modules, providers, versions

const entries = (o) => Object.entries(o || {});
const MODULE_META_ARGS = ["source", "version", "providers", "count", "for_each", "depends_on"];

function checkModule(dir, files) {
  const rel = path.relative(process.cwd(), dir) || ".";
  let usesProvider = false;
  let pinned = false;
  let requiredVersion = false;
  const providerBlocks = [];
  const calls = [];
  for (const { file, json } of files) {
    for (const [type, byName] of entries(json.resource)) {
      for (const [name, list] of entries(byName)) {
        const header = ["resource", type, name];
        if (!type.startsWith(`${PROVIDER.localName}_`)) continue;
        usesProvider = true;
        const schema = RESOURCES[type];
        if (!schema) {
          problem(file, locate(file, header), `resource type ${type} is not one of the provider's (${Object.keys(RESOURCES).join(", ")})`);
          continue;
        }
        for (const body of list) {
          checkBody(file, header, `${type}.${name}`, body, schema.args, schema.blocks, schema.exclusive, { args: RESOURCE_META_ARGS, blocks: RESOURCE_META_BLOCKS });
        }
      }
    }
    for (const [name, list] of entries(json.provider)) {
      const header = ["provider", name];
      for (const body of list) {
        providerBlocks.push({ file, header });
        usesProvider = true;
        if (name !== PROVIDER.localName) {
          problem(file, locate(file, header), `provider "${name}" is not ${PROVIDER.localName}`);
          continue;
        }
        for (const [arg, value] of Object.entries(body)) {
          if (arg === "alias") problem(file, locate(file, header, arg), "provider aliases are not used here");
          else if (bodies(value) && !PROVIDER.args[arg]) problem(file, locate(file, header, arg), `the provider has no block "${arg}"`);
          else if (!PROVIDER.args[arg]) problem(file, locate(file, header, arg), `the provider has no argument "${arg}" (allowed: ${Object.keys(PROVIDER.args).join(", ")})`);
        }
        for (const [arg, spec] of Object.entries(PROVIDER.args)) {
          if (spec.required && !(arg in body) && !spec.env) problem(file, locate(file, header), `the provider needs "${arg}"`);
        }
      }
    }
    for (const body of json.terraform || []) {
      const header = ["terraform"];
      if ("required_version" in body) {
        requiredVersion = true;
        try {
          if (!isLiteral(body.required_version) || typeof body.required_version !== "string") throw new Error("must be a string");
          satisfies("99.0.0", body.required_version);
        } catch (e) {
          problem(file, locate(file, header, "required_version"), `required_version: ${e.message}`);
        }
      }
      for (const rp of bodies(body.required_providers) || []) {
        for (const [name, v] of Object.entries(rp)) {
          const at = locate(file, header, "required_providers");
          if (name !== PROVIDER.localName) {
            problem(file, at, `required_providers: unexpected provider ${name}`);
            continue;
          }
          if (!v || typeof v !== "object" || Array.isArray(v)) {
            problem(file, at, "required_providers.rabbitmq must be an object with source and version");
            continue;
          }
          if (v.source !== PROVIDER.source) problem(file, at, `required_providers.rabbitmq.source must be "${PROVIDER.source}", not ${JSON.stringify(v.source)}`);
          if (v.version !== PROVIDER.constraint) problem(file, at, `required_providers.rabbitmq.version must be "${PROVIDER.constraint}", not ${JSON.stringify(v.version)}`);
          else if (!satisfies(PROVIDER.referenceVersion, v.version)) problem(file, at, `the reference version ${PROVIDER.referenceVersion} does not satisfy ${v.version}`);
          else pinned = true;
        }
      }
    }
    for (const [name, list] of entries(json.module)) {
      for (const body of list) calls.push({ file, header: ["module", name], source: body.source, body });
    }
  }
  if (usesProvider && !pinned) problems.push(`${rel}/: the module uses the ${PROVIDER.localName} provider but does not pin ${PROVIDER.source} ${PROVIDER.constraint} in required_providers`);
  if (!requiredVersion) problems.push(`${rel}/: the module does not set required_version`);
  // every var.<name> the module's expressions use is declared (Terraform: "Reference to undeclared input variable")
  const variables = new Map();
  for (const { json } of files) for (const [name, list] of entries(json.variable)) variables.set(name, list[0] || {});
  const locals = new Set();
  for (const { json } of files) for (const block of json.locals || []) Object.keys(block).forEach((k) => locals.add(k));
  for (const { file, json } of files) {
    for (const name of referenced(json, "var")) {
      if (!variables.has(name)) problem(file, null, `var.${name} is not declared in ${rel}/`);
    }
    for (const name of referenced(json, "local")) {
      if (!locals.has(name)) problem(file, null, `local.${name} is not declared in ${rel}/`);
    }
  }
  return { rel, providerBlocks, calls, variables };
}

/** The names of <kind>.<name> (var, local) in every expression of a parsed file (hcl2json keeps them as text). */
function referenced(node, kind, out = new Set()) {
  if (typeof node === "string") {
    for (const m of node.matchAll(new RegExp(`(?<![\\w.])${kind}\\.([A-Za-z_][A-Za-z0-9_-]*)`, "g"))) out.add(m[1]);
  } else if (node && typeof node === "object") {
    for (const v of Object.values(node)) referenced(v, kind, out);
  }
  return out;
}

// ---------------------------------------------------------------- main

const files = tfFiles(root);
if (!files.length) problems.push(`${root}: no .tf files`);
const byDir = new Map();
for (const f of files) {
  const display = path.relative(process.cwd(), f);
  const text = fs.readFileSync(f, "utf8");
  texts.set(display, text);
  let json;
  try {
    json = await hcl2json.parse(display, text);
  } catch (e) {
    // hcl2json: "parse config: [<file>:<line>,<col>-<col>: <summary>; <detail>]"
    const m = /([^\s:[]+\.tf):(\d+),(\d+)(?:-\d+)?: (.*)/s.exec(String(e.message));
    problems.push(m ? `${m[1]}:${m[2]}:${m[3]}: ${m[4].trim().replace(/\]$/, "")}` : `${display}: ${e.message}`);
    continue;
  }
  const dir = path.dirname(f);
  if (!byDir.has(dir)) byDir.set(dir, []);
  byDir.get(dir).push({ file: display, json });
}
const modules = new Map();
for (const [dir, parsed] of byDir) modules.set(dir, checkModule(dir, parsed));
// provider blocks only in modules no other module calls; module sources must exist
const called = new Set();
for (const [dir, m] of modules) {
  for (const { file, header, source, body } of m.calls) {
    if (typeof source !== "string" || !isLiteral(source) || !(source.startsWith("./") || source.startsWith("../"))) {
      problem(file, locate(file, header), "module source must be a local path here");
      continue;
    }
    const target = path.resolve(dir, source);
    if (!modules.has(target)) {
      problem(file, locate(file, header, "source"), `module source ${source} has no .tf files`);
      continue;
    }
    called.add(target);
    // Terraform: "Unsupported argument" for an undeclared variable, "Missing required argument" for one without a default
    const declared = modules.get(target).variables;
    for (const arg of Object.keys(body)) {
      if (MODULE_META_ARGS.includes(arg)) continue;
      if (!declared.has(arg)) problem(file, locate(file, header, arg), `module ${header[1]}: ${source} has no variable "${arg}"`);
    }
    for (const [name, spec] of declared) {
      if (!("default" in spec) && !(name in body)) problem(file, locate(file, header), `module ${header[1]}: the variable "${name}" of ${source} has no default and is not set`);
    }
  }
}
for (const target of called) {
  for (const { file, header } of modules.get(target)?.providerBlocks || []) problem(file, locate(file, header), "a module called by another must not configure providers");
}

for (const f of files) console.log(`checked ${path.relative(process.cwd(), f)}`);
if (problems.length) {
  console.error(problems.map((p) => `Error: ${p}`).join("\n"));
  process.exit(1);
}
console.log(`ok: ${files.length} files, ${modules.size} modules, provider ${PROVIDER.source} ${PROVIDER.constraint}`);
