// core/v1 kinds other than Pod: Node, Service, Endpoints, ConfigMap, Secret, Event,
// ServiceAccount, Namespace (upstream pkg/registry/core/*/strategy.go and printers.go).

import { formatAge } from "#pkg/api/duration.js";
import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  Secret,
  Service,
  ServiceAccount,
} from "#pkg/api/types/core.js";
import {
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  fieldDuplicate,
  fieldImmutable,
  PROTOCOLS,
  qualifiedNameErrors,
  validateIntOrStringPort,
  validateLabels,
  validatePortNumber,
  validateQuantity,
} from "#pkg/api/validation.js";
import type { Strategy } from "../strategy.js";
import { age, ageCol, type Cell, clone, col, deepEqual, formatLabels, makeStrategy, nameCol } from "./common.js";

// ---------------------------------------------------------------- Node

const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

function validateNode(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  (node.spec?.taints ?? []).forEach((t, i) => {
    const p = `spec.taints[${i}]`;
    if (!t.key) errs.push(fieldRequired(`${p}.key`));
    else for (const m of qualifiedNameErrors(t.key)) errs.push(fieldInvalid(`${p}.key`, t.key, m));
    if (!t.effect) errs.push(fieldRequired(`${p}.effect`));
    else if (!(TAINT_EFFECTS as readonly string[]).includes(t.effect)) {
      errs.push(fieldNotSupported(`${p}.effect`, t.effect, TAINT_EFFECTS));
    }
  });
  for (const kind of ["capacity", "allocatable"] as const) {
    for (const [k, q] of Object.entries(node.status?.[kind] ?? {})) {
      errs.push(...validateQuantity(q, `status.${kind}[${k}]`));
    }
  }
  return errs;
}

function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) {
      const role = k.slice("node-role.kubernetes.io/".length);
      if (role) roles.add(role);
    } else if (k === "kubernetes.io/role" && v) roles.add(v);
  }
  return [...roles].sort();
}

export function nodeStatusCell(node: Node): string {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === "Ready");
  const parts = [ready ? (ready.status === "True" ? "Ready" : "NotReady") : "Unknown"];
  if (node.spec?.unschedulable) parts.push("SchedulingDisabled");
  return parts.join(",");
}

function nodeStrategy(r: ResourceInfo): Strategy<Node> {
  const addr = (n: Node, t: string) => (n.status?.addresses ?? []).find((a) => a.type === t)?.address ?? "<none>";
  return makeStrategy<Node>(
    r,
    {
      validate: validateNode,
      validateUpdate(node, old) {
        const errs = validateNode(node);
        const oldCIDR = old.spec?.podCIDR;
        if (oldCIDR && node.spec?.podCIDR !== oldCIDR) {
          errs.push(fieldForbidden("spec.podCIDR", 'node updates may not change podCIDR except from "" to valid'));
        }
        return errs;
      },
      selectableFields: (n) => ({ "spec.unschedulable": String(n.spec?.unschedulable === true) }),
      columns: [
        nameCol(),
        col("Status", "string", "The status of the node"),
        col("Roles", "string", "The roles of the node"),
        ageCol(),
        col("Version", "string", "Kubelet Version reported by the node."),
        col("Internal-IP", "string", "List of addresses reachable to the node.", 1),
        col("External-IP", "string", "List of addresses reachable to the node.", 1),
        col(
          "OS-Image",
          "string",
          "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
          1,
        ),
        col(
          "Kernel-Version",
          "string",
          "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
          1,
        ),
        col(
          "Container-Runtime",
          "string",
          "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
          1,
        ),
      ],
      row: (n, now) => {
        const info = n.status?.nodeInfo;
        return [
          n.metadata.name ?? "",
          nodeStatusCell(n),
          nodeRoles(n).join(",") || "<none>",
          age(n, now),
          info?.kubeletVersion ?? "",
          addr(n, "InternalIP"),
          addr(n, "ExternalIP"),
          info?.osImage || "<unknown>",
          info?.kernelVersion || "<unknown>",
          info?.containerRuntimeVersion || "<unknown>",
        ];
      },
    },
    // Kubelets register nodes with their status: upstream keeps it on create.
    { keepStatusOnCreate: true },
  );
}

// ---------------------------------------------------------------- Service

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"] as const;

export function defaultService(svc: Service): void {
  const spec = svc.spec;
  if (!spec || typeof spec !== "object") return;
  spec.type ??= "ClusterIP";
  spec.sessionAffinity ??= "None";
  if (spec.type !== "ExternalName") spec.internalTrafficPolicy ??= "Cluster";
  if (spec.type === "NodePort" || spec.type === "LoadBalancer") spec.externalTrafficPolicy ??= "Cluster";
  if (spec.type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
  if (spec.sessionAffinity === "ClientIP") {
    spec.sessionAffinityConfig ??= {};
    spec.sessionAffinityConfig.clientIP ??= {};
    spec.sessionAffinityConfig.clientIP.timeoutSeconds ??= 10800;
  }
  for (const p of spec.ports ?? []) {
    if (!p || typeof p !== "object") continue;
    p.protocol ??= "TCP";
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === "") p.targetPort = p.port;
  }
  // clusterIP and clusterIPs mirror each other (upstream's dual-stack defaulting).
  if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
  if (!spec.clusterIP && spec.clusterIPs?.length) spec.clusterIP = spec.clusterIPs[0];
}

function validateService(svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec;
  if (!spec) return [...errs, fieldRequired("spec")];
  const type = spec.type ?? "ClusterIP";
  if (!(SERVICE_TYPES as readonly string[]).includes(type))
    errs.push(fieldNotSupported("spec.type", type, SERVICE_TYPES));
  const headless = spec.clusterIP === "None";
  const ports = spec.ports ?? [];
  if (ports.length === 0 && !headless && type !== "ExternalName") errs.push(fieldRequired("spec.ports"));
  if (type === "ExternalName") {
    if (!spec.externalName) errs.push(fieldRequired("spec.externalName"));
    else
      for (const m of dns1123SubdomainErrors(spec.externalName))
        errs.push(fieldInvalid("spec.externalName", spec.externalName, m));
  }
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((p, i) => {
    const path = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) errs.push(fieldRequired(`${path}.name`));
    if (p.name) {
      for (const m of dns1123LabelErrors(p.name)) errs.push(fieldInvalid(`${path}.name`, p.name, m));
      if (names.has(p.name)) errs.push(fieldDuplicate(`${path}.name`, p.name));
      names.add(p.name);
    }
    errs.push(...validatePortNumber(p.port, `${path}.port`));
    if (p.protocol !== undefined && !(PROTOCOLS as readonly string[]).includes(p.protocol)) {
      errs.push(fieldNotSupported(`${path}.protocol`, p.protocol, PROTOCOLS));
    }
    const key = `${p.port}/${p.protocol ?? "TCP"}`;
    if (keys.has(key)) errs.push(fieldDuplicate(`${path}`, { port: p.port, protocol: p.protocol ?? "TCP" }));
    keys.add(key);
    if (p.targetPort !== undefined) errs.push(...validateIntOrStringPort(p.targetPort, `${path}.targetPort`));
    if (p.nodePort !== undefined && p.nodePort !== 0) {
      if (type === "ClusterIP" || type === "ExternalName") {
        errs.push(fieldForbidden(`${path}.nodePort`, `may not be used when \`type\` is '${type}'`));
      } else errs.push(...validatePortNumber(p.nodePort, `${path}.nodePort`));
    }
  });
  errs.push(...validateLabels(spec.selector, "spec.selector"));
  if (spec.sessionAffinity !== undefined && !["ClientIP", "None"].includes(spec.sessionAffinity)) {
    errs.push(fieldNotSupported("spec.sessionAffinity", spec.sessionAffinity, ["ClientIP", "None"]));
  }
  for (const f of ["externalTrafficPolicy", "internalTrafficPolicy"] as const) {
    const v = spec[f];
    if (v !== undefined && !["Cluster", "Local"].includes(v))
      errs.push(fieldNotSupported(`spec.${f}`, v, ["Cluster", "Local"]));
  }
  if (spec.clusterIP && spec.clusterIP !== "None" && !/^[0-9a-fA-F.:]+$/.test(spec.clusterIP)) {
    errs.push(
      fieldInvalid(
        "spec.clusterIPs[0]",
        spec.clusterIP,
        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
      ),
    );
  }
  if (spec.clusterIP && spec.clusterIPs?.length && spec.clusterIPs[0] !== spec.clusterIP) {
    errs.push(fieldInvalid("spec.clusterIPs", spec.clusterIPs, "first value must match `clusterIP`"));
  }
  return errs;
}

/** The Port(s) cell: "80/TCP,443:30443/TCP". */
export function servicePorts(svc: Service): string {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return "<none>";
  return ports
    .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? "TCP"}` : `${p.port}/${p.protocol ?? "TCP"}`))
    .join(",");
}

function serviceExternalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const ext = spec.externalIPs ?? [];
  switch (spec.type ?? "ClusterIP") {
    case "ClusterIP":
    case "NodePort":
      return ext.length ? ext.join(",") : "<none>";
    case "LoadBalancer": {
      const lb = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || "").filter(Boolean);
      const all = [...ext, ...lb];
      return lb.length ? all.join(",") : ext.length ? ext.join(",") : "<pending>";
    }
    case "ExternalName":
      return spec.externalName ?? "";
    default:
      return "<unknown>";
  }
}

function serviceStrategy(r: ResourceInfo): Strategy<Service> {
  return makeStrategy<Service>(r, {
    applyDefaults: defaultService,
    prepareForUpdate(svc, old) {
      // Upstream's service REST keeps what was allocated when an update leaves it out.
      const ns = svc.spec;
      const os = old.spec;
      if (!ns || !os || ns.type === "ExternalName") return;
      if (!ns.clusterIP && os.clusterIP) {
        ns.clusterIP = os.clusterIP;
        ns.clusterIPs = clone(os.clusterIPs ?? [os.clusterIP]);
      }
      if (ns.type === "NodePort" || ns.type === "LoadBalancer") {
        for (const p of ns.ports ?? []) {
          if (p.nodePort) continue;
          const prev = (os.ports ?? []).find(
            (o) => o.port === p.port && (o.protocol ?? "TCP") === (p.protocol ?? "TCP"),
          );
          if (prev?.nodePort) p.nodePort = prev.nodePort;
        }
      }
    },
    validate: validateService,
    validateUpdate(svc, old) {
      const errs = validateService(svc);
      const oldIP = old.spec?.clusterIP;
      const newIP = svc.spec?.clusterIP;
      const toOrFromExternalName = old.spec?.type === "ExternalName" || svc.spec?.type === "ExternalName";
      if (oldIP && !toOrFromExternalName && newIP !== oldIP) {
        errs.push(fieldInvalid("spec.clusterIPs[0]", newIP ?? "", "may not change once set"));
      }
      return errs;
    },
    selectableFields: (s) => ({ "spec.clusterIP": s.spec?.clusterIP ?? "", "spec.type": s.spec?.type ?? "" }),
    columns: [
      nameCol(),
      col("Type", "string", "type determines how the Service is exposed."),
      col("Cluster-IP", "string", "clusterIP is the IP address of the service and is usually assigned randomly."),
      col(
        "External-IP",
        "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
      ),
      col("Port(s)", "string", "The list of ports that are exposed by this service."),
      ageCol(),
      col("Selector", "string", "Route service traffic to pods with label keys and values matching this selector.", 1),
    ],
    row: (s, now) => [
      s.metadata.name ?? "",
      s.spec?.type ?? "",
      s.spec?.clusterIPs?.[0] ?? s.spec?.clusterIP ?? "<none>",
      serviceExternalIP(s),
      servicePorts(s),
      age(s, now),
      formatLabels(s.spec?.selector),
    ],
  });
}

// ---------------------------------------------------------------- Endpoints

/** The Endpoints cell: up to three "ip:port", then " + N more...". */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return "<none>";
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) more = true;
        else list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          continue;
        }
        list.push(a.ip.includes(":") ? `[${a.ip}]:${port.port}` : `${a.ip}:${port.port}`);
      }
    }
  }
  const s = list.join(",");
  return more ? `${s} + ${count - max} more...` : s;
}

function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs: FieldError[] = [];
  (ep.subsets ?? []).forEach((ss, i) => {
    const p = `subsets[${i}]`;
    for (const kind of ["addresses", "notReadyAddresses"] as const) {
      (ss[kind] ?? []).forEach((a, j) => {
        if (!a.ip) errs.push(fieldRequired(`${p}.${kind}[${j}].ip`));
      });
    }
    (ss.ports ?? []).forEach((port, j) => {
      errs.push(...validatePortNumber(port.port, `${p}.ports[${j}].port`));
      if ((ss.ports?.length ?? 0) > 1 && !port.name) errs.push(fieldRequired(`${p}.ports[${j}].name`));
      if (port.name)
        errs.push(...dns1123LabelErrors(port.name).map((m) => fieldInvalid(`${p}.ports[${j}].name`, port.name, m)));
      if (port.protocol !== undefined && !(PROTOCOLS as readonly string[]).includes(port.protocol)) {
        errs.push(fieldNotSupported(`${p}.ports[${j}].protocol`, port.protocol, PROTOCOLS));
      }
    });
  });
  return errs;
}

function endpointsStrategy(r: ResourceInfo): Strategy<Endpoints> {
  return makeStrategy<Endpoints>(
    r,
    {
      applyDefaults(ep) {
        for (const ss of ep.subsets ?? []) for (const p of ss.ports ?? []) p.protocol ??= "TCP";
      },
      validate: validateEndpoints,
      validateUpdate: validateEndpoints,
      columns: [
        nameCol(),
        col("Endpoints", "string", "The set of all endpoints is the union of all subsets."),
        ageCol(),
      ],
      row: (ep, now) => [ep.metadata.name ?? "", formatEndpoints(ep), age(ep, now)],
    },
    { hasStatus: false },
  );
}

// ---------------------------------------------------------------- ConfigMap, Secret

const CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+";
const CONFIG_KEY_ERROR = `a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '${CONFIG_KEY_FMT}')`;
const CONFIG_KEY_RE = new RegExp(`^${CONFIG_KEY_FMT}$`);
const MAX_DATA_BYTES = 1024 * 1024;

function configKeyErrors(key: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (key.length > 253) errs.push(fieldInvalid(path, key, "must be no more than 253 characters"));
  if (!CONFIG_KEY_RE.test(key)) errs.push(fieldInvalid(path, key, CONFIG_KEY_ERROR));
  if (key === "." || key === "..") errs.push(fieldInvalid(path, key, `must not be '${key}'`));
  else if (key.startsWith("..")) errs.push(fieldInvalid(path, key, "must not start with '..'"));
  return errs;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(cm.data ?? {})) {
    errs.push(...configKeyErrors(k, "data"));
    if (typeof v !== "string") errs.push(fieldInvalid(`data[${k}]`, v, "must be a string"));
    else size += Buffer.byteLength(v);
  }
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) {
    errs.push(...configKeyErrors(k, "binaryData"));
    if (cm.data && k in cm.data) errs.push(fieldInvalid("binaryData", k, "duplicate of key present in data"));
    if (typeof v !== "string" || !BASE64_RE.test(v))
      errs.push(fieldInvalid(`binaryData[${k}]`, "<binary>", "must be base64-encoded"));
    else size += Buffer.from(v, "base64").length;
  }
  if (size > MAX_DATA_BYTES) errs.push(fieldInvalid("", "", `must have at most ${MAX_DATA_BYTES} bytes`));
  return errs;
}

function immutableDataErrors(obj: ConfigMap | Secret, old: ConfigMap | Secret): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable === true) {
    if (obj.immutable !== true) errs.push(fieldForbidden("immutable", "field is immutable when `immutable` is set"));
    if (!deepEqual(obj.data, old.data)) errs.push(fieldForbidden("data", "field is immutable when `immutable` is set"));
    if (!deepEqual(obj.binaryData, old.binaryData)) {
      errs.push(fieldForbidden("binaryData", "field is immutable when `immutable` is set"));
    }
  }
  return errs;
}

function configMapStrategy(r: ResourceInfo): Strategy<ConfigMap> {
  return makeStrategy<ConfigMap>(
    r,
    {
      validate: validateConfigMap,
      validateUpdate: (cm, old) => [...validateConfigMap(cm), ...immutableDataErrors(cm, old)],
      columns: [nameCol(), col("Data", "string", "Data contains the configuration data."), ageCol()],
      row: (cm, now) => [
        cm.metadata.name ?? "",
        Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
        age(cm, now),
      ],
    },
    { hasStatus: false },
  );
}

/** stringData is write-only: merged into data (base64) and dropped, as upstream's conversion does. */
export function mergeStringData(s: Secret): void {
  if (!s.stringData || typeof s.stringData !== "object") return;
  s.data ??= {};
  for (const [k, v] of Object.entries(s.stringData)) s.data[k] = Buffer.from(String(v), "utf8").toString("base64");
  delete s.stringData;
}

function validateSecret(s: Secret): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(s.data ?? {})) {
    errs.push(...configKeyErrors(k, "data"));
    if (typeof v !== "string" || !BASE64_RE.test(v))
      errs.push(fieldInvalid(`data[${k}]`, "<secret contents redacted>", "must be base64-encoded"));
    else size += Buffer.from(v, "base64").length;
  }
  if (size > MAX_DATA_BYTES) errs.push(fieldTooLongData());
  const data = s.data ?? {};
  switch (s.type) {
    case "kubernetes.io/service-account-token":
      if (!s.metadata.annotations?.["kubernetes.io/service-account.name"]) {
        errs.push(fieldRequired("metadata.annotations[kubernetes.io/service-account.name]"));
      }
      break;
    case "kubernetes.io/dockerconfigjson":
      if (!data[".dockerconfigjson"]) errs.push(fieldRequired("data[.dockerconfigjson]"));
      break;
    case "kubernetes.io/dockercfg":
      if (!data[".dockercfg"]) errs.push(fieldRequired("data[.dockercfg]"));
      break;
    case "kubernetes.io/basic-auth":
      if (!data.username && !data.password) errs.push(fieldRequired("data[username]"));
      break;
    case "kubernetes.io/ssh-auth":
      if (!data["ssh-privatekey"]) errs.push(fieldRequired("data[ssh-privatekey]"));
      break;
    case "kubernetes.io/tls":
      if (!data["tls.key"]) errs.push(fieldRequired("data[tls.key]"));
      if (!data["tls.crt"]) errs.push(fieldRequired("data[tls.crt]"));
      break;
  }
  return errs;
}

function fieldTooLongData(): FieldError {
  return { field: "data", type: "FieldValueTooLong", message: `Too long: must have at most ${MAX_DATA_BYTES} bytes` };
}

function secretStrategy(r: ResourceInfo): Strategy<Secret> {
  return makeStrategy<Secret>(
    r,
    {
      applyDefaults(s) {
        s.type ||= "Opaque";
        mergeStringData(s);
      },
      validate: validateSecret,
      validateUpdate(s, old) {
        const errs = [...validateSecret(s), ...immutableDataErrors(s, old)];
        if ((old.type ?? "Opaque") !== (s.type ?? "Opaque")) errs.push(fieldImmutable("type", s.type ?? ""));
        return errs;
      },
      selectableFields: (s) => ({ type: s.type ?? "" }),
      columns: [
        nameCol(),
        col("Type", "string", "Used to facilitate programmatic handling of secret data."),
        col("Data", "string", "Data contains the secret data."),
        ageCol(),
      ],
      row: (s, now) => [s.metadata.name ?? "", s.type ?? "", Object.keys(s.data ?? {}).length, age(s, now)],
    },
    { hasStatus: false },
  );
}

// ---------------------------------------------------------------- Event

function eventTime(t: string | null | undefined, now: Date): string | undefined {
  return t ? formatAge(t, now) : undefined;
}

function validateEvent(ev: Event): FieldError[] {
  const errs: FieldError[] = [];
  if (!ev.involvedObject || typeof ev.involvedObject !== "object") return [fieldRequired("involvedObject")];
  const ns = ev.involvedObject.namespace;
  if (ns && ev.metadata.namespace && ns !== ev.metadata.namespace) {
    errs.push(fieldInvalid("involvedObject.namespace", ns, "does not match event.namespace"));
  }
  if (ev.type !== undefined && ev.type !== "" && !["Normal", "Warning"].includes(ev.type)) {
    errs.push(fieldNotSupported("type", ev.type, ["Normal", "Warning"]));
  }
  if ((ev.count ?? 0) < 0) errs.push(fieldInvalid("count", ev.count, "must be greater than or equal to 0"));
  return errs;
}

function eventStrategy(r: ResourceInfo): Strategy<Event> {
  return makeStrategy<Event>(
    r,
    {
      validate: validateEvent,
      validateUpdate: validateEvent,
      selectableFields(ev) {
        const io = ev.involvedObject ?? {};
        return {
          "involvedObject.kind": io.kind ?? "",
          "involvedObject.namespace": io.namespace ?? "",
          "involvedObject.name": io.name ?? "",
          "involvedObject.uid": io.uid ?? "",
          "involvedObject.apiVersion": io.apiVersion ?? "",
          "involvedObject.resourceVersion": io.resourceVersion ?? "",
          "involvedObject.fieldPath": io.fieldPath ?? "",
          reason: ev.reason ?? "",
          reportingComponent: ev.reportingComponent ?? "",
          source: ev.source?.component || ev.reportingComponent || "",
          type: ev.type ?? "",
        };
      },
      columns: [
        col("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
        col("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future"),
        col(
          "Reason",
          "string",
          "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
        ),
        col("Object", "string", "The object that this event is about"),
        col(
          "Subobject",
          "string",
          "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
          1,
        ),
        col(
          "Source",
          "string",
          "The component reporting this event. Should be a short machine understandable string.",
          1,
        ),
        col("Message", "string", "A human-readable description of the status of this operation."),
        col(
          "First Seen",
          "string",
          "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
          1,
        ),
        col("Count", "string", "The number of times this event has occurred.", 1),
        { ...nameCol(), priority: 1 },
      ],
      row(ev, now) {
        const first = eventTime(ev.firstTimestamp, now) ?? eventTime(ev.eventTime, now) ?? "<unknown>";
        let last = eventTime(ev.lastTimestamp, now) ?? first;
        let count = ev.count ?? 0;
        if (ev.series) {
          last = eventTime(ev.series.lastObservedTime, now) ?? last;
          count = ev.series.count ?? count;
        } else if (count === 0) count = 1;
        const io = ev.involvedObject ?? {};
        const kind = (io.kind ?? "").toLowerCase();
        const target = io.name ? `${kind}/${io.name}` : kind;
        const component = ev.source?.component || ev.reportingComponent || "";
        const instance = ev.source?.host || ev.reportingInstance || "";
        const source = instance ? `${component}, ${instance}` : component;
        const cells: Cell[] = [
          last,
          ev.type ?? "",
          ev.reason ?? "",
          target,
          io.fieldPath ?? "",
          source,
          (ev.message ?? "").trim(),
          first,
          count,
          ev.metadata.name ?? "",
        ];
        return cells;
      },
    },
    { hasStatus: false },
  );
}

// ---------------------------------------------------------------- ServiceAccount

function serviceAccountStrategy(r: ResourceInfo): Strategy<ServiceAccount> {
  return makeStrategy<ServiceAccount>(
    r,
    {
      columns: [
        nameCol(),
        col(
          "Secrets",
          "string",
          "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
        ),
        ageCol(),
      ],
      row: (sa, now) => [sa.metadata.name ?? "", (sa.secrets ?? []).length, age(sa, now)],
    },
    { hasStatus: false },
  );
}

// ---------------------------------------------------------------- Namespace

export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

function namespaceStrategy(r: ResourceInfo): Strategy<Namespace> {
  return makeStrategy<Namespace>(r, {
    applyDefaults(ns) {
      // Upstream labels every namespace with its own name (immutable, for namespace selectors).
      if (ns.metadata.name) {
        ns.metadata.labels ??= {};
        ns.metadata.labels[NAMESPACE_NAME_LABEL] = ns.metadata.name;
      }
    },
    prepareForCreate(ns) {
      ns.status = { phase: "Active" };
      ns.spec ??= {};
      if (!(ns.spec.finalizers ?? []).includes("kubernetes")) {
        ns.spec.finalizers = [...(ns.spec.finalizers ?? []), "kubernetes"];
      }
    },
    prepareForUpdate(ns, old) {
      // Finalizers change only through /finalize.
      ns.spec = clone(old.spec ?? {});
    },
    validateUpdate: (ns) => {
      const errs: FieldError[] = [];
      const phase = ns.status?.phase;
      if (phase !== undefined && !["Active", "Terminating"].includes(phase)) {
        errs.push(fieldNotSupported("status.phase", phase, ["Active", "Terminating"]));
      }
      (ns.spec?.finalizers ?? []).forEach((f, i) => {
        for (const m of qualifiedNameErrors(f)) errs.push(fieldInvalid(`spec.finalizers[${i}]`, f, m));
      });
      return errs;
    },
    selectableFields: (ns) => ({ "status.phase": ns.status?.phase ?? "" }),
    columns: [nameCol(), col("Status", "string", "The status of the namespace"), ageCol()],
    row: (ns, now) => [ns.metadata.name ?? "", ns.status?.phase ?? "", age(ns, now)],
  });
}

/** The namespaces/finalize endpoint: only spec.finalizers may change (upstream namespaceFinalizeStrategy). */
export function prepareNamespaceFinalize(ns: Namespace, old: Namespace): void {
  const finalizers = ns.spec?.finalizers;
  Object.assign(ns, { status: clone(old.status) });
  ns.spec = { ...clone(old.spec ?? {}), ...(finalizers ? { finalizers } : {}) };
  if (!finalizers) delete ns.spec.finalizers;
}

export const CORE_STRATEGIES: Record<string, (r: ResourceInfo) => Strategy> = {
  services: serviceStrategy as (r: ResourceInfo) => Strategy,
  endpoints: endpointsStrategy as (r: ResourceInfo) => Strategy,
  namespaces: namespaceStrategy as (r: ResourceInfo) => Strategy,
  nodes: nodeStrategy as (r: ResourceInfo) => Strategy,
  configmaps: configMapStrategy as (r: ResourceInfo) => Strategy,
  secrets: secretStrategy as (r: ResourceInfo) => Strategy,
  events: eventStrategy as (r: ResourceInfo) => Strategy,
  serviceaccounts: serviceAccountStrategy as (r: ResourceInfo) => Strategy,
};
