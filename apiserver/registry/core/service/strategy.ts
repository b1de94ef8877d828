// core/v1 Service (upstream pkg/registry/core/service/strategy.go, printers.go).

import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Service } from "#pkg/api/types/core.js";
import {
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  fieldDuplicate,
  nameIsDNS1035Label,
  PROTOCOLS,
  validateIntOrStringPort,
  validateLabels,
  validatePortNumber,
} from "#pkg/api/validation.js";
import { age, ageCol, clone, col, formatLabels, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";

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

export function serviceStrategy(r: ResourceInfo): Strategy<Service> {
  return makeStrategy<Service>(r, {
    nameValidator: nameIsDNS1035Label,
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
