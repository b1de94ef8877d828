// Pure helpers that turn a Pod spec into runtime settings: container hash, image pull policy,
// environment (downward API, $(VAR) expansion), resource limits and DNS.
// Kept free of I/O so they are unit-tested beside this file.

import { createHash } from "node:crypto";
import { defaultImagePullPolicy, PULL_POLICIES, type PullPolicy } from "#pkg/api/defaults.js";
import { bytes, cpuMillis } from "#pkg/api/quantity.js";
import type { Container, EnvVar, Pod } from "#pkg/api/types/index.js";

/** hashContainer hashes the fields the runtime container is created from; a change means "recreate". */
export function hashContainer(c: Container): string {
  const relevant = {
    name: c.name,
    image: c.image,
    command: c.command,
    args: c.args,
    env: c.env,
    envFrom: c.envFrom,
    workingDir: c.workingDir,
    ports: c.ports,
    limits: c.resources?.limits,
    tty: c.tty,
    stdin: c.stdin,
  };
  return createHash("sha256").update(stableJson(relevant)).digest("hex").slice(0, 8);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** pullPolicy: the container's policy, else upstream's default (Always for :latest or no tag). */
export function pullPolicy(c: Container): PullPolicy {
  const p = c.imagePullPolicy;
  return PULL_POLICIES.find((x) => x === p) ?? defaultImagePullPolicy(c.image);
}

/** limits maps resources.limits to Docker's NanoCpus and Memory (bytes); undefined when unlimited. */
export function limits(c: Container): { nanoCpus?: number; memoryBytes?: number } {
  const l = c.resources?.limits ?? {};
  const out: { nanoCpus?: number; memoryBytes?: number } = {};
  const cpu = l.cpu;
  if (cpu !== undefined) out.nanoCpus = Math.round(cpuMillis(cpu) * 1_000_000);
  const mem = l.memory;
  if (mem !== undefined) out.memoryBytes = Math.round(bytes(mem));
  return out;
}

export interface EnvContext {
  podIP?: string;
  hostIP?: string;
  /** Values of configMapKeyRef / secretKeyRef / envFrom, resolved by the caller. */
  lookup?: (v: EnvVar) => string | undefined;
}

/** fieldRefValue resolves a downward-API fieldPath; throws on an unsupported path. */
export function fieldRefValue(pod: Pod, path: string, ctx: EnvContext): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) {
    const map = m[1] === "labels" ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[m[2] ?? ""] ?? "";
  }
  switch (path) {
    case "metadata.name":
      return pod.metadata.name ?? "";
    case "metadata.namespace":
      return pod.metadata.namespace ?? "";
    case "metadata.uid":
      return pod.metadata.uid ?? "";
    case "metadata.labels":
      return formatMap(pod.metadata.labels);
    case "metadata.annotations":
      return formatMap(pod.metadata.annotations);
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
    case "status.podIPs":
      return ctx.podIP ?? "";
    case "status.hostIP":
    case "status.hostIPs":
      return ctx.hostIP ?? "";
    default:
      throw new Error(`unsupported fieldRef fieldPath "${path}"`);
  }
}

function formatMap(m: Record<string, string> | undefined): string {
  return Object.entries(m ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n");
}

/**
 * expandVars does Kubernetes' $(VAR) expansion: a defined variable is replaced, an undefined
 * reference is left as written, and $$ escapes a $.
 */
export function expandVars(s: string, vars: Map<string, string>): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch !== "$" || i + 1 >= s.length) {
      out += ch;
      continue;
    }
    const next = s[i + 1];
    if (next === "$") {
      out += "$";
      i++;
      continue;
    }
    if (next === "(") {
      const end = s.indexOf(")", i + 2);
      if (end > 0) {
        const name = s.slice(i + 2, end);
        const v = vars.get(name);
        out += v !== undefined ? v : s.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

/** buildEnv resolves a container's env list, in order, with expansion against earlier entries. */
export function buildEnv(
  pod: Pod,
  c: Container,
  ctx: EnvContext,
  fromSources: [string, string][] = [],
): Map<string, string> {
  const vars = new Map<string, string>(fromSources);
  for (const e of c.env ?? []) {
    let v: string | undefined;
    if (e.value !== undefined) v = expandVars(e.value, vars);
    else if (e.valueFrom?.fieldRef) v = fieldRefValue(pod, e.valueFrom.fieldRef.fieldPath, ctx);
    else if (e.valueFrom?.resourceFieldRef)
      v = resourceFieldValue(c, e.valueFrom.resourceFieldRef.resource, e.valueFrom.resourceFieldRef.divisor);
    else if (e.valueFrom) v = ctx.lookup?.(e);
    else v = "";
    if (v !== undefined) vars.set(e.name, v);
  }
  return vars;
}

function resourceFieldValue(c: Container, resource: string, divisor: string | number | undefined): string {
  const [kind, name] = resource.split(".");
  const src = kind === "limits" ? c.resources?.limits : c.resources?.requests;
  const q = src?.[name ?? ""];
  if (q === undefined) return "0";
  if (name === "cpu") {
    const div = divisor !== undefined ? cpuMillis(divisor) : 1000;
    return String(Math.ceil(cpuMillis(q) / div));
  }
  const div = divisor !== undefined ? bytes(divisor) : 1;
  return String(Math.ceil(bytes(q) / div));
}

export interface DNSOptions {
  /** --cluster-dns: the cluster DNS service IPs; empty means "no cluster DNS". */
  clusterDNS: string[];
  /** --cluster-domain, e.g. cluster.local. */
  clusterDomain: string;
}

/**
 * podDNS: the pod's resolv.conf per dnsPolicy and dnsConfig (upstream pkg/kubelet/network/dns).
 * undefined means Docker's default (the host's resolvers).
 */
export function podDNS(
  pod: Pod,
  o: DNSOptions,
): { servers: string[]; searches: string[]; options: string[] } | undefined {
  const policy = pod.spec?.dnsPolicy ?? "ClusterFirst";
  const cfg = pod.spec?.dnsConfig;
  let servers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  const clusterFirst = policy === "ClusterFirst" || policy === "ClusterFirstWithHostNet";
  if (clusterFirst && o.clusterDNS.length > 0) {
    const ns = pod.metadata.namespace ?? "default";
    const d = o.clusterDomain;
    servers = [...o.clusterDNS];
    searches = [`${ns}.svc.${d}`, `svc.${d}`, d];
    options = ["ndots:5"];
  } else if (policy !== "None" && !cfg) {
    // Default, or ClusterFirst without a cluster DNS: the host's resolv.conf (upstream falls back the same way).
    return undefined;
  }
  if (cfg) {
    servers = [...new Set([...servers, ...(cfg.nameservers ?? [])])];
    searches = [...new Set([...searches, ...(cfg.searches ?? [])])];
    const byName = new Map(options.map((x) => [x.split(":")[0] ?? x, x]));
    for (const opt of cfg.options ?? []) {
      if (!opt.name) continue;
      byName.set(opt.name, opt.value !== undefined ? `${opt.name}:${opt.value}` : opt.name);
    }
    options = [...byName.values()];
  }
  return { servers, searches: searches.slice(0, 32), options };
}
