// GarbageCollector (upstream: pkg/controller/garbagecollector/garbagecollector.go and
// operations.go, patch.go): deletes objects whose owners are all gone, deletes the dependents of
// an owner in foreground deletion before letting it go, and orphans the dependents of an owner
// deleted with the orphan finalizer. It knows no kind: every resource discovery lists as
// deletable, listable and watchable is monitored (re-discovered every 30 s, so new kinds join),
// and owner references are followed by uid. The GraphBuilder keeps the owner → dependents graph
// and fills two queues of object uids; the workers here check each against the API server (an
// owner absent from the graph is looked up live: a missing object, or one whose uid differs
// from the reference's, is absent) and delete, patch or finalize.

import { isConflict, isNotFound, isStatusError } from "#pkg/api/errors.js";
import {
  type DeleteOptions,
  FINALIZER_FOREGROUND,
  FINALIZER_ORPHAN,
  type KubeObject,
  type OwnerReference,
  type PropagationPolicy,
} from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { InformerView } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { DiscoveredGroupVersion } from "#pkg/client/discovery.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { pollUntil, until } from "#pkg/runtime/wait.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext } from "../controller.js";
import {
  describe,
  type GraphNode,
  type ObjectReference,
  ownerReferenceCoordinates,
  ReferenceCache,
  referenceString,
} from "./graph.js";
import { type EventSink, GraphBuilder } from "./graph-builder.js";
import { deletableResources, IGNORED_RESOURCES, RESTMapper, RESTMappingError, resourceKey } from "./resources.js";

export const NAME = "garbagecollector";

/** kube-controller-manager re-reads the collector's resources from discovery this often. */
export const RESOURCE_RESYNC_PERIOD_MS = 30_000;

/** How long the workers wait for the first lists of every monitor before they start anyway. */
export const INITIAL_SYNC_TIMEOUT_MS = 30_000;

/** upstream NewReferenceCache(500). */
const ABSENT_OWNER_CACHE_SIZE = 500;

/** client-go retry.DefaultBackoff: 5 tries, 10 ms apart (removeFinalizer's conflict retries). */
const CONFLICT_RETRIES = 5;
const CONFLICT_RETRY_MS = 10;

/** The node was verified absent and a virtual delete event queued: nothing to retry. */
class EnqueuedVirtualDeleteEvent extends Error {
  constructor() {
    super("enqueued virtual delete event");
  }
}

/** A cluster-scoped object naming a namespaced owner: retrying cannot help. */
class NamespacedOwnerOfClusterScopedObject extends Error {
  constructor() {
    super("cluster-scoped objects cannot refer to namespaced owners");
  }
}

type Action = "forget" | "requeue";

export interface GarbageCollectorOptions {
  /** Discovery re-read period (default 30 s). */
  resyncPeriodMs?: number;
  initialSyncTimeoutMs?: number;
  /** The server's resources (default: the client's discovery). */
  discover?: () => Promise<DiscoveredGroupVersion[]>;
  /** "<resource>.<group>" names never monitored (default: events). */
  ignoredResources?: ReadonlySet<string>;
  /** The informer of a resource (default: the shared InformerFactory's). */
  informerFor?: (r: ResourceInfo) => InformerView;
}

export class GarbageCollector implements Controller {
  readonly name = NAME;
  /** Uids of objects that may be garbage, or owners in foreground deletion to re-check. */
  readonly attemptToDelete: WorkQueue;
  /** Uids of owners whose dependents are to be orphaned. */
  readonly attemptToOrphan: WorkQueue;
  readonly absentOwnerCache = new ReferenceCache(ABSENT_OWNER_CACHE_SIZE);
  readonly graph: GraphBuilder;
  readonly #client: ApiClient;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #o: Required<Omit<GarbageCollectorOptions, "informerFor">> & Pick<GarbageCollectorOptions, "informerFor">;
  readonly #informerFor: (r: ResourceInfo) => InformerView;
  #mapper = new RESTMapper([]);
  #resources = new Set<string>();

  constructor(ctx: ControllerContext, o: GarbageCollectorOptions = {}) {
    this.#client = ctx.client;
    this.#clock = ctx.clock;
    this.#log = ctx.log.child({ controller: NAME });
    this.#o = {
      resyncPeriodMs: o.resyncPeriodMs ?? RESOURCE_RESYNC_PERIOD_MS,
      initialSyncTimeoutMs: o.initialSyncTimeoutMs ?? INITIAL_SYNC_TIMEOUT_MS,
      discover: o.discover ?? (() => this.#client.discovery()),
      ignoredResources: o.ignoredResources ?? IGNORED_RESOURCES,
      informerFor: o.informerFor,
    };
    this.#informerFor = o.informerFor ?? ((r) => ctx.informers.informer(r));
    this.attemptToDelete = new WorkQueue({ name: "garbage_collector_attempt_to_delete", clock: ctx.clock });
    this.attemptToOrphan = new WorkQueue({ name: "garbage_collector_attempt_to_orphan", clock: ctx.clock });
    const recorder: EventSink = ctx.recorder("garbage-collector-controller");
    this.graph = new GraphBuilder({
      attemptToDelete: this.attemptToDelete,
      attemptToOrphan: this.attemptToOrphan,
      absentOwnerCache: this.absentOwnerCache,
      recorder,
      log: this.#log,
    });
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ workers }, "starting garbage collector");
    const onAbort = () => {
      this.attemptToDelete.shutDown();
      this.attemptToOrphan.shutDown();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    // upstream Sync: the first pass at once, then every period.
    const sync = until(() => this.resyncResources(), this.#o.resyncPeriodMs, signal, {
      clock: this.#clock,
      onError: (err) => this.#log.error({ err }, "garbage collector resource sync failed"),
    });
    const synced = await pollUntil(() => this.graph.isSynced(), 100, {
      timeoutMs: this.#o.initialSyncTimeoutMs,
      signal,
      clock: this.#clock,
      immediate: true,
    });
    if (!signal.aborted) {
      if (synced) this.#log.info("all resource monitors have synced; proceeding to collect garbage");
      else this.#log.info("not all resource monitors could be synced; proceeding to collect garbage anyway");
    }
    const loops: Promise<void>[] = [];
    for (let i = 0; i < Math.max(1, workers); i++) {
      loops.push(this.#runWorker(this.attemptToDelete, signal, (uid) => this.#attemptToDeleteWorker(uid)));
      loops.push(this.#runWorker(this.attemptToOrphan, signal, (uid) => this.#attemptToOrphanWorker(uid)));
    }
    try {
      await Promise.all([sync, ...loops]);
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#log.info("garbage collector stopped");
    }
  }

  /**
   * resyncResources: one discovery pass (upstream Sync's body). When the deletable resources
   * changed, the REST mapper is rebuilt and monitors are added for new ones and silenced for
   * removed ones. Returns whether anything changed. A discovery failure keeps what is monitored.
   */
  async resyncResources(): Promise<boolean> {
    let groups: DiscoveredGroupVersion[];
    try {
      groups = await this.#o.discover();
    } catch (err) {
      this.#log.warn({ err }, "failed to discover resources; keeping the monitored ones");
      return false;
    }
    const resources = deletableResources(groups, this.#o.ignoredResources);
    if (resources.length === 0) {
      this.#log.debug("no resources reported by discovery, skipping garbage collector sync");
      return false;
    }
    const keys = new Set(resources.map(resourceKey));
    if (keys.size === this.#resources.size && [...keys].every((k) => this.#resources.has(k))) return false;
    this.#mapper = new RESTMapper(groups);
    const diff = this.graph.syncMonitors(resources, this.#informerFor);
    this.#resources = keys;
    this.#log.info(
      { added: diff.added, removed: diff.removed, monitors: keys.size },
      "syncing garbage collector with updated resources from discovery",
    );
    return true;
  }

  // ------------------------------------------------------------------ workers

  async #runWorker(queue: WorkQueue, signal: AbortSignal, work: (uid: string) => Promise<Action>): Promise<void> {
    for (;;) {
      const uid = await queue.get();
      if (uid === undefined) return;
      if (signal.aborted) {
        queue.done(uid);
        return;
      }
      try {
        const action = await work(uid);
        if (action === "forget") queue.forget(uid);
        else queue.addRateLimited(uid);
      } catch (err) {
        this.#log.error({ err, uid }, "garbage collector worker failed");
        queue.addRateLimited(uid);
      } finally {
        queue.done(uid);
      }
    }
  }

  /** upstream attemptToDeleteWorker: the node as the graph has it now. */
  async #attemptToDeleteWorker(uid: string): Promise<Action> {
    // Gone from the graph: its deletion was observed (or a virtual node was verified absent).
    const n = this.graph.uidToNode.get(uid);
    if (!n) return "forget";
    try {
      await this.attemptToDeleteItem(n);
    } catch (err) {
      if (err instanceof EnqueuedVirtualDeleteEvent || err instanceof NamespacedOwnerOfClusterScopedObject)
        return "forget";
      if (err instanceof RESTMappingError) this.#log.error({ err, item: describe(n.identity) }, "error syncing item");
      else this.#log.warn({ err, item: describe(n.identity) }, "error syncing item");
      return "requeue";
    }
    if (n.virtual) {
      // An object added and removed while a watch re-established must not stay virtual for ever.
      this.#log.trace({ item: describe(n.identity) }, "item hasn't been observed via informer yet");
      return "requeue";
    }
    return "forget";
  }

  /**
   * attemptToDeleteItem reads the live object behind item and deletes it when all its owners
   * are absent (upstream attemptToDeleteItem): an owner in foreground deletion makes it go in
   * foreground too when it has dependents of its own; some owners left: only the references
   * to absent owners (and to owners waiting for their dependents) are removed.
   */
  async attemptToDeleteItem(item: GraphNode): Promise<void> {
    const log = this.#log.child({ item: describe(item.identity) });
    log.debug({ virtual: item.virtual }, "processing item");
    // Being deleted is a one-way trip: wait for the deletion, then its dependents are looked at.
    if (item.beingDeleted && !item.deletingDependents) return;
    const latest = await this.#getObject(item.identity).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
      return undefined;
    });
    if (!latest || latest.metadata.uid !== item.identity.uid) {
      log.trace(
        { uidMismatch: latest !== undefined },
        "item not found (or its uid doesn't match), generating a virtual delete event",
      );
      this.graph.enqueueVirtualDeleteEvent(item.identity);
      throw new EnqueuedVirtualDeleteEvent();
    }
    if (item.deletingDependents) return this.#processDeletingDependentsItem(item);

    const refs = latest.metadata.ownerReferences ?? [];
    if (refs.length === 0) {
      log.debug("item doesn't have an owner, continue on next item");
      return;
    }
    const { solid, dangling, waiting } = await this.#classifyReferences(item, refs);
    log.trace(
      { solid: solid.map((r) => r.uid), dangling: dangling.map((r) => r.uid), waiting: waiting.map((r) => r.uid) },
      "classify item's references",
    );
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      // References to owners waiting for their dependents must go too, or those owners would
      // keep their foregroundDeletion finalizer for ever.
      log.debug(
        { dangling: dangling.map((r) => r.uid), waiting: waiting.map((r) => r.uid) },
        "item has at least one existing owner; removing dangling references and waiting references",
      );
      const uids = [...dangling, ...waiting].map((r) => r.uid);
      await this.#patch(item, deleteOwnerRefStrategicMergePatch(item.identity.uid, uids), (live) =>
        deleteOwnerRefJSONMergePatch(live, uids),
      );
      return;
    }
    if (waiting.length > 0 && item.dependents.size > 0) {
      for (const dep of item.dependents) {
        if (!dep.deletingDependents) continue;
        // A cycle may be forming (an owner and a dependent both in foreground deletion): unblock
        // this item's references, then delete it in foreground (upstream's false-positive-prone check).
        log.debug(
          { dependent: describe(dep.identity) },
          "some of the item's owners and its dependent have FinalizerDeletingDependents; unblocking its owner references",
        );
        await this.#patch(item, unblockOwnerReferencesStrategicMergePatch(item), (live) =>
          unblockOwnerReferencesJSONMergePatch(live, item),
        );
        break;
      }
      log.debug(
        "at least one owner of the item has FinalizerDeletingDependents, and the item itself has dependents, so it is going to be deleted in Foreground",
      );
      await this.#deleteOrVirtual(item, latest, "Foreground");
      return;
    }
    // No owner left, none waiting: garbage. An existing GC finalizer on it says how.
    const fins = latest.metadata.finalizers ?? [];
    const policy: PropagationPolicy = fins.includes(FINALIZER_ORPHAN)
      ? "Orphan"
      : fins.includes(FINALIZER_FOREGROUND)
        ? "Foreground"
        : "Background";
    log.info({ propagationPolicy: policy }, "deleting item");
    await this.#deleteOrVirtual(item, latest, policy);
  }

  async #deleteOrVirtual(item: GraphNode, latest: KubeObject, policy: PropagationPolicy): Promise<void> {
    try {
      await this.#deleteObject(
        item.identity,
        latest.metadata.resourceVersion ?? "",
        latest.metadata.ownerReferences ?? [],
        policy,
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.graph.enqueueVirtualDeleteEvent(item.identity);
      throw new EnqueuedVirtualDeleteEvent();
    }
  }

  /** An owner waiting for its dependents: let it go once none blocks it, else push them along. */
  async #processDeletingDependentsItem(item: GraphNode): Promise<void> {
    const blocking = item.blockingDependents();
    if (blocking.length === 0) {
      this.#log.info({ item: describe(item.identity) }, "remove DeleteDependents finalizer for item");
      await this.#removeFinalizer(item, FINALIZER_FOREGROUND);
      return;
    }
    for (const dep of blocking) {
      if (dep.deletingDependents) continue;
      this.#log.debug(
        { item: describe(item.identity), dependent: describe(dep.identity) },
        "adding dependent to attemptToDelete, because its owner is deletingDependents",
      );
      this.attemptToDelete.add(dep.identity.uid);
    }
  }

  /**
   * upstream isDangling: whether ref points at nothing. The absent-owner cache answers first;
   * else a live GET: NotFound, or an object with another uid, is absent. Returns the live owner.
   */
  async #isDangling(ref: OwnerReference, item: GraphNode): Promise<{ dangling: boolean; owner?: KubeObject }> {
    const key: ObjectReference = { ...ownerReferenceCoordinates(ref), namespace: "" };
    if (this.absentOwnerCache.has(key)) return { dangling: true };
    key.namespace = item.identity.namespace;
    if (this.absentOwnerCache.has(key)) return { dangling: true };
    const r = this.#resourceFor(ref.apiVersion, ref.kind);
    if (!r.namespaced) key.namespace = "";
    if (item.identity.namespace === "" && r.namespaced) {
      this.#log.debug(
        { item: describe(item.identity), owner: ref.uid },
        "item is cluster-scoped, but refers to a namespaced owner",
      );
      throw new NamespacedOwnerOfClusterScopedObject();
    }
    let owner: KubeObject;
    try {
      owner = await this.#client.get(r, r.namespaced ? item.identity.namespace : undefined, ref.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.absentOwnerCache.add(key);
      this.#log.trace({ item: describe(item.identity), owner: ref.uid }, "item's owner is not found");
      return { dangling: true };
    }
    if (owner.metadata.uid !== ref.uid) {
      this.#log.trace({ item: describe(item.identity), owner: ref.uid }, "item's owner is not found, UID mismatch");
      this.absentOwnerCache.add(key);
      return { dangling: true };
    }
    return { dangling: false, owner };
  }

  /**
   * upstream classifyReferences: solid (the owner exists and is not waiting for its dependents),
   * dangling (absent), waiting (deletionTimestamp and the foregroundDeletion finalizer).
   */
  async #classifyReferences(
    item: GraphNode,
    refs: readonly OwnerReference[],
  ): Promise<{ solid: OwnerReference[]; dangling: OwnerReference[]; waiting: OwnerReference[] }> {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const res = await this.#isDangling(ref, item);
      if (res.dangling) {
        dangling.push(ref);
        continue;
      }
      const meta = res.owner?.metadata;
      if (meta?.deletionTimestamp != null && (meta.finalizers ?? []).includes(FINALIZER_FOREGROUND)) waiting.push(ref);
      else solid.push(ref);
    }
    return { solid, dangling, waiting };
  }

  /** upstream attemptToOrphanWorker: strip the owner from its dependents, then drop the finalizer. */
  async #attemptToOrphanWorker(uid: string): Promise<Action> {
    const owner = this.graph.uidToNode.get(uid);
    if (!owner) return "forget";
    try {
      await this.#orphanDependents(owner.identity, [...owner.dependents]);
    } catch (err) {
      this.#log.warn({ err, owner: describe(owner.identity) }, "orphanDependents failed");
      return "requeue";
    }
    try {
      await this.#removeFinalizer(owner, FINALIZER_ORPHAN);
    } catch (err) {
      this.#log.warn({ err, owner: describe(owner.identity) }, "removeOrphanFinalizer failed");
      return "requeue";
    }
    return "forget";
  }

  async #orphanDependents(owner: ObjectReference, dependents: readonly GraphNode[]): Promise<void> {
    const results = await Promise.allSettled(
      dependents.map((dep) =>
        // The dependent's uid in the patch is a precondition: never strip a namesake's reference.
        this.#patch(dep, deleteOwnerRefStrategicMergePatch(dep.identity.uid, [owner.uid]), (live) =>
          deleteOwnerRefJSONMergePatch(live, [owner.uid]),
        ).catch((err: unknown) => {
          if (!isNotFound(err)) throw new Error(`orphaning ${referenceString(dep.identity)} failed: ${errText(err)}`);
        }),
      ),
    );
    const errors = results.flatMap((r) => (r.status === "rejected" ? [errText(r.reason)] : []));
    if (errors.length > 0)
      throw new Error(
        `failed to orphan dependents of owner ${referenceString(owner)}, got errors: ${errors.join(", ")}`,
      );
    this.#log.debug({ owner: describe(owner), dependents: dependents.length }, "successfully updated all dependents");
  }

  // ------------------------------------------------------------------ API operations

  #resourceFor(apiVersion: string, kind: string): ResourceInfo {
    const r = this.#mapper.resourceFor(apiVersion, kind);
    if (!r) throw new RESTMappingError(kind, apiVersion);
    return r;
  }

  async #getObject(id: ObjectReference): Promise<KubeObject> {
    const r = this.#resourceFor(id.apiVersion, id.kind);
    // A namespaced kind without a namespace: only a cluster-scoped dependent can name it so.
    if (r.namespaced && !id.namespace) throw new NamespacedOwnerOfClusterScopedObject();
    return this.#client.get(r, r.namespaced ? id.namespace : undefined, id.name);
  }

  /**
   * upstream deleteObject: preconditions on uid and resourceVersion; a conflict caused by a
   * change that left the owner references as they were is retried on uid alone, so that an
   * object updated all the time is still collected.
   */
  async #deleteObject(
    id: ObjectReference,
    resourceVersion: string,
    ownersAtResourceVersion: readonly OwnerReference[],
    policy: PropagationPolicy,
  ): Promise<void> {
    const r = this.#resourceFor(id.apiVersion, id.kind);
    const ns = r.namespaced ? id.namespace : undefined;
    const opts: DeleteOptions = {
      propagationPolicy: policy,
      preconditions: { uid: id.uid, ...(resourceVersion ? { resourceVersion } : {}) },
    };
    try {
      await this.#client.delete(r, ns, id.name, opts);
    } catch (err) {
      if (!isConflict(err) || !resourceVersion) throw err;
      let live: KubeObject;
      try {
        live = await this.#client.get(r, ns, id.name);
      } catch (getErr) {
        if (isNotFound(getErr)) return; // gone: what was wanted
        throw err;
      }
      if (
        live.metadata.uid !== id.uid ||
        live.metadata.resourceVersion === resourceVersion ||
        JSON.stringify(live.metadata.ownerReferences ?? []) !== JSON.stringify(ownersAtResourceVersion)
      )
        throw err;
      await this.#client.delete(r, ns, id.name, { propagationPolicy: policy, preconditions: { uid: id.uid } });
    }
  }

  /**
   * upstream patch: a strategic merge patch; where the kind does not take one (415, custom
   * resources), a JSON merge patch computed from the live object, with its resourceVersion.
   */
  async #patch(item: GraphNode, smp: object, jmp: (live: KubeObject) => object): Promise<void> {
    const r = this.#resourceFor(item.identity.apiVersion, item.identity.kind);
    const ns = r.namespaced ? item.identity.namespace : undefined;
    try {
      await this.#client.patch(r, ns, item.identity.name, smp, "strategic");
      return;
    } catch (err) {
      if (!(isStatusError(err) && err.code === 415)) throw err;
    }
    const live = await this.#client.get(r, ns, item.identity.name);
    await this.#client.patch(r, ns, item.identity.name, jmp(live), "merge");
  }

  /** upstream removeFinalizer: read, drop the finalizer, merge-patch with the resourceVersion; retry conflicts. */
  async #removeFinalizer(owner: GraphNode, finalizer: string): Promise<void> {
    const r = this.#resourceFor(owner.identity.apiVersion, owner.identity.kind);
    const ns = r.namespaced ? owner.identity.namespace : undefined;
    for (let attempt = 1; ; attempt++) {
      let obj: KubeObject;
      try {
        obj = await this.#client.get(r, ns, owner.identity.name);
      } catch (err) {
        if (isNotFound(err)) return;
        throw new Error(
          `cannot finalize owner ${referenceString(owner.identity)}, because cannot get it: ${errText(err)}. The garbage collector will retry later`,
          { cause: err },
        );
      }
      // A namesake is not ours to finalize.
      if (obj.metadata.uid !== owner.identity.uid) return;
      const finalizers = obj.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) {
        this.#log.trace({ item: describe(owner.identity), finalizer }, "finalizer already removed from object");
        return;
      }
      const rest = finalizers.filter((f) => f !== finalizer);
      try {
        await this.#client.patch(
          r,
          ns,
          owner.identity.name,
          { metadata: { resourceVersion: obj.metadata.resourceVersion, finalizers: rest.length > 0 ? rest : null } },
          "merge",
        );
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err)) throw err;
        if (attempt >= CONFLICT_RETRIES)
          throw new Error(
            `updateMaxRetries(${CONFLICT_RETRIES}) has reached. The garbage collector will retry later for owner ${referenceString(owner.identity)}`,
            { cause: err },
          );
        await this.#clock.sleep(CONFLICT_RETRY_MS);
      }
    }
  }
}

/** upstream GenerateDeleteOwnerRefStrategicMergeBytes: `$patch: delete` per owner uid, the dependent's uid as a guard. */
export function deleteOwnerRefStrategicMergePatch(dependentUid: string, ownerUids: readonly string[]): object {
  return {
    metadata: { ownerReferences: ownerUids.map((uid) => ({ $patch: "delete", uid })), uid: dependentUid },
  };
}

/** upstream deleteOwnerRefJSONMergePatch: the live references without those owners, at its resourceVersion. */
export function deleteOwnerRefJSONMergePatch(live: KubeObject, ownerUids: readonly string[]): object {
  const kept = (live.metadata.ownerReferences ?? []).filter((r) => !ownerUids.includes(r.uid));
  return {
    metadata: { resourceVersion: live.metadata.resourceVersion, ownerReferences: kept.length > 0 ? kept : null },
  };
}

/** upstream unblockOwnerReferencesStrategicMergePatch: blockOwnerDeletion false on every blocking reference. */
export function unblockOwnerReferencesStrategicMergePatch(n: GraphNode): object {
  const refs = n.owners.filter((o) => o.blockOwnerDeletion === true).map((o) => ({ ...o, blockOwnerDeletion: false }));
  return { metadata: { ownerReferences: refs, uid: n.identity.uid } };
}

/** upstream unblockOwnerReferencesJSONMergePatch: every reference non-blocking, at the live resourceVersion. */
export function unblockOwnerReferencesJSONMergePatch(live: KubeObject, n: GraphNode): object {
  return {
    metadata: {
      resourceVersion: live.metadata.resourceVersion,
      ownerReferences: n.owners.map((o) => ({ ...o, blockOwnerDeletion: false })),
    },
  };
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The controllers-table entry: `garbagecollector`. */
export function newGarbageCollector(ctx: ControllerContext): GarbageCollector {
  return new GarbageCollector(ctx);
}
