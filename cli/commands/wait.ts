// kubeling wait --for=condition=C[=V] | --for=delete TYPE/NAME...: checks the object, then
// follows a watch on metadata.name until the condition holds or the timeout passes.

import { isNotFound } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import { parseDuration } from "#pkg/runtime/duration.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { jsonpath } from "../jsonpath.js";
import { parseTypeArgs } from "../resources.js";

type Condition =
  | { kind: "delete" }
  | { kind: "condition"; type: string; value: string }
  | { kind: "jsonpath"; template: string; value: string | undefined };

export function parseFor(spec: string): Condition {
  if (spec.toLowerCase() === "delete") return { kind: "delete" };
  if (spec.startsWith("jsonpath=")) {
    // jsonpath={.status.phase}=Running, or jsonpath={.status.readyReplicas} (any value).
    const rest = spec.slice("jsonpath=".length);
    const close = rest.lastIndexOf("}");
    if (!rest.startsWith("{") || close < 0) throw new CliError(`error: unrecognized condition: "${spec}"`);
    const after = rest.slice(close + 1);
    if (after !== "" && !after.startsWith("=")) throw new CliError(`error: unrecognized condition: "${spec}"`);
    return { kind: "jsonpath", template: rest.slice(0, close + 1), value: after ? after.slice(1) : undefined };
  }
  const m = /^condition=([^=]+)(?:=(.*))?$/i.exec(spec);
  if (!m) throw new CliError(`error: unrecognized condition: "${spec}"`);
  return { kind: "condition", type: m[1] ?? "", value: m[2] ?? "True" };
}

interface Cond {
  type?: string;
  status?: string;
  observedGeneration?: number;
}

/** kubectl's condition check, including the observedGeneration guard. */
export function conditionMet(obj: KubeObject, type: string, value: string): boolean {
  const status = obj.status as { conditions?: Cond[]; observedGeneration?: number } | undefined;
  const generation = obj.metadata.generation;
  for (const c of status?.conditions ?? []) {
    if ((c.type ?? "").toLowerCase() !== type.toLowerCase()) continue;
    if ((c.status ?? "").toLowerCase() !== value.toLowerCase()) continue;
    const observed = c.observedGeneration ?? status?.observedGeneration;
    if (generation !== undefined && observed !== undefined && observed < generation) continue;
    return true;
  }
  return false;
}

function met(obj: KubeObject, cond: Exclude<Condition, { kind: "delete" }>): boolean {
  if (cond.kind === "condition") return conditionMet(obj, cond.type, cond.value);
  const got = jsonpath(cond.template, obj);
  return cond.value === undefined ? got !== "" : got === cond.value;
}

async function waitOne(
  ctx: CliContext,
  r: ResourceInfo,
  ns: string | undefined,
  name: string,
  cond: Condition,
  signal: AbortSignal,
): Promise<void> {
  let first = true;
  for (;;) {
    if (signal.aborted) throw new Error("timeout");
    let obj: KubeObject | undefined;
    try {
      obj = await ctx.client.get(r, ns, name);
    } catch (err) {
      // Waiting for a condition on an object that does not exist fails at once, as in kubectl.
      if (!isNotFound(err) || (cond.kind !== "delete" && first)) throw err;
    }
    first = false;
    if (cond.kind === "delete" && !obj) return;
    if (cond.kind !== "delete" && obj && met(obj, cond)) return;
    const uid = obj?.metadata.uid;
    try {
      for await (const ev of ctx.client.watch(
        r,
        ns,
        {
          fieldSelector: `metadata.name=${name}`,
          resourceVersion: obj?.metadata.resourceVersion ?? "0",
          allowWatchBookmarks: true,
        },
        signal,
      )) {
        if (ev.type === "BOOKMARK") continue;
        if (cond.kind === "delete") {
          if (ev.type === "DELETED" || (uid && ev.object.metadata?.uid !== uid)) return;
        } else if (ev.type !== "DELETED" && met(ev.object, cond)) {
          return;
        }
      }
    } catch (err) {
      if (signal.aborted) throw new Error("timeout");
      // An expired or dropped watch: start over from a fresh GET.
      if (!(err instanceof Error)) throw err;
    }
  }
}

export async function runWait(ctx: CliContext, args: string[], o: { for: string; timeout: string }): Promise<number> {
  const cond = parseFor(o.for);
  const timeoutMs = parseDuration(o.timeout);
  const targets: Array<{ r: ResourceInfo; ns: string | undefined; name: string }> = [];
  for (const req of parseTypeArgs(args)) {
    const ns = req.r.namespaced ? ctx.namespace : undefined;
    if (req.names.length > 0) {
      for (const name of req.names) targets.push({ r: req.r, ns, name });
      continue;
    }
    const list = await ctx.client.list(req.r, req.r.namespaced && !ctx.opts.allNamespaces ? ns : undefined, {
      ...(ctx.opts.selector ? { labelSelector: ctx.opts.selector } : {}),
      ...(ctx.opts.fieldSelector ? { fieldSelector: ctx.opts.fieldSelector } : {}),
    });
    for (const item of list.items)
      targets.push({ r: req.r, ns: item.metadata.namespace ?? ns, name: item.metadata.name ?? "" });
  }
  if (targets.length === 0) throw new CliError("error: no matching resources found");
  const signal = AbortSignal.timeout(Math.max(timeoutMs, 1));
  let failed = false;
  for (const t of targets) {
    const id = `${t.r.kind.toLowerCase()}${t.r.group ? `.${t.r.group}` : ""}/${t.name}`;
    try {
      await waitOne(ctx, t.r, t.ns, t.name, cond, signal);
      ctx.print(`${id} condition met\n`);
    } catch (err) {
      failed = true;
      if (signal.aborted) ctx.printErr(`error: timed out waiting for the condition on ${t.r.resource}/${t.name}\n`);
      else throw err;
    }
  }
  return failed ? 1 : 0;
}
