// kubeling run / expose / cluster-info, as kubectl builds their objects and prints them.

import type { KubeObject } from "#pkg/api/meta.js";
import { PODS, SERVICES } from "#pkg/api/resources.js";
import type { Service } from "#pkg/api/types/index.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { parseTypeArgs } from "../resources.js";
import { createAndReport, parseDryRun } from "./dryrun.js";

function parseLabels(s: string | undefined, fallback: Record<string, string>): Record<string, string> {
  if (!s) return fallback;
  const out: Record<string, string> = {};
  for (const kv of s.split(",")) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new CliError(`error: invalid label spec: ${kv}`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

export interface RunOptions {
  image?: string;
  restart: string;
  port?: string;
  env: string[];
  labels?: string;
  command?: boolean;
  dryRun?: string | boolean;
}

/** kubeling run NAME --image=I [--restart=Never] [--port=P] [--env=K=V] [-- ARGS...]: one Pod. */
export async function runRun(ctx: CliContext, name: string, rest: string[], o: RunOptions): Promise<number> {
  if (!o.image) throw new CliError('error: required flag(s) "image" not set');
  const restart = o.restart;
  if (!["Always", "OnFailure", "Never"].includes(restart)) {
    throw new CliError(`error: invalid restart policy: ${restart}`);
  }
  const container: Record<string, unknown> = { name, image: o.image };
  if (rest.length > 0) container[o.command ? "command" : "args"] = rest;
  if (o.port) container.ports = [{ containerPort: Number(o.port) }];
  if (o.env.length > 0) {
    container.env = o.env.map((kv) => {
      const eq = kv.indexOf("=");
      return eq < 0 ? { name: kv } : { name: kv.slice(0, eq), value: kv.slice(eq + 1) };
    });
  }
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: parseLabels(o.labels, { run: name }) },
    spec: { containers: [container], restartPolicy: restart },
  };
  await createAndReport(ctx, PODS, ctx.namespace, pod, {
    fieldManager: "kubectl-run",
    dryRun: parseDryRun(o.dryRun),
  });
  return 0;
}

export interface ExposeOptions {
  port?: string;
  targetPort?: string;
  type?: string;
  name?: string;
  /** kubectl's default is none: each port's protocol comes from the object, else TCP. */
  protocol?: string;
  selector?: string;
  labels?: string;
  clusterIp?: string;
  externalIp?: string;
  sessionAffinity?: string;
  loadBalancerIp?: string;
  dryRun?: string | boolean;
}

interface PortLike {
  containerPort?: number;
  port?: number;
  protocol?: string;
}

/** kubectl's CanBeExposed: the kinds `expose` takes. */
const EXPOSABLE = new Set(["pods", "services", "replicationcontrollers", "deployments", "replicasets"]);

/** kubectl's MapBasedSelectorForObject: the object's selector as an equality map. */
function selectorForObject(resource: string, kind: string, obj: KubeObject): Record<string, string> {
  const spec = (obj as { spec?: Record<string, unknown> }).spec ?? {};
  if (resource === "pods") {
    const labels = obj.metadata.labels ?? {};
    if (Object.keys(labels).length === 0) throw new CliError(`error: the pod has no labels and cannot be exposed`);
    return labels;
  }
  if (resource === "services" || resource === "replicationcontrollers") {
    const sel = (spec.selector ?? {}) as Record<string, string>;
    if (Object.keys(sel).length === 0)
      throw new CliError(
        `error: the ${resource === "services" ? "service" : "replication controller"} has no pod selector set`,
      );
    return sel;
  }
  const sel = spec.selector as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined;
  if (sel?.matchExpressions?.length)
    throw new CliError(
      `error: couldn't convert expressions - "${JSON.stringify(sel.matchExpressions)}" to map-based selector format`,
    );
  const labels = sel?.matchLabels ?? {};
  if (Object.keys(labels).length === 0)
    throw new CliError(
      `error: couldn't retrieve selectors via --selector flag or introspection: the ${kind} has no selector`,
    );
  return labels;
}

/** kubectl's PortsForObject and ProtocolsForObject: the object's ports, in order, with their protocols. */
function portsForObject(resource: string, obj: KubeObject): PortLike[] {
  const spec = (obj as { spec?: Record<string, unknown> }).spec ?? {};
  if (resource === "services")
    return ((spec.ports ?? []) as PortLike[]).map((p) => ({ port: p.port, protocol: p.protocol }));
  const podSpec =
    (resource === "pods" ? spec : (spec.template as { spec?: Record<string, unknown> } | undefined)?.spec) ?? {};
  const containers = (podSpec.containers ?? []) as Array<{ ports?: PortLike[] }>;
  return containers.flatMap((c) => c.ports ?? []).map((p) => ({ port: p.containerPort, protocol: p.protocol }));
}

/**
 * kubeling expose TYPE NAME: a Service selecting the pods of a pod, service, replication
 * controller, deployment or replica set (kubectl expose): the object's selector (or --selector),
 * its labels (or --labels), --port or else every port the object names (several are named
 * port-1, port-2, ...), each port's protocol from the object unless --protocol, --target-port
 * for every port or else the port itself, and --type, --cluster-ip, --external-ip,
 * --session-affinity, --load-balancer-ip; the Service is named after the object unless --name.
 */
export async function runExpose(ctx: CliContext, args: string[], o: ExposeOptions): Promise<number> {
  const reqs = parseTypeArgs(args);
  const req = reqs[0];
  const name = req?.names[0];
  if (!req || name === undefined) throw new CliError("error: expose requires a resource, as TYPE NAME or TYPE/NAME");
  if (!EXPOSABLE.has(req.r.resource)) throw new CliError(`error: cannot expose a ${req.r.kind}`);
  const obj = await ctx.client.get(req.r, ctx.namespace, name);
  const selector = o.selector ? parseLabels(o.selector, {}) : selectorForObject(req.r.resource, req.r.kind, obj);
  const headless = o.clusterIp === "None";
  const known = portsForObject(req.r.resource, obj).filter((p) => p.port);
  const ports = o.port ? o.port.split(",").map((p) => p.trim()) : known.map((p) => String(p.port));
  if (ports.length === 0 && !headless) throw new CliError("error: couldn't find port via --port flag or introspection");
  const protocols = new Map<string, string>();
  for (const p of known) if (!protocols.has(String(p.port))) protocols.set(String(p.port), p.protocol ?? "TCP");
  const servicePorts = ports.map((p, i) => {
    if (!/^\d+$/.test(p)) throw new CliError(`error: strconv.Atoi: parsing ${JSON.stringify(p)}: invalid syntax`);
    const port = Number(p);
    const targetPort = o.targetPort ? (/^\d+$/.test(o.targetPort) ? Number(o.targetPort) : o.targetPort) : port;
    return {
      ...(ports.length > 1 ? { name: `port-${i + 1}` } : {}),
      port,
      protocol: o.protocol || protocols.get(p) || "TCP",
      targetPort,
    };
  });
  const labels = o.labels ? parseLabels(o.labels, {}) : obj.metadata.labels;
  const svc: Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: o.name ?? name, ...(labels && Object.keys(labels).length ? { labels } : {}) },
    spec: {
      ports: servicePorts,
      selector,
      ...(o.type ? { type: o.type } : {}),
      ...(o.clusterIp ? { clusterIP: o.clusterIp } : {}),
      ...(o.externalIp ? { externalIPs: o.externalIp.split(",") } : {}),
      ...(o.sessionAffinity ? { sessionAffinity: o.sessionAffinity } : {}),
      ...(o.loadBalancerIp ? { loadBalancerIP: o.loadBalancerIp } : {}),
    },
  };
  await createAndReport(ctx, SERVICES, ctx.namespace, svc, {
    fieldManager: "kubectl-expose",
    dryRun: parseDryRun(o.dryRun),
    verb: "exposed",
  });
  return 0;
}

/** kubeling cluster-info: the control plane URL and kube-system services marked cluster-service. */
export async function runClusterInfo(ctx: CliContext): Promise<number> {
  const server = ctx.config.server;
  ctx.print(`Kubernetes control plane is running at ${server}\n`);
  const list = await ctx.client.list(SERVICES, "kube-system", {
    labelSelector: "kubernetes.io/cluster-service=true",
  });
  for (const svc of list.items) {
    const name = svc.metadata.labels?.["kubernetes.io/name"] ?? svc.metadata.name ?? "";
    const port = svc.spec?.ports?.[0];
    const portPart = port?.name ? `:${port.name}` : "";
    ctx.print(
      `${name} is running at ${server}/api/v1/namespaces/kube-system/services/${svc.metadata.name}${portPart}/proxy\n`,
    );
  }
  ctx.print("\nTo further debug and diagnose cluster problems, use 'kubeling cluster-info dump'.\n");
  return 0;
}
