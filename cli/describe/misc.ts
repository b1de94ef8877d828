// describe configmap / secret / service / namespace, after kubectl's describers.

import type { ConfigMap, EndpointSlice, Endpoints, Namespace, Secret, Service } from "#pkg/api/types/index.js";
import { annotationsMultiline, labelsMultiline, type PrefixWriter } from "./writer.js";

function header(
  w: PrefixWriter,
  m: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> },
): void {
  w.write(0, `Name:\t${m.name ?? ""}\n`);
  if (m.namespace !== undefined) w.write(0, `Namespace:\t${m.namespace}\n`);
  labelsMultiline(w, 0, "Labels", m.labels);
  annotationsMultiline(w, 0, "Annotations", m.annotations);
}

export function describeConfigMap(w: PrefixWriter, cm: ConfigMap): void {
  header(w, cm.metadata);
  w.write(0, "\nData\n====\n");
  for (const k of Object.keys(cm.data ?? {}).sort()) {
    w.write(0, `${k}:\n----\n${cm.data?.[k] ?? ""}\n\n`);
  }
  w.write(0, "\nBinaryData\n====\n");
  for (const k of Object.keys(cm.binaryData ?? {}).sort()) {
    w.write(0, `${k}: ${Buffer.from(cm.binaryData?.[k] ?? "", "base64").length} bytes\n`);
  }
  w.write(0, "\n");
}

export function describeSecret(w: PrefixWriter, s: Secret): void {
  header(w, s.metadata);
  w.write(0, `\nType:\t${s.type ?? "Opaque"}\n`);
  w.write(0, "\nData\n====\n");
  for (const k of Object.keys(s.data ?? {}).sort()) {
    w.write(0, `${k}:\t${Buffer.from(s.data?.[k] ?? "", "base64").length} bytes\n`);
  }
}

/**
 * kubectl's formatEndpointSlices for one service port (name): up to three "ip:port" (ip alone
 * for a port-less headless slice), then " + N more..."; "<none>" without slices. As kubectl
 * 1.33 (since 1.32.x), only ready endpoints are listed (ready unset counts as ready); as its
 * loop, reaching the third entry marks "more" before the next endpoint's readiness is looked at.
 */
export function formatEndpointSlices(slices: readonly EndpointSlice[], portName: string | undefined): string {
  if (slices.length === 0) return "<none>";
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  const add = (ready: boolean | undefined, entry: () => string) => {
    if (list.length === max) more = true;
    if (ready === false) return;
    if (!more) list.push(entry());
    count++;
  };
  for (const s of slices) {
    const eps = (s.endpoints ?? []).filter((e) => e.addresses?.length);
    if (!s.ports?.length) {
      for (const e of eps) add(e.conditions?.ready, () => e.addresses[0] as string);
      continue;
    }
    for (const port of s.ports)
      if (portName === undefined || (port.name ?? "") === portName)
        for (const e of eps) {
          const ip = e.addresses[0] as string;
          add(e.conditions?.ready, () => `${ip.includes(":") ? `[${ip}]` : ip}:${port.port}`);
        }
  }
  const ret = list.join(",");
  return more ? `${ret} + ${count - max} more...` : ret;
}

/** The same from Endpoints (kubectl's fallback where EndpointSlices are not served). */
function endpointsAsSlices(ep: Endpoints | undefined): EndpointSlice[] {
  return (ep?.subsets ?? []).map((ss) => ({
    addressType: "IPv4",
    endpoints: (ss.addresses ?? []).map((a) => ({ addresses: [a.ip], conditions: { ready: true } })),
    ports: (ss.ports ?? []).map((p) => ({ name: p.name ?? "", port: p.port, protocol: p.protocol ?? "TCP" })),
  })) as EndpointSlice[];
}

/** kubectl describe service (describeService), the endpoints from the Service's EndpointSlices. */
export function describeService(
  w: PrefixWriter,
  svc: Service,
  endpoints: { slices: readonly EndpointSlice[] } | { endpoints: Endpoints | undefined },
): void {
  header(w, svc.metadata);
  const spec = svc.spec ?? {};
  const slices = "slices" in endpoints ? endpoints.slices : endpointsAsSlices(endpoints.endpoints);
  const sel = Object.entries(spec.selector ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  w.write(0, `Selector:\t${sel}\n`);
  w.write(0, `Type:\t${spec.type ?? ""}\n`);
  if (spec.ipFamilyPolicy) w.write(0, `IP Family Policy:\t${spec.ipFamilyPolicy}\n`);
  w.write(0, `IP Families:\t${spec.ipFamilies?.length ? spec.ipFamilies.join(",") : "<none>"}\n`);
  w.write(0, `IP:\t${spec.clusterIP ?? ""}\n`);
  w.write(0, `IPs:\t${spec.clusterIPs?.length ? spec.clusterIPs.join(",") : "<none>"}\n`);
  if (spec.externalIPs?.length) w.write(0, `External IPs:\t${spec.externalIPs.join(",")}\n`);
  if (spec.loadBalancerIP) w.write(0, `IP:\t${spec.loadBalancerIP}\n`);
  if (spec.externalName) w.write(0, `External Name:\t${spec.externalName}\n`);
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (ingress.length > 0)
    w.write(
      0,
      `LoadBalancer Ingress:\t${ingress.map((i) => `${i.ip || i.hostname || ""}${i.ipMode ? ` (${i.ipMode})` : ""}`).join(", ")}\n`,
    );
  for (const p of spec.ports ?? []) {
    const name = p.name || "<unset>";
    const proto = p.protocol ?? "TCP";
    w.write(0, `Port:\t${name}\t${p.port}/${proto}\n`);
    w.write(0, `TargetPort:\t${String(p.targetPort ?? p.port)}/${proto}\n`);
    if (p.nodePort) w.write(0, `NodePort:\t${name}\t${p.nodePort}/${proto}\n`);
    w.write(0, `Endpoints:\t${formatEndpointSlices(slices, p.name ?? "")}\n`);
  }
  w.write(0, `Session Affinity:\t${spec.sessionAffinity ?? ""}\n`);
  if (spec.externalTrafficPolicy) w.write(0, `External Traffic Policy:\t${spec.externalTrafficPolicy}\n`);
  if (spec.internalTrafficPolicy) w.write(0, `Internal Traffic Policy:\t${spec.internalTrafficPolicy}\n`);
  if (spec.healthCheckNodePort) w.write(0, `HealthCheck NodePort:\t${spec.healthCheckNodePort}\n`);
  if (spec.loadBalancerSourceRanges?.length)
    w.write(0, `LoadBalancer Source Ranges:\t${spec.loadBalancerSourceRanges.join(",")}\n`);
}

export function describeNamespace(w: PrefixWriter, ns: Namespace): void {
  header(w, { ...ns.metadata, namespace: undefined } as Namespace["metadata"]);
  w.write(0, `Status:\t${ns.status?.phase ?? "Active"}\n`);
  w.write(0, "\nNo resource quota.\n\nNo LimitRange resource.\n");
}
