// NamespaceController (upstream: pkg/controller/namespace/namespace_controller.go and
// deletion/namespaced_resources_deleter.go): a namespace with a deletionTimestamp and the
// `kubernetes` finalizer in spec.finalizers is emptied, every namespaced resource the server serves
// (found through discovery) deleted in it, and then the finalizer is removed through
// namespaces/<name>/finalize, after which the API server removes the namespace. While content
// remains, the namespace's status conditions say why and the key comes back after a short delay.

import { isConflict, isNotFound } from "#pkg/api/errors.js";
import { NAMESPACES, type ResourceInfo } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Namespace } from "#pkg/api/types/index.js";
import type { Informer } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { type DiscoveredGroupVersion, resourceInfoOf } from "#pkg/client/discovery.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext } from "../controller.js";

export const NAME = "namespace";

/** The spec.finalizers entry this controller owns (upstream: v1.FinalizerKubernetes). */
export const FINALIZER_KUBERNETES = "kubernetes";

/** How soon a namespace whose content is still going away is looked at again. */
const CONTENT_REMAINING_DELAY_MS = 1000;

type NamespaceCondition = NonNullable<NonNullable<Namespace["status"]>["conditions"]>[number];

// Upstream's condition types with the reason/message each has when all is well (status False).
const CONDITION_OK: ReadonlyArray<readonly [type: string, reason: string, message: string]> = [
  ["NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"],
  ["NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions", "All legacy kube types successfully parsed"],
  [
    "NamespaceDeletionContentFailure",
    "ContentDeleted",
    "All content successfully deleted, may be waiting on finalization",
  ],
  ["NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"],
  ["NamespaceFinalizersRemaining", "ContentHasNoFinalizers", "All content-preserving finalizers finished"],
];

/** What one pass over the namespace's content found. */
export interface DeletionResult {
  discoveryError?: string;
  /** "<resource>.<group>" -> error message, for resources whose delete or list failed. */
  failures: Map<string, string>;
  /** "<resource>.<group>" -> how many objects are still there. */
  remaining: Map<string, number>;
  /** finalizer -> how many remaining objects carry it. */
  finalizers: Map<string, number>;
}

export class NamespaceController implements Controller {
  readonly name = NAME;
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #log: Logger;
  readonly #namespaces: Informer<Namespace>;

  constructor(ctx: ControllerContext) {
    this.#client = ctx.client;
    this.#log = ctx.log.child({ controller: NAME });
    this.queue = new WorkQueue({ name: NAME, clock: ctx.clock });
    this.#namespaces = ctx.informers.informer(NAMESPACES);
    const enqueue = (ns: Namespace) => {
      if (ns.metadata.name && ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name);
    };
    this.#namespaces.on("add", enqueue);
    this.#namespaces.on("update", (_old, ns) => enqueue(ns));
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runWorkers(this.queue, workers, (ns) => this.sync(ns), signal, this.#log);
  }

  /** sync empties terminating namespace `name` and, once it is empty, removes the finalizer. */
  async sync(name: string): Promise<void> {
    // The live object, not the cache: the finalize PUT must not act on a stale resourceVersion.
    let ns: Namespace;
    try {
      ns = await this.#client.get(NAMESPACES, undefined, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!ns.metadata.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;

    const result = await this.#deleteAllContent(name);
    ns = await this.#updateConditions(ns, result);
    if (result.discoveryError !== undefined || result.failures.size > 0) {
      // Thrown so runWorkers retries with the rate limiter's backoff.
      throw new Error(`namespace ${name}: ${describeFailures(result)}`);
    }
    if (result.remaining.size > 0) {
      this.#log.debug({ namespace: name, remaining: Object.fromEntries(result.remaining) }, "content remaining");
      this.queue.addAfter(name, CONTENT_REMAINING_DELAY_MS);
      return;
    }
    await this.#finalize(ns);
  }

  /** Deletes every namespaced resource's objects in `namespace`, then counts what is left. */
  async #deleteAllContent(namespace: string): Promise<DeletionResult> {
    const result: DeletionResult = { failures: new Map(), remaining: new Map(), finalizers: new Map() };
    let groups: DiscoveredGroupVersion[];
    try {
      groups = await this.#client.discovery();
    } catch (err) {
      result.discoveryError = (err as Error).message;
      return result;
    }
    for (const r of deletableResources(groups)) {
      const key = r.group ? `${r.resource}.${r.group}` : r.resource;
      try {
        await this.#deleteCollection(r, namespace);
        const left = await this.#client.list(r, namespace);
        if (left.items.length === 0) continue;
        result.remaining.set(key, left.items.length);
        for (const o of left.items) {
          for (const f of o.metadata.finalizers ?? []) result.finalizers.set(f, (result.finalizers.get(f) ?? 0) + 1);
        }
      } catch (err) {
        // NotFound: the resource went away since discovery (a CRD deleted); nothing to do.
        if (isNotFound(err)) continue;
        result.failures.set(key, (err as Error).message);
      }
    }
    return result;
  }

  /** deletecollection where the resource allows it, else list and delete one by one. */
  async #deleteCollection(r: ResourceInfo, namespace: string): Promise<void> {
    if (r.verbs.includes("deletecollection")) {
      await this.#client.deleteCollection(r, namespace);
      return;
    }
    const list = await this.#client.list(r, namespace);
    for (const o of list.items) {
      if (!o.metadata.name || o.metadata.deletionTimestamp) continue;
      try {
        await this.#client.delete(r, namespace, o.metadata.name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** Writes the deletion conditions to the namespace's status when they changed. */
  async #updateConditions(ns: Namespace, result: DeletionResult): Promise<Namespace> {
    const now = metaTime();
    const old = ns.status?.conditions ?? [];
    const conditions = deletionConditions(result).map((c): NamespaceCondition => {
      const prev = old.find((o) => o.type === c.type);
      const same = prev?.status === c.status && prev.reason === c.reason && prev.message === c.message;
      return same ? prev : { ...c, lastTransitionTime: prev?.status === c.status ? prev.lastTransitionTime : now };
    });
    const kept = old.filter((o) => !CONDITION_OK.some(([t]) => t === o.type));
    const next = [...kept, ...conditions];
    if (JSON.stringify(next) === JSON.stringify(old) && ns.status?.phase === "Terminating") return ns;
    try {
      return await this.#client.update(
        NAMESPACES,
        undefined,
        { ...ns, status: { ...ns.status, phase: "Terminating", conditions: next } },
        { subresource: "status" },
      );
    } catch (err) {
      // Someone else wrote it meanwhile; the next pass writes the conditions again.
      if (isConflict(err)) return await this.#client.get(NAMESPACES, undefined, ns.metadata.name ?? "");
      throw err;
    }
  }

  /** Removes the `kubernetes` finalizer through namespaces/<name>/finalize. */
  async #finalize(ns: Namespace): Promise<void> {
    const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES);
    try {
      await this.#client.update(
        NAMESPACES,
        undefined,
        { ...ns, spec: { ...ns.spec, finalizers } },
        {
          subresource: "finalize",
        },
      );
      this.#log.info({ namespace: ns.metadata.name }, "namespace emptied; removed the kubernetes finalizer");
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }
}

/**
 * The namespaced resources whose objects can be deleted: deletecollection, or delete and list.
 * Subresources ("pods/log") are not objects of their own.
 */
export function deletableResources(groups: readonly DiscoveredGroupVersion[]): ResourceInfo[] {
  const out: ResourceInfo[] = [];
  for (const gv of groups) {
    for (const r of gv.resources) {
      if (!r.namespaced || r.name.includes("/")) continue;
      const verbs = r.verbs ?? [];
      if (!verbs.includes("deletecollection") && !(verbs.includes("delete") && verbs.includes("list"))) continue;
      if (!verbs.includes("list")) continue;
      out.push(resourceInfoOf(gv, r));
    }
  }
  return out;
}

/** Upstream's five deletion conditions for one pass's result (lastTransitionTime left to the caller). */
export function deletionConditions(result: DeletionResult): Omit<NamespaceCondition, "lastTransitionTime">[] {
  const failing = new Map<string, [reason: string, message: string]>();
  if (result.discoveryError !== undefined) {
    failing.set("NamespaceDeletionDiscoveryFailure", [
      "DiscoveryFailed",
      `Discovery failed for some groups: ${result.discoveryError}`,
    ]);
  }
  if (result.failures.size > 0) {
    failing.set("NamespaceDeletionContentFailure", [
      "ContentDeletionFailed",
      `Failed to delete all resource types, ${result.failures.size} remaining: ${describeFailures(result)}`,
    ]);
  }
  if (result.remaining.size > 0) {
    const parts = [...result.remaining].sort().map(([r, n]) => `${r} has ${n} resource instances`);
    failing.set("NamespaceContentRemaining", [
      "SomeResourcesRemain",
      `Some resources are remaining: ${parts.join(", ")}`,
    ]);
  }
  if (result.finalizers.size > 0) {
    const parts = [...result.finalizers].sort().map(([f, n]) => `${f} in ${n} resource instances`);
    failing.set("NamespaceFinalizersRemaining", [
      "SomeFinalizersRemain",
      `Some content in the namespace has finalizers remaining: ${parts.join(", ")}`,
    ]);
  }
  return CONDITION_OK.map(([type, okReason, okMessage]) => {
    const bad = failing.get(type);
    return bad
      ? { type, status: "True", reason: bad[0], message: bad[1] }
      : { type, status: "False", reason: okReason, message: okMessage };
  });
}

function describeFailures(result: DeletionResult): string {
  if (result.discoveryError !== undefined) return `discovery failed: ${result.discoveryError}`;
  return [...result.failures]
    .sort()
    .map(([r, m]) => `${r}: ${m}`)
    .join(", ");
}

export function newNamespaceController(ctx: ControllerContext): Controller {
  return new NamespaceController(ctx);
}
