// GraphBuilder (upstream: pkg/controller/garbagecollector/graph_builder.go): one monitor (a
// shared informer's handlers) per resource discovery lists, feeding graph changes that keep
// uidToNode, the owner → dependents graph, current, and that put on the collector's queues the
// objects that may be garbage now (attemptToDelete) and the owners whose dependents are to be
// orphaned (attemptToOrphan). Changes are applied one at a time in arrival order (upstream's
// single-threaded processGraphChanges); Node runs handlers on one thread, so they are applied as
// they arrive, and a change raised while one is applied waits for it.

import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN, type KubeObject, type OwnerReference } from "#pkg/api/meta.js";
import { apiVersionOf, type ResourceInfo } from "#pkg/api/resources.js";
import { type InformerView, objectOf } from "#pkg/cache/informer.js";
import type { EventType } from "#pkg/controller/events.js";
import type { Logger } from "#pkg/runtime/log.js";
import {
  describe,
  GraphNode,
  getAlternateOwnerIdentity,
  type ObjectReference,
  type OwnerRefPair,
  ownerReferenceCoordinates,
  ownerReferenceMatchesCoordinates,
  partitionDependents,
  type ReferenceCache,
  referenceString,
  referencesDiffs,
  sameIdentity,
} from "./graph.js";
import { resourceKey } from "./resources.js";

/** The part of an object the graph reads. */
export type GraphObject = Pick<KubeObject, "metadata">;

/** One change for the graph (upstream event): from an informer, or virtual (made by the collector). */
export interface GraphEvent {
  type: "add" | "update" | "delete";
  /** Not observed through an informer: the collector verified that the object is absent. */
  virtual?: boolean;
  obj: GraphObject;
  /** The previous state of an update. */
  oldObj?: GraphObject;
  /** The monitored resource's apiVersion and kind (not what the object says of itself). */
  apiVersion: string;
  kind: string;
}

/** Where the graph puts work, by object uid. */
export interface NodeQueue {
  add(uid: string): void;
  addRateLimited(uid: string): void;
}

/** What records the graph's Events (pkg/controller EventRecorder). */
export interface EventSink {
  event(obj: KubeObject, type: EventType, reason: string, message: string): void;
}

export interface GraphBuilderDeps {
  attemptToDelete: NodeQueue;
  attemptToOrphan: NodeQueue;
  /** Owners known to be absent, shared with the collector. */
  absentOwnerCache: ReferenceCache;
  recorder: EventSink;
  log: Logger;
}

interface Monitor {
  resource: ResourceInfo;
  informer: InformerView;
  /** Informers cannot drop handlers: a removed monitor's handlers go quiet instead. */
  active: boolean;
}

const beingDeleted = (o: GraphObject) => o.metadata.deletionTimestamp != null;
const hasFinalizer = (o: GraphObject, f: string) => (o.metadata.finalizers ?? []).includes(f);

/** upstream deletionStartsWithFinalizer: deletion with finalizer f starts with this change. */
function deletionStartsWithFinalizer(old: GraphObject | undefined, cur: GraphObject, f: string): boolean {
  if (!beingDeleted(cur) || !hasFinalizer(cur, f)) return false;
  if (!old) return true;
  return !beingDeleted(old) || !hasFinalizer(old, f);
}

export class GraphBuilder {
  /** The graph: every object (observed or virtual) by uid. */
  readonly uidToNode = new Map<string, GraphNode>();
  readonly #deps: GraphBuilderDeps;
  readonly #log: Logger;
  readonly #monitors = new Map<string, Monitor>();
  readonly #pending: GraphEvent[] = [];
  #applying = false;

  constructor(deps: GraphBuilderDeps) {
    this.#deps = deps;
    this.#log = deps.log;
  }

  // ------------------------------------------------------------------ monitors

  /**
   * syncMonitors makes the monitored set exactly `resources` (upstream syncMonitors +
   * startMonitors): a new resource gets handlers on its shared informer (which replays what it
   * holds), a resource no longer served goes quiet. Returns what changed.
   */
  syncMonitors(
    resources: readonly ResourceInfo[],
    informerFor: (r: ResourceInfo) => InformerView,
  ): { added: string[]; kept: number; removed: string[] } {
    const wanted = new Map(resources.map((r) => [resourceKey(r), r]));
    const added: string[] = [];
    const removed: string[] = [];
    let kept = 0;
    for (const [key, m] of this.#monitors) {
      if (wanted.has(key)) continue;
      m.active = false;
      this.#monitors.delete(key);
      removed.push(key);
    }
    for (const [key, r] of wanted) {
      if (this.#monitors.has(key)) {
        kept++;
        continue;
      }
      const m: Monitor = { resource: r, informer: informerFor(r), active: true };
      this.#monitors.set(key, m);
      this.#watch(m);
      added.push(key);
    }
    this.#log.debug({ added: added.length, kept, removed: removed.length }, "synced monitors");
    return { added, kept, removed };
  }

  #watch(m: Monitor): void {
    const apiVersion = apiVersionOf(m.resource);
    const kind = m.resource.kind;
    m.informer.on("add", (obj) => {
      if (m.active) this.enqueue({ type: "add", obj, apiVersion, kind });
    });
    m.informer.on("update", (old, cur) => {
      if (m.active) this.enqueue({ type: "update", obj: cur, oldObj: old, apiVersion, kind });
    });
    m.informer.on("delete", (obj) => {
      if (m.active) this.enqueue({ type: "delete", obj: objectOf(obj), apiVersion, kind });
    });
  }

  /** The monitored resources, by "<group>/<version>/<resource>". */
  monitored(): string[] {
    return [...this.#monitors.keys()];
  }

  isResourceSynced(key: string): boolean {
    return this.#monitors.get(key)?.informer.hasSynced() ?? false;
  }

  /** upstream IsSynced: there are monitors, and every one has listed. */
  isSynced(): boolean {
    if (this.#monitors.size === 0) return false;
    for (const m of this.#monitors.values()) if (!m.informer.hasSynced()) return false;
    return true;
  }

  // ------------------------------------------------------------------ graph changes

  /** Applies a change, after the ones already waiting. */
  enqueue(ev: GraphEvent): void {
    this.#pending.push(ev);
    if (this.#applying) return;
    this.#applying = true;
    try {
      for (let next = this.#pending.shift(); next; next = this.#pending.shift()) {
        try {
          this.#processGraphChange(next);
        } catch (err) {
          this.#log.error({ err, uid: next.obj.metadata.uid }, "cannot apply a graph change");
        }
      }
    } finally {
      this.#applying = false;
    }
  }

  /** upstream enqueueVirtualDeleteEvent: the collector found ref absent; take it out of the graph. */
  enqueueVirtualDeleteEvent(ref: ObjectReference): void {
    this.enqueue({
      type: "delete",
      virtual: true,
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      obj: { metadata: { name: ref.name, uid: ref.uid, ...(ref.namespace ? { namespace: ref.namespace } : {}) } },
    });
  }

  #processGraphChange(ev: GraphEvent): void {
    const meta = ev.obj.metadata;
    const uid = meta.uid;
    if (!uid) return;
    this.#log.trace(
      { apiVersion: ev.apiVersion, kind: ev.kind, namespace: meta.namespace, name: meta.name, uid, event: ev.type },
      "graph change",
    );
    const existing = this.uidToNode.get(uid);
    if (existing && !ev.virtual && existing.virtual) {
      // First sight through an informer of a node known only from its dependents.
      const observed = identityFromEvent(ev);
      if (!sameIdentity(observed, existing.identity)) {
        // Dependents that named it otherwise may point at nothing: let the collector check them.
        // (The good owner → bad dependent order is handled in addDependentToOwners.)
        const { nonmatching } = partitionDependents(existing.dependents, observed);
        for (const dep of nonmatching) {
          if (observed.namespace !== "" && dep.identity.namespace !== observed.namespace) {
            this.#log.debug(
              { item: describe(dep.identity), owner: describe(observed) },
              "item references an owner but does not match namespaces",
            );
            this.#reportInvalidNamespaceOwnerRef(dep, observed.uid);
          }
          this.#deps.attemptToDelete.add(dep.identity.uid);
        }
        this.#log.debug(
          { virtual: describe(existing.identity), observed: describe(observed) },
          "replacing virtual item with observed item",
        );
        existing.identity = observed;
      }
      existing.virtual = false;
    }

    if (ev.type !== "delete") {
      if (!existing) {
        const node = new GraphNode(identityFromEvent(ev), {
          owners: [...(meta.ownerReferences ?? [])],
          deletingDependents: beingDeleted(ev.obj) && hasFinalizer(ev.obj, FINALIZER_FOREGROUND),
          beingDeleted: beingDeleted(ev.obj),
        });
        this.#insertNode(node);
        // An informer may fold a creation and a deletion start into one event.
        this.#processTransitions(ev.oldObj, ev.obj, node);
        return;
      }
      if (!ev.virtual && (existing.identity.apiVersion !== ev.apiVersion || existing.identity.kind !== ev.kind)) {
        existing.identity = { ...existing.identity, apiVersion: ev.apiVersion, kind: ev.kind };
      }
      const refs = meta.ownerReferences ?? [];
      const { added, removed, changed } = referencesDiffs(existing.owners, refs);
      if (added.length > 0 || removed.length > 0 || changed.length > 0) {
        // A dependent that stops blocking may be what an owner in foreground deletion waits for.
        this.#addUnblockedOwnersToDeleteQueue(removed, changed);
        existing.owners = [...refs];
        this.#addDependentToOwners(existing, added);
        this.#removeDependentFromOwners(existing, removed);
      }
      if (beingDeleted(ev.obj)) existing.beingDeleted = true;
      this.#processTransitions(ev.oldObj, ev.obj, existing);
      return;
    }

    if (!existing) {
      this.#log.trace({ uid }, "item doesn't exist in the graph, this shouldn't happen");
      return;
    }
    let removeExisting = true;
    if (ev.virtual) {
      // The collector verified that this identity is absent; the node may stand for another one.
      const deleted = identityFromEvent(ev);
      if (existing.virtual) {
        const { matching, nonmatching } = partitionDependents(existing.dependents, deleted);
        if (nonmatching.length > 0) {
          // Some dependents name this uid with other coordinates: keep the node for them.
          removeExisting = false;
          if (matching.length > 0) {
            this.#deps.absentOwnerCache.add(deleted);
            for (const dep of matching) this.#deps.attemptToDelete.add(dep.identity.uid);
          }
          if (sameIdentity(existing.identity, deleted)) {
            const replacement = getAlternateOwnerIdentity(nonmatching, deleted);
            if (replacement) {
              existing.identity = replacement;
              this.#deps.attemptToDelete.addRateLimited(uid);
            }
          }
        }
      } else if (!sameIdentity(existing.identity, deleted)) {
        // An observed node is never removed on a virtual event for other coordinates.
        removeExisting = false;
        const { matching } = partitionDependents(existing.dependents, deleted);
        if (matching.length > 0) {
          this.#deps.absentOwnerCache.add(deleted);
          for (const dep of matching) this.#deps.attemptToDelete.add(dep.identity.uid);
        }
      }
    }
    if (!removeExisting) return;
    this.#removeNode(existing);
    if (existing.dependents.size > 0) this.#deps.absentOwnerCache.add(identityFromEvent(ev));
    for (const dep of existing.dependents) this.#deps.attemptToDelete.add(dep.identity.uid);
    for (const owner of existing.owners) {
      // An owner in foreground deletion may have been waiting for this one.
      const ownerNode = this.uidToNode.get(owner.uid);
      if (ownerNode?.deletingDependents) this.#deps.attemptToDelete.add(ownerNode.identity.uid);
    }
  }

  #insertNode(n: GraphNode): void {
    this.uidToNode.set(n.identity.uid, n);
    this.#addDependentToOwners(n, n.owners);
  }

  #removeNode(n: GraphNode): void {
    this.uidToNode.delete(n.identity.uid);
    this.#removeDependentFromOwners(n, n.owners);
  }

  /**
   * upstream addDependentToOwners: n joins each owner's dependents; an owner not in the graph
   * becomes a virtual node that the collector checks against the API server. A reference that
   * disagrees with what the graph knows of the owner sends n to the collector to check.
   */
  #addDependentToOwners(n: GraphNode, owners: readonly OwnerReference[]): void {
    let potentiallyInvalid = false;
    for (const owner of owners) {
      let ownerNode = this.uidToNode.get(owner.uid);
      const known = ownerNode !== undefined;
      if (!ownerNode) {
        ownerNode = new GraphNode(
          { ...ownerReferenceCoordinates(owner), namespace: n.identity.namespace },
          { virtual: true },
        );
        this.#log.trace({ identity: describe(ownerNode.identity) }, "add virtual item");
        this.uidToNode.set(owner.uid, ownerNode);
      }
      ownerNode.dependents.add(n);
      if (!known) {
        this.#deps.attemptToDelete.add(owner.uid);
        continue;
      }
      if (potentiallyInvalid) continue;
      const ownerNamespaced = ownerNode.identity.namespace !== "";
      if (ownerNamespaced && ownerNode.identity.namespace !== n.identity.namespace) {
        if (!ownerNode.virtual) {
          // Observed in another namespace: certainly wrong (only cluster-scoped owners cross).
          this.#log.debug(
            { item: describe(n.identity), owner: describe(ownerNode.identity) },
            "item references an owner but does not match namespaces",
          );
          this.#reportInvalidNamespaceOwnerRef(n, owner.uid);
        }
        potentiallyInvalid = true;
      } else if (!ownerReferenceMatchesCoordinates(owner, ownerNode.identity)) {
        if (!ownerNode.virtual) {
          this.#log.debug(
            { item: describe(n.identity), owner: describe(ownerNode.identity) },
            "item references an owner with coordinates that do not match the observed identity",
          );
        }
        potentiallyInvalid = true;
      } else if (!ownerNamespaced && ownerNode.identity.namespace !== n.identity.namespace && ownerNode.virtual) {
        // A virtual cluster-scoped owner named from another namespace may be a missing namespaced
        // object named by a cluster-scoped dependent (upstream issue 98040).
        potentiallyInvalid = true;
      }
    }
    if (potentiallyInvalid) this.#deps.attemptToDelete.add(n.identity.uid);
  }

  #removeDependentFromOwners(n: GraphNode, owners: readonly OwnerReference[]): void {
    for (const owner of owners) this.uidToNode.get(owner.uid)?.dependents.delete(n);
  }

  /** upstream addUnblockedOwnersToDeleteQueue: a blocking reference removed, or set non-blocking. */
  #addUnblockedOwnersToDeleteQueue(removed: readonly OwnerReference[], changed: readonly OwnerRefPair[]): void {
    const wake = (uid: string) => {
      if (this.uidToNode.has(uid)) this.#deps.attemptToDelete.add(uid);
      else this.#log.trace({ uid }, "cannot find uid in uidToNode");
    };
    for (const ref of removed) if (ref.blockOwnerDeletion === true) wake(ref.uid);
    for (const c of changed) {
      if (c.oldRef.blockOwnerDeletion === true && c.newRef.blockOwnerDeletion !== true) wake(c.newRef.uid);
    }
  }

  /** Deletion with the orphan or the foregroundDeletion finalizer started: the collector's turn. */
  #processTransitions(old: GraphObject | undefined, cur: GraphObject, n: GraphNode): void {
    if (deletionStartsWithFinalizer(old, cur, FINALIZER_ORPHAN)) {
      this.#log.trace({ item: describe(n.identity) }, "add item to attemptToOrphan");
      this.#deps.attemptToOrphan.add(n.identity.uid);
      return;
    }
    if (deletionStartsWithFinalizer(old, cur, FINALIZER_FOREGROUND)) {
      this.#log.debug(
        { item: describe(n.identity) },
        "add item to attemptToDelete, because it's waiting for its dependents to be deleted",
      );
      // A node first added as virtual has no deletingDependents yet.
      n.deletingDependents = true;
      for (const dep of n.dependents) this.#deps.attemptToDelete.add(dep.identity.uid);
      this.#deps.attemptToDelete.add(n.identity.uid);
    }
  }

  /** upstream reportInvalidNamespaceOwnerRef: a Warning on the dependent. */
  #reportInvalidNamespaceOwnerRef(n: GraphNode, ownerUid: string): void {
    const ref = n.owners.find((o) => o.uid === ownerUid);
    if (!ref) return;
    const invalid: ObjectReference = { ...ownerReferenceCoordinates(ref), namespace: n.identity.namespace };
    this.#deps.recorder.event(
      {
        apiVersion: n.identity.apiVersion,
        kind: n.identity.kind,
        metadata: {
          name: n.identity.name,
          uid: n.identity.uid,
          ...(n.identity.namespace ? { namespace: n.identity.namespace } : {}),
        },
      },
      "Warning",
      "OwnerRefInvalidNamespace",
      `ownerRef ${referenceString(invalid)} does not exist in namespace "${n.identity.namespace}"`,
    );
  }
}

/** upstream identityFromEvent: the monitored kind with the object's uid, name and namespace. */
export function identityFromEvent(ev: GraphEvent): ObjectReference {
  return {
    apiVersion: ev.apiVersion,
    kind: ev.kind,
    uid: ev.obj.metadata.uid ?? "",
    name: ev.obj.metadata.name ?? "",
    namespace: ev.obj.metadata.namespace ?? "",
  };
}
