// kubeling cordon / uncordon / drain: spec.unschedulable and moving pods off a node.

import { isNotFound, StatusError } from "#pkg/api/errors.js";
import { NODES, PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { parseDuration } from "#pkg/runtime/duration.js";
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

function podKey(p: Pod): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}

export async function runDrain(ctx: CliContext, name: string, o: DrainOptions): Promise<number> {
  await runCordon(ctx, name, true);
  const all = (await ctx.client.list(PODS, undefined, { fieldSelector: `spec.nodeName=${name}` })).items;

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
  if (problems.length > 0) {
    throw new CliError(
      `error: unable to drain node "${name}" due to error: ${problems.join(", ")}, continuing command...\nThere are pending nodes to be drained:\n ${name}\n${problems.join("\n")}`,
    );
  }
  if (daemonSet.length > 0)
    ctx.printErr(`Warning: ignoring DaemonSet-managed Pods: ${daemonSet.map(podKey).join(", ")}\n`);
  if (unmanaged.length > 0) {
    ctx.printErr(`Warning: deleting Pods that declare no controller: ${unmanaged.map(podKey).join(", ")}\n`);
  }

  const grace = Number(o.gracePeriod);
  const timeoutMs = o.timeout && o.timeout !== "0" ? parseDuration(o.timeout) : 0;
  const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
  let failed = false;
  await Promise.all(
    toDelete.map(async (p) => {
      const ns = p.metadata.namespace;
      const podName = p.metadata.name ?? "";
      ctx.print(`evicting pod ${ns}/${podName}\n`);
      try {
        await evictOrDelete(ctx, ns, podName, grace);
        await waitGone(ctx, PODS, ns, podName, p.metadata.uid, signal);
        ctx.print(`pod/${podName} evicted\n`);
      } catch (err) {
        if (isNotFound(err)) {
          ctx.print(`pod/${podName} evicted\n`);
          return;
        }
        failed = true;
        ctx.printErr(`error when evicting pods/"${podName}" -n "${ns}": ${formatError(err).replace(/^error: /, "")}\n`);
      }
    }),
  );
  if (failed) return 1;
  ctx.print(`node/${name} drained\n`);
  return 0;
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
