#!/usr/bin/env node
// Checks the offline evaluator against Terraform's documented behaviour: each case is an expression and what
// `terraform console` answers for it (as jsonencode), or the error it must give. A case the evaluator gets
// wrong, or a construct it quietly accepts instead of refusing, fails this script.
//
//   node tools/offline-check/terraform-selftest.mjs

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Evaluator } from "./lib-terraform-eval.mjs";
import { jsonencode } from "./lib-terraform-values.mjs";

// [expression, expected jsonencode(value)] or [expression, { error: /pattern/ }]
const CASES = [
  // numbers and their printing
  ['"v${1.0}"', '"v1"'],
  ['"v${1.50}"', '"v1.5"'],
  ['"${1.0}"', "1"],
  ["jsonencode(1e21)", '"1000000000000000000000"'],
  ["jsonencode(9007199254740993)", '"9007199254740993"'],
  ["7 / 2", "3.5"],
  ["ceil(100001 / 4)", "25001"],
  ["floor(-1.5)", "-2"],
  ["5 % 3", "2"],
  ["-5 % 3", "-2"],
  ["floor(min(5000, 100 * pow(2, 10)))", "5000"],
  ["pow(2, 53)", "9007199254740992"],
  ["1 / 0", { error: /divide by zero/ }],
  ['"5" + 1', "6"],
  ['"x" + 1', { error: /number is required/ }],
  // strings, templates, conversions
  ['"a${"b"}c"', '"abc"'],
  ['"v${true}"', '"vtrue"'],
  ['"v${null}"', { error: /null/ }],
  ['"v${[1]}"', { error: /Invalid template interpolation/ }],
  ['"\\u00e9\\n\\"$${x}"', '"é\\n\\"${x}"'],
  ["tostring(5)", '"5"'],
  ['tonumber("2.50")', "2.5"],
  ['tonumber("x")', { error: /number is required/ }],
  ['replace("a.b.c", ".", "\\\\.")', '"a\\\\.b\\\\.c"'],
  // users.tf quotes names for regexes with chained replace(): the backslash first, then each metacharacter
  ['replace(replace("x\\\\y|z", "\\\\", "\\\\\\\\"), "|", "\\\\|")', '"x\\\\\\\\y\\\\|z"'],
  ['replace("$${a}$", "$", "\\\\$")', '"\\\\${a}\\\\$"'],
  ['!can(regex("-[0-9]+$", "orders-1"))', "false"],
  ['can(regex("^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$", "pay-out"))', "true"],
  ['can(regex("^a\\\\|b$", "a|b"))', "true"],
  ['format("%s-%d%%", "a", 5)', '"a-5%"'],
  ['join("|", ["a", 1, true])', '"a|1|true"'],
  ['length("abc")', "3"],
  ['dirname("orders/function.yaml")', '"orders"'],
  // collections
  ["range(3)", "[0,1,2]"],
  ["range(0)", "[]"],
  ["range(1, 0)", "[1]"],
  ["range(-2)", "[0,-1]"],
  ["range(1, 4, 2)", "[1,3]"],
  ["range(0, 2000)", { error: /1024/ }],
  ['keys({ b = 1, a = 2 })', '["a","b"]'],
  ['values({ b = 1, a = 2 })', "[2,1]"],
  ['merge({ a = 1, b = 1 }, null, { a = 2 })', '{"a":2,"b":1}'],
  ["flatten([[1, [2]], 3, []])", "[1,2,3]"],
  ['concat([1], ["a"])', '[1,"a"]'],
  ['distinct(["b", "a", "b"])', '["b","a"]'],
  ['sort(["b", "a", "10", "9"])', '["10","9","a","b"]'],
  ['contains(["a", "b"], "b")', "true"],
  ['contains(["1"], 1)', "false"],
  ['[for s in toset(["b", "a", "b"]) : s]', '["a","b"]'],
  ['{ for k, v in { a = 1, b = 2 } : v => k }', '{"1":"a","2":"b"}'],
  ['{ for s in ["a", "bb", "cc"] : length(s) => s... }', '{"1":["a"],"2":["bb","cc"]}'],
  ['{ for s in ["a", "a"] : s => s }', { error: /Duplicate object key/ }],
  ['[for i, v in ["x", "y"] : "${i}${v}" if i > 0]', '["1y"]'],
  ['[{ a = 1 }, { a = 2 }][*].a', "[1,2]"],
  ['{ a = { b = [10, 20] } }.a.b[1]', "20"],
  ['{ a = 1 }.b', { error: /Unsupported attribute/ }],
  ['[1][1]', { error: /Invalid index/ }],
  ['lookup({ a = "x" }, "b", "y")', '"y"'],
  ['jsonencode({ b = [true, null, "<&>"], a = 1.25 })', '"{\\"a\\":1.25,\\"b\\":[true,null,\\"\\\\u003c\\\\u0026\\\\u003e\\"]}"'],
  // conditionals and coalesce: cty's type unification
  ['true ? 1 : "a"', '"1"'],
  ['false ? ["a"] : []', "[]"],
  ['true ? { a = "x" } : {}', '{"a":"x"}'],
  ['true ? 1 : false', { error: /Inconsistent conditional result types/ }],
  ['true ? { a = "x" } : { b = ["y"] }', { error: /Inconsistent conditional result types/ }],
  ["false ? [][0] : 2", "2"],
  ["true ? [][0] : 2", { error: /Invalid index/ }],
  ["coalesce(null, 4)", "4"],
  ['coalesce("", "x")', '"x"'],
  ['coalesce(1, "a")', '"1"'],
  ["coalesce(null, null)", { error: /no non-null/ }],
  // equality and logic
  ['1 == "1"', "false"],
  ["1.0 == 1", "true"],
  ["null == null", "true"],
  ["[1] == [1]", { error: /unsupported/ }],
  ["false && (1 / 0 == 1)", { error: /divide by zero/ }],
  // try, can, regex
  ["try({ a = 1 }.b, 3)", "3"],
  ["try(null, 3)", "null"],
  ['can(regex("^[a-z]+$", "abc"))', "true"],
  ['can(regex("^[a-z]+$", "ab1"))', "false"],
  ['regex("^(a)(b)$", "ab")', '["a","b"]'],
  ['regex("(?i)a", "A")', { error: /unsupported/ }],
  // yamldecode as go-cty-yaml reads it
  ['yamldecode("a: 2.0\\nb: \'5\'\\nc: 5\\nd:\\ne: [x, 1]\\nf:\\n  - g: true\\n    h: ~\\n")', '{"a":2,"b":"5","c":5,"d":null,"e":["x",1],"f":[{"g":true,"h":null}]}'],
  ['yamldecode("a: yes")', { error: /unsupported/ }],
  ['yamldecode("a: 0x10")', { error: /unsupported/ }],
  ['yamldecode("a: 1e3")', { error: /unsupported/ }],
  ['yamldecode("a: &x 1")', { error: /unsupported/ }],
  ['yamldecode("a: 1\\na: 2")', { error: /repeated/ }],
  ['yamldecode("# only a comment")', "null"],
  // what the evaluator refuses
  ['uuid()', { error: /unsupported.*uuid/ }],
  ['"%{ if true }x%{ endif }"', { error: /template directives/ }],
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-selftest-"));
let failed = 0;
try {
  CASES.forEach(([expr, want], i) => {
    const caseDir = path.join(dir, String(i));
    fs.mkdirSync(caseDir);
    fs.writeFileSync(path.join(caseDir, "main.tf"), `locals {\n  x = ${expr}\n}\n\noutput "x" {\n  value = local.x\n}\n`);
    let got;
    try {
      const plan = new Evaluator(caseDir).plan();
      got = { value: jsonencode(plan.outputs.get("x")) };
    } catch (e) {
      got = { error: e.message };
    }
    const ok = typeof want === "string" ? got.value === want : got.error !== undefined && want.error.test(got.error);
    if (!ok) {
      failed++;
      console.error(`FAIL ${expr}\n  want ${typeof want === "string" ? want : `error ${want.error}`}\n  got  ${got.value !== undefined ? got.value : `error ${got.error}`}`);
    }
  });
  // module-level rules
  const module = (files) => {
    const d = fs.mkdtempSync(path.join(dir, "m-"));
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(d, f), text);
    return d;
  };
  const rules = [
    ["sensitive for_each", { "main.tf": 'variable "s" {\n  type = map(string)\n  default = { a = "x" }\n  sensitive = true\n}\nresource "rabbitmq_user" "u" {\n  for_each = var.s\n  name = each.key\n  password = each.value\n}\n' }, /sensitive values/],
    ["sensitive output", { "main.tf": 'variable "s" {\n  type = string\n  default = "x"\n  sensitive = true\n}\noutput "o" {\n  value = "${var.s}-"\n}\n' }, /Output refers to sensitive values/],
    ["undeclared local", { "main.tf": 'output "o" {\n  value = local.nope\n}\n' }, /undeclared local value "nope"/],
    ["failed validation", { "main.tf": 'variable "v" {\n  type = string\n  default = "a.b"\n  validation {\n    condition = can(regex("^[a-z]*$", var.v))\n    error_message = "letters only"\n  }\n}\n' }, /letters only/],
    ["failed precondition", { "main.tf": 'resource "rabbitmq_vhost" "v" {\n  name = "x"\n  lifecycle {\n    precondition {\n      condition = 1 > 2\n      error_message = "no"\n    }\n  }\n}\n' }, /precondition failed.*no/],
    ["unknown argument", { "main.tf": 'resource "rabbitmq_vhost" "v" {\n  name = "x"\n  flavour = "y"\n}\n' }, /unexpected argument "flavour"/],
    ["computed attribute", { "main.tf": 'resource "rabbitmq_vhost" "v" {\n  name = "x"\n}\noutput "o" {\n  value = rabbitmq_vhost.v.id\n}\n' }, /known only after apply/],
    ["list for_each", { "main.tf": 'resource "rabbitmq_vhost" "v" {\n  for_each = ["a"]\n  name = each.key\n}\n' }, /must be a map, or set of strings/],
    ["data source", { "main.tf": 'data "rabbitmq_vhost" "v" {\n  name = "x"\n}\n' }, /unsupported.*data blocks/],
    ["cycle", { "main.tf": "locals {\n  a = local.b\n  b = local.a\n}\noutput \"o\" {\n  value = local.a\n}\n" }, /Cycle/],
  ];
  for (const [name, files, want] of rules) {
    let got = "no error";
    try {
      new Evaluator(module(files)).plan();
    } catch (e) {
      got = e.message;
    }
    if (!want.test(got)) {
      failed++;
      console.error(`FAIL ${name}\n  want error ${want}\n  got  ${got}`);
    }
  }
  const total = CASES.length + rules.length;
  console.log(`${total - failed} of ${total} cases agree with Terraform`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
