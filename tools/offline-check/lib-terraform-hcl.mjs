// A parser for the HCL2 native syntax (https://github.com/hashicorp/hcl/blob/main/hclsyntax/spec.md), for the
// offline Terraform evaluator. It keeps what HashiCorp's parser (@cdktf/hcl2json, which terraform-check.mjs
// runs on every file as well) gives only as text: exact number literals, template parts, source positions.
// Constructs outside the subset the evaluator implements are refused here, with file:line, never skipped:
// heredocs, template directives (%{...}) and strip markers (~), legacy index syntax (a.0).

export class HclSyntaxError extends Error {
  constructor(file, line, column, message) {
    super(`${file}:${line}:${column}: ${message}`);
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

const PUNCT = ["...", "==", "!=", "<=", ">=", "&&", "||", "=>", "{", "}", "[", "]", "(", ")", "=", "<", ">",
  "+", "-", "*", "/", "%", "!", "?", ":", ".", ","];

const ID_START = /[A-Za-z_]/;
const ID_PART = /[A-Za-z0-9_-]/;

/** Lexer: tokens with line and column; quoted templates become one token holding their parts. */
class Lexer {
  constructor(file, text, start = 0, end = text.length, line = 1, col = 1) {
    this.file = file;
    this.text = text;
    this.pos = start;
    this.end = end;
    this.line = line;
    this.col = col;
  }

  fail(message, line = this.line, col = this.col) {
    throw new HclSyntaxError(this.file, line, col, message);
  }

  advance(n = 1) {
    for (let i = 0; i < n; i++) {
      if (this.text[this.pos] === "\n") {
        this.line++;
        this.col = 1;
      } else {
        this.col++;
      }
      this.pos++;
    }
  }

  tokens() {
    const out = [];
    for (;;) {
      const t = this.next();
      out.push(t);
      if (t.type === "eof") return out;
    }
  }

  next() {
    // whitespace and comments; a newline is a token
    for (;;) {
      if (this.pos >= this.end) return { type: "eof", line: this.line, col: this.col };
      const c = this.text[this.pos];
      if (c === " " || c === "\t" || c === "\r") {
        this.advance();
      } else if (c === "#" || (c === "/" && this.text[this.pos + 1] === "/")) {
        while (this.pos < this.end && this.text[this.pos] !== "\n") this.advance();
      } else if (c === "/" && this.text[this.pos + 1] === "*") {
        const line = this.line, col = this.col;
        this.advance(2);
        while (this.pos < this.end && !(this.text[this.pos] === "*" && this.text[this.pos + 1] === "/")) this.advance();
        if (this.pos >= this.end) this.fail("unterminated /* comment", line, col);
        this.advance(2);
      } else {
        break;
      }
    }
    const line = this.line, col = this.col;
    const c = this.text[this.pos];
    if (c === "\n") {
      this.advance();
      return { type: "nl", line, col };
    }
    if (ID_START.test(c)) {
      let s = "";
      while (this.pos < this.end && ID_PART.test(this.text[this.pos])) {
        s += this.text[this.pos];
        this.advance();
      }
      return { type: "ident", value: s, line, col };
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos, this.end));
      this.advance(m[0].length);
      return { type: "number", value: m[0], line, col };
    }
    if (c === '"') return this.template(line, col);
    if (c === "<" && this.text[this.pos + 1] === "<") this.fail("heredoc templates are not supported by the offline evaluator");
    for (const p of PUNCT) {
      if (this.text.startsWith(p, this.pos)) {
        this.advance(p.length);
        return { type: "punct", value: p, line, col };
      }
    }
    this.fail(`unexpected character ${JSON.stringify(c)}`);
  }

  /** A quoted template: literal parts (escapes decoded) and interpolations (their own token lists). */
  template(line, col) {
    this.advance(); // "
    const parts = [];
    let lit = "";
    for (;;) {
      if (this.pos >= this.end || this.text[this.pos] === "\n") this.fail("unterminated string", line, col);
      const c = this.text[this.pos];
      if (c === '"') {
        this.advance();
        break;
      }
      if (c === "\\") {
        const e = this.text[this.pos + 1];
        const simple = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
        if (e in simple) {
          lit += simple[e];
          this.advance(2);
        } else if (e === "u" || e === "U") {
          const n = e === "u" ? 4 : 8;
          const hex = this.text.slice(this.pos + 2, this.pos + 2 + n);
          if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(hex)) this.fail("invalid unicode escape");
          lit += String.fromCodePoint(parseInt(hex, 16));
          this.advance(2 + n);
        } else {
          this.fail(`invalid escape sequence \\${e}`);
        }
        continue;
      }
      if (c === "$" && this.text[this.pos + 1] === "$" && this.text[this.pos + 2] === "{") {
        lit += "${";
        this.advance(3);
        continue;
      }
      if (c === "%" && this.text[this.pos + 1] === "%" && this.text[this.pos + 2] === "{") {
        lit += "%{";
        this.advance(3);
        continue;
      }
      if (c === "%" && this.text[this.pos + 1] === "{") this.fail("template directives (%{...}) are not supported by the offline evaluator");
      if (c === "$" && this.text[this.pos + 1] === "{") {
        if (lit) parts.push(lit);
        lit = "";
        const iline = this.line, icol = this.col;
        this.advance(2);
        if (this.text[this.pos] === "~") this.fail("template strip markers (~) are not supported by the offline evaluator");
        // find the matching }, skipping nested strings and braces
        const start = this.pos, sline = this.line, scol = this.col;
        const inner = new Lexer(this.file, this.text, start, this.end, sline, scol);
        const toks = [];
        let depth = 0;
        for (;;) {
          const t = inner.next();
          if (t.type === "eof") this.fail("unterminated interpolation", iline, icol);
          if (t.type === "punct" && t.value === "{") depth++;
          if (t.type === "punct" && t.value === "}") {
            if (depth === 0) break;
            depth--;
          }
          toks.push(t);
        }
        if (toks.length && toks[toks.length - 1].type === "punct" && toks[toks.length - 1].value === "~") {
          this.fail("template strip markers (~) are not supported by the offline evaluator");
        }
        toks.push({ type: "eof", line: inner.line, col: inner.col });
        parts.push({ tokens: toks, line: iline, col: icol });
        // continue after the closing brace
        this.pos = inner.pos;
        this.line = inner.line;
        this.col = inner.col;
        continue;
      }
      lit += c;
      this.advance();
    }
    if (lit || parts.length === 0) parts.push(lit);
    return { type: "template", parts: parts.map((p) => (typeof p === "string" ? p.normalize("NFC") : p)), line, col };
  }
}

const BINARY = [
  ["||"],
  ["&&"],
  ["==", "!="],
  ["<", ">", "<=", ">="],
  ["+", "-"],
  ["*", "/", "%"],
];

/** Recursive descent over the tokens; newlines are significant except inside (), [] and for expressions. */
class Parser {
  constructor(file, tokens) {
    this.file = file;
    this.toks = tokens;
    this.i = 0;
    this.newlines = [true];
  }

  fail(t, message) {
    throw new HclSyntaxError(this.file, t.line, t.col, message);
  }

  raw() {
    return this.toks[this.i];
  }

  peek() {
    if (!this.newlines[this.newlines.length - 1]) {
      while (this.toks[this.i].type === "nl") this.i++;
    }
    return this.toks[this.i];
  }

  take() {
    const t = this.peek();
    if (t.type !== "eof") this.i++;
    return t;
  }

  is(value, t = this.peek()) {
    return t.type === "punct" && t.value === value;
  }

  expect(value) {
    const t = this.take();
    if (!(t.type === "punct" && t.value === value)) this.fail(t, `expected '${value}', found ${describe(t)}`);
    return t;
  }

  withNewlines(significant, fn) {
    this.newlines.push(significant);
    try {
      return fn();
    } finally {
      this.newlines.pop();
    }
  }

  skipNewlines() {
    while (this.toks[this.i].type === "nl") this.i++;
  }

  // ---------------------------------------------------------------- bodies

  body(closing) {
    const attributes = [];
    const blocks = [];
    for (;;) {
      this.skipNewlines();
      const t = this.raw();
      if (closing ? this.is("}", t) : t.type === "eof") break;
      if (t.type === "eof") this.fail(t, "unclosed block: expected '}'");
      if (t.type !== "ident") this.fail(t, `expected an attribute or block, found ${describe(t)}`);
      this.i++;
      if (this.is("=", this.raw())) {
        this.i++;
        const expr = this.expression();
        const end = this.raw();
        if (!(end.type === "nl" || end.type === "eof" || (closing && this.is("}", end)))) {
          this.fail(end, `expected a newline after the attribute '${t.value}', found ${describe(end)}`);
        }
        if (attributes.some((a) => a.name === t.value)) this.fail(t, `attribute '${t.value}' is set twice`);
        attributes.push({ name: t.value, expr, line: t.line, col: t.col });
        continue;
      }
      const labels = [];
      for (;;) {
        const l = this.raw();
        if (l.type === "ident") {
          labels.push(l.value);
          this.i++;
        } else if (l.type === "template") {
          if (l.parts.length !== 1 || typeof l.parts[0] !== "string") this.fail(l, "a block label must be a plain string");
          labels.push(l.parts[0]);
          this.i++;
        } else {
          break;
        }
      }
      const open = this.raw();
      if (!this.is("{", open)) this.fail(open, `expected '{' to open block '${t.value}', found ${describe(open)}`);
      this.i++;
      const b = this.withNewlines(true, () => this.body(true));
      this.i++; // }
      const after = this.raw();
      if (!(after.type === "nl" || after.type === "eof" || (closing && this.is("}", after)))) {
        this.fail(after, `expected a newline after block '${t.value}'`);
      }
      blocks.push({ type: t.value, labels, body: b, line: t.line, col: t.col });
    }
    return { attributes, blocks };
  }

  // ---------------------------------------------------------------- expressions

  expression() {
    const start = this.peek();
    const cond = this.binary(0);
    if (this.is("?")) {
      this.take();
      const t = this.expression();
      this.expect(":");
      const f = this.expression();
      return { k: "cond", c: cond, t, f, line: start.line, col: start.col };
    }
    return cond;
  }

  binary(level) {
    if (level === BINARY.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.type === "punct" && BINARY[level].includes(t.value)) {
        this.take();
        const right = this.binary(level + 1);
        left = { k: "bin", op: t.value, l: left, r: right, line: t.line, col: t.col };
      } else {
        return left;
      }
    }
  }

  unary() {
    const t = this.peek();
    if (this.is("-", t) || this.is("!", t)) {
      this.take();
      return { k: "un", op: t.value, e: this.unary(), line: t.line, col: t.col };
    }
    return this.postfix(this.term());
  }

  postfix(e) {
    for (;;) {
      const t = this.raw(); // no newline skipping before a traversal step in newline-significant context
      const t2 = this.newlines[this.newlines.length - 1] ? t : this.peek();
      if (this.is(".", t2)) {
        this.take();
        const n = this.take();
        if (n.type === "ident") {
          e = { k: "attr", obj: e, name: n.value, line: n.line, col: n.col };
        } else if (this.is("*", n)) {
          e = this.splat(e, n, true);
        } else if (n.type === "number") {
          this.fail(n, "legacy index syntax (a.0) is not supported by the offline evaluator; write a[0]");
        } else {
          this.fail(n, `expected an attribute name after '.', found ${describe(n)}`);
        }
      } else if (this.is("[", t2)) {
        this.take();
        if (this.is("*")) {
          const star = this.take();
          this.expect("]");
          e = this.splat(e, star, false);
        } else {
          const key = this.withNewlines(false, () => this.expression());
          this.withNewlines(false, () => this.expect("]"));
          e = { k: "index", obj: e, key, line: t2.line, col: t2.col };
        }
      } else {
        return e;
      }
    }
  }

  /** a.*.b or a[*].b[0]: the steps after the star apply to each element. */
  splat(source, star, attrOnly) {
    let each = { k: "anon" };
    for (;;) {
      const t = this.newlines[this.newlines.length - 1] ? this.raw() : this.peek();
      if (this.is(".", t)) {
        this.take();
        const n = this.take();
        if (n.type !== "ident") this.fail(n, "expected an attribute name in a splat expression");
        each = { k: "attr", obj: each, name: n.value, line: n.line, col: n.col };
      } else if (!attrOnly && this.is("[", t)) {
        this.take();
        const key = this.withNewlines(false, () => this.expression());
        this.withNewlines(false, () => this.expect("]"));
        each = { k: "index", obj: each, key, line: t.line, col: t.col };
      } else {
        break;
      }
    }
    return { k: "splat", source, each, line: star.line, col: star.col };
  }

  term() {
    const t = this.take();
    switch (t.type) {
      case "number":
        return { k: "num", text: t.value, line: t.line, col: t.col };
      case "template":
        return this.templateExpr(t);
      case "ident":
        if (t.value === "true" || t.value === "false") return { k: "lit", value: t.value === "true", line: t.line, col: t.col };
        if (t.value === "null") return { k: "lit", value: null, line: t.line, col: t.col };
        if (this.is("(", this.raw())) return this.call(t);
        if (this.is(":", this.raw()) && this.is(":", this.toks[this.i + 1])) this.fail(t, "provider-defined functions are not supported");
        return { k: "ref", name: t.value, line: t.line, col: t.col };
      case "punct":
        if (t.value === "(") {
          const e = this.withNewlines(false, () => this.expression());
          this.withNewlines(false, () => this.expect(")"));
          return { k: "paren", e, line: t.line, col: t.col };
        }
        if (t.value === "[") return this.withNewlines(false, () => this.tuple(t));
        if (t.value === "{") return this.object(t);
        break;
      default:
        break;
    }
    this.fail(t, `expected an expression, found ${describe(t)}`);
  }

  templateExpr(t) {
    const parts = t.parts.map((p) => {
      if (typeof p === "string") return p;
      const sub = new Parser(this.file, p.tokens);
      sub.newlines = [false];
      const e = sub.expression();
      const end = sub.peek();
      if (end.type !== "eof") sub.fail(end, `unexpected ${describe(end)} in interpolation`);
      return e;
    });
    return { k: "template", parts, line: t.line, col: t.col };
  }

  call(name) {
    this.take(); // (
    return this.withNewlines(false, () => {
      const args = [];
      let expand = false;
      while (!this.is(")")) {
        args.push(this.expression());
        if (this.is("...")) {
          this.take();
          expand = true;
          if (!this.is(")")) this.fail(this.peek(), "'...' must follow the last argument");
          break;
        }
        if (this.is(",")) this.take();
        else if (!this.is(")")) this.fail(this.peek(), `expected ',' or ')' in the call of ${name.value}`);
      }
      this.expect(")");
      return { k: "call", name: name.value, args, expand, line: name.line, col: name.col };
    });
  }

  isFor() {
    const t = this.peek();
    const n = this.toks.slice(this.i + 1).find((x) => x.type !== "nl");
    return t.type === "ident" && t.value === "for" && n && n.type === "ident";
  }

  tuple(open) {
    if (this.isFor()) return this.forExpr(open, false);
    const items = [];
    while (!this.is("]")) {
      items.push(this.expression());
      if (this.is(",")) this.take();
      else if (!this.is("]")) this.fail(this.peek(), `expected ',' or ']' in a tuple, found ${describe(this.peek())}`);
    }
    this.expect("]");
    return { k: "tuple", items, line: open.line, col: open.col };
  }

  object(open) {
    const forExpr = this.withNewlines(false, () => (this.isFor() ? this.forExpr(open, true) : null));
    if (forExpr) return forExpr;
    return this.withNewlines(true, () => {
      const items = [];
      for (;;) {
        this.skipNewlines();
        if (this.is("}", this.raw())) break;
        const kt = this.raw();
        let key;
        if (kt.type === "ident" && (this.is("=", this.toks[this.i + 1]) || this.is(":", this.toks[this.i + 1]))) {
          this.i++;
          key = { k: "template", parts: [kt.value], line: kt.line, col: kt.col };
        } else if (kt.type === "template" || this.is("(", kt)) {
          key = this.withNewlines(false, () => this.term());
        } else {
          this.fail(kt, `an object key must be a name, a quoted string or a parenthesised expression, found ${describe(kt)}`);
        }
        const sep = this.raw();
        if (!(this.is("=", sep) || this.is(":", sep))) this.fail(sep, `expected '=' after an object key, found ${describe(sep)}`);
        this.i++;
        const value = this.expression();
        items.push({ key, value });
        const after = this.raw();
        if (this.is(",", after) || after.type === "nl") this.i++;
        else if (!this.is("}", after)) this.fail(after, `expected ',', a newline or '}' after an object item, found ${describe(after)}`);
      }
      this.i++; // }
      return { k: "object", items, line: open.line, col: open.col };
    });
  }

  forExpr(open, isObject) {
    return this.withNewlines(false, () => {
      this.take(); // for
      const a = this.take();
      if (a.type !== "ident") this.fail(a, "expected a variable name after 'for'");
      let keyVar = null;
      let valVar = a.value;
      if (this.is(",")) {
        this.take();
        const b = this.take();
        if (b.type !== "ident") this.fail(b, "expected a second variable name");
        keyVar = a.value;
        valVar = b.value;
      }
      const inTok = this.take();
      if (!(inTok.type === "ident" && inTok.value === "in")) this.fail(inTok, "expected 'in'");
      const coll = this.expression();
      this.expect(":");
      let keyExpr = null;
      const first = this.expression();
      let valExpr = first;
      let group = false;
      if (isObject) {
        this.expect("=>");
        keyExpr = first;
        valExpr = this.expression();
        if (this.is("...")) {
          this.take();
          group = true;
        }
      }
      let cond = null;
      const t = this.peek();
      if (t.type === "ident" && t.value === "if") {
        this.take();
        cond = this.expression();
      }
      this.expect(isObject ? "}" : "]");
      return { k: "for", isObject, keyVar, valVar, coll, keyExpr, valExpr, group, cond, line: open.line, col: open.col };
    });
  }
}

function describe(t) {
  if (t.type === "eof") return "the end of the input";
  if (t.type === "nl") return "a newline";
  if (t.type === "template") return "a string";
  return `'${t.value}'`;
}

/** Parses a configuration file into { attributes, blocks }. */
export function parseConfig(file, text) {
  const tokens = new Lexer(file, text).tokens();
  const p = new Parser(file, tokens);
  return p.body(false);
}

/** Parses one expression (e.g. a -var value or a type constraint). */
export function parseExpression(file, text) {
  const tokens = new Lexer(file, text).tokens();
  const p = new Parser(file, tokens);
  p.newlines = [false];
  const e = p.expression();
  const end = p.peek();
  if (end.type !== "eof") p.fail(end, `unexpected ${describe(end)}`);
  return e;
}

/** The references (var.x, local.y, module.m, resource type.name, each, count, path) an expression makes. */
export function references(expr, out = []) {
  const walk = (e, bound) => {
    if (!e || typeof e !== "object") return;
    switch (e.k) {
      case "ref":
        if (!bound.has(e.name)) out.push({ root: e.name, steps: [], line: e.line, col: e.col });
        return;
      case "attr":
      case "index": {
        // collect the traversal chain back to its root
        const steps = [];
        let x = e;
        while (x.k === "attr" || x.k === "index") {
          steps.unshift(x.k === "attr" ? { attr: x.name } : { index: x.key });
          if (x.k === "index") walk(x.key, bound);
          x = x.obj;
        }
        if (x.k === "ref") {
          if (!bound.has(x.name)) out.push({ root: x.name, steps, line: x.line, col: x.col });
        } else {
          walk(x, bound);
        }
        return;
      }
      case "for": {
        walk(e.coll, bound);
        const inner = new Set(bound);
        if (e.keyVar) inner.add(e.keyVar);
        inner.add(e.valVar);
        walk(e.keyExpr, inner);
        walk(e.valExpr, inner);
        walk(e.cond, inner);
        return;
      }
      case "splat":
        walk(e.source, bound);
        walk(e.each, bound);
        return;
      case "template":
        e.parts.forEach((p) => typeof p !== "string" && walk(p, bound));
        return;
      case "call":
        e.args.forEach((a) => walk(a, bound));
        return;
      case "tuple":
        e.items.forEach((a) => walk(a, bound));
        return;
      case "object":
        e.items.forEach((it) => {
          walk(it.key, bound);
          walk(it.value, bound);
        });
        return;
      case "cond":
        walk(e.c, bound);
        walk(e.t, bound);
        walk(e.f, bound);
        return;
      case "bin":
        walk(e.l, bound);
        walk(e.r, bound);
        return;
      case "un":
      case "paren":
        walk(e.e, bound);
        return;
      default:
        return;
    }
  };
  walk(expr, new Set());
  return out;
}
