#!/usr/bin/env node
// The offline stand-in for `terraform init -backend=false && terraform validate` on terraform/ and its examples:
//
//  1. every .tf file parses as HCL2 with HashiCorp's parser (@cdktf/hcl2json), errors as file:line:column;
//     our own parser (lib-terraform-hcl.mjs, used by terraform-plan.mjs) must read the same blocks, arguments
//     and literal values from it;
//  2. every resource type, argument and nested block is one the cyrilgdn/rabbitmq provider has
//     (lib-terraform-schema.mjs), required ones are present, arguments and arguments_json are not both set;
//     provider blocks use only its arguments (the required ones may come from RABBITMQ_* variables);
//  3. every module using the provider pins it in required_providers (source cyrilgdn/rabbitmq, ~> 1.10, which
//     the reference version satisfies) and says which Terraform it needs; provider blocks only in root
//     modules; module sources exist.
//
//   node tools/offline-check/terraform-check.mjs [terraform-dir]     (default: terraform)
// Prints every file checked; exit status 1 with every problem found.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { HclSyntaxError, parseConfig } from "./lib-terraform-hcl.mjs";
import { Num } from "./lib-terraform-values.mjs";
import { PROVIDER, RESOURCES, RESOURCE_META_ARGS, RESOURCE_META_BLOCKS, satisfies } from "./lib-terraform-schema.mjs";

const require = createRequire(import.meta.url);
const hcl2json = require("@cdktf/hcl2json");

const root = path.resolve(process.argv[2] || "terraform");
const problems = [];
const problem = (file, node, message) => problems.push(`${file}:${node ? `${node.line}:${node.col}` : "1:1"}: ${message}`);

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

/** The value of a literal expression (string without interpolation, number, bool, null, tuple, object). */
function literal(e) {
  switch (e.k) {
    case "lit": return e.value;
    case "num": return Num.parse(e.text);
    case "template":
      if (e.parts.every((p) => typeof p === "string")) return e.parts.join("");
      return undefined;
    case "tuple": {
      const items = e.items.map(literal);
      return items.includes(undefined) ? undefined : items;
    }
    case "object": {
      const out = {};
      for (const it of e.items) {
        const k = literal(it.key);
        const v = literal(it.value);
        if (typeof k !== "string" || v === undefined) return undefined;
        out[k] = v;
      }
      return out;
    }
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- 1. both parsers agree

/** hcl2json's JSON of a body, compared with our parse of it. */
function compareBody(file, where, json, body) {
  const jsonKeys = Object.keys(json || {}).sort();
  const ours = new Map();
  for (const a of body.attributes) ours.set(a.name, { attr: a });
  for (const b of body.blocks) {
    if (!ours.has(b.type)) ours.set(b.type, { blocks: [] });
    const entry = ours.get(b.type);
    if (!entry.blocks) problem(file, b, `${where}: "${b.type}" is both an argument and a block`);
    else entry.blocks.push(b);
  }
  const ourKeys = [...ours.keys()].sort();
  if (JSON.stringify(jsonKeys) !== JSON.stringify(ourKeys)) {
    problem(file, null, `${where}: HashiCorp's parser reads ${JSON.stringify(jsonKeys)}, ours ${JSON.stringify(ourKeys)}`);
    return;
  }
  for (const [k, entry] of ours) {
    const j = json[k];
    if (entry.attr) {
      const lit = literal(entry.attr.expr);
      if (lit instanceof Num) {
        if (typeof j !== "number" || Number(lit.toString()) !== j) problem(file, entry.attr, `${where}.${k}: the parsers read different values`);
      } else if (lit === null || typeof lit === "boolean") {
        if (j !== lit) problem(file, entry.attr, `${where}.${k}: the parsers read different values`);
      } else if (typeof lit === "string") {
        if (j !== lit) problem(file, entry.attr, `${where}.${k}: HashiCorp's parser reads ${JSON.stringify(j)}, ours ${JSON.stringify(lit)}`);
      }
      continue;
    }
    // blocks: hcl2json nests labels as object keys, then a list of bodies
    // compare bodies pairwise, in order, per label path
    const byLabels = new Map();
    for (const b of entry.blocks) {
      const key = JSON.stringify(b.labels);
      if (!byLabels.has(key)) byLabels.set(key, []);
      byLabels.get(key).push(b);
    }
    for (const [key, blocks] of byLabels) {
      const labels = JSON.parse(key);
      const jbodies = labels.reduce((n, l) => (n ? n[l] : undefined), j);
      const list = Array.isArray(jbodies) ? jbodies : [jbodies];
      if (list.length !== blocks.length) {
        problem(file, blocks[0], `${where}: ${blocks.length} block(s) ${k} ${key} here, ${list.length} for HashiCorp's parser`);
        continue;
      }
      blocks.forEach((b, i) => compareBody(file, `${where}.${k}${labels.map((l) => `.${l}`).join("")}`, list[i], b.body));
    }
  }
}

// ---------------------------------------------------------------- 2. the provider's schema

function checkBody(file, where, body, args, blocks, exclusive, meta = { args: [], blocks: [] }) {
  for (const a of body.attributes) {
    if (meta.args.includes(a.name)) continue;
    const spec = args[a.name];
    if (!spec) {
      problem(file, a, `${where}: the provider has no argument "${a.name}" here (allowed: ${Object.keys(args).join(", ")})`);
      continue;
    }
    const lit = literal(a.expr);
    if (spec.oneOf && typeof lit === "string" && !spec.oneOf.includes(lit)) problem(file, a, `${where}: "${a.name}" must be one of ${spec.oneOf.join(", ")}`);
  }
  for (const [name, spec] of Object.entries(args)) {
    if (spec.required && !body.attributes.some((a) => a.name === name)) problem(file, null, `${where}: the required argument "${name}" is missing`);
  }
  for (const set of exclusive || []) {
    const given = set.filter((n) => body.attributes.some((a) => a.name === n));
    if (given.length > 1) problem(file, null, `${where}: only one of ${given.join(", ")} may be set`);
  }
  const counts = new Map();
  for (const b of body.blocks) {
    if (meta.blocks.includes(b.type)) {
      checkLifecycle(file, `${where}.${b.type}`, b);
      continue;
    }
    if (b.type === "dynamic") {
      problem(file, b, `${where}: dynamic blocks are not supported by the offline evaluator`);
      continue;
    }
    const spec = (blocks || {})[b.type];
    if (!spec) {
      problem(file, b, `${where}: the provider has no block "${b.type}" here`);
      continue;
    }
    counts.set(b.type, (counts.get(b.type) || 0) + 1);
    checkBody(file, `${where}.${b.type}`, b.body, spec.args, spec.blocks, spec.exclusive);
  }
  for (const [name, spec] of Object.entries(blocks || {})) {
    const n = counts.get(name) || 0;
    if (n < spec.min) problem(file, null, `${where}: the block "${name}" is required`);
    if (n > spec.max) problem(file, null, `${where}: at most ${spec.max} "${name}" block(s)`);
  }
}

function checkLifecycle(file, where, b) {
  const allowed = ["create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by"];
  for (const a of b.body.attributes) if (!allowed.includes(a.name)) problem(file, a, `${where}: unexpected argument "${a.name}"`);
  for (const c of b.body.blocks) {
    if (!["precondition", "postcondition"].includes(c.type)) problem(file, c, `${where}: unexpected block "${c.type}"`);
    const names = c.body.attributes.map((a) => a.name).sort();
    if (JSON.stringify(names) !== JSON.stringify(["condition", "error_message"])) problem(file, c, `${where}.${c.type}: needs exactly condition and error_message`);
  }
}

// ---------------------------------------------------------------- 3. modules, providers, versions

function checkModule(dir, files) {
  const rel = path.relative(process.cwd(), dir) || ".";
  let usesProvider = false;
  let pinned = false;
  let requiredVersion = false;
  let providerBlocks = [];
  let calls = [];
  for (const { file, body } of files) {
    for (const b of body.blocks) {
      if (b.type === "resource") {
        const [type, name] = b.labels;
        if (!type.startsWith(`${PROVIDER.localName}_`)) continue;
        usesProvider = true;
        const schema = RESOURCES[type];
        if (!schema) {
          problem(file, b, `resource type ${type} is not one of the provider's (${Object.keys(RESOURCES).join(", ")})`);
          continue;
        }
        checkBody(file, `${type}.${name}`, b.body, schema.args, schema.blocks, schema.exclusive, { args: RESOURCE_META_ARGS, blocks: RESOURCE_META_BLOCKS });
      } else if (b.type === "provider") {
        providerBlocks.push({ file, b });
        usesProvider = true;
        if (b.labels[0] !== PROVIDER.localName) {
          problem(file, b, `provider "${b.labels[0]}" is not ${PROVIDER.localName}`);
          continue;
        }
        for (const a of b.body.attributes) {
          if (a.name === "alias") problem(file, a, "provider aliases are not used here");
          else if (!PROVIDER.args[a.name]) problem(file, a, `the provider has no argument "${a.name}" (allowed: ${Object.keys(PROVIDER.args).join(", ")})`);
        }
        for (const x of b.body.blocks) problem(file, x, `the provider has no block "${x.type}"`);
        for (const [name, spec] of Object.entries(PROVIDER.args)) {
          if (spec.required && !b.body.attributes.some((a) => a.name === name) && !spec.env) problem(file, b, `the provider needs "${name}"`);
        }
      } else if (b.type === "terraform") {
        for (const a of b.body.attributes) {
          if (a.name === "required_version") {
            requiredVersion = true;
            const v = literal(a.expr);
            try {
              if (typeof v !== "string") throw new Error("must be a string");
              satisfies("99.0.0", v);
            } catch (e) {
              problem(file, a, `required_version: ${e.message}`);
            }
          }
        }
        for (const rp of b.body.blocks.filter((x) => x.type === "required_providers")) {
          for (const a of rp.body.attributes) {
            const v = literal(a.expr);
            if (a.name !== PROVIDER.localName) {
              problem(file, a, `required_providers: unexpected provider ${a.name}`);
              continue;
            }
            if (!v || typeof v !== "object" || Array.isArray(v)) {
              problem(file, a, "required_providers.rabbitmq must be an object with source and version");
              continue;
            }
            if (v.source !== PROVIDER.source) problem(file, a, `required_providers.rabbitmq.source must be "${PROVIDER.source}", not ${JSON.stringify(v.source)}`);
            if (v.version !== PROVIDER.constraint) problem(file, a, `required_providers.rabbitmq.version must be "${PROVIDER.constraint}", not ${JSON.stringify(v.version)}`);
            else if (!satisfies(PROVIDER.referenceVersion, v.version)) problem(file, a, `the reference version ${PROVIDER.referenceVersion} does not satisfy ${v.version}`);
            else pinned = true;
          }
        }
      } else if (b.type === "module") {
        calls.push({ file, b });
      }
    }
  }
  if (usesProvider && !pinned) problems.push(`${rel}/: the module uses the ${PROVIDER.localName} provider but does not pin ${PROVIDER.source} ${PROVIDER.constraint} in required_providers`);
  if (!requiredVersion) problems.push(`${rel}/: the module does not set required_version`);
  return { rel, providerBlocks, calls };
}

// ---------------------------------------------------------------- main

const files = tfFiles(root);
if (!files.length) problems.push(`${root}: no .tf files`);
const byDir = new Map();
for (const f of files) {
  const display = path.relative(process.cwd(), f);
  const text = fs.readFileSync(f, "utf8");
  try {
    const json = await hcl2json.parse(display, text);
    let ours;
    try {
      ours = parseConfig(display, text);
    } catch (e) {
      if (e instanceof HclSyntaxError) problems.push(e.message);
      else throw e;
      continue;
    }
    compareBody(display, path.basename(f), json, ours);
    const dir = path.dirname(f);
    if (!byDir.has(dir)) byDir.set(dir, []);
    byDir.get(dir).push({ file: display, body: ours });
  } catch (e) {
    if (e instanceof HclSyntaxError) throw e;
    // hcl2json: "<file>:<line>,<col>-<col>: <summary>; <detail>"
    const m = /([^\s:[]+\.tf):(\d+),(\d+)(?:-\d+)?: (.*)/s.exec(String(e.message));
    problems.push(m ? `${m[1]}:${m[2]}:${m[3]}: ${m[4].trim().replace(/\]$/, "")}` : `${display}: ${e.message}`);
  }
}
const modules = new Map();
for (const [dir, parsed] of byDir) modules.set(dir, checkModule(dir, parsed));
// provider blocks only in modules no other module calls; module sources must exist
const called = new Set();
for (const [dir, m] of modules) {
  for (const { file, b } of m.calls) {
    const src = b.body.attributes.find((a) => a.name === "source");
    const s = src && literal(src.expr);
    if (typeof s !== "string" || !(s.startsWith("./") || s.startsWith("../"))) {
      problem(file, b, "module source must be a local path here");
      continue;
    }
    const target = path.resolve(dir, s);
    if (!modules.has(target)) problem(file, src, `module source ${s} has no .tf files`);
    called.add(target);
  }
}
for (const target of called) {
  for (const { file, b } of modules.get(target)?.providerBlocks || []) problem(file, b, "a module called by another must not configure providers");
}

for (const f of files) console.log(`checked ${path.relative(process.cwd(), f)}`);
if (problems.length) {
  console.error(problems.map((p) => `Error: ${p}`).join("\n"));
  process.exit(1);
}
console.log(`ok: ${files.length} files, ${modules.size} modules, provider ${PROVIDER.source} ${PROVIDER.constraint}`);
