// Writing taints on Nodes from controllers (upstream pkg/controller/controller_utils.go
// AddOrUpdateTaintOnNode / RemoveTaintOffNode and util/node's SwapNodeControllerTaint): the first
// attempt works on the informer's copy, a conflict re-reads the Node, up to 5 attempts.

import { isConflict } from "../api/errors.js";
import { NODES } from "../api/resources.js";
import { taintMatches } from "../api/taints.js";
import { metaTime } from "../api/time.js";
import type { Node, Taint } from "../api/types/core.js";
import type { ApiClient } from "../client/client.js";

const UPDATE_RETRIES = 5;

/**
 * updateNodeTaints applies change to the Node's taints (a function of the current ones that
 * returns the new list, or undefined for "nothing to do") and writes it, re-reading on conflict.
 * Returns whether it wrote. cached (read-only) saves the first GET.
 */
export async function updateNodeTaints(
  client: ApiClient,
  nodeName: string,
  change: (taints: readonly Taint[]) => Taint[] | undefined,
  cached?: Node,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const node = attempt === 1 && cached ? cached : await client.get(NODES, undefined, nodeName);
    const next = change(node.spec?.taints ?? []);
    if (!next) return false;
    const updated: Node = structuredClone(node);
    updated.spec = { ...(updated.spec ?? {}), taints: next };
    if (next.length === 0) delete updated.spec.taints;
    try {
      await client.update(NODES, undefined, updated);
      return true;
    } catch (err) {
      if (!isConflict(err) || attempt >= UPDATE_RETRIES) throw err;
    }
  }
}

/** addOrUpdateTaints: the taints after adding `add` (a taint of the same key and effect is replaced). */
export function addOrUpdateTaints(current: readonly Taint[], add: readonly Taint[]): Taint[] | undefined {
  let changed = false;
  const next = current.map((t) => ({ ...t }));
  for (const t of add) {
    const i = next.findIndex((x) => taintMatches(x, t));
    if (i < 0) {
      next.push({ ...t });
      changed = true;
    } else if (JSON.stringify(next[i]) !== JSON.stringify(t)) {
      next[i] = { ...t };
      changed = true;
    }
  }
  return changed ? next : undefined;
}

/** removeTaints: the taints without those matching (key and effect) any of `remove`. */
export function removeTaints(
  current: readonly Taint[],
  remove: readonly Pick<Taint, "key" | "effect">[],
): Taint[] | undefined {
  const next = current.filter((t) => !remove.some((r) => taintMatches(t, r)));
  return next.length === current.length ? undefined : next.map((t) => ({ ...t }));
}

/**
 * swapNodeControllerTaints (upstream SwapNodeControllerTaint): adds `add` with timeAdded `now`
 * and removes `remove`, in one write. Returns whether the node changed.
 */
export function swapNodeControllerTaints(
  client: ApiClient,
  node: Node,
  add: readonly Taint[],
  remove: readonly Pick<Taint, "key" | "effect">[],
  now: number,
): Promise<boolean> {
  const timeAdded = metaTime(now);
  const stamped = add.map((t) => ({ ...t, timeAdded }));
  return updateNodeTaints(
    client,
    node.metadata.name ?? "",
    (current) => {
      // Only a missing taint is (re)added: one already there keeps its timeAdded.
      const missing = stamped.filter((t) => !current.some((x) => taintMatches(x, t)));
      const afterAdd = addOrUpdateTaints(current, missing) ?? [...current];
      const afterRemove = removeTaints(afterAdd, remove);
      return afterRemove ?? (missing.length > 0 ? afterAdd : undefined);
    },
    node,
  );
}

/** removeTaintsOffNode (upstream RemoveTaintOffNode): no request when the cached node has none of them. */
export async function removeTaintsOffNode(
  client: ApiClient,
  node: Node,
  remove: readonly Pick<Taint, "key" | "effect">[],
): Promise<boolean> {
  if (!(node.spec?.taints ?? []).some((t) => remove.some((r) => taintMatches(t, r)))) return false;
  return updateNodeTaints(client, node.metadata.name ?? "", (current) => removeTaints(current, remove), node);
}
