// The everyday imperative commands around Deployments, with kubectl's requests and output:
// create deployment|namespace, scale, rollout status|restart, label.

import { registry } from "#pkg/api/resources.js";
import type { Deployment } from "#pkg/api/types/index.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { parseDuration } from "../format.js";
import { kindPrefix, parseTypeArgs, type TypeRequest } from "../resources.js";

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
  o: { image: string[]; replicas?: string; port?: string },
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
  const r = registry.byGroupResource("apps", "deployments")!;
  await ctx.client.create(r, ctx.namespace, body, { fieldManager: "kubectl-create", fieldValidation: "Strict" });
  ctx.print(`deployment.apps/${name} created\n`);
  return 0;
}

export async function runCreateNamespace(ctx: CliContext, name: string): Promise<number> {
  const r = registry.byGroupResource("", "namespaces")!;
  await ctx.client.create(
    r,
    undefined,
    { apiVersion: "v1", kind: "Namespace", metadata: { name } },
    {
      fieldManager: "kubectl-create",
      fieldValidation: "Strict",
    },
  );
  ctx.print(`namespace/${name} created\n`);
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
      template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() } } },
    },
  };
  await ctx.client.patch(t.r, ctx.namespace, t.name, patch, "strategic", { fieldManager: "kubectl-rollout" });
  ctx.print(`${kindPrefix(t.r)}/${t.name} restarted\n`);
  return 0;
}

/** kubeling label TYPE NAME key=value... key-... [--overwrite]. */
export async function runLabel(ctx: CliContext, args: string[], o: { overwrite?: boolean }): Promise<number> {
  const changes = args.filter((a) => a.includes("=") || a.endsWith("-"));
  const targets = args.filter((a) => !changes.includes(a));
  if (changes.length === 0) throw new CliError("error: at least one label update is required");
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
      const current = obj.metadata.labels ?? {};
      if (!o.overwrite) {
        for (const [k, v] of Object.entries(set)) {
          if (v !== null && k in current && current[k] !== v) {
            throw new CliError(`error: '${k}' already has a value (${current[k]}), and --overwrite is false`);
          }
        }
      }
      const unchanged = Object.entries(set).every(([k, v]) => (v === null ? !(k in current) : current[k] === v));
      if (!unchanged) {
        await ctx.client.patch(req.r, ns, name, { metadata: { labels: set } }, "merge", {
          fieldManager: "kubectl-label",
        });
      }
      ctx.print(`${kindPrefix(req.r)}/${name} ${unchanged ? "not labeled" : "labeled"}\n`);
    }
  }
  return 0;
}
