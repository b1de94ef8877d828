// ClusterRoleAggregationController (upstream pkg/controller/clusterroleaggregation): a
// ClusterRole with an aggregationRule gets, as its rules, the rules of every ClusterRole its
// selectors match (itself excluded; selectors in order, matched roles by name, duplicates
// dropped). Any ClusterRole change re-queues every aggregated one, as upstream: they are few,
// and that saves tracking which selector matches what.

import { isNotFound } from "#pkg/api/errors.js";
import { selectorFromLabelSelector } from "#pkg/api/labels.js";
import { CLUSTERROLES } from "#pkg/api/resources.js";
import type { ClusterRole, PolicyRule } from "#pkg/api/types/rbac.js";
import type { Informer } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext } from "../controller.js";

export const NAME = "clusterrole-aggregation";

/** Deep equality of JSON values (rules are plain JSON). */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A rule with its lists in one key order, so equal rules compare equal whatever their JSON order. */
function canonical(r: PolicyRule): PolicyRule {
  const out: PolicyRule = { verbs: r.verbs };
  if (r.apiGroups !== undefined) out.apiGroups = r.apiGroups;
  if (r.resources !== undefined) out.resources = r.resources;
  if (r.resourceNames !== undefined) out.resourceNames = r.resourceNames;
  if (r.nonResourceURLs !== undefined) out.nonResourceURLs = r.nonResourceURLs;
  return out;
}

/** The rules an aggregated role should hold, given every ClusterRole (upstream syncClusterRole). */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const sorted = [...all].sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
  for (const ls of role.aggregationRule?.clusterRoleSelectors ?? []) {
    const selector = selectorFromLabelSelector(ls);
    for (const other of sorted) {
      if (other.metadata.name === role.metadata.name) continue;
      if (!selector.matches(other.metadata.labels ?? {})) continue;
      for (const r of other.rules ?? []) {
        const c = canonical(r);
        if (!rules.some((have) => same(have, c))) rules.push(c);
      }
    }
  }
  return rules;
}

export class ClusterRoleAggregationController implements Controller {
  readonly name = NAME;
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #log: Logger;
  readonly #roles: Informer<ClusterRole>;

  constructor(ctx: ControllerContext) {
    this.#client = ctx.client;
    this.#log = ctx.log.child({ controller: NAME });
    this.queue = new WorkQueue({ name: "ClusterRoleAggregator", clock: ctx.clock });
    this.#roles = ctx.informers.informer(CLUSTERROLES);
    const enqueueAll = () => {
      for (const r of this.#roles.list()) {
        if (r.aggregationRule && r.metadata.name) this.queue.add(r.metadata.name);
      }
    };
    this.#roles.on("add", enqueueAll);
    this.#roles.on("update", enqueueAll);
    this.#roles.on("delete", enqueueAll);
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runWorkers(this.queue, workers, (name) => this.sync(name), signal, this.#log);
  }

  async sync(name: string): Promise<void> {
    const role = this.#roles.get(name);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, this.#roles.list());
    if (same(rules, (role.rules ?? []).map(canonical))) return;
    // upstream applies with force; an update of the cached object is its fallback, and a
    // conflict here only means a newer role is on its way to the cache (the key is retried).
    try {
      await this.#client.update<ClusterRole>(CLUSTERROLES, undefined, { ...structuredClone(role), rules });
      this.#log.info({ clusterRole: name, rules: rules.length }, "aggregated ClusterRole rules");
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }
}

export function newClusterRoleAggregationController(ctx: ControllerContext): Controller {
  return new ClusterRoleAggregationController(ctx);
}
