// kubeling delete: by type and name, by -f manifests, or by -l selector / --all; then, like
// kubectl's default --wait=true, waits until each object is really gone (GET 404, else a
// watch on metadata.name until DELETED or a new object with another uid).

import { isNotFound } from "#pkg/api/errors.js";
import type { DeleteOptions, KubeObject, PropagationPolicy } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import { parseDuration } from "#pkg/runtime/duration.js";
import type { CliContext } from "../context.js";
import { CliError, formatError } from "../errors.js";
import { loadManifests } from "../manifest.js";
import { kindPrefix, parseTypeArgs, resourceForObject } from "../resources.js";
import { namespaceForObject } from "./apply.js";

export interface DeleteCmdOptions {
  filenames?: string[];
  all?: boolean;
  gracePeriod?: string;
  now?: boolean;
  force?: boolean;
  cascade?: string;
  wait?: boolean;
  timeout?: string;
  ignoreNotFound?: boolean;
}

interface Target {
  r: ResourceInfo;
  ns: string | undefined;
  name: string;
  source?: string;
}

function propagation(cascade: string | undefined): PropagationPolicy {
  switch ((cascade ?? "background").toLowerCase()) {
    case "background":
    case "true":
      return "Background";
    case "foreground":
      return "Foreground";
    case "orphan":
    case "false":
      return "Orphan";
    default:
      throw new CliError(`error: invalid cascade value (${cascade}). Must be "background", "foreground", or "orphan".`);
  }
}

export function deleteOptionsFrom(o: DeleteCmdOptions): DeleteOptions {
  const opts: DeleteOptions = { propagationPolicy: propagation(o.cascade) };
  let grace = o.gracePeriod !== undefined ? Number(o.gracePeriod) : -1;
  if (Number.isNaN(grace)) throw new CliError(`error: invalid argument "${o.gracePeriod}" for "--grace-period" flag`);
  if (o.now) grace = 1;
  if (o.force && grace < 0) grace = 0;
  if (grace >= 0) opts.gracePeriodSeconds = grace;
  return opts;
}

/** What the user wants deleted. */
async function targets(ctx: CliContext, args: string[], o: DeleteCmdOptions): Promise<Target[]> {
  if (o.filenames && o.filenames.length > 0) {
    if (args.length > 0) throw new CliError("error: resource(s) were provided, but no name was specified");
    const items = await loadManifests(o.filenames, { stdin: ctx.io.in, verb: "delete" });
    return items.map(({ source, object }) => {
      const r = resourceForObject(object);
      return { r, ns: namespaceForObject(ctx, r, object), name: object.metadata.name ?? "", source };
    });
  }
  if (args.length === 0) {
    throw new CliError(
      "error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'",
    );
  }
  const out: Target[] = [];
  for (const req of parseTypeArgs(args)) {
    const ns = req.r.namespaced ? ctx.namespace : undefined;
    if (req.names.length > 0) {
      for (const name of req.names) out.push({ r: req.r, ns, name });
      continue;
    }
    if (!ctx.opts.selector && !ctx.opts.fieldSelector && !o.all) {
      throw new CliError("error: resource(s) were provided, but no name was specified");
    }
    const listNs = req.r.namespaced && !ctx.opts.allNamespaces ? ns : undefined;
    const list = await ctx.client.list(req.r, listNs, {
      ...(ctx.opts.selector ? { labelSelector: ctx.opts.selector } : {}),
      ...(ctx.opts.fieldSelector ? { fieldSelector: ctx.opts.fieldSelector } : {}),
    });
    for (const item of list.items) {
      out.push({
        r: req.r,
        ns: req.r.namespaced ? (item.metadata.namespace ?? listNs) : undefined,
        name: item.metadata.name ?? "",
      });
    }
  }
  if (out.length === 0)
    ctx.printErr(
      ctx.opts.allNamespaces ? "No resources found\n" : `No resources found in ${ctx.namespace} namespace.\n`,
    );
  return out;
}

export async function runDelete(ctx: CliContext, args: string[], o: DeleteCmdOptions): Promise<number> {
  const opts = deleteOptionsFrom(o);
  const list = await targets(ctx, args, o);
  let failed = false;
  const deleted: Array<Target & { uid?: string }> = [];
  if (opts.gracePeriodSeconds === 0) {
    ctx.printErr(
      "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n",
    );
  }
  for (const t of list) {
    try {
      const res = await ctx.client.delete(t.r, t.ns, t.name, opts);
      // The object (deferred, or a kind that answers with it) or a Status naming what went (kubectl reads either).
      const answer = res as (KubeObject & { details?: { uid?: string } }) | undefined;
      const uid = answer?.kind === "Status" ? answer.details?.uid : answer?.metadata?.uid;
      deleted.push({ ...t, ...(uid ? { uid } : {}) });
      ctx.print(`${kindPrefix(t.r)} "${t.name}" deleted\n`);
    } catch (err) {
      if (isNotFound(err) && o.ignoreNotFound) continue;
      failed = true;
      ctx.printErr(
        `${formatError(err, { verb: "deleting", ...(t.source ? { source: t.source } : {}), server: ctx.serverForMessages })}\n`,
      );
    }
  }
  const wait = o.wait ?? true;
  if (wait && opts.gracePeriodSeconds !== 0 && deleted.length > 0) {
    const timeoutMs = o.timeout && o.timeout !== "0" ? parseDuration(o.timeout) : 0;
    const deadline = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    for (const t of deleted) {
      try {
        await waitGone(ctx, t.r, t.ns, t.name, t.uid, deadline);
      } catch (err) {
        failed = true;
        if (deadline?.aborted)
          ctx.printErr(`error: timed out waiting for the condition on ${t.r.resource}/${t.name}\n`);
        else ctx.printErr(`${formatError(err, { server: ctx.serverForMessages })}\n`);
      }
    }
  }
  return failed ? 1 : 0;
}

/** Resolves once the object is gone (or replaced by one with another uid). */
export async function waitGone(
  ctx: CliContext,
  r: ResourceInfo,
  ns: string | undefined,
  name: string,
  uid: string | undefined,
  signal?: AbortSignal,
): Promise<void> {
  for (;;) {
    let current: KubeObject;
    try {
      current = await ctx.client.get(r, ns, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (uid && current.metadata.uid !== uid) return;
    const watchUid = uid ?? current.metadata.uid;
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for await (const ev of ctx.client.watch(
        r,
        ns,
        {
          fieldSelector: `metadata.name=${name}`,
          resourceVersion: current.metadata.resourceVersion ?? "0",
          allowWatchBookmarks: true,
        },
        ac.signal,
      )) {
        if (ev.type === "DELETED") return;
        if (ev.type !== "BOOKMARK" && ev.object.metadata?.uid && ev.object.metadata.uid !== watchUid) return;
      }
    } catch (err) {
      // 410 Expired or a dropped stream: look again from a fresh GET.
      if (signal?.aborted) throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      ac.abort();
    }
    if (signal?.aborted) throw new Error("timed out");
  }
}
