// yamldecode for the offline evaluator: the subset of YAML that function descriptions use, decoded the way
// Terraform's yamldecode does (mappings become objects, sequences tuples, numbers exact). Plain scalars are
// accepted only where YAML 1.1 (the runtime's Jackson/SnakeYAML) and YAML 1.2 (Terraform's go-cty-yaml)
// agree; anything else fails loudly: yes/no/on/off, octal or hex or exponent numbers, .inf, anchors, tags,
// block scalars, multi-line plain scalars, complex keys, several documents.

import { Num, TObj, TfError, Unsupported } from "./lib-terraform-values.mjs";

class Line {
  constructor(no, indent, text) {
    this.no = no;
    this.indent = indent;
    this.text = text; // without indentation and comment, right-trimmed
  }
}

function stripComment(s, no) {
  let quote = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) {
        if (quote === "'" && s[i + 1] === "'") i++;
        else quote = null;
      } else if (c === "\\" && quote === '"') i++;
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s\[{,:-]/.test(s[i - 1]))) {
      quote = c;
    } else if (c === "#" && (i === 0 || /\s/.test(s[i - 1]))) {
      return s.slice(0, i);
    }
  }
  if (quote) throw new Unsupported(`YAML line ${no}: a quoted scalar spanning lines`);
  return s;
}

function lines(text) {
  const out = [];
  const raw = text.replace(/\r\n/g, "\n").split("\n");
  let started = false;
  raw.forEach((l, i) => {
    const no = i + 1;
    if (/^\t/.test(l) || /^ *\t/.test(l)) throw new Unsupported(`YAML line ${no}: tabs in indentation`);
    if (/^%/.test(l)) throw new Unsupported(`YAML line ${no}: directives`);
    if (/^---(\s|$)/.test(l)) {
      if (started || out.length) throw new Unsupported(`YAML line ${no}: several documents`);
      started = true;
      if (l.slice(3).trim() && !l.slice(3).trim().startsWith("#")) throw new Unsupported(`YAML line ${no}: content after ---`);
      return;
    }
    if (/^\.\.\.(\s|$)/.test(l)) throw new Unsupported(`YAML line ${no}: document end marker`);
    const body = stripComment(l, no).replace(/\s+$/, "");
    if (!body.trim()) return;
    const indent = body.length - body.trimStart().length;
    out.push(new Line(no, indent, body.trimStart()));
  });
  return out;
}

const BOOL_LIKE = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;

/** The value of a plain scalar, where YAML 1.1 and 1.2 agree. */
function plain(s, no) {
  if (s === "" || s === "~" || s === "null" || s === "Null" || s === "NULL") return null;
  if (/^(true|True|TRUE)$/.test(s)) return true;
  if (/^(false|False|FALSE)$/.test(s)) return false;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(s)) return Num.parse(s.replace(/^\+/, ""));
  if (/^[-+]?(0|[1-9][0-9]*)\.[0-9]+$/.test(s)) return Num.parse(s.replace(/^\+/, ""));
  const ambiguous =
    BOOL_LIKE.test(s) ||
    /^[-+]?[0-9._]/.test(s) && /^[-+]?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?$|^[-+]?0[0-7]+$|^[-+]?0[xXoObB]|^[-+]?\.[0-9]|_|^[-+]?[0-9]+(:[0-5]?[0-9])+/.test(s) ||
    /^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$/.test(s) ||
    /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/.test(s) ||
    s === "<<" || s === "=";
  if (ambiguous) throw new Unsupported(`YAML line ${no}: the plain scalar '${s}' (YAML 1.1 and 1.2 may read it differently; quote it or write it plainly)`);
  if (/^[&*!|>@`]/.test(s)) throw new Unsupported(`YAML line ${no}: '${s[0]}' (anchors, aliases, tags, block scalars)`);
  if (/^[?%]( |$)/.test(s)) throw new Unsupported(`YAML line ${no}: complex keys or directives`);
  if (/: |:$/.test(s) || / #/.test(s)) throw new Unsupported(`YAML line ${no}: the plain scalar '${s}'`);
  return s;
}

function doubleQuoted(s, no) {
  let out = "";
  for (let i = 1; i < s.length - 1; i++) {
    const c = s[i];
    if (c === "\\") {
      const e = s[++i];
      const simple = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", "/": "/", "0": "\0", " ": " " };
      if (e in simple) out += simple[e];
      else if (e === "u" || e === "x" || e === "U") {
        const n = { x: 2, u: 4, U: 8 }[e];
        const hex = s.slice(i + 1, i + 1 + n);
        if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== n) throw new TfError(`YAML line ${no}: bad escape`);
        out += String.fromCodePoint(parseInt(hex, 16));
        i += n;
      } else throw new Unsupported(`YAML line ${no}: the escape \\${e}`);
    } else if (c === '"') {
      throw new TfError(`YAML line ${no}: unexpected quote in ${s}`);
    } else out += c;
  }
  return out;
}

/** A scalar or a one-line flow collection. */
function scalar(s, no) {
  s = s.trim();
  if (s.startsWith('"')) {
    if (!s.endsWith('"') || s.length < 2) throw new TfError(`YAML line ${no}: unterminated string`);
    return doubleQuoted(s, no);
  }
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) throw new TfError(`YAML line ${no}: unterminated string`);
    const inner = s.slice(1, -1);
    if (/(^|[^'])'([^']|$)/.test(inner.replace(/''/g, ""))) throw new TfError(`YAML line ${no}: unexpected quote`);
    return inner.replace(/''/g, "'");
  }
  if (s.startsWith("[") || s.startsWith("{")) return flow(s, no);
  return plain(s, no);
}

/** Flow sequences and mappings on one line: [a, "b", 1], {a: 1, b: [x]}. */
function flow(s, no) {
  let i = 0;
  const ws = () => { while (s[i] === " ") i++; };
  const item = (stops) => {
    ws();
    if (s[i] === "[" || s[i] === "{") return collection();
    if (s[i] === '"' || s[i] === "'") {
      const q = s[i];
      let j = i + 1;
      for (; j < s.length; j++) {
        if (s[j] === "\\" && q === '"') j++;
        else if (s[j] === q) {
          if (q === "'" && s[j + 1] === "'") j++;
          else break;
        }
      }
      const text = s.slice(i, j + 1);
      i = j + 1;
      return scalar(text, no);
    }
    let j = i;
    while (j < s.length && !stops.includes(s[j])) j++;
    const text = s.slice(i, j).trim();
    i = j;
    return plain(text, no);
  };
  const collection = () => {
    const open = s[i++];
    if (open === "[") {
      const out = [];
      ws();
      if (s[i] === "]") { i++; return out; }
      for (;;) {
        out.push(item([",", "]"]));
        ws();
        if (s[i] === ",") { i++; ws(); if (s[i] === "]") { i++; return out; } continue; }
        if (s[i] === "]") { i++; return out; }
        throw new TfError(`YAML line ${no}: expected , or ] in ${s}`);
      }
    }
    const out = new TObj();
    ws();
    if (s[i] === "}") { i++; return out; }
    for (;;) {
      const k = item([":", ",", "}"]);
      if (typeof k !== "string") throw new Unsupported(`YAML line ${no}: a mapping key that is not a string`);
      if (s[i] !== ":") throw new TfError(`YAML line ${no}: expected : in ${s}`);
      i++;
      const v = item([",", "}"]);
      if (out.has(k)) throw new TfError(`YAML line ${no}: the key "${k}" is repeated`);
      out.m.set(k, v);
      ws();
      if (s[i] === ",") { i++; ws(); if (s[i] === "}") { i++; return out; } continue; }
      if (s[i] === "}") { i++; return out; }
      throw new TfError(`YAML line ${no}: expected , or } in ${s}`);
    }
  };
  const v = collection();
  ws();
  if (i !== s.length) throw new TfError(`YAML line ${no}: unexpected text after ${s.slice(0, i)}`);
  return v;
}

/** key: rest, with a plain or quoted key. */
function splitKey(text, no) {
  let key, rest;
  if (text.startsWith('"') || text.startsWith("'")) {
    const q = text[0];
    let j = 1;
    for (; j < text.length; j++) {
      if (text[j] === "\\" && q === '"') j++;
      else if (text[j] === q) {
        if (q === "'" && text[j + 1] === "'") j++;
        else break;
      }
    }
    if (text[j + 1] !== ":") return null;
    key = scalar(text.slice(0, j + 1), no);
    rest = text.slice(j + 2);
  } else {
    const m = /^([^\s:#\[\]{},][^:#]*?)\s*:(\s|$)/.exec(text);
    if (!m) return null;
    const k = m[1];
    key = plain(k, no);
    if (typeof key !== "string") throw new Unsupported(`YAML line ${no}: the key '${k}' is not a string`);
    rest = text.slice(m[0].length - (m[2] ? 1 : 0));
  }
  if (rest && !/^\s/.test(rest)) return null;
  return { key, rest: rest.trim() };
}

class Reader {
  constructor(ls) {
    this.ls = ls;
    this.i = 0;
  }

  peek() {
    return this.ls[this.i];
  }

  /** A node whose lines are indented at least `min`. */
  node(min) {
    const l = this.peek();
    if (!l || l.indent < min) return null;
    if (l.text.startsWith("- ") || l.text === "-") return this.sequence(l.indent);
    if (splitKey(l.text, l.no)) return this.mapping(l.indent);
    this.i++;
    const next = this.peek();
    if (next && next.indent > l.indent) throw new Unsupported(`YAML line ${next.no}: a multi-line scalar`);
    return scalar(l.text, l.no);
  }

  mapping(indent) {
    const out = new TObj();
    for (;;) {
      const l = this.peek();
      if (!l || l.indent < indent) return out;
      if (l.indent > indent) throw new TfError(`YAML line ${l.no}: unexpected indentation`);
      const kv = splitKey(l.text, l.no);
      if (!kv) throw new TfError(`YAML line ${l.no}: expected "key: value"`);
      if (out.has(kv.key)) throw new TfError(`YAML line ${l.no}: the key "${kv.key}" is repeated`);
      this.i++;
      let v;
      if (kv.rest === "") {
        const next = this.peek();
        // a block sequence may sit at the mapping's own indentation
        if (next && (next.indent > indent || (next.indent === indent && (next.text.startsWith("- ") || next.text === "-")))) {
          v = this.node(next.indent);
        } else v = null;
      } else {
        v = scalar(kv.rest, l.no);
        const next = this.peek();
        if (next && next.indent > indent) throw new Unsupported(`YAML line ${next.no}: a multi-line value`);
      }
      out.m.set(kv.key, v);
    }
  }

  sequence(indent) {
    const out = [];
    for (;;) {
      const l = this.peek();
      if (!l || l.indent < indent || !(l.text.startsWith("- ") || l.text === "-")) {
        if (l && l.indent > indent) throw new TfError(`YAML line ${l.no}: unexpected indentation`);
        return out;
      }
      if (l.indent > indent) throw new TfError(`YAML line ${l.no}: unexpected indentation`);
      const rest = l.text === "-" ? "" : l.text.slice(2);
      const restIndent = l.indent + 2 + (rest.length - rest.trimStart().length);
      if (rest.trim() === "") {
        this.i++;
        const next = this.peek();
        out.push(next && next.indent > indent ? this.node(next.indent) : null);
      } else if (rest.trimStart().startsWith("- ") || splitKey(rest.trim(), l.no)) {
        // a nested node starting on the dash's line: re-read the line as indented at the item's column
        this.ls[this.i] = new Line(l.no, restIndent, rest.trim());
        out.push(this.node(restIndent));
      } else {
        this.i++;
        out.push(scalar(rest, l.no));
        const next = this.peek();
        if (next && next.indent > indent) throw new Unsupported(`YAML line ${next.no}: a multi-line value`);
      }
    }
  }
}

export function yamldecode(text) {
  const ls = lines(text);
  if (!ls.length) return null;
  const r = new Reader(ls);
  const v = r.node(0);
  if (r.peek()) throw new TfError(`YAML line ${r.peek().no}: unexpected content`);
  return nfc(v);
}

/** cty normalises every string (and object key) to NFC. */
function nfc(v) {
  if (typeof v === "string") return v.normalize("NFC");
  if (Array.isArray(v)) return v.map(nfc);
  if (v instanceof TObj) return new TObj(v.entries().map(([k, e]) => [k.normalize("NFC"), nfc(e)]));
  return v;
}
