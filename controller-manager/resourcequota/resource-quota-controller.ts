// The resource quota controller (upstream pkg/controller/resourcequota/resource_quota_controller.go
// and resource_quota_monitor.go): keeps every ResourceQuota's status: status.hard is spec.hard,
// status.used what the namespace's objects use of it, computed from the informers' caches. Keys are
// quotas (namespace/name); a quota is synced when it is added or its spec.hard changes, every
// --resource-quota-sync-period, and when usage is given back (replenishment): an object it counts
// is deleted, or a pod finishes. Quota admission charges new usage at write time, so creates need
// no replenishment. Resources a quota counts by `count/...` get an informer when a quota first
// names them.

import { keyOf } from "#pkg/api/keys.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { BUILTIN_RESOURCES, PODS, RESOURCEQUOTAS, type ResourceInfo, SERVICES } from "#pkg/api/resources.js";
import type { ResourceQuota } from "#pkg/api/types/core.js";
import type { InformerFactory } from "#pkg/cache/factory.js";
import type { Informer } from "#pkg/cache/informer.js";
import { objectOf } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX } from "#pkg/cache/store.js";
import type { ApiClient } from "#pkg/client/client.js";
import { runWorkers } from "#pkg/controller/worker.js";
import { evaluatorFor, evaluatorsForNames, type QuotaEvaluator, usageOf } from "#pkg/quota/evaluators.js";
import {
  equals,
  formatResourceList,
  mask,
  parseResourceList,
  type ResourceList,
  resourceNames,
} from "#pkg/quota/resources.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext } from "../controller.js";

export const NAME = "resourcequota";
/** upstream --resource-quota-sync-period. */
export const DEFAULT_RESOURCE_QUOTA_SYNC_PERIOD_MS = 5 * 60_000;

export interface ResourceQuotaOptions {
  /** --resource-quota-sync-period: every quota is recomputed this often. */
  resyncPeriodMs?: number;
  /** The resources quota may count (default: every built-in one). */
  resources?: readonly ResourceInfo[];
}

const grKey = (r: Pick<ResourceInfo, "group" | "resource">) => `${r.group}/${r.resource}`;

/** The status a quota should have, given what its namespace uses (upstream syncResourceQuota's core). */
export function quotaStatus(
  q: ResourceQuota,
  usage: ResourceList,
): { hard: Record<string, string>; used: Record<string, string>; dirty: boolean } {
  const hardLimits = parseResourceList(q.spec?.hard);
  const statusHard = parseResourceList(q.status?.hard);
  let used = parseResourceList(q.status?.used);
  for (const [k, v] of usage) used.set(k, v);
  used = mask(used, resourceNames(hardLimits));
  const dirty =
    q.status?.hard === undefined ||
    q.status?.used === undefined ||
    !equals(hardLimits, statusHard) ||
    !equals(used, parseResourceList(q.status?.used));
  return { hard: formatResourceList(hardLimits), used: formatResourceList(used), dirty };
}

export class ResourceQuotaController implements Controller {
  readonly name = NAME;
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #informers: InformerFactory;
  readonly #quotas: Informer<ResourceQuota>;
  readonly #monitors = new Map<string, Informer<KubeObject>>();
  readonly #resources: readonly ResourceInfo[];
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #resyncMs: number;

  constructor(ctx: ControllerContext, o: ResourceQuotaOptions = {}) {
    this.#client = ctx.client;
    this.#informers = ctx.informers;
    this.#clock = ctx.clock;
    this.#log = ctx.log.child({ controller: NAME });
    this.#resources = o.resources ?? BUILTIN_RESOURCES;
    this.#resyncMs = o.resyncPeriodMs ?? DEFAULT_RESOURCE_QUOTA_SYNC_PERIOD_MS;
    this.queue = new WorkQueue({ name: NAME, clock: ctx.clock });
    this.#quotas = ctx.informers.informer(RESOURCEQUOTAS);
    this.#quotas.on("add", (q) => this.queue.add(keyOf(q)));
    this.#quotas.on("update", (old, cur) => {
      // Admission's status writes do not need a sync; a new spec.hard does.
      const hard = parseResourceList(cur.spec?.hard);
      if (!equals(hard, parseResourceList(old.spec?.hard)) || !equals(hard, parseResourceList(cur.status?.hard)))
        this.queue.add(keyOf(cur));
    });
    // Pods and services are what quotas count most; other kinds get a monitor on demand.
    this.#monitor(PODS);
    this.#monitor(SERVICES);
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    const resync = setInterval(() => {
      for (const q of this.#quotas.list()) this.queue.add(keyOf(q));
    }, this.#resyncMs);
    return runWorkers(this.queue, workers, (key) => this.sync(key, signal), signal, this.#log).finally(() =>
      clearInterval(resync),
    );
  }

  /** syncResourceQuota: status.hard from spec, status.used from the caches. */
  async sync(key: string, signal?: AbortSignal): Promise<void> {
    const q = this.#quotas.get(key);
    if (!q) return;
    const namespace = q.metadata.namespace ?? "";
    const names = resourceNames(parseResourceList(q.spec?.hard));
    const now = this.#clock.now();
    let usage: ResourceList = new Map();
    for (const e of evaluatorsForNames(names, this.#resources)) {
      const r = this.#resources.find((x) => grKey(x) === grKey(e.groupResource));
      if (!r) continue;
      const inf = this.#monitor(r);
      await inf.waitForSync(signal);
      const objects = inf.byIndex(NAMESPACE_INDEX, namespace);
      for (const [k, v] of usageOf(e, q, names, objects, now)) usage.set(k, v);
    }
    usage = mask(usage, names);
    const status = quotaStatus(q, usage);
    if (!status.dirty) return;
    const next = structuredClone(q) as ResourceQuota;
    next.status = { hard: status.hard, used: status.used };
    await this.#client.update(RESOURCEQUOTAS, namespace, next, { subresource: "status" });
    this.#log.debug({ key, used: status.used }, "updated quota status");
  }

  /** The informer of r, made (with its replenishment handlers) on first use. */
  #monitor(r: ResourceInfo): Informer<KubeObject> {
    const key = grKey(r);
    const existing = this.#monitors.get(key);
    if (existing) return existing;
    const inf = this.#informers.informer(r) as Informer<KubeObject>;
    this.#monitors.set(key, inf);
    const e = evaluatorFor(r);
    if (e) {
      inf.on("update", (old, cur) => {
        // A pod that finishes gives its compute usage back.
        const now = this.#clock.now();
        if (!equals(e.usage(old, now), e.usage(cur, now))) this.#replenish(e, cur.metadata.namespace ?? "");
      });
      inf.on("delete", (obj) => this.#replenish(e, objectOf(obj).metadata.namespace ?? ""));
    }
    return inf;
  }

  /** upstream replenishQuota: every quota of the namespace that counts e's resource. */
  #replenish(e: QuotaEvaluator, namespace: string): void {
    for (const q of this.#quotas.byIndex(NAMESPACE_INDEX, namespace)) {
      const names = resourceNames(parseResourceList(q.status?.hard ?? q.spec?.hard));
      if (e.matchingResources(names).length > 0) this.queue.add(keyOf(q));
    }
  }
}

export function newResourceQuotaController(ctx: ControllerContext): Controller {
  return new ResourceQuotaController(ctx, ctx.options?.resourceQuota);
}
