// kubeling run / expose / cluster-info, as kubectl builds their objects and prints them.

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
  protocol: string;
  dryRun?: string | boolean;
}

/** kubeling expose TYPE NAME --port=P: a Service selecting the workload's pods. */
export async function runExpose(ctx: CliContext, args: string[], o: ExposeOptions): Promise<number> {
  const reqs = parseTypeArgs(args);
  const req = reqs[0];
  const name = req?.names[0];
  if (!req || name === undefined) throw new CliError("error: expose requires a resource, as TYPE NAME or TYPE/NAME");
  const obj = await ctx.client.get(req.r, ctx.namespace, name);
  const spec = (obj.spec ?? {}) as {
    selector?: { matchLabels?: Record<string, string> } | Record<string, string>;
    template?: { spec?: { containers?: Array<{ ports?: Array<{ containerPort: number }> }> } };
    containers?: Array<{ ports?: Array<{ containerPort: number }> }>;
  };
  let selector: Record<string, string> | undefined;
  if (req.r.resource === "pods") selector = obj.metadata.labels;
  else if (req.r.resource === "services") selector = spec.selector as Record<string, string> | undefined;
  else {
    const sel = spec.selector as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined;
    if (sel?.matchExpressions?.length) {
      throw new CliError(
        `error: couldn't convert expressions - "${JSON.stringify(sel.matchExpressions)}" to map-based selector format`,
      );
    }
    selector = sel?.matchLabels;
  }
  if (!selector || Object.keys(selector).length === 0) {
    throw new CliError(
      `error: couldn't retrieve selectors via --selector flag or introspection: the ${req.r.kind} has no selector`,
    );
  }
  const containers = req.r.resource === "pods" ? spec.containers : spec.template?.spec?.containers;
  const firstPort = containers?.flatMap((c) => c.ports ?? [])[0]?.containerPort;
  const port = o.port ? Number(o.port) : firstPort;
  if (!port) throw new CliError("error: couldn't find port via --port flag or introspection");
  const targetPort = o.targetPort ? (/^\d+$/.test(o.targetPort) ? Number(o.targetPort) : o.targetPort) : port;
  const svcName = o.name ?? name;
  const svc: Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: svcName, ...(obj.metadata.labels ? { labels: obj.metadata.labels } : {}) },
    spec: {
      ports: [{ port, protocol: o.protocol, targetPort }],
      selector,
      ...(o.type ? { type: o.type } : {}),
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
