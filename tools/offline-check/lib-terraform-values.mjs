// Terraform (cty) values for the offline evaluator.
//
//   string  JS string          number  Num (exact rational; see below)     bool  JS boolean     null  null
//   tuple/list  JS array       object/map  TObj (keys iterate in lexical order, as cty does)
//   set  TSet (of strings or of numbers, sorted as cty sorts them)
//
// Numbers: Terraform keeps numbers as 512-bit binary floats; decimal literals and YAML numbers are parsed to
// that precision and printed back (jsonencode, templates) as the shortest decimal that round-trips. Here
// they are exact rationals: the same for every integer and every terminating decimal, and for results of
// + - * / that agree with Terraform to about 150 significant digits. pow() goes through float64 as in
// Terraform. A non-terminating number is never printed: that fails loudly.

/** A Terraform error (a diagnostic): try() and can() catch it, an untaken conditional branch drops it. */
export class TfError extends Error {}

/** Something this evaluator does not implement: never caught, never skipped. */
export class Unsupported extends Error {
  constructor(message) {
    super(`unsupported by the offline evaluator: ${message}`);
  }
}

/** An error Terraform reports before evaluating (undeclared reference, bad block): never caught. */
export class ConfigError extends Error {}

const gcd = (a, b) => {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
};

export class Num {
  constructor(n, d = 1n) {
    if (d === 0n) throw new TfError("division by zero");
    if (d < 0n) {
      n = -n;
      d = -d;
    }
    const g = gcd(n, d) || 1n;
    this.n = n / g;
    this.d = d / g;
    Object.freeze(this);
  }

  static of(i) {
    return new Num(BigInt(i));
  }

  /** A decimal literal: digits, optional fraction, optional exponent (HCL and YAML number syntax). */
  static parse(text) {
    const m = /^([+-]?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
    if (!m) return null;
    const frac = m[3] || "";
    let n = BigInt(m[2] + frac);
    let d = 10n ** BigInt(frac.length);
    const e = m[4] ? Number(m[4]) : 0;
    if (Math.abs(e) > 10000) throw new Unsupported(`number literal ${text} (exponent too large)`);
    if (e > 0) n *= 10n ** BigInt(e);
    if (e < 0) d *= 10n ** BigInt(-e);
    return new Num(m[1] === "-" ? -n : n, d);
  }

  /** The exact value of a float64 (Terraform's cty.NumberFloatVal). */
  static fromDouble(x) {
    if (!Number.isFinite(x)) throw new TfError(`the result ${x} is not a finite number`);
    if (Number.isInteger(x)) return new Num(BigInt(x));
    const buf = new DataView(new ArrayBuffer(8));
    buf.setFloat64(0, x);
    const hi = buf.getUint32(0), lo = buf.getUint32(4);
    const sign = hi >>> 31 ? -1n : 1n;
    const exp = (hi >>> 20) & 0x7ff;
    let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    let e;
    if (exp === 0) {
      e = -1074;
    } else {
      mant |= 1n << 52n;
      e = exp - 1075;
    }
    return e >= 0 ? new Num(sign * mant * (1n << BigInt(e))) : new Num(sign * mant, 1n << BigInt(-e));
  }

  /** The float64 nearest to this number (big.Float.Float64). */
  toDouble() {
    const abs = (v) => (v < 0n ? -v : v);
    if (abs(this.n) < 2n ** 53n && this.d < 2n ** 53n) return Number(this.n) / Number(this.d);
    // 60 significant decimal digits, correctly rounded by parseFloat: enough to round right at 53 bits
    return parseFloat(this.toSignificant(60));
  }

  /** At least `digits` significant decimal digits (truncated), as "<digits>e<exp>". */
  toSignificant(digits) {
    const neg = this.n < 0n;
    const n = neg ? -this.n : this.n;
    if (n === 0n) return "0";
    const target = 10n ** BigInt(digits);
    let p = 0;
    let scaled = n;
    while (scaled / this.d < target && p < 20000) {
      scaled *= 10n;
      p++;
    }
    return `${neg ? "-" : ""}${scaled / this.d}e-${p}`;
  }

  isInt() {
    return this.d === 1n;
  }

  add(o) { return new Num(this.n * o.d + o.n * this.d, this.d * o.d); }
  sub(o) { return new Num(this.n * o.d - o.n * this.d, this.d * o.d); }
  mul(o) { return new Num(this.n * o.n, this.d * o.d); }
  div(o) {
    if (o.n === 0n) throw new TfError("Error: Operation failed: can't divide by zero");
    return new Num(this.n * o.d, this.d * o.n);
  }
  neg() { return new Num(-this.n, this.d); }
  cmp(o) {
    const a = this.n * o.d, b = o.n * this.d;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  eq(o) { return this.n === o.n && this.d === o.d; }
  floor() {
    let q = this.n / this.d;
    if (this.n < 0n && q * this.d !== this.n) q -= 1n;
    return new Num(q);
  }
  ceil() {
    let q = this.n / this.d;
    if (this.n > 0n && q * this.d !== this.n) q += 1n;
    return new Num(q);
  }
  /** cty's modulo for whole numbers (sign of the dividend, as Go's %). */
  mod(o) {
    if (!this.isInt() || !o.isInt()) throw new Unsupported("% on fractional numbers");
    if (o.n === 0n) throw new TfError("Error: Operation failed: can't use modulo by zero");
    return new Num(this.n % o.n);
  }

  /** big.Float.Text('f', -1): plain decimal, no exponent. Fails loudly when it would not terminate. */
  toString() {
    if (this.d === 1n) return this.n.toString();
    let d = this.d, twos = 0, fives = 0;
    while (d % 2n === 0n) { d /= 2n; twos++; }
    while (d % 5n === 0n) { d /= 5n; fives++; }
    if (d !== 1n) throw new Unsupported(`printing the non-terminating number ${this.n}/${this.d} (Terraform would print a 512-bit approximation)`);
    const places = Math.max(twos, fives);
    const scaled = (this.n * 10n ** BigInt(places)) / this.d;
    const neg = scaled < 0n;
    let s = (neg ? -scaled : scaled).toString().padStart(places + 1, "0");
    s = `${s.slice(0, s.length - places)}.${s.slice(s.length - places)}`.replace(/0+$/, "").replace(/\.$/, "");
    return (neg ? "-" : "") + s;
  }
}

/** An object or map: attributes iterate in lexical order (cty's order for both). */
export class TObj {
  constructor(entries = []) {
    this.m = new Map(entries);
    this.unknown = null; // attribute names known only after apply (resource instances)
  }

  static from(obj) {
    return new TObj(Object.entries(obj));
  }

  keys() {
    return [...this.m.keys()].sort(compareStrings);
  }

  has(k) {
    return this.m.has(k);
  }

  get(k) {
    if (this.m.has(k)) return this.m.get(k);
    if (this.unknown && this.unknown.has(k)) throw new Unsupported(`the attribute "${k}" is known only after apply`);
    throw new TfError(`Unsupported attribute: this object does not have an attribute named "${k}"`);
  }

  entries() {
    return this.keys().map((k) => [k, this.m.get(k)]);
  }

  get size() {
    return this.m.size;
  }
}

/** A set of strings or of numbers. */
export class TSet {
  constructor(items) {
    const kinds = new Set(items.map(kindOf));
    if (kinds.size > 1) throw new Unsupported("sets mixing element types");
    if (items.some((v) => v === null)) throw new TfError("sets cannot contain null values");
    if (kinds.size === 1 && !kinds.has("string") && !kinds.has("number")) throw new Unsupported(`sets of ${[...kinds][0]} values`);
    const out = [];
    for (const v of items) if (!out.some((w) => primitiveEquals(v, w))) out.push(v);
    out.sort((a, b) => (a instanceof Num ? a.cmp(b) : compareStrings(a, b)));
    this.items = out;
  }
}

/** Go compares strings by their UTF-8 bytes: code point order. */
export function compareStrings(a, b) {
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (c) return c < 0 ? -1 : 1;
  }
  return x.length - y.length;
}

export function kindOf(v) {
  if (v === null) return "null";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (v instanceof Num) return "number";
  if (Array.isArray(v)) return "tuple";
  if (v instanceof TObj) return "object";
  if (v instanceof TSet) return "set";
  throw new Error(`not a Terraform value: ${v}`);
}

export function primitiveEquals(a, b) {
  if (a === null || b === null) return a === b;
  if (a instanceof Num && b instanceof Num) return a.eq(b);
  return typeof a === typeof b && a === b;
}

/** `==`: equal types and values. Collections are not compared by this evaluator. */
export function equals(a, b) {
  const ka = kindOf(a), kb = kindOf(b);
  if (["tuple", "object", "set"].includes(ka) || ["tuple", "object", "set"].includes(kb)) {
    if (a === null || b === null) return false;
    throw new Unsupported("== and != on collections (cty compares their types too)");
  }
  return primitiveEquals(a, b);
}

// ---------------------------------------------------------------- conversions (cty convert, "unsafe" as in function calls)

export function toStr(v, what = "value") {
  if (typeof v === "string") return v;
  if (v instanceof Num) return v.toString();
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v === null) throw new TfError(`${what}: the value is null`);
  throw new TfError(`${what}: a string is required, not a ${kindOf(v)}`);
}

export function toNum(v, what = "value") {
  if (v instanceof Num) return v;
  if (typeof v === "string") {
    const n = Num.parse(v.trim() === v ? v : "x");
    if (!n) throw new TfError(`${what}: a number is required, "${v}" is not one`);
    return n;
  }
  if (v === null) throw new TfError(`${what}: the value is null`);
  throw new TfError(`${what}: a number is required, not a ${kindOf(v)}`);
}

export function toBool(v, what = "value") {
  if (typeof v === "boolean") return v;
  if (v === "true") return true;
  if (v === "false") return false;
  if (v === null) throw new TfError(`${what}: the value is null`);
  throw new TfError(`${what}: a bool is required, not ${typeof v === "string" ? `"${v}"` : `a ${kindOf(v)}`}`);
}

// ---------------------------------------------------------------- types, for conditionals, coalesce and variables

/** The cty type of a value (arrays as tuples, TObj as objects). */
export function typeOf(v) {
  const k = kindOf(v);
  switch (k) {
    case "null":
      return { t: "dynamic" };
    case "tuple":
      return { t: "tuple", elems: v.map(typeOf) };
    case "object":
      return { t: "object", attrs: new Map(v.keys().map((key) => [key, typeOf(v.m.get(key))])) };
    case "set":
      return { t: "set", elem: v.items.length ? typeOf(v.items[0]) : { t: "dynamic" } };
    default:
      return { t: k };
  }
}

export function typeName(ty) {
  switch (ty.t) {
    case "tuple": return `tuple([${ty.elems.map(typeName).join(", ")}])`;
    case "object": return `object({${[...ty.attrs].map(([k, v]) => `${k}=${typeName(v)}`).join(", ")}})`;
    case "list": case "set": case "map": return `${ty.t}(${typeName(ty.elem)})`;
    default: return ty.t;
  }
}

function sameType(a, b) {
  return typeName(a) === typeName(b);
}

const PRIMITIVE = new Set(["string", "number", "bool"]);

/** cty's convert.Unify for two types, or a TfError ("Inconsistent conditional result types"). */
export function unify(a, b) {
  if (a.t === "dynamic") return b;
  if (b.t === "dynamic") return a;
  if (sameType(a, b)) return a;
  if (PRIMITIVE.has(a.t) && PRIMITIVE.has(b.t)) {
    if (a.t === "string" || b.t === "string") return { t: "string" };
    throw new TfError(`inconsistent types ${a.t} and ${b.t}`);
  }
  const seq = (ty) => ty.t === "tuple" || ty.t === "list";
  if (seq(a) && seq(b)) {
    if (a.t === "tuple" && b.t === "tuple" && a.elems.length === b.elems.length) {
      return { t: "tuple", elems: a.elems.map((e, i) => unify(e, b.elems[i])) };
    }
    return { t: "list", elem: unifyAll([...elemsOf(a), ...elemsOf(b)]) };
  }
  const rec = (ty) => ty.t === "object" || ty.t === "map";
  if (rec(a) && rec(b)) {
    if (a.t === "object" && b.t === "object") {
      const ka = [...a.attrs.keys()], kb = [...b.attrs.keys()];
      if (ka.length === kb.length && ka.every((k) => b.attrs.has(k))) {
        return { t: "object", attrs: new Map(ka.map((k) => [k, unify(a.attrs.get(k), b.attrs.get(k))])) };
      }
    }
    return { t: "map", elem: unifyAll([...attrTypesOf(a), ...attrTypesOf(b)]) };
  }
  if (a.t === "set" && b.t === "set") return { t: "set", elem: unify(a.elem, b.elem) };
  throw new TfError(`inconsistent types ${typeName(a)} and ${typeName(b)}`);
}

function elemsOf(ty) {
  return ty.t === "tuple" ? ty.elems : [ty.elem];
}

function attrTypesOf(ty) {
  return ty.t === "object" ? [...ty.attrs.values()] : [ty.elem];
}

export function unifyAll(types) {
  return types.reduce((acc, ty) => unify(acc, ty), { t: "dynamic" });
}

/** Converts a value to a type (as cty convert does for unified results and typed variables). */
export function convert(v, ty, what = "value") {
  if (v === null || ty.t === "dynamic" || ty.t === "any") return v;
  switch (ty.t) {
    case "string": return toStr(v, what);
    case "number": return toNum(v, what);
    case "bool": return toBool(v, what);
    case "tuple": {
      if (!Array.isArray(v) || v.length !== ty.elems.length) throw new TfError(`${what}: a tuple of ${ty.elems.length} elements is required`);
      return v.map((e, i) => convert(e, ty.elems[i], what));
    }
    case "list": {
      const items = Array.isArray(v) ? v : v instanceof TSet ? v.items : null;
      if (!items) throw new TfError(`${what}: a list is required, not a ${kindOf(v)}`);
      const out = items.map((e) => convert(e, ty.elem, what));
      if (out.some((e) => e === null) && ty.elem.t !== "dynamic") { /* typed nulls are fine */ }
      return out;
    }
    case "set": {
      const items = Array.isArray(v) ? v : v instanceof TSet ? v.items : null;
      if (!items) throw new TfError(`${what}: a set is required, not a ${kindOf(v)}`);
      return new TSet(items.map((e) => convert(e, ty.elem, what)));
    }
    case "map": {
      if (!(v instanceof TObj)) throw new TfError(`${what}: a map is required, not a ${kindOf(v)}`);
      return new TObj(v.entries().map(([k, e]) => [k, convert(e, ty.elem, what)]));
    }
    case "object": {
      if (!(v instanceof TObj)) throw new TfError(`${what}: an object is required, not a ${kindOf(v)}`);
      for (const k of ty.attrs.keys()) if (!v.has(k)) throw new TfError(`${what}: attribute "${k}" is required`);
      return new TObj([...ty.attrs].map(([k, t]) => [k, convert(v.get(k), t, what)]));
    }
    default:
      throw new Unsupported(`conversion to ${typeName(ty)}`);
  }
}

// ---------------------------------------------------------------- JSON, as cty's json.Marshal writes it

function jsonString(s) {
  // Go's encoding/json: escapes ", \, control characters, and (HTML-safe) <, >, &, U+2028, U+2029
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&" || c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return `${out}"`;
}

export function jsonencode(v) {
  if (v === null) return "null";
  if (typeof v === "string") return jsonString(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v instanceof Num) return v.toString();
  if (Array.isArray(v)) return `[${v.map(jsonencode).join(",")}]`;
  if (v instanceof TSet) return `[${v.items.map(jsonencode).join(",")}]`;
  if (v instanceof TObj) return `{${v.entries().map(([k, e]) => `${jsonString(k)}:${jsonencode(e)}`).join(",")}}`;
  throw new Error(`not a Terraform value: ${v}`);
}

/** JSON for the plan output: like jsonencode, indented. */
export function toPlainJson(v, indent = "") {
  const next = `${indent}  `;
  if (Array.isArray(v) || v instanceof TSet) {
    const items = Array.isArray(v) ? v : v.items;
    if (!items.length) return "[]";
    return `[\n${items.map((e) => next + toPlainJson(e, next)).join(",\n")}\n${indent}]`;
  }
  if (v instanceof TObj) {
    if (!v.size) return "{}";
    return `{\n${v.entries().map(([k, e]) => `${next}${jsonString(k)}: ${toPlainJson(e, next)}`).join(",\n")}\n${indent}}`;
  }
  return jsonencode(v);
}
