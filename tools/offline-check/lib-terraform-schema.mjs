// The cyrilgdn/rabbitmq provider's resources and arguments, as ../shared/reference/terraform-rabbitmq-provider.md (beside this repository)
// lists them (read from the provider's source at v1.10.1). The module may use nothing else.
//
// An argument: { required, type, sensitive, oneOf, env }. Types: string, bool, number, int, list(string),
// map(string), json-object (a string holding a JSON object), any. A block: { min, max, args, exclusive }.
// terraform-check.mjs checks names, required arguments, block counts, exclusive pairs and literal oneOf values;
// the types say what the provider takes (values are computed by Terraform, which is not run here).

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

