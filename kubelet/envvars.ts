// The environment of a container (upstream kubelet_pods.go makeEnvironmentVariables, and
// pkg/kubelet/envvars for the service variables): service links, envFrom, then env in order,
// with ConfigMap and Secret values read through the kubelet's sources (watched, never fetched
// per sync).

import type { ConfigMap, Container, EnvVar, Pod, Secret, Service } from "#pkg/api/types/index.js";
import { buildEnv } from "./spec.js";

export interface EnvSources {
  /** The Services of a namespace. */
  services(namespace: string): Service[] | Promise<Service[]>;
  /** undefined when the object does not exist. */
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
}

/** The "kubernetes" Service every pod gets variables for (upstream: the master service). */
const MASTER_SERVICE = { namespace: "default", name: "kubernetes" };

/**
 * serviceEnvFor: the pod's service variables: the master service, plus (enableServiceLinks,
 * the default) every Service of the pod's namespace.
 */
export async function serviceEnvFor(pod: Pod, sources: EnvSources): Promise<[string, string][]> {
  const ns = pod.metadata.namespace ?? "default";
  const isMaster = (s: Service) => ns === MASTER_SERVICE.namespace && s.metadata.name === MASTER_SERVICE.name;
  // The master service as it is: its cluster IP and port 443, which kube-proxy carries to the API
  // server (the Endpoints default/kubernetes), as upstream's kubelet gives every pod.
  const master = async (): Promise<Service[]> =>
    (await sources.services(MASTER_SERVICE.namespace)).filter((s) => s.metadata.name === MASTER_SERVICE.name);
  if (pod.spec?.enableServiceLinks === false) return serviceEnv(await master());
  const own = (await sources.services(ns)).filter((s) => !isMaster(s));
  return serviceEnv([...(await master()), ...own]);
}

function secretValue(s: Secret | undefined, key: string): string | undefined {
  const d = s?.data?.[key];
  if (d !== undefined) return Buffer.from(d, "base64").toString("utf8");
  return s?.stringData?.[key];
}

/** makeEnvironmentVariables: env and envFrom of container c; throws (CreateContainerConfigError) on a missing source. */
export async function makeEnvironmentVariables(
  pod: Pod,
  c: Container,
  o: { podIP: string; hostIP: string; sources: EnvSources },
): Promise<Map<string, string>> {
  const ns = pod.metadata.namespace ?? "default";
  const cms = new Map<string, ConfigMap | undefined>();
  const secrets = new Map<string, Secret | undefined>();
  const getCm = async (name: string) => {
    if (!cms.has(name)) cms.set(name, await o.sources.configMap(ns, name));
    return cms.get(name);
  };
  const getSecret = async (name: string) => {
    if (!secrets.has(name)) secrets.set(name, await o.sources.secret(ns, name));
    return secrets.get(name);
  };
  const from = await serviceEnvFor(pod, o.sources);
  for (const ef of c.envFrom ?? []) {
    const prefix = ef.prefix ?? "";
    if (ef.configMapRef?.name) {
      const cm = await getCm(ef.configMapRef.name);
      if (!cm && !ef.configMapRef.optional) throw new Error(`configmap "${ef.configMapRef.name}" not found`);
      for (const [k, v] of Object.entries(cm?.data ?? {})) from.push([prefix + k, v]);
    }
    if (ef.secretRef?.name) {
      const s = await getSecret(ef.secretRef.name);
      if (!s && !ef.secretRef.optional) throw new Error(`secret "${ef.secretRef.name}" not found`);
      for (const k of Object.keys(s?.data ?? {})) from.push([prefix + k, secretValue(s, k) ?? ""]);
    }
  }
  // Pre-resolve value sources that need the API, then run the pure builder.
  const resolved = new Map<EnvVar, string | undefined>();
  for (const e of c.env ?? []) {
    const cmRef = e.valueFrom?.configMapKeyRef;
    const sRef = e.valueFrom?.secretKeyRef;
    if (cmRef) {
      const v = (await getCm(cmRef.name ?? ""))?.data?.[cmRef.key];
      if (v === undefined && !cmRef.optional)
        throw new Error(`couldn't find key ${cmRef.key} in ConfigMap ${ns}/${cmRef.name}`);
      resolved.set(e, v);
    } else if (sRef) {
      const v = secretValue(await getSecret(sRef.name ?? ""), sRef.key);
      if (v === undefined && !sRef.optional)
        throw new Error(`couldn't find key ${sRef.key} in Secret ${ns}/${sRef.name}`);
      resolved.set(e, v);
    }
  }
  return buildEnv(pod, c, { podIP: o.podIP, hostIP: o.hostIP, lookup: (e) => resolved.get(e) }, from);
}

/**
 * serviceEnv: the docker-link style variables upstream gives every container for the services
 * of its namespace ({NAME}_SERVICE_HOST, {NAME}_SERVICE_PORT, {NAME}_PORT_{port}_{PROTO}, ...).
 */
export function serviceEnv(services: Service[]): [string, string][] {
  const out: [string, string][] = [];
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    const ports = svc.spec?.ports ?? [];
    if (!ip || ip === "None" || ports.length === 0) continue;
    const n = (svc.metadata.name ?? "").toUpperCase().replace(/-/g, "_");
    const first = ports[0];
    if (!first) continue;
    out.push([`${n}_SERVICE_HOST`, ip], [`${n}_SERVICE_PORT`, String(first.port)]);
    for (const p of ports)
      if (p.name) out.push([`${n}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, "_")}`, String(p.port)]);
    const proto = (first.protocol ?? "TCP").toLowerCase();
    out.push([`${n}_PORT`, `${proto}://${ip}:${first.port}`]);
    for (const p of ports) {
      const pr = (p.protocol ?? "TCP").toLowerCase();
      const prefix = `${n}_PORT_${p.port}_${pr.toUpperCase()}`;
      out.push(
        [prefix, `${pr}://${ip}:${p.port}`],
        [`${prefix}_PROTO`, pr],
        [`${prefix}_PORT`, String(p.port)],
        [`${prefix}_ADDR`, ip],
      );
    }
  }
  return out;
}
