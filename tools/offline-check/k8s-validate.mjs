#!/usr/bin/env node
// Offline stand-in for `kubectl apply --dry-run=server` on eventline's Kubernetes files.
//
//   node tools/offline-check/k8s-validate.mjs FILE.yaml...
//
// Every YAML document of every file is checked and reported on its own line ("ok" or "FAIL" and the errors):
// - kinds with a published schema are validated with it: Deployment, Service, Secret, ConfigMap,
//   PodDisruptionBudget, NetworkPolicy (kubernetes-models), the Knative Service (@kubernetes-models/knative),
//   ScaledObject and TriggerAuthentication (@kubernetes-models/keda), PodMonitor and PrometheusRule
//   (@kubernetes-models/prometheus-operator);
// - RabbitmqSource (knative-extensions/eventing-rabbitmq) and RabbitmqCluster (rabbitmq/cluster-operator) have no
//   offline schema: they get explicit checks written from their Go types and webhooks (field names, required fields,
//   types, enums, bounds; unknown fields are errors there);
// - any other apiVersion/kind fails: nothing is skipped silently.
// The published schemas do not reject unknown fields; the Java tests check the fields that matter by exact path.
// Exit status: 0 all documents valid, 1 some invalid, 2 usage or unreadable file.

import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { Service as KnativeService } from "@kubernetes-models/knative/serving.knative.dev/v1/Service";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";

const MODELS = new Map([
  ["apps/v1 Deployment", Deployment],
  ["v1 ConfigMap", ConfigMap],
  ["v1 Secret", Secret],
  ["v1 Service", Service],
  ["policy/v1 PodDisruptionBudget", PodDisruptionBudget],
  ["networking.k8s.io/v1 NetworkPolicy", NetworkPolicy],
  ["serving.knative.dev/v1 Service", KnativeService],
  ["keda.sh/v1alpha1 ScaledObject", ScaledObject],
  ["keda.sh/v1alpha1 TriggerAuthentication", TriggerAuthentication],
  ["monitoring.coreos.com/v1 PodMonitor", PodMonitor],
  ["monitoring.coreos.com/v1 PrometheusRule", PrometheusRule],
]);

const CHECKS = new Map([
  ["sources.knative.dev/v1alpha1 RabbitmqSource", checkRabbitmqSource],
  ["rabbitmq.com/v1beta1 RabbitmqCluster", checkRabbitmqCluster],
]);

// Object names: RFC 1123 subdomain for most kinds, RFC 1035 label for Services (they become DNS labels).
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
// ISO-8601 duration as Knative's delivery parses it (rickb777/date/period).
const ISO_DURATION = /^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
// Kubernetes resource.Quantity.
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?\d+))?$/;

function main(argv) {
  const files = argv.slice(2);
  if (files.length === 0) {
    console.error("usage: node k8s-validate.mjs FILE.yaml...");
    return 2;
  }
  let documents = 0;
  let failed = 0;
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      console.error(`${file}: cannot read: ${e.message}`);
      return 2;
    }
    const parsed = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
    const docs = Array.isArray(parsed) ? parsed : [parsed];
    if (docs.length === 0) {
      console.log(`FAIL ${file}: no YAML document`);
      failed++;
      continue;
    }
    docs.forEach((doc, index) => {
      documents++;
      const where = `${file} [${index + 1}]`;
      const errors = [];
      if (doc.errors.length > 0) {
        doc.errors.forEach((e) => errors.push(`YAML: ${e.message.split("\n")[0]}`));
        report(where, "?", errors);
        failed++;
        return;
      }
      const data = doc.toJS();
      const what = describe(data);
      errors.push(...validate(data));
      report(where, what, errors);
      if (errors.length > 0) failed++;
    });
  }
  console.log(`k8s-validate: ${documents} documents, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

function describe(data) {
  if (!isObject(data)) return "?";
  return `${data.apiVersion ?? "?"} ${data.kind ?? "?"} ${data.metadata?.name ?? "?"}`;
}

function report(where, what, errors) {
  if (errors.length === 0) {
    console.log(`ok   ${where} ${what}`);
  } else {
    console.log(`FAIL ${where} ${what}`);
    errors.forEach((e) => console.log(`       - ${e}`));
  }
}

/** @returns {string[]} the errors of one document */
function validate(data) {
  if (data === null || data === undefined) return ["empty document"];
  if (!isObject(data)) return ["a Kubernetes object must be a mapping"];
  if (typeof data.apiVersion !== "string" || typeof data.kind !== "string") {
    return ["apiVersion and kind are required strings"];
  }
  const key = `${data.apiVersion} ${data.kind}`;
  const errors = metadataErrors(data);
  const Model = MODELS.get(key);
  const check = CHECKS.get(key);
  if (Model) {
    try {
      new Model(data).validate();
    } catch (e) {
      if (Array.isArray(e.errors)) {
        e.errors.forEach((err) => errors.push(`schema: ${err.instancePath || "/"} ${err.message}${params(err)}`));
      } else {
        errors.push(`schema: ${e.message}`);
      }
    }
  } else if (check) {
    check(data, errors);
  } else {
    errors.push(`unknown apiVersion/kind "${key}": no schema and no explicit checks here; add one to `
      + "tools/offline-check/k8s-validate.mjs rather than letting it through unchecked");
  }
  return errors;
}

function params(err) {
  const p = err.params ?? {};
  if (p.allowedValues) return ` (${p.allowedValues.join(", ")})`;
  if (p.missingProperty) return "";
  return "";
}

function metadataErrors(data) {
  const errors = [];
  const m = data.metadata;
  if (!isObject(m)) return ["metadata: required mapping"];
  if (typeof m.name !== "string" || m.name.length === 0) {
    errors.push("metadata.name: required");
  } else {
    const service = data.kind === "Service";
    const pattern = service ? DNS_LABEL : DNS_SUBDOMAIN;
    const max = service ? 63 : 253;
    if (!pattern.test(m.name) || m.name.length > max) {
      errors.push(`metadata.name "${m.name}": must be an RFC 1123 ${service ? "label (RFC 1035, <= 63)" : "subdomain"}`);
    }
  }
  if (m.namespace !== undefined && (typeof m.namespace !== "string" || !DNS_LABEL.test(m.namespace))) {
    errors.push(`metadata.namespace "${m.namespace}": must be a DNS label`);
  }
  for (const [field, values] of [["labels", true], ["annotations", false]]) {
    if (m[field] === undefined) continue;
    if (!isObject(m[field])) {
      errors.push(`metadata.${field}: must be a mapping`);
      continue;
    }
    for (const [k, v] of Object.entries(m[field])) {
      if (!QUALIFIED_NAME.test(k) || k.split("/").pop().length > 63) errors.push(`metadata.${field} key "${k}": not a qualified name`);
      if (typeof v !== "string") errors.push(`metadata.${field}.${k}: must be a string, found ${typeof v}`);
      else if (values && (v.length > 63 || !LABEL_VALUE.test(v))) errors.push(`metadata.labels.${k} "${v}": not a label value`);
    }
  }
  return errors;
}

// ---- explicit checks ----

/**
 * RabbitmqSource, sources.knative.dev/v1alpha1, from knative-extensions/eventing-rabbitmq
 * pkg/apis/sources/v1alpha1/rabbitmq_types.go and rabbitmq_validation.go:
 *   spec: rabbitmqClusterReference (required by Validate), delivery, rabbitmqResourcesConfig (required),
 *         sink (required), serviceAccountName
 *   rabbitmqResourcesConfig: vhost, queueName (required), queueType (quorum|classic), exchangeName (required when
 *         predeclared is false), parallelism (1..1000), predeclared
 *   rabbitmqClusterReference (rabbitmq.com v1beta1): name, namespace, connectionSecret {name}; name or
 *         connectionSecret, not both
 *   delivery (the source's own DeliverySpec): retry (int32), backoffPolicy (linear|exponential), backoffDelay
 *         (ISO-8601); there is no deadLetterSink: after its retries the adapter nacks without requeue, and the
 *         queue's own dead-lettering applies. The receive adapter's reconciler reads spec.delivery without a nil
 *         check, so it is required here.
 *   sink (knative duck v1 Destination): ref {kind, name required; apiVersion, namespace, group}, uri, CACerts,
 *         audience; ref or uri; with a ref, the uri must be relative.
 */
function checkRabbitmqSource(data, errors) {
  const at = new Checker(errors);
  allowOnly(at, data, ["apiVersion", "kind", "metadata", "spec"], "");
  const spec = at.object(data.spec, "spec", true);
  if (!spec) return;
  allowOnly(at, spec, ["rabbitmqClusterReference", "delivery", "rabbitmqResourcesConfig", "sink", "serviceAccountName"],
    "spec");

  const res = at.object(spec.rabbitmqResourcesConfig, "spec.rabbitmqResourcesConfig", true);
  if (res) {
    allowOnly(at, res, ["vhost", "queueName", "queueType", "exchangeName", "parallelism", "predeclared"],
      "spec.rabbitmqResourcesConfig");
    at.string(res.vhost, "spec.rabbitmqResourcesConfig.vhost", false);
    at.string(res.queueName, "spec.rabbitmqResourcesConfig.queueName", true, true);
    if (res.queueType !== undefined) at.oneOf(res.queueType, ["quorum", "classic"], "spec.rabbitmqResourcesConfig.queueType");
    at.string(res.exchangeName, "spec.rabbitmqResourcesConfig.exchangeName", false);
    if (res.parallelism !== undefined) at.integer(res.parallelism, "spec.rabbitmqResourcesConfig.parallelism", 1, 1000);
    at.boolean(res.predeclared, "spec.rabbitmqResourcesConfig.predeclared", false);
    if (res.predeclared !== true && !res.exchangeName) {
      errors.push("spec.rabbitmqResourcesConfig.exchangeName: required when predeclared is false");
    }
  }

  const ref = at.object(spec.rabbitmqClusterReference, "spec.rabbitmqClusterReference", true);
  if (ref) {
    allowOnly(at, ref, ["name", "namespace", "connectionSecret"], "spec.rabbitmqClusterReference");
    at.string(ref.name, "spec.rabbitmqClusterReference.name", false);
    at.string(ref.namespace, "spec.rabbitmqClusterReference.namespace", false);
    const secret = at.object(ref.connectionSecret, "spec.rabbitmqClusterReference.connectionSecret", false);
    if (secret) {
      allowOnly(at, secret, ["name"], "spec.rabbitmqClusterReference.connectionSecret");
      at.string(secret.name, "spec.rabbitmqClusterReference.connectionSecret.name", true, true);
    }
    if (!ref.name && ref.connectionSecret === undefined) {
      errors.push("spec.rabbitmqClusterReference: name or connectionSecret is required");
    } else if (ref.name && ref.connectionSecret !== undefined) {
      errors.push("spec.rabbitmqClusterReference: name and connectionSecret exclude each other");
    }
  }

  const delivery = at.object(spec.delivery, "spec.delivery", true);
  if (delivery) {
    if (delivery.deadLetterSink !== undefined) {
      errors.push("spec.delivery.deadLetterSink: RabbitmqSource has no such field (its DeliverySpec is retry, "
        + "backoffPolicy, backoffDelay); exhausted events are rejected to the queue's dead-letter exchange");
    }
    allowOnly(at, delivery, ["retry", "backoffPolicy", "backoffDelay", "deadLetterSink"], "spec.delivery");
    if (delivery.retry !== undefined) at.integer(delivery.retry, "spec.delivery.retry", 0, 2147483647);
    if (delivery.backoffPolicy !== undefined) at.oneOf(delivery.backoffPolicy, ["linear", "exponential"], "spec.delivery.backoffPolicy");
    if (delivery.backoffDelay !== undefined && at.string(delivery.backoffDelay, "spec.delivery.backoffDelay", true)
      && !ISO_DURATION.test(delivery.backoffDelay)) {
      errors.push(`spec.delivery.backoffDelay "${delivery.backoffDelay}": not an ISO-8601 duration (e.g. PT0.2S)`);
    }
  }

  checkDestination(at, spec.sink, "spec.sink", true);
  at.string(spec.serviceAccountName, "spec.serviceAccountName", false);
}

function checkDestination(at, sink, path, required) {
  const dest = at.object(sink, path, required);
  if (!dest) return;
  allowOnly(at, dest, ["ref", "uri", "CACerts", "audience"], path);
  const ref = at.object(dest.ref, `${path}.ref`, false);
  if (ref) {
    allowOnly(at, ref, ["kind", "name", "apiVersion", "namespace", "group", "address"], `${path}.ref`);
    at.string(ref.kind, `${path}.ref.kind`, true, true);
    at.string(ref.name, `${path}.ref.name`, true, true);
    at.string(ref.apiVersion, `${path}.ref.apiVersion`, false);
    at.string(ref.namespace, `${path}.ref.namespace`, false);
  }
  if (dest.uri !== undefined && at.string(dest.uri, `${path}.uri`, true, true) && ref && /^[a-z][a-z0-9+.-]*:/i.test(dest.uri)) {
    at.errors.push(`${path}.uri: must be relative when a ref is given`);
  }
  if (!ref && dest.uri === undefined) at.errors.push(`${path}: ref or uri is required`);
  if (!ref && typeof dest.uri === "string") checkAbsoluteUri(at, dest.uri, `${path}.uri`);
}

// Without a ref, Knative's webhook wants an absolute URI with a host, parsed by Go's net/url: user info of
// unreserved characters, sub-delimiters, ':' and '%' only, and a host name. The user info (a password) is never
// printed.
function checkAbsoluteUri(at, uri, path) {
  const m = /^(https?):\/\/(?:([^@/?#]*)@)?([^:/?#]*)(?::(\d*))?(?:[/?#].*)?$/.exec(uri);
  if (!m) {
    at.errors.push(`${path}: must be an absolute http or https URI when no ref is given`);
    return;
  }
  if (m[2] !== undefined && !/^[A-Za-z0-9\-._~!$&'()*+,;=:%]*$/.test(m[2])) {
    at.errors.push(`${path}: the user info has characters a URI cannot carry unescaped (an unfilled placeholder?)`);
  }
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(m[3])) {
    at.errors.push(`${path}: host "${m[3]}" is not a host name (an unfilled placeholder?)`);
  }
}

/**
 * RabbitmqCluster, rabbitmq.com/v1beta1, from rabbitmq/cluster-operator api/v1beta1/rabbitmqcluster_types.go:
 *   spec: replicas (>= 0), image, imagePullSecrets, service {type ClusterIP|LoadBalancer|NodePort, annotations,
 *         ipFamilyPolicy}, persistence {storageClassName, storage (quantity)}, resources, affinity, tolerations,
 *         rabbitmq {additionalPlugins (<= 100 items, each ^\w+$ and <= 100 characters), additionalConfig (<= 2000
 *         characters), advancedConfig, envConfig (<= 100000), erlangInetConfig}, tls, override,
 *         skipPostDeploySteps, terminationGracePeriodSeconds (>= 0), delayStartSeconds (>= 0), secretBackend
 */
function checkRabbitmqCluster(data, errors) {
  const at = new Checker(errors);
  allowOnly(at, data, ["apiVersion", "kind", "metadata", "spec"], "");
  const spec = at.object(data.spec, "spec", false) ?? {};
  allowOnly(at, spec, ["replicas", "image", "imagePullSecrets", "service", "persistence", "resources", "affinity",
    "tolerations", "rabbitmq", "tls", "override", "skipPostDeploySteps", "terminationGracePeriodSeconds",
    "delayStartSeconds", "secretBackend"], "spec");
  if (spec.replicas !== undefined) at.integer(spec.replicas, "spec.replicas", 0, 2147483647);
  at.string(spec.image, "spec.image", false);
  for (const field of ["terminationGracePeriodSeconds", "delayStartSeconds"]) {
    if (spec[field] !== undefined) at.integer(spec[field], `spec.${field}`, 0, Number.MAX_SAFE_INTEGER);
  }
  at.boolean(spec.skipPostDeploySteps, "spec.skipPostDeploySteps", false);
  const service = at.object(spec.service, "spec.service", false);
  if (service) {
    allowOnly(at, service, ["type", "annotations", "ipFamilyPolicy"], "spec.service");
    if (service.type !== undefined) at.oneOf(service.type, ["ClusterIP", "LoadBalancer", "NodePort"], "spec.service.type");
    at.stringMap(service.annotations, "spec.service.annotations");
  }
  const persistence = at.object(spec.persistence, "spec.persistence", false);
  if (persistence) {
    allowOnly(at, persistence, ["storageClassName", "storage"], "spec.persistence");
    at.string(persistence.storageClassName, "spec.persistence.storageClassName", false);
    at.quantity(persistence.storage, "spec.persistence.storage");
  }
  const resources = at.object(spec.resources, "spec.resources", false);
  if (resources) {
    allowOnly(at, resources, ["limits", "requests", "claims"], "spec.resources");
    for (const part of ["limits", "requests"]) {
      const values = at.object(resources[part], `spec.resources.${part}`, false);
      if (values) Object.entries(values).forEach(([k, v]) => at.quantity(v, `spec.resources.${part}.${k}`));
    }
  }
  const rabbitmq = at.object(spec.rabbitmq, "spec.rabbitmq", false);
  if (rabbitmq) {
    allowOnly(at, rabbitmq, ["additionalPlugins", "additionalConfig", "advancedConfig", "envConfig", "erlangInetConfig"],
      "spec.rabbitmq");
    if (rabbitmq.additionalPlugins !== undefined) {
      if (!Array.isArray(rabbitmq.additionalPlugins)) {
        errors.push("spec.rabbitmq.additionalPlugins: must be a list");
      } else {
        if (rabbitmq.additionalPlugins.length > 100) errors.push("spec.rabbitmq.additionalPlugins: at most 100 items");
        rabbitmq.additionalPlugins.forEach((p, i) => {
          if (typeof p !== "string" || !/^\w+$/.test(p) || p.length > 100) {
            errors.push(`spec.rabbitmq.additionalPlugins[${i}] "${p}": must match ^\\w+$, at most 100 characters`);
          }
        });
      }
    }
    at.string(rabbitmq.additionalConfig, "spec.rabbitmq.additionalConfig", false, false, 2000);
    at.string(rabbitmq.advancedConfig, "spec.rabbitmq.advancedConfig", false, false, 100000);
    at.string(rabbitmq.envConfig, "spec.rabbitmq.envConfig", false, false, 100000);
    at.string(rabbitmq.erlangInetConfig, "spec.rabbitmq.erlangInetConfig", false, false, 2000);
  }
}

function allowOnly(at, object, fields, path) {
  for (const key of Object.keys(object)) {
    if (!fields.includes(key)) at.errors.push(`${path ? path + "." : ""}${key}: unknown field`);
  }
}

class Checker {
  constructor(errors) {
    this.errors = errors;
  }

  object(value, path, required) {
    if (value === undefined || value === null) {
      if (required) this.errors.push(`${path}: required`);
      return undefined;
    }
    if (!isObject(value)) {
      this.errors.push(`${path}: must be a mapping`);
      return undefined;
    }
    return value;
  }

  string(value, path, required, nonEmpty = false, maxLength = Infinity) {
    if (value === undefined || value === null) {
      if (required) this.errors.push(`${path}: required`);
      return false;
    }
    if (typeof value !== "string") {
      this.errors.push(`${path}: must be a string, found ${typeof value}`);
      return false;
    }
    if (nonEmpty && value.length === 0) {
      this.errors.push(`${path}: must not be empty`);
      return false;
    }
    if (value.length > maxLength) {
      this.errors.push(`${path}: at most ${maxLength} characters, found ${value.length}`);
      return false;
    }
    return true;
  }

  stringMap(value, path) {
    if (value === undefined) return;
    if (!isObject(value)) {
      this.errors.push(`${path}: must be a mapping`);
      return;
    }
    Object.entries(value).forEach(([k, v]) => this.string(v, `${path}.${k}`, true));
  }

  boolean(value, path, required) {
    if (value === undefined) {
      if (required) this.errors.push(`${path}: required`);
      return;
    }
    if (typeof value !== "boolean") this.errors.push(`${path}: must be a boolean, found ${typeof value}`);
  }

  integer(value, path, min, max) {
    if (!Number.isInteger(value)) {
      this.errors.push(`${path}: must be an integer, found ${JSON.stringify(value)}`);
    } else if (value < min || value > max) {
      this.errors.push(`${path}: ${value} is out of bounds [${min}, ${max}]`);
    }
  }

  oneOf(value, allowed, path) {
    if (!allowed.includes(value)) this.errors.push(`${path}: ${JSON.stringify(value)} is not one of ${allowed.join(", ")}`);
  }

  quantity(value, path) {
    if (value === undefined) return;
    if (typeof value === "number" && Number.isFinite(value)) return;
    if (typeof value !== "string" || !QUANTITY.test(value)) {
      this.errors.push(`${path}: ${JSON.stringify(value)} is not a Kubernetes quantity`);
    }
  }
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

process.exitCode = main(process.argv);
