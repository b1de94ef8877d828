// core/v1 Service (upstream pkg/registry/core/service/strategy.go, printers.go; the validation of
// pkg/apis/core/validation ValidateService and ValidateServiceUpdate; SetDefaults_Service).

import { isIP } from "node:net";
import {
  type FieldError,
  fieldForbidden,
  fieldInvalid,
  fieldNotSupported,
  fieldRequired,
  goSlice,
} from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Service, ServiceSpec } from "#pkg/api/types/core.js";
import {
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  fieldDuplicate,
  INVALID_IP_ERROR,
  nameIsDNS1035Label,
  PROTOCOLS,
  qualifiedNameErrors,
  validateIntOrStringPort,
  validateLabels,
  validateNonSpecialIP,
  validatePortNumber,
} from "#pkg/api/validation.js";
import { age, ageCol, clone, col, formatLabels, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";
import { externallyAccessible, needsClusterIP, needsHealthCheckNodePort, usesNodePorts } from "./helpers.js";

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"] as const;
const IP_FAMILIES = ["IPv4", "IPv6"] as const;
const IP_FAMILY_POLICIES = ["PreferDualStack", "RequireDualStack", "SingleStack"] as const;
const TRAFFIC_POLICIES = ["Cluster", "Local"] as const;
/** upstream core.MaxClientIPServiceAffinitySeconds. */
const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

/** upstream SetDefaults_Service (core/v1). */
export function defaultService(svc: Service): void {
  const spec = svc.spec;
  if (!spec || typeof spec !== "object") return;
  spec.sessionAffinity ||= "None";
  if (spec.sessionAffinity === "None") delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === "ClientIP" && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined)
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  spec.type ||= "ClusterIP";
  for (const p of spec.ports ?? []) {
    if (!p || typeof p !== "object") continue;
    p.protocol ||= "TCP";
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === "") p.targetPort = p.port;
  }
  if (externallyAccessible(spec) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = "Cluster";
  if (spec.internalTrafficPolicy === undefined && spec.type !== "ExternalName") spec.internalTrafficPolicy = "Cluster";
  if (spec.type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
}

const sameList = (a: readonly unknown[] | undefined, b: readonly unknown[] | undefined) =>
  JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

/**
 * upstream NormalizeClusterIPs: keeps clusterIP and clusterIPs in step when a client set only
 * one of them (an old client, a patch of clusterIP alone).
 */
export function normalizeClusterIPs(spec: ServiceSpec, oldSpec: ServiceSpec | undefined): void {
  if (!oldSpec) {
    if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  if (oldSpec.clusterIPs?.length && !spec.clusterIPs?.length && oldSpec.clusterIP === spec.clusterIP)
    spec.clusterIPs = clone(oldSpec.clusterIPs);
  if (oldSpec.clusterIP !== spec.clusterIP) {
    if (oldSpec.clusterIP && !spec.clusterIP) {
      if (sameList(oldSpec.clusterIPs, spec.clusterIPs)) delete spec.clusterIPs;
    } else if (sameList(oldSpec.clusterIPs, spec.clusterIPs) && spec.clusterIP) {
      spec.clusterIPs = [spec.clusterIP];
    }
  }
}

/** upstream patchAllocatedValues: an update that leaves allocated values out keeps them. */
export function patchAllocatedValues(spec: ServiceSpec, oldSpec: ServiceSpec): void {
  if (needsClusterIP(oldSpec) && needsClusterIP(spec)) {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (!spec.clusterIPs?.length && oldSpec.clusterIPs?.length) spec.clusterIPs = clone(oldSpec.clusterIPs);
  }
  if (usesNodePorts(oldSpec.type) && usesNodePorts(spec.type)) {
    const used = new Set((spec.ports ?? []).map((p) => p.nodePort ?? 0).filter((p) => p > 0));
    const inBoth = new Set((oldSpec.ports ?? []).map((p) => p.nodePort ?? 0).filter((p) => used.has(p)));
    const byName = new Map((oldSpec.ports ?? []).map((p) => [p.name ?? "", p.nodePort ?? 0]));
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      const old = byName.get(p.name ?? "");
      if (old && !inBoth.has(old)) p.nodePort = old;
    }
  }
  if (needsHealthCheckNodePort(oldSpec) && needsHealthCheckNodePort(spec) && !spec.healthCheckNodePort)
    spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
}

/**
 * upstream dropTypeDependentFields: on a type change, fields the new type does not use and the
 * user left as they were (so possibly allocated or defaulted for the old type) are wiped.
 */
export function dropTypeDependentFields(svc: Service, old: Service): void {
  const spec = svc.spec;
  const oldSpec = old.spec;
  if (!spec || !oldSpec) return;
  if (needsClusterIP(oldSpec) && !needsClusterIP(spec)) {
    if (oldSpec.clusterIP === spec.clusterIP && sameList(oldSpec.clusterIPs, spec.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameList(oldSpec.ipFamilies, spec.ipFamilies)) delete spec.ipFamilies;
    if (oldSpec.ipFamilyPolicy === spec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  if (usesNodePorts(oldSpec.type) && !usesNodePorts(spec.type)) {
    const nodePorts = (s: ServiceSpec) => (s.ports ?? []).map((p) => p.nodePort ?? 0);
    if (sameList(nodePorts(oldSpec), nodePorts(spec))) for (const p of spec.ports ?? []) delete p.nodePort;
  }
  if (needsHealthCheckNodePort(oldSpec) && !needsHealthCheckNodePort(spec)) {
    if (oldSpec.healthCheckNodePort === spec.healthCheckNodePort) delete spec.healthCheckNodePort;
  }
  if (oldSpec.type === "LoadBalancer" && spec.type !== "LoadBalancer") {
    if (
      spec.allocateLoadBalancerNodePorts !== undefined &&
      spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts
    )
      delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
  }
  if (externallyAccessible(oldSpec) && !externallyAccessible(spec)) {
    if (spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
  }
  // A load balancer's status means nothing once the service is not one.
  if (spec.type !== "LoadBalancer" && svc.status?.loadBalancer) svc.status.loadBalancer = {};
}

/** upstream ValidateServiceClusterIPsRelatedFields: clusterIP, clusterIPs, ipFamilies, ipFamilyPolicy agree. */
export function validateClusterIPsRelatedFields(spec: ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  const clusterIPs = spec.clusterIPs ?? [];
  if (spec.clusterIP) {
    if (clusterIPs.length === 0) errs.push(fieldRequired("spec.clusterIPs"));
    else if (clusterIPs[0] !== spec.clusterIP)
      errs.push(fieldInvalid("spec.clusterIPs", goSlice(clusterIPs), "first value must match `clusterIP`"));
  } else if (clusterIPs.length > 0) {
    errs.push(fieldInvalid("spec.clusterIPs", goSlice(clusterIPs), "must be empty when `clusterIP` is not specified"));
  }
  const seen = new Set<string>();
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (!(IP_FAMILIES as readonly string[]).includes(f))
      errs.push(fieldNotSupported(`spec.ipFamilies[${i}]`, f, IP_FAMILIES));
    if (seen.has(f)) errs.push(fieldDuplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  if (spec.ipFamilyPolicy !== undefined && !(IP_FAMILY_POLICIES as readonly string[]).includes(spec.ipFamilyPolicy))
    errs.push(fieldNotSupported("spec.ipFamilyPolicy", spec.ipFamilyPolicy, IP_FAMILY_POLICIES));
  let badIPs = false;
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === "None") {
      if (clusterIPs.length > 1) {
        badIPs = true;
        errs.push(fieldInvalid("spec.clusterIPs", goSlice(clusterIPs), "'None' must be the first and only value"));
      }
      return;
    }
    if (isIP(ip) === 0) {
      badIPs = true;
      errs.push(fieldInvalid(`spec.clusterIPs[${i}]`, ip, INVALID_IP_ERROR));
    }
  });
  if (clusterIPs.length > 2)
    errs.push(fieldInvalid("spec.clusterIPs", goSlice(clusterIPs), "may only hold up to 2 values"));
  if (badIPs) return errs;
  if (clusterIPs.length > 1 && isIP(clusterIPs[0] ?? "") === isIP(clusterIPs[1] ?? ""))
    errs.push(
      fieldInvalid("spec.clusterIPs", goSlice(clusterIPs), "may specify no more than one IP for each IP family"),
    );
  if (clusterIPs[0] !== "None") {
    clusterIPs.forEach((ip, i) => {
      const family = spec.ipFamilies?.[i];
      if (family === "IPv4" && isIP(ip) === 6)
        errs.push(
          fieldInvalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``),
        );
      if (family === "IPv6" && isIP(ip) === 4)
        errs.push(
          fieldInvalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``),
        );
    });
  }
  return errs;
}

/** upstream ValidateService (the spec part; metadata is the store's). */
export function validateService(svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec;
  if (!spec) return [fieldRequired("spec")];
  const type = spec.type ?? "";
  const headless = spec.clusterIPs?.[0] === "None" || spec.clusterIP === "None";
  const ports = spec.ports ?? [];
  if (ports.length === 0 && !headless && type !== "ExternalName") errs.push(fieldRequired("spec.ports"));
  switch (type) {
    case "LoadBalancer":
    case "NodePort":
      if (headless)
        errs.push(fieldInvalid("spec.clusterIPs[0]", "None", `may not be set to 'None' for ${type} services`));
      break;
    case "ExternalName": {
      if ((spec.clusterIPs ?? []).length > 0 || spec.clusterIP)
        errs.push(fieldForbidden("spec.clusterIPs", "may not be set for ExternalName services"));
      if ((spec.ipFamilies ?? []).length > 0)
        errs.push(fieldForbidden("spec.ipFamilies", "may not be set for ExternalName services"));
      if (spec.ipFamilyPolicy !== undefined)
        errs.push(fieldForbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"));
      // A CNAME may end in a dot, fully qualified.
      const cname = (spec.externalName ?? "").replace(/\.$/, "");
      if (!cname) errs.push(fieldRequired("spec.externalName"));
      else for (const m of dns1123SubdomainErrors(cname)) errs.push(fieldInvalid("spec.externalName", cname, m));
      break;
    }
  }
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const path = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) errs.push(fieldRequired(`${path}.name`));
    else if (p.name) {
      for (const m of dns1123LabelErrors(p.name)) errs.push(fieldInvalid(`${path}.name`, p.name, m));
      if (names.has(p.name)) errs.push(fieldDuplicate(`${path}.name`, p.name));
      names.add(p.name);
    }
    errs.push(...validatePortNumber(p.port, `${path}.port`));
    if (!p.protocol) errs.push(fieldRequired(`${path}.protocol`));
    else if (!(PROTOCOLS as readonly string[]).includes(p.protocol))
      errs.push(fieldNotSupported(`${path}.protocol`, p.protocol, PROTOCOLS));
    errs.push(...validateIntOrStringPort(p.targetPort, `${path}.targetPort`));
    if (p.appProtocol !== undefined)
      for (const m of qualifiedNameErrors(p.appProtocol))
        errs.push(fieldInvalid(`${path}.appProtocol`, p.appProtocol, m));
    if (p.nodePort !== undefined && p.nodePort !== 0) {
      if (type === "ClusterIP")
        errs.push(fieldForbidden(`${path}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
      else errs.push(...validatePortNumber(p.nodePort, `${path}.nodePort`));
    }
  });
  if (spec.selector !== undefined) errs.push(...validateLabels(spec.selector, "spec.selector"));
  if (!spec.sessionAffinity) errs.push(fieldRequired("spec.sessionAffinity"));
  else if (!["ClientIP", "None"].includes(spec.sessionAffinity))
    errs.push(fieldNotSupported("spec.sessionAffinity", spec.sessionAffinity, ["ClientIP", "None"]));
  if (spec.sessionAffinity === "ClientIP") {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (!spec.sessionAffinityConfig)
      errs.push(fieldRequired("spec.sessionAffinityConfig", "when session affinity type is ClientIP"));
    else if (!spec.sessionAffinityConfig.clientIP)
      errs.push(fieldRequired("spec.sessionAffinityConfig.clientIP", "when session affinity type is ClientIP"));
    else if (t === undefined || t <= 0 || t > MAX_CLIENT_IP_AFFINITY_SECONDS)
      errs.push(
        fieldInvalid(
          "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
          t ?? 0,
          `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`,
        ),
      );
  } else if (spec.sessionAffinity === "None" && spec.sessionAffinityConfig !== undefined) {
    errs.push(fieldForbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None"));
  }
  errs.push(...validateClusterIPsRelatedFields(spec));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    const path = `spec.externalIPs[${i}]`;
    if (isIP(ip) === 0) errs.push(fieldInvalid(path, ip, INVALID_IP_ERROR));
    else errs.push(...validateNonSpecialIP(ip, path));
  });
  if (!type) errs.push(fieldRequired("spec.type"));
  else if (!(SERVICE_TYPES as readonly string[]).includes(type))
    errs.push(fieldNotSupported("spec.type", type, SERVICE_TYPES));
  // Duplicate node ports and ports, by (protocol, number).
  const nodePorts = new Set<string>();
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    if (p.nodePort) {
      const key = `${p.protocol}/${p.nodePort}`;
      if (nodePorts.has(key)) errs.push(fieldDuplicate(`spec.ports[${i}].nodePort`, p.nodePort));
      nodePorts.add(key);
    }
    const key = `${p.protocol}/${p.port}`;
    if (portKeys.has(key)) errs.push(fieldDuplicate(`spec.ports[${i}]`, { port: p.port, protocol: p.protocol }));
    portKeys.add(key);
  });
  if ((spec.loadBalancerSourceRanges ?? []).length > 0 && type !== "LoadBalancer")
    errs.push(fieldForbidden("spec.loadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'"));
  // externalTrafficPolicy and healthCheckNodePort (upstream validateServiceExternalTrafficPolicy).
  if (!externallyAccessible(spec)) {
    if (spec.externalTrafficPolicy)
      errs.push(
        fieldInvalid(
          "spec.externalTrafficPolicy",
          spec.externalTrafficPolicy,
          "may only be set for externally-accessible services",
        ),
      );
  } else if (!spec.externalTrafficPolicy) errs.push(fieldRequired("spec.externalTrafficPolicy"));
  else if (!(TRAFFIC_POLICIES as readonly string[]).includes(spec.externalTrafficPolicy))
    errs.push(fieldNotSupported("spec.externalTrafficPolicy", spec.externalTrafficPolicy, TRAFFIC_POLICIES));
  if (spec.healthCheckNodePort) {
    if (!needsHealthCheckNodePort(spec))
      errs.push(
        fieldInvalid(
          "spec.healthCheckNodePort",
          spec.healthCheckNodePort,
          "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ),
      );
    else errs.push(...validatePortNumber(spec.healthCheckNodePort, "spec.healthCheckNodePort"));
  }
  if (spec.internalTrafficPolicy === undefined) {
    if (type !== "ExternalName") errs.push(fieldRequired("spec.internalTrafficPolicy"));
  } else if (!(TRAFFIC_POLICIES as readonly string[]).includes(spec.internalTrafficPolicy))
    errs.push(fieldNotSupported("spec.internalTrafficPolicy", spec.internalTrafficPolicy, TRAFFIC_POLICIES));
  return errs;
}

/** upstream validateUpgradeDowngradeClusterIPs and ...IPFamilies: allocated values stay. */
function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec ?? {};
  const oldSpec = old.spec ?? {};
  if (spec.type === "ExternalName" || oldSpec.type === "ExternalName") return errs;
  const headless = (s: ServiceSpec) => s.clusterIPs?.[0] === "None" || s.clusterIP === "None";
  const ips = spec.clusterIPs ?? [];
  const oldIPs = oldSpec.clusterIPs ?? [];
  if (!(headless(spec) && headless(oldSpec))) {
    if (ips.length === oldIPs.length) {
      oldIPs.forEach((ip, i) => {
        if (ip !== ips[i]) errs.push(fieldInvalid(`spec.clusterIPs[${i}]`, goSlice(ips), "may not change once set"));
      });
    } else if (ips.length < oldIPs.length) {
      if (ips.length === 0)
        errs.push(fieldInvalid("spec.clusterIPs[0]", goSlice(ips), "primary clusterIP can not be unset"));
      else if (ips[0] !== oldIPs[0])
        errs.push(fieldInvalid("spec.clusterIPs[0]", goSlice(ips), "may not change once set"));
      if (ips.length === 1 && spec.ipFamilyPolicy !== "SingleStack")
        errs.push(
          fieldInvalid(
            "spec.clusterIPs[0]",
            goSlice(ips),
            "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP",
          ),
        );
    } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
      errs.push(fieldInvalid("spec.clusterIPs[0]", goSlice(ips), "may not change once set"));
    }
  }
  if (headless(spec) === headless(oldSpec) && !headless(spec)) {
    const fams = spec.ipFamilies ?? [];
    const oldFams = oldSpec.ipFamilies ?? [];
    if (fams.length === oldFams.length && oldFams.some((f, i) => f !== fams[i]))
      errs.push(fieldInvalid("spec.ipFamilies[0]", goSlice(fams, "core.IPFamily"), "may not change once set"));
    else if (fams.length < oldFams.length && fams[0] !== oldFams[0])
      errs.push(fieldInvalid("spec.ipFamilies[0]", goSlice(fams, "core.IPFamily"), "may not change once set"));
  }
  return errs;
}

/** upstream ValidateLoadBalancerStatus. */
function validateServiceStatus(svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  (svc.status?.loadBalancer?.ingress ?? []).forEach((ing, i) => {
    const path = `status.loadBalancer.ingress[${i}]`;
    if (ing.ip && isIP(ing.ip) === 0) errs.push(fieldInvalid(`${path}.ip`, ing.ip, "must be a valid IP address"));
    if (ing.hostname) {
      for (const m of dns1123SubdomainErrors(ing.hostname))
        errs.push(fieldInvalid(`${path}.hostname`, ing.hostname, m));
      if (isIP(ing.hostname) !== 0)
        errs.push(fieldInvalid(`${path}.hostname`, ing.hostname, "must be a DNS name, not an IP address"));
    }
  });
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
    returnDeletedObject: true,
    nameValidator: nameIsDNS1035Label,
    applyDefaults: defaultService,
    prepareForCreate(svc) {
      if (svc.spec) normalizeClusterIPs(svc.spec, undefined);
    },
    prepareForUpdate(svc, old) {
      if (!svc.spec || !old.spec) return;
      patchAllocatedValues(svc.spec, old.spec);
      normalizeClusterIPs(svc.spec, old.spec);
      dropTypeDependentFields(svc, old);
    },
    validate: validateService,
    validateUpdate: (svc, old) => [
      ...validateServiceUpdate(svc, old),
      ...validateService(svc),
      ...validateServiceStatus(svc),
    ],
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
