// kubeling set image|env, after kubectl's set commands: each object's pod spec (a pod's own, or
// the template of a controller) is changed in memory, and the difference is sent as a strategic
// merge patch (containers and env merged by name), printed as "<kind>/<name> image updated".

import type { KubeObject } from "#pkg/api/meta.js";
import { apiVersionOf, type ResourceInfo } from "#pkg/api/resources.js";
import type { Container, EnvVar, EnvVarSource, PodSpec } from "#pkg/api/types/index.js";
import { envVarNameErrors } from "#pkg/api/validation.js";
import { deepEqual } from "../applypatch.js";
import type { CliContext } from "../context.js";
import { CliError, formatError } from "../errors.js";
import { asPrintable, toJson, toYaml } from "../printers.js";
import { kindPrefix, parseTypeArgs } from "../resources.js";
import { parseDryRun } from "./dryrun.js";

type Json = Record<string, unknown>;

/** Where a kind keeps its PodSpec (polymorphichelpers.updatePodSpecForObject), or undefined. */
export function podSpecPath(r: ResourceInfo): string[] | undefined {
  switch (`${r.group}/${r.resource}`) {
    case "/pods":
      return ["spec"];
    case "/replicationcontrollers":
    case "apps/deployments":
    case "apps/replicasets":
    case "apps/daemonsets":
    case "apps/statefulsets":
    case "batch/jobs":
      return ["spec", "template", "spec"];
    case "batch/cronjobs":
      return ["spec", "jobTemplate", "spec", "template", "spec"];
    default:
      return undefined;
  }
}

function podSpecOf(obj: KubeObject, path: readonly string[]): PodSpec | undefined {
  let v: unknown = obj;
  for (const p of path) v = v && typeof v === "object" ? (v as Json)[p] : undefined;
  return v && typeof v === "object" ? (v as PodSpec) : undefined;
}

/** {a: {b: {c: leaf}}} for the path [a, b, c]. */
function nest(path: readonly string[], leaf: Json): Json {
  return path.reduceRight<Json>((inner, key) => ({ [key]: inner }), leaf);
}

/**
 * The merge-patch style difference of two JSON maps: changed or new keys with their new value
 * (maps recursed into), removed keys as null. Empty when equal.
 */
export function mapDiff(before: Json, after: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(after)) {
    const old = before[k];
    if (deepEqual(old, v)) continue;
    const bothMaps = [old, v].every((x) => x && typeof x === "object" && !Array.isArray(x));
    out[k] = bothMaps ? mapDiff(old as Json, v as Json) : v;
  }
  for (const k of Object.keys(before)) if (!(k in after)) out[k] = null;
  return out;
}

/**
 * The strategic merge patch of a list merged by `name` (containers, env): changed items as
 * their differences, new items whole, removed items as `$patch: delete`, and the order pinned
 * by `$setElementOrder` when items were added or removed. Undefined when nothing changed.
 */
export function namedListPatch(
  field: string,
  before: ReadonlyArray<{ name: string }>,
  after: ReadonlyArray<{ name: string }>,
): Json | undefined {
  const items: Json[] = [];
  const old = new Map(before.map((x) => [x.name, x as unknown as Json]));
  for (const item of after) {
    const prev = old.get(item.name);
    if (!prev) {
      items.push({ ...(item as unknown as Json) });
      continue;
    }
    const d = mapDiff(prev, item as unknown as Json);
    if (Object.keys(d).length > 0) items.push({ ...d, name: item.name });
  }
  const kept = new Set(after.map((x) => x.name));
  for (const x of before) if (!kept.has(x.name)) items.push({ name: x.name, $patch: "delete" });
  if (items.length === 0) return undefined;
  if (after.length === 0) return { [field]: null };
  const reordered = after.length !== before.length || after.some((x, i) => x.name !== before[i]?.name);
  return {
    ...(reordered ? { [`$setElementOrder/${field}`]: after.map((x) => ({ name: x.name })) } : {}),
    [field]: items,
  };
}

/** The patch of a pod spec whose containers or initContainers changed, undefined when none did. */
function podSpecPatch(
  before: PodSpec,
  after: PodSpec,
  inner: (c: Container, prev: Container) => Json | undefined,
): Json | undefined {
  const out: Json = {};
  for (const field of ["initContainers", "containers"] as const) {
    const items: Json[] = [];
    (after[field] ?? []).forEach((c, i) => {
      const prev = before[field]?.[i];
      if (!prev) return;
      const d = inner(c, prev);
      if (d) items.push({ name: c.name, ...d });
    });
    if (items.length > 0) out[field] = items;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

// ---------------------------------------------------------------- argument parsing

/** cmdutil.GetResourcesAndPairs: resources first, then the KEY=VALUE (or KEY-) pairs. */
export function resourcesAndPairs(args: string[], pairType: string): { resources: string[]; pairs: string[] } {
  const resources: string[] = [];
  const pairs: string[] = [];
  for (const s of args) {
    const isPair = (s.includes("=") && !s.startsWith("=")) || (s.endsWith("-") && s !== "-");
    if (isPair) pairs.push(s);
    else if (pairs.length > 0)
      throw new CliError(`error: all resources must be specified before ${pairType} changes: ${s}`);
    else resources.push(s);
  }
  return { resources, pairs };
}

/** cmdutil.ParsePairs without removal: NAME=IMAGE pairs, or "invalid image format: ...". */
export function parseImagePairs(pairs: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const invalid: string[] = [];
  for (const p of pairs) {
    const eq = p.indexOf("=");
    if (eq > 0) out.set(p.slice(0, eq), p.slice(eq + 1));
    else invalid.push(p);
  }
  if (invalid.length > 0) throw new CliError(`error: invalid image format: ${invalid.join(", ")}`);
  return out;
}

/** envutil.SplitEnvironmentFromResources: resources first, then NAME=value or NAME- arguments. */
export function splitEnvironmentFromResources(args: string[]): { resources: string[]; env: string[] } {
  const resources: string[] = [];
  const env: string[] = [];
  for (const s of args) {
    const isEnv = /^.+=/s.test(s) || s.endsWith("-");
    if (isEnv) env.push(s);
    else if (env.length > 0)
      throw new CliError(`error: all resources must be specified before environment changes: ${args.join(" ")}`);
    else resources.push(s);
  }
  return { resources, env };
}

/** envutil.ParseEnv: NAME=value to set, NAME- to remove, "-" to read NAME=value lines from stdin. */
export function parseEnv(specs: string[], stdin?: string): { env: EnvVar[]; remove: string[] } {
  const env: EnvVar[] = [];
  const remove: string[] = [];
  const set = new Set<string>();
  for (const spec of specs) {
    if (spec === "-") {
      if (stdin === undefined) throw new CliError("error: when '-' is used, STDIN must be open");
      for (let line of stdin.split("\n")) {
        const hash = line.indexOf("#");
        if (hash >= 0) line = line.slice(0, hash);
        const eq = line.indexOf("=");
        if (eq >= 0) env.push({ name: line.slice(0, eq), value: line.slice(eq + 1) });
      }
    } else if (spec.includes("=")) {
      const eq = spec.indexOf("=");
      const name = spec.slice(0, eq);
      const errs = envVarNameErrors(name);
      if (errs.length > 0)
        throw new CliError(`error: ${JSON.stringify(name)} is not a valid key name: ${errs.join(";")}`);
      set.add(name);
      env.push({ name, value: spec.slice(eq + 1) });
    } else if (spec.endsWith("-")) {
      remove.push(spec.slice(0, -1));
    } else {
      throw new CliError(`error: unknown environment variable: ${spec}`);
    }
  }
  if (remove.some((r) => set.has(r)))
    throw new CliError("error: can not both modify and remove the same environment variable in the same command");
  return { env, remove };
}

/** set.updateEnv: existing variables updated in place or removed, new ones appended. */
export function updateEnv(existing: readonly EnvVar[], env: readonly EnvVar[], remove: readonly string[]): EnvVar[] {
  const out: EnvVar[] = [];
  const covered = new Set(remove);
  for (const e of existing) {
    if (covered.has(e.name)) continue;
    const newer = env.find((x) => x.name === e.name);
    if (newer) {
      covered.add(e.name);
      out.push(newer);
      continue;
    }
    out.push(e);
  }
  for (const e of env) {
    if (covered.has(e.name)) continue;
    covered.add(e.name);
    out.push(e);
  }
  return out;
}

/** set.selectString: "*" matches all, otherwise a literal with non-greedy "*" wildcards. */
export function selectString(s: string, spec: string): boolean {
  if (spec === "*") return true;
  if (!spec.includes("*")) return s === spec;
  const re = new RegExp(
    `^${spec
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*?")}$`,
  );
  return re.test(s);
}

/** envutil.GetEnvVarRefString: how --list shows a valueFrom. */
export function envVarRefString(from: EnvVarSource): string {
  if (from.configMapKeyRef) return `configmap ${from.configMapKeyRef.name ?? ""}, key ${from.configMapKeyRef.key}`;
  if (from.secretKeyRef) return `secret ${from.secretKeyRef.name ?? ""}, key ${from.secretKeyRef.key}`;
  if (from.fieldRef) return `field path ${from.fieldRef.fieldPath}`;
  if (from.resourceFieldRef) {
    const c = from.resourceFieldRef.containerName ? `${from.resourceFieldRef.containerName}/` : "";
    return `resource field ${c}${from.resourceFieldRef.resource}`;
  }
  return "invalid valueFrom";
}

// ---------------------------------------------------------------- the pure cores

export interface Change {
  /** The object with its pod spec changed (what a client dry run prints). */
  modified: KubeObject;
  /** The strategic merge patch; undefined when nothing changed. */
  patch: Json | undefined;
}

function unsupported(r: ResourceInfo): string {
  return `the object is not a pod or does not have a pod template: *${r.version}.${r.kind}`;
}

/** set image on one object: the change, and kubectl's per-container errors. */
export function setImage(
  r: ResourceInfo,
  obj: KubeObject,
  images: ReadonlyMap<string, string>,
): Change & { errors: string[] } {
  const path = podSpecPath(r);
  if (!path) throw new CliError(`error: ${r.resource}/${obj.metadata.name ?? ""} ${unsupported(r)}`);
  const modified = structuredClone(obj);
  const before = podSpecOf(obj, path) ?? { containers: [] };
  const spec = podSpecOf(modified, path);
  const errors: string[] = [];
  for (const [name, image] of images) {
    let found = false;
    for (const list of [spec?.initContainers ?? [], spec?.containers ?? []]) {
      for (const c of list) {
        if (c.name === name || name === "*") {
          c.image = image;
          found = true;
        }
      }
    }
    if (!found) errors.push(`error: unable to find container named ${JSON.stringify(name)}`);
  }
  const inner =
    spec && podSpecPatch(before, spec, (c, prev) => (c.image !== prev.image ? { image: c.image } : undefined));
  return { modified, patch: inner ? nest(path, inner) : undefined, errors };
}

export interface EnvOptions {
  containers: string;
  overwrite: boolean;
  list: boolean;
}

/** set env on one object: the change, the --list text, and the warning for no matching container. */
export function setEnv(
  r: ResourceInfo,
  obj: KubeObject,
  env: readonly EnvVar[],
  remove: readonly string[],
  o: EnvOptions,
): Change & { listing: string; warning?: string } {
  const path = podSpecPath(r);
  const name = obj.metadata.name ?? "";
  if (!path) throw new CliError(`error: ${r.resource}/${name} ${unsupported(r)}`);
  const modified = structuredClone(obj);
  const before = podSpecOf(obj, path) ?? { containers: [] };
  const spec = podSpecOf(modified, path);
  const selected = [
    ...(spec?.containers ?? []).filter((c) => selectString(c.name, o.containers)),
    ...(spec?.initContainers ?? []).filter((c) => selectString(c.name, o.containers)),
  ];
  const kind = obj.kind ?? r.kind;
  if (selected.length === 0)
    return {
      modified,
      patch: undefined,
      listing: "",
      warning: `Warning: ${kind}/${name} does not have any containers matching ${JSON.stringify(o.containers)}`,
    };
  let listing = "";
  for (const c of selected) {
    if (!o.overwrite) {
      for (const e of env) {
        const current = c.env?.find((x) => x.name === e.name);
        if (current && current.value !== e.value)
          throw new CliError(
            `error: ${r.resource}/${name} '${current.name}' already has a value (${current.value ?? ""}), and --overwrite is false`,
          );
      }
    }
    const updated = updateEnv(c.env ?? [], env, remove);
    if (updated.length > 0) c.env = updated;
    else delete c.env;
    if (o.list) {
      listing += `# ${kind} ${name}, container ${c.name}\n`;
      for (const e of updated) {
        listing += e.valueFrom ? `# ${e.name} from ${envVarRefString(e.valueFrom)}\n` : `${e.name}=${e.value ?? ""}\n`;
      }
    }
  }
  const inner = spec && podSpecPatch(before, spec, (c, prev) => namedListPatch("env", prev.env ?? [], c.env ?? []));
  return { modified, patch: inner ? nest(path, inner) : undefined, listing };
}

// ---------------------------------------------------------------- the commands

interface Target {
  r: ResourceInfo;
  obj: KubeObject;
}

/** The objects the arguments name; a bare type needs --all or a selector (kubectl's builder rule). */
async function targets(ctx: CliContext, resources: string[], all: boolean): Promise<Target[]> {
  if (resources.length === 0)
    throw new CliError("error: one or more resources must be specified as <resource> <name> or <resource>/<name>");
  const out: Target[] = [];
  for (const req of parseTypeArgs(resources)) {
    const ns = req.r.namespaced ? ctx.namespace : undefined;
    if (req.names.length === 0) {
      if (!all && !ctx.opts.selector) throw new CliError("error: resource(s) were provided, but no name was specified");
      const list = await ctx.client.list(req.r, ns, ctx.opts.selector ? { labelSelector: ctx.opts.selector } : {});
      for (const obj of list.items) out.push({ r: req.r, obj: { ...obj, kind: obj.kind ?? req.r.kind } });
      continue;
    }
    for (const name of req.names) {
      const obj = await ctx.client.get(req.r, ns, name);
      out.push({
        r: req.r,
        obj: { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(req.r), kind: obj.kind ?? req.r.kind },
      });
    }
  }
  return out;
}

interface SendOptions {
  dryRun?: string | boolean;
  verb: string;
  what: string;
}

/** Sends a change (or, with --dry-run=client, not) and prints the object as -o asks, or its name line. */
async function send(ctx: CliContext, t: Target, change: Change, o: SendOptions): Promise<void> {
  if (!change.patch) return;
  const dryRun = parseDryRun(o.dryRun);
  const name = t.obj.metadata.name ?? "";
  let result = change.modified;
  if (dryRun !== "client") {
    try {
      result = await ctx.client.patch(
        t.r,
        t.r.namespaced ? ctx.namespace : undefined,
        name,
        change.patch,
        "strategic",
        {
          fieldManager: "kubectl-set",
          ...(dryRun === "server" ? { dryRun: true } : {}),
        },
      );
    } catch (err) {
      throw new CliError(
        `error: failed to patch ${o.what} update to pod template: ${formatError(err).replace(/^error: /, "")}`,
      );
    }
  }
  const output = ctx.opts.output;
  if (output === "yaml" || output === "json") {
    const typed = { ...result, apiVersion: result.apiVersion ?? apiVersionOf(t.r), kind: result.kind ?? t.r.kind };
    ctx.print(output === "json" ? toJson(asPrintable([typed], false)) : toYaml(asPrintable([typed], false)));
    return;
  }
  const suffix =
    output === "name"
      ? ""
      : dryRun === "client"
        ? ` ${o.verb} (dry run)`
        : dryRun === "server"
          ? ` ${o.verb} (server dry run)`
          : ` ${o.verb}`;
  ctx.print(`${kindPrefix(t.r)}/${name}${suffix}\n`);
}

export interface SetImageOptions {
  all?: boolean;
  dryRun?: string | boolean;
}

/** kubeling set image (-f is not supported) TYPE NAME CONTAINER=IMAGE... ("*" for every container). */
export async function runSetImage(ctx: CliContext, args: string[], o: SetImageOptions): Promise<number> {
  const { resources, pairs } = resourcesAndPairs(args, "image");
  const images = parseImagePairs(pairs);
  if (o.all && ctx.opts.selector) throw new CliError("error: cannot set --all and --selector at the same time");
  if (resources.length === 0)
    throw new CliError("error: one or more resources must be specified as <resource> <name> or <resource>/<name>");
  if (images.size === 0) throw new CliError("error: at least one image update is required");
  if (images.size > 1 && images.has("*"))
    throw new CliError(
      "error: all containers are already specified by *, but saw more than one container_name=container_image pairs",
    );
  const errors: string[] = [];
  for (const t of await targets(ctx, resources, Boolean(o.all))) {
    const change = setImage(t.r, t.obj, images);
    errors.push(...change.errors);
    await send(ctx, t, change, { dryRun: o.dryRun, verb: "image updated", what: "image" });
  }
  for (const e of errors) ctx.printErr(`${e}\n`);
  return errors.length > 0 ? 1 : 0;
}

export interface SetEnvOptions {
  all?: boolean;
  dryRun?: string | boolean;
  containers?: string;
  env?: string[];
  list?: boolean;
  overwrite?: boolean | string;
}

/** kubeling set env TYPE NAME KEY=VAL... KEY-... [-c CONTAINERS] [--list] [--overwrite=false]. */
export async function runSetEnv(
  ctx: CliContext,
  args: string[],
  o: SetEnvOptions,
  readStdin: () => Promise<string>,
): Promise<number> {
  if (o.all && ctx.opts.selector) throw new CliError("error: cannot set --all and --selector at the same time");
  const { resources, env: envArgs } = splitEnvironmentFromResources(args);
  if (resources.length === 0)
    throw new CliError("error: one or more resources must be specified as <resource> <name> or <resource>/<name>");
  if (o.list && ctx.opts.output) throw new CliError("error: --list and --output may not be specified together");
  const specs = [...(o.env ?? []), ...envArgs];
  const { env, remove } = parseEnv(specs, specs.includes("-") ? await readStdin() : undefined);
  const opts: EnvOptions = {
    containers: o.containers ?? "*",
    overwrite: o.overwrite !== false && o.overwrite !== "false",
    list: Boolean(o.list),
  };
  for (const t of await targets(ctx, resources, Boolean(o.all))) {
    const change = setEnv(t.r, t.obj, env, remove, opts);
    if (change.warning) ctx.printErr(`${change.warning}\n`);
    if (opts.list) {
      ctx.print(change.listing);
      continue;
    }
    await send(ctx, t, change, { dryRun: o.dryRun, verb: "env updated", what: "env" });
  }
  return 0;
}
