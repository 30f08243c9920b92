#!/usr/bin/env node
// Parses every PromQL expression of the alert rules and the Grafana dashboard with Prometheus's own grammar
// (@prometheus-io/lezer-promql, the parser of Prometheus's web UI), so that a syntax error fails the build.
// Syntax only: types (a rate() of an instant vector) are not checked.
//
//   node tools/offline-check/promql-check.mjs infra/prometheus/eventline-alerts.yaml infra/grafana/eventline-dashboard.json
// Prints each expression checked as "<file>: <where>: ok"; exit status 1 with "<file>: <where>: <problem>" for each
// expression that does not parse. In a dashboard, Grafana's $variables and $__interval are replaced by a valid
// value first; rule files get no such help (Prometheus has no variables).

import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { parser } from "@prometheus-io/lezer-promql";

function expressions(file) {
  const text = readFileSync(file, "utf8");
  const out = [];
  if (file.endsWith(".json")) {
    const dashboard = JSON.parse(text);
    for (const panel of dashboard.panels || []) {
      for (const target of panel.targets || []) out.push([`panel "${panel.title}"`, grafanaFree(target.expr || "")]);
    }
    for (const v of dashboard.templating?.list || []) {
      if (v.type === "query") out.push([`variable ${v.name}`, grafanaFree(typeof v.query === "string" ? v.query : v.query?.query || "")]);
    }
  } else {
    for (const group of parseDocument(text).toJS().groups || []) {
      for (const rule of group.rules || []) out.push([`rule ${rule.alert || rule.record}`, String(rule.expr || "")]);
    }
  }
  return out;
}

/** Grafana's template syntax is not PromQL: give its variables values a query could hold. */
function grafanaFree(expr) {
  return expr
    .replace(/^\s*label_values\((.*),\s*(\w+)\)\s*$/s, "$1") // a variable's query: its series selector
    .replace(/\$\{?__(rate_interval|interval|range)\}?/g, "5m")
    .replace(/\[\$\{?\w+\}?\]/g, "[5m]")
    .replace(/\$\{?\w+(:\w+)?\}?/g, ".*");
}

function problems(expr) {
  const found = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) found.push(`syntax error at ${node.from}: ...${expr.slice(Math.max(0, node.from - 20), node.from + 20)}...`);
    },
  });
  return found;
}

let failed = 0;
for (const file of process.argv.slice(2)) {
  for (const [where, expr] of expressions(file)) {
    const p = expr.trim() === "" ? ["empty expression"] : problems(expr);
    if (p.length) {
      failed++;
      console.error(`${file}: ${where}: ${p.join("; ")}`);
    } else {
      console.log(`${file}: ${where}: ok`);
    }
  }
}
process.exit(failed ? 1 : 0);
