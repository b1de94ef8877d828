// kubeling cordon / uncordon / drain: spec.unschedulable and moving pods off a node. drain
// behaves as kubectl's (staging/src/k8s.io/kubectl/pkg/drain): the node's pods are evicted
// through pods/eviction, so PodDisruptionBudgets are honoured, a refused eviction (429) is
// retried every 5 s until --timeout, with kubectl's messages.

import { isNotFound, StatusError } from "#pkg/api/errors.js";
import { NODES, PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { formatDuration, parseDuration } from "#pkg/runtime/duration.js";
import type { CliContext } from "../context.js";
import { CliError, formatError } from "../errors.js";
import { waitGone } from "./delete.js";

export async function runCordon(ctx: CliContext, name: string, unschedulable: boolean): Promise<number> {
  const node = await ctx.client.get(NODES, undefined, name);
  const verb = unschedulable ? "cordoned" : "uncordoned";
  if (Boolean(node.spec?.unschedulable) === unschedulable) {
    ctx.print(`node/${name} already ${verb}\n`);
    return 0;
  }
  await ctx.client.patch(NODES, undefined, name, { spec: { unschedulable: unschedulable ? true : null } }, "merge", {
    fieldManager: "kubectl-cordon",
  });
  ctx.print(`node/${name} ${verb}\n`);
  return 0;
}

export interface DrainOptions {
  ignoreDaemonsets?: boolean;
  force?: boolean;
  deleteEmptydirData?: boolean;
  gracePeriod: string;
  timeout: string;
}

/** kubectl drain's pause between evictions a disruption budget refused (429). */
export const EVICTION_RETRY_MS = 5000;

function podKey(p: Pod): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}

/** Go's %q of a string (what kubectl's messages quote names with). */
const q = (s: string | undefined) => JSON.stringify(s ?? "");

/** An error as kubectl's %v prints it: a server error is its message. */
function plain(err: unknown): string {
  if (err instanceof StatusError) return err.message;
  return formatError(err).replace(/^error: /, "");
}

/** upstream utilerrors.NewAggregate(...).Error(): one error as it is, several in brackets. */
function aggregate(errs: readonly string[]): string {
  return errs.length === 1 ? (errs[0] ?? "") : `[${errs.join(", ")}]`;
}

interface PodsForDeletion {
  toDelete: Pod[];
  daemonSet: Pod[];
  unmanaged: Pod[];
  problems: string[];
}

/** kubectl drain's GetPodsForDeletion: the node's pods to evict, and why some may not be. */
async function podsForDeletion(ctx: CliContext, node: string, o: DrainOptions): Promise<PodsForDeletion> {
  const all = (await ctx.client.list(PODS, undefined, { fieldSelector: `spec.nodeName=${node}` })).items;
  const daemonSet: Pod[] = [];
  const unmanaged: Pod[] = [];
  const emptyDir: Pod[] = [];
  const toDelete: Pod[] = [];
  for (const p of all) {
    if (p.metadata.annotations?.["kubernetes.io/config.mirror"]) continue;
    const finished = p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
    const controller = p.metadata.ownerReferences?.find((r) => r.controller);
    if (controller?.kind === "DaemonSet" && !finished) {
      daemonSet.push(p);
      continue;
    }
    if (!controller && !finished) unmanaged.push(p);
    if (p.spec?.volumes?.some((v) => v.emptyDir) && !finished) emptyDir.push(p);
    toDelete.push(p);
  }
  const problems: string[] = [];
  if (daemonSet.length > 0 && !o.ignoreDaemonsets) {
    problems.push(
      `cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${daemonSet.map(podKey).join(", ")}`,
    );
  }
  if (unmanaged.length > 0 && !o.force) {
    problems.push(
      `cannot delete Pods that declare no controller (use --force to override): ${unmanaged.map(podKey).join(", ")}`,
    );
  }
  if (emptyDir.length > 0 && !o.deleteEmptydirData) {
    problems.push(
      `cannot delete Pods with local storage (use --delete-emptydir-data to override): ${emptyDir.map(podKey).join(", ")}`,
    );
  }
  return { toDelete, daemonSet, unmanaged, problems };
}

function unableToDrain(node: string, errs: readonly string[]): CliError {
  return new CliError(
    `error: unable to drain node ${q(node)} due to error: ${aggregate(errs)}, continuing command...\nThere are pending nodes to be drained:\n ${node}\n${errs.join("\n")}`,
  );
}

export async function runDrain(ctx: CliContext, name: string, o: DrainOptions): Promise<number> {
  await runCordon(ctx, name, true);
  const found = await podsForDeletion(ctx, name, o);
  if (found.problems.length > 0) throw unableToDrain(name, found.problems);
  if (found.daemonSet.length > 0)
    ctx.printErr(`Warning: ignoring DaemonSet-managed Pods: ${found.daemonSet.map(podKey).join(", ")}\n`);
  if (found.unmanaged.length > 0) {
    ctx.printErr(`Warning: deleting Pods that declare no controller: ${found.unmanaged.map(podKey).join(", ")}\n`);
  }

  const grace = Number(o.gracePeriod);
  const timeoutMs = o.timeout && o.timeout !== "0" ? parseDuration(o.timeout) : 0;
  // 0: no timeout (kubectl's MaxInt64).
  const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
  const timeoutText = formatDuration(timeoutMs > 0 ? timeoutMs : Number.MAX_SAFE_INTEGER);
  const results = await Promise.allSettled(
    found.toDelete.map(async (p) => {
      const ns = p.metadata.namespace;
      const podName = p.metadata.name ?? "";
      const outcome = await evictUntilAccepted(ctx, p, { grace, signal, timeoutText });
      if (outcome === "gone") return;
      try {
        await waitGone(ctx, PODS, ns, podName, p.metadata.uid, signal);
      } catch (err) {
        const why = signal?.aborted ? `global timeout reached: ${timeoutText}` : plain(err);
        throw new Error(`error when waiting for pod ${q(podName)} in namespace ${q(ns)} to terminate: ${why}`);
      }
      ctx.print(`pod/${podName} evicted\n`);
    }),
  );
  const errs = results.flatMap((r) => (r.status === "rejected" ? [plain(r.reason)] : []));
  if (errs.length === 0) {
    ctx.print(`node/${name} drained\n`);
    return 0;
  }
  ctx.printErr(`There are pending pods in node ${q(name)} when an error occurred: ${aggregate(errs)}\n`);
  try {
    for (const p of (await podsForDeletion(ctx, name, o)).toDelete) ctx.printErr(`pod/${p.metadata.name}\n`);
  } catch {
    // Only a listing for the user; the drain's own errors follow.
  }
  throw unableToDrain(name, errs);
}

/**
 * One pod's eviction as kubectl drain's evictPods loop: before each attempt the pod is read
 * again (gone, or replaced under the same name: done); a 429 (a disruption budget says not now)
 * is retried every EVICTION_RETRY_MS until the global timeout; anything else is the pod's error.
 * Resolves "evicted" once the server accepted the eviction, "gone" when there is nothing to evict.
 */
export async function evictUntilAccepted(
  ctx: CliContext,
  pod: Pod,
  o: { grace: number; signal?: AbortSignal | undefined; timeoutText: string; retryMs?: number },
): Promise<"evicted" | "gone"> {
  const ns = pod.metadata.namespace;
  const name = pod.metadata.name ?? "";
  for (;;) {
    ctx.print(`evicting pod ${ns}/${name}\n`);
    if (o.signal?.aborted) {
      throw new Error(`error when evicting pods/${q(name)} -n ${q(ns)}: global timeout reached: ${o.timeoutText}`);
    }
    try {
      const current = await ctx.client.get(PODS, ns, name);
      if (pod.metadata.uid && current.metadata.uid !== pod.metadata.uid) return "gone";
      await evictOrDelete(ctx, ns, name, o.grace);
      return "evicted";
    } catch (err) {
      if (isNotFound(err)) return "gone";
      if (!(err instanceof StatusError) || err.code !== 429) {
        throw new Error(`error when evicting pods/${q(name)} -n ${q(ns)}: ${plain(err)}`);
      }
      ctx.printErr(`error when evicting pods/${q(name)} -n ${q(ns)} (will retry after 5s): ${err.message}\n`);
      await sleep(o.retryMs ?? EVICTION_RETRY_MS, o.signal);
    }
  }
}

/** Resolves after ms, or at once when signal aborts (the loop then reports the timeout). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** POST pods/{name}/eviction; a server without the subresource gets a plain DELETE. */
async function evictOrDelete(ctx: CliContext, ns: string | undefined, name: string, grace: number): Promise<void> {
  const deleteOptions = grace >= 0 ? { gracePeriodSeconds: grace } : undefined;
  try {
    await ctx.client.create(
      PODS,
      ns,
      {
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name, namespace: ns },
        ...(deleteOptions ? { deleteOptions } : {}),
      },
      { name, subresource: "eviction" },
    );
  } catch (err) {
    const unsupported =
      err instanceof StatusError && (err.code === 404 || err.code === 405) && !isPodNotFound(err, name);
    if (!unsupported) throw err;
    await ctx.client.delete(PODS, ns, name, deleteOptions);
  }
}

function isPodNotFound(err: StatusError, name: string): boolean {
  return err.code === 404 && err.message === `pods "${name}" not found`;
}
