// The everyday imperative commands around workloads, with kubectl's requests and output:
// create deployment|namespace, scale, label|annotate, patch.

import { randomInt } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { isConflict, StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { DEPLOYMENTS, NAMESPACES } from "#pkg/api/resources.js";
import { parseDuration } from "#pkg/runtime/duration.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { kindPrefix, parseTypeArgs, type TypeRequest } from "../resources.js";
import { createAndReport, parseDryRun } from "./dryrun.js";
import { namedObjects } from "./rollout.js";

function one(args: string[], what: string): TypeRequest & { name: string } {
  const reqs = parseTypeArgs(args);
  const req = reqs[0];
  const name = req?.names[0];
  if (!req || reqs.length !== 1 || req.names.length !== 1 || name === undefined) {
    throw new CliError(`error: ${what} requires exactly one resource, as TYPE NAME or TYPE/NAME`);
  }
  return { ...req, name };
}

/** utilrand.String's alphabet (no vowels, no look-alike digits). */
const RAND_CHARS = "bcdfghjklmnpqrstvwxz2456789";

/**
 * kubectl create deployment's container name for an image: the last path element without tag
 * or digest; a name with "_" or "." gets them turned to "-" and a random 5-character suffix.
 */
export function containerNameFromImage(image: string, random: (n: number) => number = randomInt): string {
  let name = image.split("/").pop() ?? image;
  if (name.includes(":")) name = name.split(":")[0] ?? name;
  if (name.includes("@")) name = name.split("@")[0] ?? name;
  if (/[_.]/.test(name)) {
    const suffix = Array.from({ length: 5 }, () => RAND_CHARS[random(RAND_CHARS.length)]).join("");
    name = `${name.replace(/[_.]/g, "-")}-${suffix}`;
  }
  return name;
}

export interface CreateDeploymentOptions {
  image: string[];
  replicas?: string;
  port?: string;
  dryRun?: string | boolean;
}

/** The Deployment kubectl create deployment builds (replicas always set, default 1). */
export function deploymentFor(name: string, o: CreateDeploymentOptions, command: string[] = []): KubeObject {
  const images = o.image.flatMap((i) => i.split(",")).filter((i) => i !== "");
  if (images.length === 0) throw new CliError('error: required flag(s) "image" not set');
  if (images.length > 1 && command.length > 0)
    throw new CliError("error: cannot specify multiple --image options and command");
  const replicas = o.replicas === undefined ? 1 : Number(o.replicas);
  if (!Number.isInteger(replicas))
    throw new CliError(
      `error: invalid argument "${o.replicas}" for "-r, --replicas" flag: strconv.ParseInt: parsing "${o.replicas}": invalid syntax`,
    );
  const port = o.port === undefined ? -1 : Number(o.port);
  if (!Number.isInteger(port))
    throw new CliError(
      `error: invalid argument "${o.port}" for "--port" flag: strconv.ParseInt: parsing "${o.port}": invalid syntax`,
    );
  const labels = { app: name };
  const containers = images.map((image, i) => ({
    name: containerNameFromImage(image),
    image,
    ...(command.length > 0 ? { command } : {}),
    ...(port >= 0 && i === 0 ? { ports: [{ containerPort: port }] } : {}),
    resources: {},
  }));
  // Shaped as kubectl's typed Deployment serialises: the empty structs and the null
  // creationTimestamps are part of what it sends (and of what --dry-run=client -o yaml shows).
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { creationTimestamp: null, name, labels: { ...labels } },
    spec: {
      replicas,
      selector: { matchLabels: { ...labels } },
      strategy: {},
      template: { metadata: { creationTimestamp: null, labels: { ...labels } }, spec: { containers } },
    },
    status: {},
  } as unknown as KubeObject;
}

export async function runCreateDeployment(
  ctx: CliContext,
  name: string,
  o: CreateDeploymentOptions,
  command: string[] = [],
): Promise<number> {
  const body = deploymentFor(name, o, command);
  try {
    await createAndReport(ctx, DEPLOYMENTS, ctx.namespace, body, {
      fieldManager: "kubectl-create",
      dryRun: parseDryRun(o.dryRun),
    });
  } catch (err) {
    // kubectl wraps the server's answer; an Invalid one keeps its own report.
    if (err instanceof StatusError && err.reason !== "Invalid")
      throw new CliError(`error: failed to create deployment: ${err.message}`);
    throw err;
  }
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

export interface ScaleOptions {
  replicas?: string;
  currentReplicas?: string;
  resourceVersion?: string;
  timeout?: string;
}

interface ScaleObject extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas?: number };
}

/** scale.ScalePrecondition.validate: the precondition error kubectl prints, if the Scale fails it. */
export function scalePreconditionError(scale: ScaleObject, size: number, resourceVersion: string): string | undefined {
  const replicas = scale.spec?.replicas ?? 0;
  if (size !== -1 && replicas !== size) return `Expected replicas to be ${size}, was ${replicas}`;
  const rv = scale.metadata.resourceVersion ?? "";
  if (resourceVersion && rv !== resourceVersion) return `Expected resource version to be ${resourceVersion}, was ${rv}`;
  return undefined;
}

/**
 * kubectl scale: a merge patch of the scale subresource, or with --current-replicas /
 * --resource-version a GET of the Scale, the precondition check and a PUT (retried on conflict).
 */
export async function runScale(ctx: CliContext, args: string[], o: ScaleOptions): Promise<number> {
  if (o.replicas === undefined) throw new CliError('error: required flag(s) "replicas" not set');
  const replicas = Number(o.replicas);
  if (!Number.isInteger(replicas) || replicas < 0)
    throw new CliError("error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0");
  const current = o.currentReplicas === undefined ? -1 : Number(o.currentReplicas);
  if (!Number.isInteger(current) || current < -1)
    throw new CliError("error: The --current-replicas must specify an integer of -1 or greater");
  const objs = namedObjects(args);
  if (o.resourceVersion && objs.length > 1)
    throw new CliError("error: cannot use --resource-version with multiple resources");
  const timeoutMs = o.timeout && o.timeout !== "0" && o.timeout !== "0s" ? parseDuration(o.timeout) : 0;
  for (const { r, name } of objs) {
    if (!r.subresources.some((s) => s.name === "scale"))
      throw new CliError(`error: no objects passed to scale ${r.resource} cannot be scaled`);
    const ns = r.namespaced ? ctx.namespace : undefined;
    if (current === -1 && !o.resourceVersion) {
      await ctx.client.patch(r, ns, name, { spec: { replicas } }, "merge", { subresource: "scale" });
    } else {
      for (let attempt = 0; ; attempt++) {
        const scale = await ctx.client.get<ScaleObject>(r, ns, name, { subresource: "scale" });
        const failed = scalePreconditionError(scale, current, o.resourceVersion ?? "");
        if (failed) throw new CliError(`error: ${failed}`);
        try {
          await ctx.client.update(r, ns, { ...scale, spec: { ...scale.spec, replicas } }, { subresource: "scale" });
          break;
        } catch (err) {
          if (!isConflict(err) || attempt >= 5) throw err;
        }
      }
    }
    if (timeoutMs > 0) await waitForScale(ctx, r, ns, name, replicas, timeoutMs);
    ctx.print(`${kindPrefix(r)}/${name} scaled\n`);
  }
  return 0;
}

/** scale.WaitForScaleHasDesiredReplicas: poll the Scale until status.replicas reaches spec. */
async function waitForScale(
  ctx: CliContext,
  r: Parameters<CliContext["client"]["get"]>[0],
  ns: string | undefined,
  name: string,
  replicas: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await ctx.client.get<ScaleObject>(r, ns, name, { subresource: "scale" });
    if (s.spec?.replicas !== replicas) return;
    if (s.status?.replicas === replicas) return;
    if (Date.now() >= deadline) throw new CliError(`error: timed out waiting for "${name}" to be synced`);
    await new Promise((res) => setTimeout(res, 1000));
  }
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
