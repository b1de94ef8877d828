// describe configmap / secret / service / namespace, after kubectl's describers.

import type { ConfigMap, Endpoints, Namespace, Secret, Service } from "#pkg/api/types/index.js";
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

export function describeService(w: PrefixWriter, svc: Service, endpoints: Endpoints | undefined): void {
  header(w, svc.metadata);
  const spec = svc.spec;
  const sel = Object.entries(spec?.selector ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  w.write(0, `Selector:\t${sel || "<none>"}\n`);
  w.write(0, `Type:\t${spec?.type ?? "ClusterIP"}\n`);
  if (spec?.ipFamilyPolicy) w.write(0, `IP Family Policy:\t${spec.ipFamilyPolicy}\n`);
  if (spec?.ipFamilies?.length) w.write(0, `IP Families:\t${spec.ipFamilies.join(",")}\n`);
  w.write(0, `IP:\t${spec?.clusterIP ?? ""}\n`);
  w.write(0, `IPs:\t${(spec?.clusterIPs ?? (spec?.clusterIP ? [spec.clusterIP] : [])).join(",") || "<none>"}\n`);
  for (const p of spec?.ports ?? []) {
    const proto = p.protocol ?? "TCP";
    w.write(0, `Port:\t${p.name || "<unset>"}\t${p.port}/${proto}\n`);
    w.write(0, `TargetPort:\t${String(p.targetPort ?? p.port)}/${proto}\n`);
    if (p.nodePort) w.write(0, `NodePort:\t${p.name || "<unset>"}\t${p.nodePort}/${proto}\n`);
    const eps: string[] = [];
    for (const ss of endpoints?.subsets ?? []) {
      const port = ss.ports?.find((ep) => (ep.name ?? "") === (p.name ?? "")) ?? ss.ports?.[0];
      if (!port) continue;
      for (const a of ss.addresses ?? []) eps.push(`${a.ip}:${port.port}`);
    }
    w.write(0, `Endpoints:\t${eps.join(",") || "<none>"}\n`);
  }
  w.write(0, `Session Affinity:\t${spec?.sessionAffinity ?? "None"}\n`);
}

export function describeNamespace(w: PrefixWriter, ns: Namespace): void {
  header(w, { ...ns.metadata, namespace: undefined } as Namespace["metadata"]);
  w.write(0, `Status:\t${ns.status?.phase ?? "Active"}\n`);
  w.write(0, "\nNo resource quota.\n\nNo LimitRange resource.\n");
}
