// The ResourceQuota admission plugin (upstream plugin/pkg/admission/resourcequota,
// controller.go checkRequest/checkQuotas): a write that adds usage in a namespace with quotas is
// refused when it would take any quota over its limit, and otherwise charged to the quotas'
// status.used before it is stored (the resource quota controller later recomputes the figures
// from what exists). Quotas are counted once the controller has set status.hard; usage must be
// known for every limited resource. Writes in one namespace are checked one at a time in this
// server; status updates that lose a race with another writer are retried on the fresh quota.

import { isConflict } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { RESOURCEQUOTAS } from "#pkg/api/resources.js";
import type { ResourceQuota } from "#pkg/api/types/core.js";
import { evaluatorFor, hardOf, type QuotaEvaluator, quotaMatches } from "#pkg/quota/evaluators.js";
import {
  add,
  equals,
  formatResourceList,
  isNegative,
  isZero,
  lessThanOrEqual,
  mask,
  parseResourceList,
  prettyPrint,
  type ResourceList,
  resourceNames,
  subtract,
} from "#pkg/quota/resources.js";
import type { Attributes, Operation } from "../attributes.js";
import type { AdmissionPlugin } from "../chain.js";
import type { AdmissionContext } from "../context.js";
import { admissionForbidden } from "../errors.js";

export const RESOURCE_QUOTA = "ResourceQuota";

/** Conflicting status writes are retried this many times (upstream checkQuotas' 3). */
const RETRIES = 3;

/**
 * The quotas' new used figures if a is admitted (upstream checkRequest), or a Forbidden error.
 * quotas maps name -> quota; only changed ones come back.
 */
export function checkRequest(
  a: Attributes,
  e: QuotaEvaluator,
  quotas: readonly ResourceQuota[],
  nowMs: number,
): Map<string, ResourceList> {
  const obj = a.object as KubeObject;
  const interesting: ResourceQuota[] = [];
  for (const q of quotas) {
    if (!quotaMatches(e, q, obj)) continue;
    const required = e.matchingResources(resourceNames(hardOf(q)));
    const missing = e.constraints(required, obj);
    if (missing) throw admissionForbidden(a, `failed quota: ${q.metadata.name}: ${missing}`);
    const used = q.status?.used ?? {};
    if (!required.every((r) => r in used)) {
      throw admissionForbidden(
        a,
        `status unknown for quota: ${q.metadata.name}, resources: ${[...required].sort().join(",")}`,
      );
    }
    interesting.push(q);
  }
  const changed = new Map<string, ResourceList>();
  if (interesting.length === 0) return changed;

  let delta = e.usage(obj, nowMs);
  const negative = isNegative(delta);
  if (negative.length > 0)
    throw admissionForbidden(a, `quota usage is negative for resource(s): ${negative.sort().join(",")}`);
  // An update is charged what it adds (unless it creates: then there is nothing before it).
  if (a.operation === "UPDATE" && a.oldObject?.metadata.resourceVersion)
    delta = subtract(delta, e.usage(a.oldObject, nowMs));
  if (isZero(delta)) return changed;

  for (const q of interesting) {
    const hard = hardOf(q);
    const used = parseResourceList(q.status?.used);
    const requested = mask(delta, hard.keys());
    const next = add(used, requested);
    const { ok, exceeded } = lessThanOrEqual(mask(next, requested.keys()), hard);
    if (!ok) {
      throw admissionForbidden(
        a,
        `exceeded quota: ${q.metadata.name}, requested: ${prettyPrint(mask(requested, exceeded))}, used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`,
      );
    }
    if (!equals(next, used)) changed.set(q.metadata.name ?? "", next);
  }
  return changed;
}

export function newResourceQuotaAdmission(ctx: AdmissionContext, now: () => number = Date.now): AdmissionPlugin {
  /** One evaluation at a time per namespace (upstream batches them per namespace). */
  const tails = new Map<string, Promise<unknown>>();
  const serially = <T>(namespace: string, fn: () => Promise<T>): Promise<T> => {
    const prev = tails.get(namespace) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    tails.set(namespace, tail);
    void tail.then(() => {
      if (tails.get(namespace) === tail) tails.delete(namespace);
    });
    return run;
  };

  const evaluate = async (a: Attributes, e: QuotaEvaluator): Promise<void> => {
    const store = ctx.store(RESOURCEQUOTAS);
    let quotas = (await ctx.current(RESOURCEQUOTAS, a.namespace)) as ResourceQuota[];
    for (let attempt = 0; ; attempt++) {
      const changed = checkRequest(a, e, quotas, now());
      if (changed.size === 0 || a.dryRun) return;
      const conflicted: string[] = [];
      for (const q of quotas) {
        const used = changed.get(q.metadata.name ?? "");
        if (!used) continue;
        const next = structuredClone(q) as ResourceQuota;
        next.status = { ...(next.status ?? {}), used: formatResourceList(used) };
        try {
          await store.update(a.namespace, q.metadata.name ?? "", next, { subresource: "status" });
        } catch (err) {
          if (!isConflict(err) || attempt >= RETRIES) throw err;
          conflicted.push(q.metadata.name ?? "");
        }
      }
      if (conflicted.length === 0) return;
      // Someone else moved these quotas on: check again against what storage has now.
      const fresh = (await store.list(a.namespace, {})).items as ResourceQuota[];
      quotas = fresh.filter((q) => conflicted.includes(q.metadata.name ?? ""));
    }
  };

  return {
    name: RESOURCE_QUOTA,
    handles: (op: Operation) => op === "CREATE" || op === "UPDATE",
    async validate(a) {
      // upstream: sub-resource actions (status, binding, eviction, ...) are never charged.
      if (a.subresource !== "" || a.namespace === "" || !a.object) return;
      const e = evaluatorFor(a.resource);
      if (!e?.handles(a.operation, a.subresource)) return;
      // Nothing to do where no quota exists (the common case, without waiting for anything).
      if ((await ctx.current(RESOURCEQUOTAS, a.namespace)).length === 0) return;
      await serially(a.namespace, () => evaluate(a, e));
    },
  };
}
