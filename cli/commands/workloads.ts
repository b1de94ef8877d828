// The everyday imperative commands around Deployments, with kubectl's requests and output:
// create deployment|namespace, scale, rollout status|restart, label.

import { parse as parseYaml } from "yaml";
import { DEPLOYMENTS, NAMESPACES, REPLICASETS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Deployment, PodTemplateSpec, ReplicaSet } from "#pkg/api/types/index.js";
import { parseDuration } from "#pkg/runtime/duration.js";
import type { CliContext } from "../context.js";
import { describePodTemplate } from "../describe/pod.js";
import { formatSelector } from "../describe/workloads.js";
import { PrefixWriter } from "../describe/writer.js";
import { CliError } from "../errors.js";
import { kindPrefix, parseTypeArgs, type TypeRequest } from "../resources.js";
import { GET_TABWRITER, TabWriter } from "../tabwriter.js";
import { createAndReport, parseDryRun } from "./dryrun.js";

function one(args: string[], what: string): TypeRequest & { name: string } {
  const reqs = parseTypeArgs(args);
  const req = reqs[0];
  const name = req?.names[0];
  if (!req || reqs.length !== 1 || req.names.length !== 1 || name === undefined) {
    throw new CliError(`error: ${what} requires exactly one resource, as TYPE NAME or TYPE/NAME`);
  }
  return { ...req, name };
}

/** kubectl's container name for an image: the last path element without tag or digest. */
export function containerNameFromImage(image: string): string {
  const last = image.split("/").pop() ?? image;
  const base = last.split("@")[0]?.split(":")[0] ?? last;
  return (
    base
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "-")
      .replace(/^-+|-+$/g, "") || "container"
  );
}

export async function runCreateDeployment(
  ctx: CliContext,
  name: string,
  o: { image: string[]; replicas?: string; port?: string; dryRun?: string | boolean },
): Promise<number> {
  if (o.image.length === 0) throw new CliError('error: required flag(s) "image" not set');
  const labels = { app: name };
  const containers = o.image.map((image, i) => ({
    name: containerNameFromImage(image),
    image,
    ...(o.port && i === 0 ? { ports: [{ containerPort: Number(o.port) }] } : {}),
  }));
  const body = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels },
    spec: {
      ...(o.replicas !== undefined ? { replicas: Number(o.replicas) } : {}),
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers } },
    },
  };
  const r = DEPLOYMENTS;
  await createAndReport(ctx, r, ctx.namespace, body, { fieldManager: "kubectl-create", dryRun: parseDryRun(o.dryRun) });
  return 0;
}

export async function runCreateNamespace(
  ctx: CliContext,
  name: string,
  o: { dryRun?: string | boolean } = {},
): Promise<number> {
  const r = NAMESPACES;
  await createAndReport(
    ctx,
    r,
    undefined,
    { apiVersion: "v1", kind: "Namespace", metadata: { name } },
    { fieldManager: "kubectl-create", dryRun: parseDryRun(o.dryRun) },
  );
  return 0;
}

export async function runScale(ctx: CliContext, args: string[], o: { replicas: string }): Promise<number> {
  const t = one(args, "scale");
  const replicas = Number(o.replicas);
  if (!Number.isInteger(replicas) || replicas < 0)
    throw new CliError("error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0");
  if (!t.r.subresources.some((s) => s.name === "scale")) {
    throw new CliError(`error: no objects passed to scale ${t.r.resource} cannot be scaled`);
  }
  await ctx.client.patch(t.r, t.r.namespaced ? ctx.namespace : undefined, t.name, { spec: { replicas } }, "merge", {
    subresource: "scale",
  });
  ctx.print(`${kindPrefix(t.r)}/${t.name} scaled\n`);
  return 0;
}

/** kubectl's DeploymentStatusViewer: the message for the current state, and whether it is done. */
export function deploymentRolloutStatus(d: Deployment): { message: string; done: boolean } {
  const name = d.metadata.name ?? "";
  const st = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (st.observedGeneration ?? 0)) {
    return { message: "Waiting for deployment spec update to be observed...", done: false };
  }
  const progressing = st.conditions?.find((c) => c.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    throw new CliError(`error: deployment "${name}" exceeded its progress deadline`);
  }
  const want = d.spec?.replicas ?? 1;
  const updated = st.updatedReplicas ?? 0;
  const total = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  if (updated < want) {
    return {
      message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...`,
      done: false,
    };
  }
  if (total > updated) {
    return {
      message: `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...`,
      done: false,
    };
  }
  if (available < updated) {
    return {
      message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`,
      done: false,
    };
  }
  return { message: `deployment "${name}" successfully rolled out`, done: true };
}

export async function runRolloutStatus(
  ctx: CliContext,
  args: string[],
  o: { timeout: string; watch: boolean },
): Promise<number> {
  const t = one(args, "rollout status");
  if (t.r.resource !== "deployments")
    throw new CliError(`error: no status viewer has been implemented for ${t.r.kind}`);
  const ns = ctx.namespace;
  const timeoutMs = o.timeout && o.timeout !== "0" && o.timeout !== "0s" ? parseDuration(o.timeout) : 0;
  const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
  let last = "";
  const show = (d: Deployment): boolean => {
    const s = deploymentRolloutStatus(d);
    if (s.message !== last) ctx.print(`${s.message}\n`);
    last = s.message;
    return s.done;
  };
  for (;;) {
    const d = await ctx.client.get<Deployment>(t.r, ns, t.name);
    if (show(d) || !o.watch) return 0;
    try {
      for await (const ev of ctx.client.watch<Deployment>(
        t.r,
        ns,
        { fieldSelector: `metadata.name=${t.name}`, resourceVersion: d.metadata.resourceVersion ?? "0" },
        signal,
      )) {
        if (ev.type === "DELETED") throw new CliError(`error: object has been deleted`);
        if (ev.type !== "BOOKMARK" && show(ev.object)) return 0;
      }
    } catch (err) {
      if (err instanceof CliError) throw err;
      if (!signal?.aborted) continue; // an expired or dropped watch: start over
    }
    if (signal?.aborted) throw new CliError("error: timed out waiting for the condition");
  }
}

export async function runRolloutRestart(ctx: CliContext, args: string[]): Promise<number> {
  const t = one(args, "rollout restart");
  const patch = {
    spec: {
      template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": metaTime() } } },
    },
  };
  await ctx.client.patch(t.r, ctx.namespace, t.name, patch, "strategic", { fieldManager: "kubectl-rollout" });
  ctx.print(`${kindPrefix(t.r)}/${t.name} restarted\n`);
  return 0;
}

/** kubeling label|annotate TYPE NAME key=value... key-... [--overwrite]. */
export async function runLabel(
  ctx: CliContext,
  args: string[],
  o: { overwrite?: boolean },
  field: "labels" | "annotations" = "labels",
): Promise<number> {
  const verb = field === "labels" ? "labeled" : "annotated";
  const changes = args.filter((a) => a.includes("=") || a.endsWith("-"));
  const targets = args.filter((a) => !changes.includes(a));
  if (changes.length === 0)
    throw new CliError(`error: at least one ${field === "labels" ? "label" : "annotation"} update is required`);
  const set: Record<string, string | null> = {};
  for (const c of changes) {
    if (c.endsWith("-") && !c.includes("=")) set[c.slice(0, -1)] = null;
    else {
      const eq = c.indexOf("=");
      set[c.slice(0, eq)] = c.slice(eq + 1);
    }
  }
  const reqs = parseTypeArgs(targets);
  for (const req of reqs) {
    for (const name of req.names) {
      const ns = req.r.namespaced ? ctx.namespace : undefined;
      const obj = await ctx.client.get(req.r, ns, name);
      const current = obj.metadata[field] ?? {};
      if (!o.overwrite) {
        for (const [k, v] of Object.entries(set)) {
          if (v !== null && k in current && current[k] !== v) {
            throw new CliError(`error: '${k}' already has a value (${current[k]}), and --overwrite is false`);
          }
        }
      }
      const unchanged = Object.entries(set).every(([k, v]) => (v === null ? !(k in current) : current[k] === v));
      if (!unchanged) {
        await ctx.client.patch(req.r, ns, name, { metadata: { [field]: set } }, "merge", {
          fieldManager: field === "labels" ? "kubectl-label" : "kubectl-annotate",
        });
      }
      ctx.print(`${kindPrefix(req.r)}/${name} ${unchanged ? `not ${verb}` : verb}\n`);
    }
  }
  return 0;
}

/** kubeling patch TYPE NAME -p PATCH [--type strategic|merge|json] [--subresource S]. */
export async function runPatch(
  ctx: CliContext,
  args: string[],
  o: { patch: string; type: string; subresource?: string },
): Promise<number> {
  const t = one(args, "patch");
  const type = o.type as "strategic" | "merge" | "json";
  if (!["strategic", "merge", "json"].includes(type)) {
    throw new CliError(`error: --type must be one of [json merge strategic], not "${o.type}"`);
  }
  let body: unknown;
  try {
    body = JSON.parse(o.patch);
  } catch {
    try {
      body = parseYaml(o.patch);
    } catch (err) {
      throw new CliError(`error: unable to parse "${o.patch}": ${(err as Error).message}`);
    }
  }
  const ns = t.r.namespaced ? ctx.namespace : undefined;
  const before = await ctx.client.get(t.r, ns, t.name, o.subresource ? { subresource: o.subresource } : {});
  const after = await ctx.client.patch(t.r, ns, t.name, body, type, {
    fieldManager: "kubectl-patch",
    ...(o.subresource ? { subresource: o.subresource } : {}),
  });
  const same = before.metadata.resourceVersion === after.metadata.resourceVersion;
  ctx.print(`${kindPrefix(t.r)}/${t.name} ${same ? "patched (no change)" : "patched"}\n`);
  return 0;
}

const REVISION = "deployment.kubernetes.io/revision";

/** The ReplicaSets a Deployment controls, by selector and controller ownerReference. */
async function ownedReplicaSets(ctx: CliContext, d: Deployment): Promise<ReplicaSet[]> {
  const sel = formatSelector(d.spec?.selector);
  const list = await ctx.client.list(REPLICASETS, d.metadata.namespace, sel !== "<none>" ? { labelSelector: sel } : {});
  return list.items.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.controller && o.uid === d.metadata.uid));
}

function deploymentArg(args: string[], what: string) {
  const t = one(args, what);
  if (t.r.resource !== "deployments") throw new CliError(`error: no ${what} has been implemented for ${t.r.kind}`);
  return t;
}

export async function runRolloutHistory(ctx: CliContext, args: string[], o: { revision?: string }): Promise<number> {
  const t = deploymentArg(args, "rollout history");
  const d = await ctx.client.get<Deployment>(t.r, ctx.namespace, t.name);
  const rss = (await ownedReplicaSets(ctx, d))
    .map((rs) => ({ rs, rev: Number(rs.metadata.annotations?.[REVISION] ?? "0") }))
    .sort((a, b) => a.rev - b.rev);
  if (o.revision !== undefined) {
    const found = rss.find((x) => x.rev === Number(o.revision));
    if (!found) throw new CliError(`error: unable to find the specified revision`);
    ctx.print(`deployment.apps/${t.name} with revision #${found.rev}\n`);
    const w = new PrefixWriter();
    const template = structuredClone(found.rs.spec?.template) as PodTemplateSpec | undefined;
    if (template?.metadata?.labels) delete template.metadata.labels["pod-template-hash"];
    describePodTemplate(w, template);
    ctx.print(w.toString());
    return 0;
  }
  ctx.print(`deployment.apps/${t.name} \n`);
  const w = new TabWriter({ ...GET_TABWRITER, minWidth: 0, padding: 2, rememberWidths: false });
  w.write("REVISION\tCHANGE-CAUSE\n");
  for (const { rs, rev } of rss)
    w.write(`${rev}\t${rs.metadata.annotations?.["kubernetes.io/change-cause"] ?? "<none>"}\n`);
  ctx.print(`${w.flush()}\n`);
  return 0;
}

/** kubectl rollout undo: a JSON patch putting an older ReplicaSet's template back. */
export async function runRolloutUndo(ctx: CliContext, args: string[], o: { toRevision?: string }): Promise<number> {
  const t = deploymentArg(args, "rollout undo");
  const d = await ctx.client.get<Deployment>(t.r, ctx.namespace, t.name);
  if (d.spec?.paused)
    throw new CliError(
      `error: you cannot rollback a paused deployment; resume it first with 'kubeling rollout resume deployment/${t.name}' and try again`,
    );
  const rss = (await ownedReplicaSets(ctx, d))
    .map((rs) => ({ rs, rev: Number(rs.metadata.annotations?.[REVISION] ?? "0") }))
    .sort((a, b) => b.rev - a.rev);
  const current = Number(d.metadata.annotations?.[REVISION] ?? rss[0]?.rev ?? 0);
  const target =
    o.toRevision !== undefined && o.toRevision !== "0"
      ? rss.find((x) => x.rev === Number(o.toRevision))
      : rss.find((x) => x.rev < current);
  if (!target) {
    throw new CliError(
      o.toRevision !== undefined && o.toRevision !== "0"
        ? `error: unable to find specified revision ${o.toRevision} in history`
        : "error: no rollout history found for deployment",
    );
  }
  const template = structuredClone(target.rs.spec?.template) as PodTemplateSpec;
  if (template.metadata?.labels) delete template.metadata.labels["pod-template-hash"];
  if (JSON.stringify(template) === JSON.stringify(d.spec?.template)) {
    ctx.print(`deployment.apps/${t.name} skipped rollback (current template already matches revision ${target.rev})\n`);
    return 0;
  }
  const annotations = { ...(d.metadata.annotations ?? {}) };
  const cause = target.rs.metadata.annotations?.["kubernetes.io/change-cause"];
  if (cause) annotations["kubernetes.io/change-cause"] = cause;
  else delete annotations["kubernetes.io/change-cause"];
  await ctx.client.patch(
    t.r,
    ctx.namespace,
    t.name,
    [
      { op: "replace", path: "/spec/template", value: template },
      { op: "replace", path: "/metadata/annotations", value: annotations },
    ],
    "json",
  );
  ctx.print(`deployment.apps/${t.name} rolled back\n`);
  return 0;
}
