// The cyrilgdn/rabbitmq provider's resources and arguments, as ../shared/reference/terraform-rabbitmq-provider.md (beside this repository)
// lists them (read from the provider's source at v1.10.1). The module may use nothing else.
//
// An argument: { required, type, sensitive, oneOf, env }. Types: string, bool, number, int, list(string),
// map(string), json-object (a string holding a JSON object), any. A block: { min, max, args, exclusive }.

import { Num, TObj, TSet, kindOf } from "./lib-terraform-values.mjs";

export const PROVIDER = {
  localName: "rabbitmq",
  source: "cyrilgdn/rabbitmq",
  constraint: "~> 1.10",
  referenceVersion: "1.10.1",
  args: {
    endpoint: { required: true, type: "string", env: "RABBITMQ_ENDPOINT" },
    username: { required: true, type: "string", env: "RABBITMQ_USERNAME" },
    password: { required: true, type: "string", sensitive: true, env: "RABBITMQ_PASSWORD" },
    insecure: { type: "bool" },
    cacert_file: { type: "string" },
    clientcert_file: { type: "string" },
    clientkey_file: { type: "string" },
    proxy: { type: "string" },
  },
};

const str = (required = false, extra = {}) => ({ required, type: "string", ...extra });

export const RESOURCES = {
  rabbitmq_vhost: {
    args: {
      name: str(true),
      description: str(),
      default_queue_type: str(),
      tracing: { type: "bool" },
      max_connections: { type: "any" },
      max_queues: { type: "any" },
    },
    blocks: {},
  },
  rabbitmq_exchange: {
    args: { name: str(true), vhost: str() },
    blocks: {
      settings: {
        min: 1,
        max: 1,
        args: { type: str(true), durable: { type: "bool" }, auto_delete: { type: "bool" }, arguments: { type: "map(string)" } },
      },
    },
  },
  rabbitmq_queue: {
    args: { name: str(true), vhost: str() },
    blocks: {
      settings: {
        min: 1,
        max: 1,
        args: {
          durable: { type: "bool" },
          auto_delete: { type: "bool" },
          arguments: { type: "map(string)" },
          arguments_json: { type: "json-object" },
        },
        exclusive: [["arguments", "arguments_json"]],
      },
    },
  },
  rabbitmq_binding: {
    args: {
      source: str(true),
      vhost: str(true),
      destination: str(true),
      destination_type: str(true, { oneOf: ["queue", "exchange"] }),
      routing_key: str(),
      arguments: { type: "map(string)" },
      arguments_json: { type: "json-object" },
    },
    blocks: {},
    exclusive: [["arguments", "arguments_json"]],
  },
  rabbitmq_policy: {
    args: { name: str(true), vhost: str(true) },
    blocks: {
      policy: {
        min: 1,
        max: 1,
        args: {
          pattern: str(true),
          priority: { required: true, type: "int" },
          apply_to: str(true, { oneOf: ["queues", "exchanges", "all"] }),
          definition: { required: true, type: "map(string)" },
        },
      },
    },
  },
  rabbitmq_user: {
    args: { name: str(true), password: str(true, { sensitive: true }), tags: { type: "list(string)" } },
    blocks: {},
  },
  rabbitmq_permissions: {
    args: { user: str(true), vhost: str() },
    blocks: {
      permissions: { min: 1, max: 1, args: { configure: str(true), write: str(true), read: str(true) } },
    },
  },
};

/** Meta-arguments and blocks Terraform itself accepts in a resource block. */
export const RESOURCE_META_ARGS = ["count", "for_each", "depends_on", "provider"];
export const RESOURCE_META_BLOCKS = ["lifecycle"];

/** Problems with one evaluated argument value (after Terraform's conversion to the argument's type). */
function typeProblems(spec, v) {
  const k = kindOf(v);
  const primitive = (want) => (k === want || (k === "number" && want === "string") || (k === "bool" && want === "string") ? [] : [`must be a ${want}, not a ${k}`]);
  switch (spec.type) {
    case "any":
      return [];
    case "string":
      return primitive("string");
    case "bool":
      return k === "bool" || v === "true" || v === "false" ? [] : [`must be a bool, not ${k === "string" ? JSON.stringify(v) : `a ${k}`}`];
    case "number":
      return k === "number" ? [] : [`must be a number, not a ${k}`];
    case "int":
      return k === "number" && v.isInt() ? [] : ["must be a whole number"];
    case "list(string)":
      return (Array.isArray(v) || v instanceof TSet) && (Array.isArray(v) ? v : v.items).every((e) => ["string", "number", "bool"].includes(kindOf(e)))
        ? [] : ["must be a list of strings"];
    case "map(string)":
      return v instanceof TObj && v.entries().every(([, e]) => ["string", "number", "bool"].includes(kindOf(e)))
        ? [] : ["must be a map of strings"];
    case "json-object": {
      if (k !== "string") return [`must be a string of JSON, not a ${k}`];
      try {
        const o = JSON.parse(v);
        return o && typeof o === "object" && !Array.isArray(o) ? [] : ["must hold a JSON object"];
      } catch (e) {
        return [`must hold JSON: ${e.message}`];
      }
    }
    default:
      throw new Error(`schema type ${spec.type}`);
  }
}

/** Checks an evaluated body (attributes as a TObj, blocks as arrays of TObj) against a schema. */
export function bodyProblems(where, schemaArgs, schemaBlocks, exclusive, values) {
  const problems = [];
  for (const [name, spec] of Object.entries(schemaArgs)) {
    const v = values.has(name) ? values.get(name) : null;
    if (v === null) {
      if (spec.required) problems.push(`${where}: the argument "${name}" is required`);
      continue;
    }
    for (const p of typeProblems(spec, v)) problems.push(`${where}: "${name}" ${p}`);
    if (spec.oneOf && !spec.oneOf.includes(v)) problems.push(`${where}: "${name}" must be one of ${spec.oneOf.join(", ")}, not ${JSON.stringify(v)}`);
  }
  for (const set of exclusive || []) {
    const given = set.filter((n) => values.has(n) && values.get(n) !== null);
    if (given.length > 1) problems.push(`${where}: only one of ${given.join(", ")} may be set`);
  }
  for (const [name, spec] of Object.entries(schemaBlocks || {})) {
    const blocks = values.has(name) ? values.get(name) : [];
    if (blocks.length < spec.min) problems.push(`${where}: the block "${name}" is required`);
    if (blocks.length > spec.max) problems.push(`${where}: at most ${spec.max} "${name}" block(s)`);
    blocks.forEach((b, i) => problems.push(...bodyProblems(`${where}.${name}[${i}]`, spec.args, spec.blocks, spec.exclusive, b)));
  }
  return problems;
}

/** Terraform's version constraint syntax, checked against a version: "~> 1.10", ">= 1.3, < 2.0.0". */
export function satisfies(version, constraints) {
  const parse = (v) => {
    const m = /^v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(-[0-9A-Za-z.-]+)?$/.exec(v.trim());
    if (!m) throw new Error(`not a version: ${JSON.stringify(v)}`);
    return { parts: [m[1], m[2], m[3]].map((x) => (x === undefined ? null : Number(x))), pre: m[4] || "" };
  };
  const cmp = (a, b) => {
    for (let i = 0; i < 3; i++) {
      const x = a[i] ?? 0, y = b[i] ?? 0;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };
  const v = parse(version).parts;
  return constraints.split(",").every((c) => {
    const m = /^\s*(~>|>=|<=|!=|=|>|<)?\s*(\S+)\s*$/.exec(c);
    if (!m) throw new Error(`not a version constraint: ${JSON.stringify(c)}`);
    const op = m[1] || "=";
    const want = parse(m[2]).parts;
    const d = cmp(v, want);
    switch (op) {
      case "=": return d === 0;
      case "!=": return d !== 0;
      case ">": return d > 0;
      case ">=": return d >= 0;
      case "<": return d < 0;
      case "<=": return d <= 0;
      case "~>": {
        // the rightmost given part may grow: ~> 1.10 means >= 1.10, < 2.0; ~> 1.10.1 means >= 1.10.1, < 1.11
        const given = want.filter((x) => x !== null).length;
        if (d < 0) return false;
        const upper = want.slice(0, Math.max(1, given - 1)).map((x) => x ?? 0);
        upper[upper.length - 1] += 1;
        return cmp(v, upper) < 0;
      }
      default:
        return false;
    }
  });
}

export { Num };
