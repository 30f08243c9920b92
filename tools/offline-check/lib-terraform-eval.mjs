// An offline evaluator for the part of the Terraform language the eventline module uses: it plans a root
// module (and the local modules it calls) without terraform and without a provider, and yields every resource
// instance with its evaluated arguments, as `terraform plan` would have them before apply.
//
// Implemented, with Terraform's semantics: variables (types string, number, bool, any, list/set/map of those;
// defaults, nullable, validation blocks, sensitive), locals, outputs (with the sensitive rule), module calls
// with local sources (path.module, module.<name>.<output>), resources with count or for_each (maps, objects,
// sets of strings; each.key, each.value, count.index), references between resources (their configured
// arguments), lifecycle preconditions, and in expressions: literals, templates, for expressions (with if
// and grouping), conditionals (with cty's type unification), arithmetic, comparison and logic operators,
// index, attribute and splat traversals, and the functions of lib-terraform-functions.mjs.
// Everything else fails loudly (Unsupported): data sources, dynamic blocks, postconditions, self, module
// count/for_each, provider aliases, heredocs, template directives, unknown functions, attributes known only
// after apply. Terraform's errors are reported as Terraform would, as errors (TfError, ConfigError).

import fs from "node:fs";
import path from "node:path";
import { parseConfig, parseExpression, references } from "./lib-terraform-hcl.mjs";
import { FUNCTIONS } from "./lib-terraform-functions.mjs";
import {
  ConfigError, Num, TObj, TSet, TfError, Unsupported, convert, equals, kindOf, toBool, toNum, toStr, typeName, typeOf,
  unify,
} from "./lib-terraform-values.mjs";
import { RESOURCES, RESOURCE_META_ARGS, RESOURCE_META_BLOCKS, bodyProblems } from "./lib-terraform-schema.mjs";

const SPECIAL_FORMS = new Set(["try", "can"]);

// ---------------------------------------------------------------- loading

const VARIABLE_ATTRS = new Set(["description", "type", "default", "sensitive", "nullable"]);
const OUTPUT_ATTRS = new Set(["value", "description", "sensitive", "depends_on"]);
const MODULE_META = new Set(["source", "version", "providers", "count", "for_each", "depends_on"]);

function attr(body, name) {
  return body.attributes.find((a) => a.name === name) || null;
}

function loc(file, node) {
  return `${file}:${node.line}:${node.col}`;
}

/** An error whose message already says where: enclosing expressions add no location of their own. */
function located(err) {
  err.located = true;
  return err;
}

/** One module directory: its *.tf files parsed and sorted into declarations. */
export function loadModule(dir, display) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".tf")).sort();
  if (files.some((f) => f.endsWith(".tf.json")) || fs.readdirSync(dir).some((f) => f.endsWith(".tf.json"))) {
    throw new Unsupported(`${display}: JSON configuration files`);
  }
  const def = {
    dir, display, variables: new Map(), locals: new Map(), resources: new Map(), modules: new Map(), outputs: new Map(),
    providers: [], terraform: [], files: [],
  };
  for (const f of files) {
    const file = path.join(display, f);
    const body = parseConfig(file, fs.readFileSync(path.join(dir, f), "utf8"));
    def.files.push({ file, body });
    for (const a of body.attributes) throw located(new ConfigError(`${loc(file, a)}: an argument "${a.name}" is not expected here`));
    for (const b of body.blocks) {
      const where = loc(file, b);
      const labels = (n) => {
        if (b.labels.length !== n) throw located(new ConfigError(`${where}: a ${b.type} block takes ${n} label(s)`));
        return b.labels;
      };
      const once = (map, key, value) => {
        if (map.has(key)) throw located(new ConfigError(`${where}: ${b.type} "${key}" is declared twice`));
        map.set(key, value);
      };
      switch (b.type) {
        case "variable": {
          const [name] = labels(1);
          for (const a of b.body.attributes) if (!VARIABLE_ATTRS.has(a.name)) throw located(new ConfigError(`${loc(file, a)}: unexpected argument "${a.name}" in a variable`));
          for (const x of b.body.blocks) if (x.type !== "validation") throw located(new ConfigError(`${loc(file, x)}: unexpected block "${x.type}" in a variable`));
          once(def.variables, name, { name, file, block: b });
          break;
        }
        case "locals":
          labels(0);
          if (b.body.blocks.length) throw located(new ConfigError(`${loc(file, b.body.blocks[0])}: blocks are not expected in locals`));
          for (const a of b.body.attributes) {
            if (def.locals.has(a.name)) throw located(new ConfigError(`${loc(file, a)}: local "${a.name}" is declared twice`));
            def.locals.set(a.name, { file, expr: a.expr, attr: a });
          }
          break;
        case "resource": {
          const [type, name] = labels(2);
          once(def.resources, `${type}.${name}`, { type, name, file, block: b });
          break;
        }
        case "module": {
          const [name] = labels(1);
          once(def.modules, name, { name, file, block: b });
          break;
        }
        case "output": {
          const [name] = labels(1);
          for (const a of b.body.attributes) if (!OUTPUT_ATTRS.has(a.name)) throw located(new ConfigError(`${loc(file, a)}: unexpected argument "${a.name}" in an output`));
          for (const x of b.body.blocks) if (x.type !== "precondition") throw located(new ConfigError(`${loc(file, x)}: unexpected block "${x.type}" in an output`));
          once(def.outputs, name, { name, file, block: b });
          break;
        }
        case "provider":
          labels(1);
          def.providers.push({ name: b.labels[0], file, block: b });
          break;
        case "terraform":
          labels(0);
          def.terraform.push({ file, block: b });
          break;
        case "data":
        case "moved":
        case "import":
        case "check":
        case "removed":
          throw located(new Unsupported(`${where}: ${b.type} blocks`));
        default:
          throw located(new ConfigError(`${where}: unknown block type "${b.type}"`));
      }
    }
  }
  return def;
}

// ---------------------------------------------------------------- module instances

/** Runs fn once per key; a second request while it runs is a cycle. Errors are remembered too. */
class Memo {
  constructor() {
    this.done = new Map();
    this.running = new Set();
  }

  get(key, fn) {
    if (this.done.has(key)) {
      const r = this.done.get(key);
      if (r.error) throw r.error;
      return r.value;
    }
    if (this.running.has(key)) throw new ConfigError(`Cycle: ${[...this.running, key].join(" -> ")}`);
    this.running.add(key);
    try {
      const value = fn();
      this.done.set(key, { value });
      return value;
    } catch (error) {
      this.done.set(key, { error });
      throw error;
    } finally {
      this.running.delete(key);
    }
  }
}

class ModuleInstance {
  /**
   * @param rel path.module as Terraform has it: relative to the root module directory ("." for the root)
   * @param inputs name -> { expr, file, scope of the caller } for a child; name -> raw CLI text for the root
   */
  constructor(ev, def, { rel, address, inputs, parent, rootVars }) {
    this.ev = ev;
    this.def = def;
    this.rel = rel;
    this.address = address;
    this.inputs = inputs;
    this.parent = parent;
    this.rootVars = rootVars;
    this.memo = new Memo();
    this.children = new Map();
    checkReferences(this);
  }

  prefix() {
    return this.address ? `${this.address}.` : "";
  }

  // ---- variables

  variableType(v) {
    const t = attr(v.block.body, "type");
    return t ? parseType(v.file, t.expr) : { t: "any" };
  }

  variable(name) {
    return this.memo.get(`var.${name}`, () => {
      const v = this.def.variables.get(name);
      const body = v.block.body;
      const type = this.variableType(v);
      const nullableAttr = attr(body, "nullable");
      const nullable = nullableAttr ? toBool(this.constant(v.file, nullableAttr.expr), "nullable") : true;
      const defAttr = attr(body, "default");
      const fallback = () => {
        if (!defAttr) throw located(new TfError(`${loc(v.file, v.block)}: No value for required variable "${name}"`));
        return this.constant(v.file, defAttr.expr);
      };
      let raw;
      if (this.parent) {
        const input = this.inputs.get(name);
        raw = input ? this.parent.evaluate(input.expr, input.file, {}) : undefined;
      } else if (this.rootVars.has(name)) {
        const text = this.rootVars.get(name);
        // as Terraform: primitive and untyped (any) variables take the text as it is, others parse it as HCL
        raw = ["string", "number", "bool", "any"].includes(type.t) ? text : this.constant("-var " + name, parseExpression(`-var ${name}`, text));
      }
      if (raw === undefined || (raw === null && !nullable)) raw = fallback();
      let value;
      try {
        value = convert(raw, type, `variable "${name}"`);
      } catch (e) {
        if (e instanceof TfError) throw located(new TfError(`${loc(v.file, v.block)}: Invalid value for variable "${name}": ${e.message}`));
        throw e;
      }
      for (const val of body.blocks) {
        const cond = attr(val.body, "condition");
        const msg = attr(val.body, "error_message");
        if (!cond || !msg) throw located(new ConfigError(`${loc(v.file, val)}: a validation needs condition and error_message`));
        const scope = { selfVar: { name, value } };
        const ok = toBool(this.evaluate(cond.expr, v.file, scope), "condition");
        if (!ok) throw located(new TfError(`${loc(v.file, val)}: Invalid value for variable "${name}": ${toStr(this.evaluate(msg.expr, v.file, scope))}`));
      }
      return value;
    });
  }

  variableSensitive(name) {
    return this.memo.get(`sensitive var.${name}`, () => {
      const v = this.def.variables.get(name);
      const s = attr(v.block.body, "sensitive");
      if (s && toBool(this.constant(v.file, s.expr))) return true;
      if (this.parent) {
        const input = this.inputs.get(name);
        return input ? this.parent.reachesSensitive(input.expr, input.file) : false;
      }
      return false;
    });
  }

  /** An expression that may reference nothing (defaults, type constraints, CLI values). */
  constant(file, expr) {
    const refs = references(expr);
    if (refs.length) throw located(new ConfigError(`${file}:${refs[0].line}:${refs[0].col}: variables not allowed here`));
    return this.evaluate(expr, file, {});
  }

  // ---- locals, outputs, child modules

  local(name) {
    return this.memo.get(`local.${name}`, () => {
      const l = this.def.locals.get(name);
      return this.evaluate(l.expr, l.file, {});
    });
  }

  output(name) {
    return this.memo.get(`output.${name}`, () => {
      const o = this.def.outputs.get(name);
      const body = o.block.body;
      for (const p of body.blocks) this.precondition(p, o.file, {});
      const value = attr(body, "value");
      if (!value) throw located(new ConfigError(`${loc(o.file, o.block)}: an output needs a value`));
      return this.evaluate(value.expr, o.file, {});
    });
  }

  outputSensitive(name) {
    const o = this.def.outputs.get(name);
    const s = attr(o.block.body, "sensitive");
    return Boolean(s && toBool(this.constant(o.file, s.expr)));
  }

  child(name) {
    if (this.children.has(name)) return this.children.get(name);
    const m = this.def.modules.get(name);
    const body = m.block.body;
    const where = loc(m.file, m.block);
    for (const meta of ["count", "for_each", "providers", "version"]) {
      if (attr(body, meta)) throw located(new Unsupported(`${where}: "${meta}" in a module block`));
    }
    const src = attr(body, "source");
    if (!src) throw located(new ConfigError(`${where}: a module needs a source`));
    const source = toStr(this.constant(m.file, src.expr));
    if (!source.startsWith("./") && !source.startsWith("../")) throw located(new Unsupported(`${where}: module source ${source} (only local paths)`));
    const dir = path.resolve(this.def.dir, source);
    const def = this.ev.moduleDef(dir, path.join(this.def.display, source));
    const inputs = new Map();
    for (const a of body.attributes) {
      if (MODULE_META.has(a.name)) continue;
      if (!def.variables.has(a.name)) throw located(new ConfigError(`${loc(m.file, a)}: the module ${source} has no variable "${a.name}"`));
      inputs.set(a.name, { expr: a.expr, file: m.file });
    }
    if (body.blocks.length) throw located(new ConfigError(`${loc(m.file, body.blocks[0])}: blocks are not expected in a module call`));
    const rel = path.posix.normalize(path.posix.join(this.rel, source));
    const child = new ModuleInstance(this.ev, def, { rel, address: `${this.prefix()}module.${name}`, inputs, parent: this });
    this.children.set(name, child);
    for (const [vname, v] of def.variables) {
      if (!inputs.has(vname) && !attr(v.block.body, "default")) throw located(new ConfigError(`${where}: the required variable "${vname}" is not set`));
    }
    return child;
  }

  moduleOutputs(name) {
    const child = this.child(name);
    return new TObj([...child.def.outputs.keys()].map((o) => [o, child.output(o)]));
  }

  // ---- resources

  resource(key) {
    return this.memo.get(`resource ${key}`, () => {
      const r = this.def.resources.get(key);
      const body = r.block.body;
      const where = loc(r.file, r.block);
      const schema = RESOURCES[r.type];
      if (!schema) throw located(new ConfigError(`${where}: the provider has no resource type ${r.type}`));
      const countAttr = attr(body, "count");
      const forEachAttr = attr(body, "for_each");
      if (attr(body, "provider")) throw located(new Unsupported(`${where}: the provider meta-argument`));
      if (countAttr && forEachAttr) throw located(new ConfigError(`${where}: count and for_each are mutually exclusive`));
      let keyed;
      if (forEachAttr) {
        const v = this.evaluate(forEachAttr.expr, r.file, {});
        if (v instanceof TObj) keyed = v.entries().map(([k, e]) => ({ key: k, each: { key: k, value: e } }));
        else if (v instanceof TSet && v.items.every((e) => typeof e === "string")) keyed = v.items.map((k) => ({ key: k, each: { key: k, value: k } }));
        else if (v === null) throw located(new TfError(`${loc(r.file, forEachAttr)}: Invalid for_each argument: the given "for_each" argument value is null`));
        else throw located(new TfError(`${loc(r.file, forEachAttr)}: Invalid for_each argument: must be a map, or set of strings, and you have provided a ${kindOf(v)}`));
      } else if (countAttr) {
        const n = toNum(this.evaluate(countAttr.expr, r.file, {}), "count");
        if (!n.isInt() || n.n < 0n) throw located(new TfError(`${loc(r.file, countAttr)}: Invalid count argument: must be a whole number >= 0`));
        keyed = Array.from({ length: Number(n.n) }, (_, i) => ({ key: i, count: Num.of(i) }));
      } else {
        keyed = [{ key: null }];
      }
      const instances = keyed.map((k) => {
        const scope = { each: k.each || null, count: k.count || null };
        const address = `${this.prefix()}${key}${k.key === null ? "" : typeof k.key === "number" ? `[${k.key}]` : `[${JSON.stringify(k.key)}]`}`;
        for (const b of body.blocks) {
          if (b.type !== "lifecycle") continue;
          for (const p of b.body.blocks) {
            if (p.type === "precondition") this.precondition(p, r.file, scope, address);
            else if (p.type === "postcondition") throw located(new Unsupported(`${loc(r.file, p)}: postconditions`));
            else throw located(new ConfigError(`${loc(r.file, p)}: unexpected block "${p.type}" in lifecycle`));
          }
          for (const a of b.body.attributes) {
            if (!["create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by"].includes(a.name)) {
              throw located(new ConfigError(`${loc(r.file, a)}: unexpected argument "${a.name}" in lifecycle`));
            }
          }
        }
        const values = this.body(body, schema.args, schema.blocks, r.file, scope, true);
        // unset (or null) arguments may be computed by the provider: known only after apply, like the id
        const unset = Object.keys(schema.args).filter((a) => !values.has(a) || values.get(a) === null);
        unset.forEach((a) => values.m.delete(a));
        values.unknown = new Set(["id", ...unset]);
        return { address, key: k.key, values };
      });
      return { type: r.type, name: r.name, mode: forEachAttr ? "for_each" : countAttr ? "count" : "single", instances };
    });
  }

  /** A resource body's arguments and nested blocks, evaluated; blocks become lists of objects. */
  body(body, args, blocks, file, scope, isResource) {
    const out = new TObj();
    for (const a of body.attributes) {
      if (isResource && RESOURCE_META_ARGS.includes(a.name)) continue;
      if (!args[a.name]) throw located(new ConfigError(`${loc(file, a)}: unexpected argument "${a.name}"`));
      out.m.set(a.name, this.evaluate(a.expr, file, scope));
    }
    for (const b of body.blocks) {
      if (isResource && RESOURCE_META_BLOCKS.includes(b.type)) continue;
      if (b.type === "dynamic") throw located(new Unsupported(`${loc(file, b)}: dynamic blocks`));
      if (!blocks || !blocks[b.type]) throw located(new ConfigError(`${loc(file, b)}: unexpected block "${b.type}"`));
      if (b.labels.length) throw located(new ConfigError(`${loc(file, b)}: the block "${b.type}" takes no labels`));
      const spec = blocks[b.type];
      if (!out.has(b.type)) out.m.set(b.type, []);
      out.get(b.type).push(this.body(b.body, spec.args, spec.blocks, file, scope, false));
    }
    return out;
  }

  resourceValue(key) {
    const r = this.resource(key);
    if (r.mode === "for_each") return new TObj(r.instances.map((i) => [i.key, i.values]));
    if (r.mode === "count") return r.instances.map((i) => i.values);
    return r.instances[0].values;
  }

  precondition(block, file, scope, address = "") {
    const cond = attr(block.body, "condition");
    const msg = attr(block.body, "error_message");
    if (!cond || !msg) throw located(new ConfigError(`${loc(file, block)}: a precondition needs condition and error_message`));
    const ok = toBool(this.evaluate(cond.expr, file, scope), "condition");
    if (!ok) {
      throw located(new TfError(`${loc(file, block)}: Resource precondition failed${address ? ` (${address})` : ""}: ${toStr(this.evaluate(msg.expr, file, scope))}`));
    }
  }

  // ---- expressions

  evaluate(expr, file, scope) {
    return evalExpr(expr, { mi: this, file, vars: new Map(), ...scope });
  }

  /** Whether an expression's value derives from a sensitive one (Terraform's sensitive marks, followed statically). */
  reachesSensitive(expr, file, seen = new Set()) {
    for (const r of references(expr)) {
      const first = r.steps[0] && r.steps[0].attr;
      switch (r.root) {
        case "var":
          if (this.variableSensitive(first)) return true;
          break;
        case "local": {
          if (seen.has(first)) break;
          seen.add(first);
          const l = this.def.locals.get(first);
          if (this.reachesSensitive(l.expr, l.file, seen)) return true;
          break;
        }
        case "module": {
          const child = this.child(first);
          const outs = r.steps[1] && r.steps[1].attr ? [r.steps[1].attr] : [...child.def.outputs.keys()];
          if (outs.some((o) => child.outputSensitive(o))) return true;
          break;
        }
        case "each":
        case "count":
        case "path":
        case "terraform":
          break;
        default: {
          const r2 = this.def.resources.get(`${r.root}.${first}`);
          const schema = r2 && RESOURCES[r2.type];
          if (!schema) break;
          const sensitiveArgs = Object.entries(schema.args).filter(([, s]) => s.sensitive).map(([n]) => n);
          const attrStep = r.steps.slice(1).find((s) => s.attr);
          if (attrStep ? sensitiveArgs.includes(attrStep.attr) : sensitiveArgs.length > 0) return true;
        }
      }
    }
    return false;
  }
}

function parseType(file, expr) {
  if (expr.k === "ref" && ["string", "number", "bool", "any"].includes(expr.name)) return { t: expr.name };
  if (expr.k === "call" && ["list", "set", "map"].includes(expr.name) && expr.args.length === 1) {
    return { t: expr.name, elem: parseType(file, expr.args[0]) };
  }
  throw located(new Unsupported(`${loc(file, expr)}: this type constraint`));
}

// ---------------------------------------------------------------- static checks (terraform validate)

/** Every reference must name something declared; each/count only where they exist; functions must be known. */
function checkReferences(mi) {
  const def = mi.def;
  const check = (expr, file, ctx) => {
    for (const r of references(expr)) {
      const where = `${file}:${r.line}:${r.col}`;
      const first = r.steps[0] && r.steps[0].attr;
      const need = (ok, what) => {
        if (!ok) throw located(new ConfigError(`${where}: Reference to undeclared ${what}`));
      };
      switch (r.root) {
        case "var":
          if (ctx.selfVar) need(first === ctx.selfVar, `variable "${first}" (a validation may refer only to its own variable)`);
          else need(first && def.variables.has(first), `input variable "${first}"`);
          break;
        case "local":
          need(first && def.locals.has(first), `local value "${first}"`);
          break;
        case "module":
          need(first && def.modules.has(first), `module "${first}"`);
          break;
        case "path":
          need(["module", "root", "cwd"].includes(first), `path attribute "${first}"`);
          break;
        case "terraform":
          need(first === "workspace", `terraform attribute "${first}"`);
          break;
        case "each":
          if (!ctx.each) throw located(new ConfigError(`${where}: each is available only in a resource with for_each`));
          need(first === "key" || first === "value", `each attribute "${first}"`);
          break;
        case "count":
          if (!ctx.count) throw located(new ConfigError(`${where}: count.index is available only in a resource with count`));
          need(first === "index", `count attribute "${first}"`);
          break;
        case "self":
        case "data":
          throw located(new Unsupported(`${where}: ${r.root} references`));
        default:
          need(first && def.resources.has(`${r.root}.${first}`), `resource "${r.root}.${first}"`);
      }
    }
    const calls = (e) => {
      if (!e || typeof e !== "object") return;
      if (e.k === "call" && !FUNCTIONS[e.name] && !SPECIAL_FORMS.has(e.name)) {
        throw located(new Unsupported(`${file}:${e.line}:${e.col}: the function ${e.name}()`));
      }
      for (const v of Object.values(e)) {
        if (Array.isArray(v)) v.forEach(calls);
        else if (v && typeof v === "object") calls(v);
      }
    };
    calls(expr);
  };
  const body = (b, file, ctx) => {
    b.attributes.forEach((a) => check(a.expr, file, ctx));
    b.blocks.forEach((x) => body(x.body, file, ctx));
  };
  for (const v of def.variables.values()) {
    for (const val of v.block.body.blocks) body(val.body, v.file, { selfVar: v.name });
  }
  for (const l of def.locals.values()) check(l.expr, l.file, {});
  for (const r of def.resources.values()) {
    const b = r.block.body;
    const ctx = { each: Boolean(attr(b, "for_each")), count: Boolean(attr(b, "count")) };
    for (const a of b.attributes) check(a.expr, r.file, ["for_each", "count"].includes(a.name) ? {} : ctx);
    b.blocks.forEach((x) => body(x.body, r.file, ctx));
    for (const meta of ["for_each", "count"]) {
      const a = attr(b, meta);
      if (a && mi.reachesSensitive(a.expr, r.file)) {
        throw located(new ConfigError(`${loc(r.file, a)}: Invalid ${meta} argument: sensitive values, or values derived from sensitive values, cannot be used as ${meta} arguments`));
      }
    }
  }
  for (const m of def.modules.values()) body(m.block.body, m.file, {});
  for (const o of def.outputs.values()) {
    body(o.block.body, o.file, {});
    const value = attr(o.block.body, "value");
    if (value && !mi.outputSensitive(o.name) && mi.reachesSensitive(value.expr, o.file)) {
      throw located(new ConfigError(`${loc(o.file, o.block)}: Output refers to sensitive values: set sensitive = true on output "${o.name}"`));
    }
  }
  for (const p of def.providers) body(p.block.body, p.file, {});
}

// ---------------------------------------------------------------- expressions

function evalExpr(e, s) {
  try {
    return evalNode(e, s);
  } catch (err) {
    if ((err instanceof TfError || err instanceof Unsupported || err instanceof ConfigError) && !err.located) {
      err.located = true;
      err.message = `${s.file}:${e.line}:${e.col}: ${err.message}`;
    }
    throw err;
  }
}

function evalNode(e, s) {
  switch (e.k) {
    case "num":
      return Num.parse(e.text);
    case "lit":
      return e.value;
    case "paren":
      return evalExpr(e.e, s);
    case "template":
      return template(e, s);
    case "tuple":
      return e.items.map((x) => evalExpr(x, s));
    case "object": {
      const out = new TObj();
      for (const it of e.items) {
        const k = evalExpr(it.key, s);
        if (k === null) throw new TfError("object key must not be null");
        out.m.set(toStr(k, "object key"), evalExpr(it.value, s));
      }
      return out;
    }
    case "ref":
      if (s.vars.has(e.name)) return s.vars.get(e.name);
      throw new ConfigError(`Invalid reference: "${e.name}" alone is not a value`);
    case "attr":
    case "index":
      return traversal(e, s);
    case "splat": {
      const src = evalExpr(e.source, s);
      const items = src === null ? [] : Array.isArray(src) ? src : src instanceof TSet ? src.items : [src];
      return items.map((item) => evalExpr(e.each, { ...s, anon: item }));
    }
    case "anon":
      return s.anon;
    case "call":
      return call(e, s);
    case "for":
      return forExpr(e, s);
    case "cond": {
      const c = toBool(evalExpr(e.c, s), "condition");
      // Terraform evaluates both results and unifies their types; the untaken one's errors are dropped
      const run = (x) => {
        try {
          return { value: evalExpr(x, s) };
        } catch (err) {
          if (err instanceof TfError) return { error: err };
          throw err;
        }
      };
      const t = run(e.t), f = run(e.f);
      const taken = c ? t : f;
      if (taken.error) throw taken.error;
      if (t.error || f.error) return taken.value;
      let ty;
      try {
        ty = unify(typeOf(t.value), typeOf(f.value));
      } catch (err) {
        if (err instanceof TfError) throw new TfError(`Inconsistent conditional result types: ${err.message}`);
        throw err;
      }
      return typeName(typeOf(taken.value)) === typeName(ty) ? taken.value : convert(taken.value, ty);
    }
    case "un": {
      const v = evalExpr(e.e, s);
      if (e.op === "!") return !toBool(v, "operand of !");
      return toNum(v, "operand of -").neg();
    }
    case "bin":
      return binary(e, s);
    default:
      throw new Unsupported(`expression kind ${e.k}`);
  }
}

function template(e, s) {
  if (e.parts.length === 1 && typeof e.parts[0] !== "string") return evalExpr(e.parts[0], s); // "${x}" is x itself
  let out = "";
  for (const p of e.parts) {
    if (typeof p === "string") {
      out += p;
      continue;
    }
    const v = evalExpr(p, s);
    if (v === null) throw new TfError("Invalid template interpolation value: the expression result is null");
    if (["tuple", "object", "set"].includes(kindOf(v))) throw new TfError(`Invalid template interpolation value: cannot include a ${kindOf(v)}`);
    out += toStr(v);
  }
  return out.normalize("NFC"); // cty normalises every string to NFC
}

function binary(e, s) {
  const l = evalExpr(e.l, s);
  const r = evalExpr(e.r, s); // HCL evaluates both operands of && and || too
  switch (e.op) {
    case "==": return equals(l, r);
    case "!=": return !equals(l, r);
    case "&&": return toBool(l, "operand of &&") && toBool(r, "operand of &&");
    case "||": return toBool(l, "operand of ||") || toBool(r, "operand of ||");
    default:
      break;
  }
  const a = toNum(l, `operand of ${e.op}`), b = toNum(r, `operand of ${e.op}`);
  switch (e.op) {
    case "+": return a.add(b);
    case "-": return a.sub(b);
    case "*": return a.mul(b);
    case "/": return a.div(b);
    case "%": return a.mod(b);
    case "<": return a.cmp(b) < 0;
    case ">": return a.cmp(b) > 0;
    case "<=": return a.cmp(b) <= 0;
    case ">=": return a.cmp(b) >= 0;
    default: throw new Unsupported(`operator ${e.op}`);
  }
}

function index(v, k) {
  if (v === null) throw new TfError("Attempt to index null value");
  if (Array.isArray(v)) {
    const n = toNum(k, "index");
    if (!n.isInt() || n.n < 0n || n.n >= BigInt(v.length)) throw new TfError(`Invalid index: the collection has ${v.length} elements`);
    return v[Number(n.n)];
  }
  if (v instanceof TObj) {
    const key = toStr(k, "key");
    if (!v.has(key)) {
      if (v.unknown && v.unknown.has(key)) return v.get(key);
      throw new TfError(`Invalid index: the given key "${key}" does not identify an element in this collection`);
    }
    return v.get(key);
  }
  if (v instanceof TSet) throw new TfError("Invalid index: elements of a set are identified only by their value");
  throw new TfError(`Invalid index: a ${kindOf(v)} cannot be indexed`);
}

function getAttr(v, name) {
  if (v === null) throw new TfError(`Attempt to get attribute "${name}" from null value`);
  if (v instanceof TObj) return v.get(name);
  throw new TfError(`Unsupported attribute: a ${kindOf(v)} has no attribute "${name}"`);
}

/** A traversal: resolves the special roots (var, local, module, path, each, count, resources), then steps. */
function traversal(e, s) {
  const chain = [];
  let root = e;
  while (root.k === "attr" || root.k === "index") {
    chain.unshift(root);
    root = root.obj;
  }
  let v;
  let i = 0;
  if (root.k === "ref" && !s.vars.has(root.name)) {
    const mi = s.mi;
    const name = chain[0].k === "attr" ? chain[0].name : null;
    i = 1;
    switch (root.name) {
      case "var":
        v = s.selfVar && s.selfVar.name === name ? s.selfVar.value : mi.variable(name);
        break;
      case "local":
        v = mi.local(name);
        break;
      case "path":
        v = name === "module" ? mi.rel : name === "root" ? "." : mi.ev.rootDir;
        break;
      case "terraform":
        v = "default";
        break;
      case "each":
        if (!s.each) throw new ConfigError("each is available only in a resource with for_each");
        v = name === "key" ? s.each.key : s.each.value;
        break;
      case "count":
        if (!s.count) throw new ConfigError("count.index is available only in a resource with count");
        v = s.count;
        break;
      case "module":
        if (chain[1] && chain[1].k === "attr") {
          mi.child(name);
          if (!mi.child(name).def.outputs.has(chain[1].name)) throw new ConfigError(`Unsupported attribute: module "${name}" has no output "${chain[1].name}"`);
          v = mi.child(name).output(chain[1].name);
          i = 2;
        } else {
          v = mi.moduleOutputs(name);
        }
        break;
      default:
        if (!name) throw new ConfigError(`Invalid reference ${root.name}[...]`);
        v = mi.resourceValue(`${root.name}.${name}`);
    }
  } else {
    v = evalExpr(root, s);
  }
  for (; i < chain.length; i++) {
    const step = chain[i];
    v = step.k === "attr" ? getAttr(v, step.name) : index(v, evalExpr(step.key, s));
  }
  return v;
}

function call(e, s) {
  if (e.name === "try") {
    if (!e.args.length) throw new TfError("try: at least one argument is required");
    let last;
    for (const a of e.args) {
      try {
        return evalExpr(a, s);
      } catch (err) {
        if (!(err instanceof TfError)) throw err;
        last = err;
      }
    }
    throw new TfError(`try: no expression succeeded; the last said: ${last.message}`);
  }
  if (e.name === "can") {
    if (e.args.length !== 1) throw new TfError("can: takes 1 argument");
    try {
      evalExpr(e.args[0], s);
      return true;
    } catch (err) {
      if (!(err instanceof TfError)) throw err;
      return false;
    }
  }
  const fn = FUNCTIONS[e.name];
  if (!fn) throw new Unsupported(`the function ${e.name}()`);
  let args = e.args.map((a) => evalExpr(a, s));
  if (e.expand) {
    const last = args.pop();
    if (Array.isArray(last)) args = args.concat(last);
    else if (last instanceof TSet) args = args.concat(last.items);
    else throw new TfError("Invalid expanding argument value: must be a list, set or tuple");
  }
  return fn(args, { cwd: s.mi.ev.rootDir });
}

function forExpr(e, s) {
  const coll = evalExpr(e.coll, s);
  let pairs;
  if (Array.isArray(coll)) pairs = coll.map((v, i) => [Num.of(i), v]);
  else if (coll instanceof TSet) pairs = coll.items.map((v) => [v, v]);
  else if (coll instanceof TObj) pairs = coll.entries();
  else if (coll === null) throw new TfError("Iteration over null value");
  else throw new TfError(`Iteration over non-iterable value: a ${kindOf(coll)}`);
  const results = [];
  for (const [k, v] of pairs) {
    const vars = new Map(s.vars);
    if (e.keyVar) vars.set(e.keyVar, k);
    vars.set(e.valVar, v);
    const inner = { ...s, vars };
    try {
      if (e.cond) {
        const c = evalExpr(e.cond, inner);
        if (c === null) throw new TfError("Condition is null");
        if (!toBool(c, "for condition")) continue;
      }
      results.push(e.isObject ? [evalExpr(e.keyExpr, inner), evalExpr(e.valExpr, inner)] : evalExpr(e.valExpr, inner));
    } catch (err) {
      // say which element failed (e.g. which function.yaml), innermost loop first
      if (err instanceof TfError || err instanceof Unsupported) {
        const what = typeof v === "string" ? v : typeof k === "string" ? k : null;
        if (what !== null) err.message += ` [${e.valVar} = ${JSON.stringify(what)}]`;
      }
      throw err;
    }
  }
  if (!e.isObject) return results;
  const out = new TObj();
  for (const [k, v] of results) {
    if (k === null) throw new TfError("Invalid object key: the key expression produced null");
    const key = toStr(k, "object key");
    if (e.group) {
      if (!out.has(key)) out.m.set(key, []);
      out.get(key).push(v);
    } else {
      if (out.has(key)) throw new TfError(`Duplicate object key "${key}": use ... to group values by key`);
      out.m.set(key, v);
    }
  }
  return out;
}

// ---------------------------------------------------------------- the evaluator

export class Evaluator {
  /**
   * @param rootDir the root module: the directory terraform would run in (file paths are relative to it)
   * @param vars Map of root variable name -> raw -var text
   */
  constructor(rootDir, vars = new Map()) {
    this.rootDir = path.resolve(rootDir);
    this.defs = new Map();
    const def = this.moduleDef(this.rootDir, path.relative(process.cwd(), this.rootDir) || ".");
    for (const name of vars.keys()) {
      if (!def.variables.has(name)) throw new ConfigError(`-var ${name}: the root module declares no variable "${name}"`);
    }
    this.root = new ModuleInstance(this, def, { rel: ".", address: "", inputs: null, parent: null, rootVars: vars });
  }

  moduleDef(dir, display) {
    if (!this.defs.has(dir)) this.defs.set(dir, loadModule(dir, display));
    return this.defs.get(dir);
  }

  /** Every module instance, root first. */
  modules() {
    const out = [];
    const walk = (mi) => {
      out.push(mi);
      for (const name of [...mi.def.modules.keys()].sort()) walk(mi.child(name));
    };
    walk(this.root);
    return out;
  }

  /** The plan: every resource instance with its arguments, every root output, schema problems. */
  plan() {
    const resources = [];
    const problems = [];
    const modules = this.modules();
    for (const mi of modules) {
      for (const name of mi.def.variables.keys()) mi.variable(name); // validations run even when unused
      for (const key of [...mi.def.resources.keys()].sort()) {
        const r = mi.resource(key);
        const schema = RESOURCES[r.type];
        for (const inst of r.instances) {
          problems.push(...bodyProblems(inst.address, schema.args, schema.blocks, schema.exclusive, inst.values));
          resources.push({ address: inst.address, module: mi.address, type: r.type, name: r.name, key: inst.key, values: redact(schema, inst.values) });
        }
      }
      for (const name of mi.def.outputs.keys()) mi.output(name);
    }
    const outputs = new TObj();
    for (const name of [...this.root.def.outputs.keys()].sort()) {
      outputs.m.set(name, this.root.outputSensitive(name) ? "(sensitive)" : this.root.output(name));
    }
    const providers = this.root.def.providers.map((p) => ({
      name: p.name,
      values: this.root.body(p.block.body, Object.fromEntries(p.block.body.attributes.map((a) => [a.name, {}])), {}, p.file, {}, false),
    }));
    resources.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    return { resources, outputs, providers, problems };
  }
}

function redact(schema, values) {
  const out = new TObj(values.entries());
  for (const [name, spec] of Object.entries(schema.args)) {
    if (spec.sensitive && out.has(name) && out.get(name) !== null) out.m.set(name, "(sensitive)");
  }
  return out;
}
