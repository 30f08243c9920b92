// Terraform's built-in functions, those the offline evaluator implements, with Terraform's semantics (cty's
// stdlib and Terraform's lang/funcs): argument conversions, errors, result types. Any other function fails
// loudly. try() and can() are special forms in the evaluator (their arguments are evaluated lazily).

import fs from "node:fs";
import path from "node:path";
import {
  Num, TObj, TSet, TfError, Unsupported, compareStrings, convert, equals, jsonencode, kindOf, toBool, toNum,
  toStr, typeOf, unifyAll,
} from "./lib-terraform-values.mjs";
import { yamldecode } from "./lib-terraform-yaml.mjs";

const seqItems = (v, fn) => {
  if (Array.isArray(v)) return v;
  if (v instanceof TSet) return v.items;
  if (v === null) throw new TfError(`${fn}: the argument must not be null`);
  throw new TfError(`${fn}: a list, tuple or set is required, not a ${kindOf(v)}`);
};

const record = (v, fn) => {
  if (v instanceof TObj) return v;
  if (v === null) throw new TfError(`${fn}: the argument must not be null`);
  throw new TfError(`${fn}: a map or object is required, not a ${kindOf(v)}`);
};

const arity = (fn, args, min, max = min) => {
  if (args.length < min || args.length > max) {
    throw new TfError(`${fn}: takes ${min === max ? min : `${min} to ${max === Infinity ? "any number of" : max}`} arguments, ${args.length} given`);
  }
};

const asciiOnly = (s, fn) => {
  if (/[^\x00-\x7f]/.test(s)) throw new Unsupported(`${fn} on non-ASCII text (Terraform counts grapheme clusters)`);
};

/** RE2 (Go) and JavaScript (unicode mode) agree on this subset; anything else fails loudly. */
function regexp(pattern, fn) {
  const refuse = (why) => {
    throw new Unsupported(`${fn}: the regular expression ${JSON.stringify(pattern)} (${why}; outside the subset where RE2 and JavaScript agree)`);
  };
  for (let i = 0; i < pattern.length;) {
    const c = pattern[i];
    if (c === "\\") {
      if (!/[.\\^$*+?()[\]{}|\/dDwWsS]/.test(pattern[i + 1] || "")) refuse(`the escape \\${pattern[i + 1] || ""}`);
      i += 2;
    } else if (c === "[") {
      i++;
      if (pattern[i] === "^") i++;
      if (pattern[i] === "]") refuse("a class starting with ]");
      while (i < pattern.length && pattern[i] !== "]") {
        if (pattern[i] === "\\") {
          if (!/[.\\\-\]^dws]/.test(pattern[i + 1] || "")) refuse(`the escape \\${pattern[i + 1] || ""} in a class`);
          i += 2;
        } else if (pattern[i] === "[") refuse("[ in a class");
        else i++;
      }
      if (pattern[i] !== "]") refuse("an unclosed class");
      i++;
    } else if (c === "(") {
      if (pattern[i + 1] === "?") {
        if (pattern[i + 2] !== ":") refuse("a group flag, lookaround or named group");
        i += 3;
      } else i++;
    } else if (c === "{") {
      const m = /^\{[0-9]+(,[0-9]*)?\}/.exec(pattern.slice(i));
      if (!m) refuse("a { that is not a repetition");
      i += m[0].length;
    } else i++;
  }
  try {
    return new RegExp(pattern, "u");
  } catch (e) {
    throw new TfError(`${fn}: invalid regular expression: ${e.message}`);
  }
}

/** doublestar glob (Terraform's fileset): * and ? within one path segment, ** across segments. */
function globToRegExp(pattern) {
  if (/[[\]{}\\]/.test(pattern)) throw new Unsupported(`fileset pattern ${JSON.stringify(pattern)} (character classes, alternatives or escapes)`);
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i++;
      if (pattern[i + 1] === "/") i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^$()|]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function walkFiles(root) {
  const out = [];
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  walk("");
  return out;
}

function rangeFn(args) {
  arity("range", args, 1, 3);
  const n = args.map((a) => toNum(a, "range"));
  let start, end, step;
  if (n.length === 1) [start, end, step] = [Num.of(0), n[0], n[0].cmp(Num.of(0)) < 0 ? Num.of(-1) : Num.of(1)];
  else if (n.length === 2) [start, end, step] = [n[0], n[1], n[1].cmp(n[0]) < 0 ? Num.of(-1) : Num.of(1)];
  else [start, end, step] = n;
  if (step.n === 0n) throw new TfError("range: step must not be zero");
  const down = step.cmp(Num.of(0)) < 0;
  if (down && start.cmp(end) < 0) throw new TfError("range: for a negative step, start must not be less than limit");
  if (!down && start.cmp(end) > 0) throw new TfError("range: for a positive step, start must not be greater than limit");
  const out = [];
  for (let v = start; down ? v.cmp(end) > 0 : v.cmp(end) < 0; v = v.add(step)) {
    if (out.length === 1024) throw new TfError("range: more than 1024 values");
    out.push(v);
  }
  return out;
}

function format(args) {
  const f = toStr(args[0], "format");
  let i = 1;
  const out = f.replace(/%(.)/g, (m, verb) => {
    if (verb === "%") return "%";
    if (i >= args.length) throw new TfError("format: not enough arguments");
    const v = args[i++];
    if (verb === "s") return toStr(v, "format");
    if (verb === "d") {
      const n = toNum(v, "format");
      if (!n.isInt()) throw new TfError("format: %d requires a whole number");
      return n.toString();
    }
    throw new Unsupported(`format verb %${verb}`);
  });
  if (i !== args.length) throw new TfError("format: too many arguments");
  return out;
}

function flatten(v) {
  const out = [];
  for (const e of seqItems(v, "flatten")) {
    if (Array.isArray(e) || e instanceof TSet) out.push(...flatten(e));
    else out.push(e);
  }
  return out;
}

/** name -> (args, ctx) => value. ctx: { cwd } (the directory Terraform runs in). */
export const FUNCTIONS = {
  abs: (a) => (arity("abs", a, 1), toNum(a[0], "abs").cmp(Num.of(0)) < 0 ? toNum(a[0]).neg() : toNum(a[0])),
  alltrue: (a) => (arity("alltrue", a, 1), seqItems(a[0], "alltrue").every((v) => toBool(v, "alltrue"))),
  anytrue: (a) => (arity("anytrue", a, 1), seqItems(a[0], "anytrue").some((v) => toBool(v, "anytrue"))),
  basename: (a) => (arity("basename", a, 1), path.posix.basename(toStr(a[0], "basename")) || "."),
  ceil: (a) => (arity("ceil", a, 1), toNum(a[0], "ceil").ceil()),
  coalesce: (a) => {
    if (!a.length) throw new TfError("coalesce: at least one argument is required");
    const ty = unifyAll(a.map(typeOf));
    for (const v of a.map((x) => convert(x, ty, "coalesce"))) {
      if (v !== null && v !== "") return v;
    }
    throw new TfError("coalesce: no non-null, non-empty-string arguments");
  },
  concat: (a) => {
    const out = [];
    for (const v of a) {
      if (!Array.isArray(v)) throw new TfError(`concat: all arguments must be lists or tuples, not ${kindOf(v)}`);
      out.push(...v);
    }
    return out;
  },
  contains: (a) => (arity("contains", a, 2), seqItems(a[0], "contains").some((v) => kindOf(v) === kindOf(a[1]) && equals(v, a[1]))),
  dirname: (a) => (arity("dirname", a, 1), path.posix.dirname(toStr(a[0], "dirname"))),
  distinct: (a) => {
    arity("distinct", a, 1);
    const out = [];
    for (const v of seqItems(a[0], "distinct")) if (!out.some((w) => kindOf(w) === kindOf(v) && equals(w, v))) out.push(v);
    return out;
  },
  file: (a, ctx) => {
    arity("file", a, 1);
    const p = path.resolve(ctx.cwd, toStr(a[0], "file"));
    let buf;
    try {
      buf = fs.readFileSync(p);
    } catch (e) {
      throw new TfError(`file: no file exists at ${toStr(a[0])}`);
    }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(buf).normalize("NFC");
    } catch (e) {
      throw new TfError(`file: the contents of ${a[0]} are not valid UTF-8; use filebase64 instead`);
    }
  },
  fileset: (a, ctx) => {
    arity("fileset", a, 2);
    const dir = path.resolve(ctx.cwd, toStr(a[0], "fileset"));
    const re = globToRegExp(toStr(a[1], "fileset"));
    if (!fs.existsSync(dir)) return new TSet([]);
    return new TSet(walkFiles(dir).filter((f) => re.test(f)));
  },
  flatten: (a) => (arity("flatten", a, 1), flatten(a[0])),
  floor: (a) => (arity("floor", a, 1), toNum(a[0], "floor").floor()),
  format: (a) => (arity("format", a, 1, Infinity), format(a)),
  join: (a) => {
    arity("join", a, 2, Infinity);
    const sep = toStr(a[0], "join");
    const items = a.slice(1).flatMap((l) => seqItems(l, "join"));
    return items.map((v) => toStr(v, "join: an element")).join(sep).normalize("NFC");
  },
  jsonencode: (a) => (arity("jsonencode", a, 1), jsonencode(a[0])),
  keys: (a) => (arity("keys", a, 1), record(a[0], "keys").keys()),
  length: (a) => {
    arity("length", a, 1);
    const v = a[0];
    if (typeof v === "string") return (asciiOnly(v, "length"), Num.of(v.length));
    if (Array.isArray(v)) return Num.of(v.length);
    if (v instanceof TSet) return Num.of(v.items.length);
    if (v instanceof TObj) return Num.of(v.size);
    if (v === null) throw new TfError("length: the argument must not be null");
    throw new TfError(`length: a collection or string is required, not a ${kindOf(v)}`);
  },
  lookup: (a) => {
    arity("lookup", a, 2, 3);
    const m = record(a[0], "lookup");
    const k = toStr(a[1], "lookup");
    if (m.has(k)) return m.get(k);
    if (a.length === 3) return a[2];
    throw new TfError(`lookup: the key "${k}" does not exist in the map`);
  },
  max: (a) => {
    if (!a.length) throw new TfError("max: at least one argument is required");
    return a.map((v) => toNum(v, "max")).reduce((x, y) => (y.cmp(x) > 0 ? y : x));
  },
  merge: (a) => {
    const out = new TObj();
    for (const v of a) {
      if (v === null) continue;
      for (const [k, e] of record(v, "merge").entries()) out.m.set(k, e);
    }
    return out;
  },
  min: (a) => {
    if (!a.length) throw new TfError("min: at least one argument is required");
    return a.map((v) => toNum(v, "min")).reduce((x, y) => (y.cmp(x) < 0 ? y : x));
  },
  nonsensitive: (a) => (arity("nonsensitive", a, 1), a[0]),
  pow: (a) => (arity("pow", a, 2), Num.fromDouble(Math.pow(toNum(a[0], "pow").toDouble(), toNum(a[1], "pow").toDouble()))),
  range: (a) => rangeFn(a),
  regex: (a) => {
    arity("regex", a, 2);
    const re = regexp(toStr(a[0], "regex"), "regex");
    const m = re.exec(toStr(a[1], "regex"));
    if (!m) throw new TfError("regex: pattern did not match any part of the given string");
    if (m.groups) return new TObj(Object.entries(m.groups).map(([k, v]) => [k, v === undefined ? null : v]));
    if (m.length > 1) return m.slice(1).map((v) => (v === undefined ? null : v));
    return m[0];
  },
  replace: (a) => {
    arity("replace", a, 3);
    const [s, search, repl] = a.map((v) => toStr(v, "replace"));
    if (search.length > 1 && search.startsWith("/") && search.endsWith("/")) throw new Unsupported("replace with a regular expression");
    if (search === "") throw new Unsupported("replace of an empty string");
    return s.split(search).join(repl).normalize("NFC");
  },
  sensitive: (a) => (arity("sensitive", a, 1), a[0]),
  sort: (a) => (arity("sort", a, 1), seqItems(a[0], "sort").map((v) => toStr(v, "sort")).sort(compareStrings)),
  tobool: (a) => (arity("tobool", a, 1), a[0] === null ? null : toBool(a[0], "tobool")),
  tolist: (a) => {
    arity("tolist", a, 1);
    const items = seqItems(a[0], "tolist");
    return convert(items, { t: "list", elem: unifyAll(items.map(typeOf)) }, "tolist");
  },
  tomap: (a) => {
    arity("tomap", a, 1);
    const m = record(a[0], "tomap");
    return convert(m, { t: "map", elem: unifyAll(m.entries().map(([, v]) => typeOf(v))) }, "tomap");
  },
  tonumber: (a) => (arity("tonumber", a, 1), a[0] === null ? null : toNum(a[0], "tonumber")),
  toset: (a) => {
    arity("toset", a, 1);
    const items = seqItems(a[0], "toset");
    return new TSet(convert(items, { t: "list", elem: unifyAll(items.map(typeOf)) }, "toset"));
  },
  tostring: (a) => {
    arity("tostring", a, 1);
    if (a[0] === null) return null;
    if (["tuple", "object", "set"].includes(kindOf(a[0]))) throw new TfError(`tostring: cannot convert a ${kindOf(a[0])} to a string`);
    return toStr(a[0], "tostring");
  },
  values: (a) => (arity("values", a, 1), record(a[0], "values").entries().map(([, v]) => v)),
  yamldecode: (a) => (arity("yamldecode", a, 1), yamldecode(toStr(a[0], "yamldecode"))),
};
