// The DaemonSet controller (upstream pkg/controller/daemon/daemon_controller.go and update.go):
// one daemon pod on every node that should run it, none on the others, rolled to a new template
// node by node (RollingUpdate: maxUnavailable, maxSurge) or only as pods are deleted (OnDelete),
// with one ControllerRevision per template for history, and the counts in status.
//
// Level-triggered: DaemonSet, pod, node and ControllerRevision events only enqueue DaemonSet
// keys; sync(key) reads the caches. Pods are created unscheduled with a node affinity on
// metadata.name (upstream since 1.12): the scheduler binds them. After creating or deleting pods
// a DaemonSet is only managed again once the pod informer has seen those changes
// (ControllerExpectations), so a lagging cache never doubles a pod on a node.

import { isAlreadyExists, isNotFound } from "#pkg/api/errors.js";
import { keyFor, keyOf } from "#pkg/api/keys.js";
import { type Selector, selectorFromLabelSelector } from "#pkg/api/labels.js";
import type { OwnerReference } from "#pkg/api/meta.js";
import { CONTROLLERREVISIONS, DAEMONSETS, NODES, PODS } from "#pkg/api/resources.js";
import type { ControllerRevision, DaemonSet, DaemonSetStatus } from "#pkg/api/types/apps.js";
import type { Node, Pod } from "#pkg/api/types/core.js";
import type { Informer, Tombstone } from "#pkg/cache/informer.js";
import { objectOf } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX } from "#pkg/cache/store.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { ControllerExpectations } from "#pkg/controller/expectations.js";
import { controllerRef, newControllerRef } from "#pkg/controller/owners.js";
import { isPodAvailable, isPodReady } from "#pkg/controller/pod-util.js";
import { claimObjects, recheckDeletionTimestamp } from "#pkg/controller/ref-manager.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext, ControllerInit } from "../controller.js";
import { canonicalJSON, computeHash } from "../deployment/hash.js";
import { hasNamespaceTerminatingCause } from "../deployment/sync.js";
import {
  CONTROLLER_REVISION_HASH_LABEL,
  candidateRevisions,
  claimRevisions,
  maxRevision,
  sameData,
  sortRevisions,
  templatePatch,
  typedTemplate,
} from "../history/history.js";
import { slowStartBatch } from "../replicaset/replica-set.js";
import {
  allowsSurge,
  compareByCreation,
  isPodUpdated,
  nodeShouldRunDaemonPod,
  POD_TEMPLATE_GENERATION_LABEL,
  replaceNodeNameAffinity,
  rollingBudgets,
  targetNodeName,
  templateGeneration,
  withDaemonTolerations,
} from "./util.js";

/** Upstream BurstReplicas: at most this many creates or deletes per sync. */
export const BURST_REPLICAS = 250;
/** Upstream's failed-pod backoff: 1 s doubling to 15 min, per DaemonSet and node. */
const BACKOFF_INITIAL_MS = 1000;
const BACKOFF_MAX_MS = 15 * 60_000;

export interface DaemonSetControllerOptions {
  burstReplicas?: number;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function dsSelector(ds: DaemonSet): Selector | undefined {
  try {
    const sel = selectorFromLabelSelector(ds.spec?.selector);
    return sel.empty ? undefined : sel;
  } catch {
    return undefined;
  }
}

const isTerminal = (p: Pod) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";

export class DaemonSetController implements Controller {
  readonly name = "daemonset";
  readonly queue: WorkQueue;
  readonly expectations: ControllerExpectations;
  readonly #client: ApiClient;
  readonly #dsInformer: Informer<DaemonSet>;
  readonly #podInformer: Informer<Pod>;
  readonly #nodeInformer: Informer<Node>;
  readonly #historyInformer: Informer<ControllerRevision>;
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #burst: number;
  /** Failed-pod backoff per "<ds uid>/<node>": the current delay and when it was last stepped. */
  readonly #backoff = new Map<string, { delayMs: number; at: number }>();

  constructor(ctx: ControllerContext, o: DaemonSetControllerOptions = {}) {
    this.#client = ctx.client;
    this.#clock = ctx.clock;
    this.#log = ctx.log.child({ controller: this.name });
    this.#recorder = ctx.recorder("daemonset-controller");
    this.#burst = o.burstReplicas ?? BURST_REPLICAS;
    this.queue = new WorkQueue({ name: "daemonset", clock: ctx.clock });
    this.expectations = new ControllerExpectations({ clock: ctx.clock });
    this.#dsInformer = ctx.informers.informer(DAEMONSETS);
    this.#podInformer = ctx.informers.informer(PODS);
    this.#nodeInformer = ctx.informers.informer(NODES);
    this.#historyInformer = ctx.informers.informer(CONTROLLERREVISIONS);

    this.#dsInformer.on("add", (ds) => this.#enqueue(ds));
    this.#dsInformer.on("update", (_old, cur) => this.#enqueue(cur));
    this.#dsInformer.on("delete", (obj) => {
      const key = keyOf(objectOf(obj));
      this.expectations.delete(key);
      this.queue.add(key);
    });
    this.#podInformer.on("add", (pod) => this.#addPod(pod));
    this.#podInformer.on("update", (old, cur) => this.#updatePod(old, cur));
    this.#podInformer.on("delete", (obj) => this.#deletePod(obj));
    this.#nodeInformer.on("add", (node) => this.#nodeChanged(undefined, node));
    this.#nodeInformer.on("update", (old, cur) => this.#nodeChanged(old, cur));
    this.#nodeInformer.on("delete", () => {
      for (const ds of this.#dsInformer.list()) this.#enqueue(ds);
    });
    this.#historyInformer.on("add", (cr) => this.#historyChanged(cr));
    this.#historyInformer.on("update", (old, cur) => {
      if (old.metadata.resourceVersion !== cur.metadata.resourceVersion) this.#historyChanged(cur);
    });
    this.#historyInformer.on("delete", (obj) => this.#historyChanged(objectOf(obj)));
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ workers }, "starting daemon sets controller");
    const synced = await waitForCacheSync(
      signal,
      this.#dsInformer,
      this.#podInformer,
      this.#nodeInformer,
      this.#historyInformer,
    );
    if (!synced) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log);
  }

  #enqueue(ds: DaemonSet): void {
    this.queue.add(keyOf(ds));
  }

  #resolveRef(namespace: string | undefined, ref: OwnerReference): DaemonSet | undefined {
    if (ref.kind !== "DaemonSet") return undefined;
    const ds = this.#dsInformer.get(keyFor(namespace, ref.name));
    return ds && ds.metadata.uid === ref.uid ? ds : undefined;
  }

  /** DaemonSets whose selector matches labels in namespace ns (getDaemonSetsForPod / ForHistory). */
  #matching(ns: string | undefined, labels: Record<string, string> | undefined): DaemonSet[] {
    if (!labels) return [];
    return this.#dsInformer.byIndex(NAMESPACE_INDEX, ns ?? "").filter((ds) => dsSelector(ds)?.matches(labels));
  }

  #addPod(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) {
      this.#deletePod(pod);
      return;
    }
    const ref = controllerRef(pod);
    if (ref) {
      const ds = this.#resolveRef(pod.metadata.namespace, ref);
      if (!ds) return;
      const key = keyOf(ds);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    for (const ds of this.#matching(pod.metadata.namespace, pod.metadata.labels)) this.#enqueue(ds);
  }

  #updatePod(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    if (cur.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) {
      this.#deletePod(cur);
      return;
    }
    const oldRef = controllerRef(old);
    const curRef = controllerRef(cur);
    if (oldRef && oldRef.uid !== curRef?.uid) {
      const ds = this.#resolveRef(old.metadata.namespace, oldRef);
      if (ds) this.#enqueue(ds);
    }
    if (curRef) {
      const ds = this.#resolveRef(cur.metadata.namespace, curRef);
      if (!ds) return;
      this.#enqueue(ds);
      // Becoming ready starts the minReadySeconds clock: look again when it has run.
      const minReady = ds.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) this.queue.addAfter(keyOf(ds), minReady * 1000 + 1000);
      return;
    }
    const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(cur.metadata.labels ?? {});
    if (labelsChanged || oldRef)
      for (const ds of this.#matching(cur.metadata.namespace, cur.metadata.labels)) this.#enqueue(ds);
  }

  #deletePod(obj: Pod | Tombstone<Pod>): void {
    const pod = objectOf(obj);
    const ref = controllerRef(pod);
    if (!ref) return;
    const ds = this.#resolveRef(pod.metadata.namespace, ref);
    if (!ds) return;
    const key = keyOf(ds);
    this.expectations.deletionObserved(key, pod.metadata.uid);
    this.queue.add(key);
  }

  /** A node appeared or changed: the DaemonSets whose verdict for it changed (upstream addNode/updateNode). */
  #nodeChanged(old: Node | undefined, cur: Node): void {
    if (old && old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    for (const ds of this.#dsInformer.list()) {
      const now = nodeShouldRunDaemonPod(cur, ds);
      if (!old) {
        if (now.shouldRun) this.#enqueue(ds);
        continue;
      }
      const before = nodeShouldRunDaemonPod(old, ds);
      if (before.shouldRun !== now.shouldRun || before.shouldContinueRunning !== now.shouldContinueRunning)
        this.#enqueue(ds);
    }
  }

  #historyChanged(cr: ControllerRevision): void {
    const ref = controllerRef(cr);
    if (ref) {
      const ds = this.#resolveRef(cr.metadata.namespace, ref);
      if (ds) this.#enqueue(ds);
      return;
    }
    for (const ds of this.#matching(cr.metadata.namespace, cr.metadata.labels)) this.#enqueue(ds);
  }

  /** One reconcile of the DaemonSet `key` (upstream syncDaemonSet). Throws to be retried. */
  async sync(key: string): Promise<void> {
    const ds = this.#dsInformer.get(key);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    const selector = dsSelector(ds);
    if (!selector) {
      this.#recorder.event(
        ds,
        "Warning",
        "SelectingAll",
        "This daemon set is selecting all pods. A non-empty selector is required.",
      );
      return;
    }
    // Being deleted: the garbage collector removes the pods; nothing to manage.
    if (ds.metadata.deletionTimestamp) return;
    const nodes = this.#nodeInformer.list();
    const { cur, old } = await this.#constructHistory(ds, selector);
    const hash = cur.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? "";
    if (!this.expectations.satisfied(key)) {
      // Creations or deletions not seen yet: report, but do not claim this generation observed.
      await this.#updateStatus(ds, selector, nodes, hash, false);
      return;
    }
    let err: unknown;
    try {
      await this.#manage(ds, selector, nodes, hash);
      if (this.expectations.satisfied(key) && (ds.spec?.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate")
        await this.#rollingUpdate(ds, selector, nodes, hash);
      await this.#cleanupHistory(ds, selector, old);
    } catch (e) {
      err = e;
    }
    await this.#updateStatus(ds, selector, nodes, hash, true);
    if (err !== undefined) throw err;
  }

  // ---------------------------------------------------------------- pods per node

  /** The DaemonSet's pods after adoption and release (upstream getDaemonPods). */
  async #daemonPods(ds: DaemonSet, selector: Selector): Promise<Pod[]> {
    const all = this.#podInformer.byIndex(NAMESPACE_INDEX, ds.metadata.namespace ?? "");
    const { namespace, name = "" } = ds.metadata;
    return claimObjects(all, {
      owner: ds,
      selector,
      canAdopt: recheckDeletionTimestamp(ds, () => this.#client.get(DAEMONSETS, namespace, name)),
      adopt: (pod) =>
        this.#client.patch(
          PODS,
          pod.metadata.namespace,
          pod.metadata.name ?? "",
          { metadata: { ownerReferences: [newControllerRef(ds)], uid: pod.metadata.uid } },
          "strategic",
        ),
      release: async (pod) => {
        await this.#client.patch(
          PODS,
          pod.metadata.namespace,
          pod.metadata.name ?? "",
          { metadata: { ownerReferences: [{ $patch: "delete", uid: ds.metadata.uid }], uid: pod.metadata.uid } },
          "strategic",
        );
      },
    });
  }

  /** getNodesToDaemonPods: the claimed pods by target node, leaving out terminal pods being deleted. */
  async #nodesToDaemonPods(ds: DaemonSet, selector: Selector): Promise<Map<string, Pod[]>> {
    const byNode = new Map<string, Pod[]>();
    for (const pod of await this.#daemonPods(ds, selector)) {
      if (isTerminal(pod) && pod.metadata.deletionTimestamp) continue;
      const node = targetNodeName(pod);
      if (node === undefined) continue;
      const list = byNode.get(node);
      if (list) list.push(pod);
      else byNode.set(node, [pod]);
    }
    return byNode;
  }

  /** Upstream manage: which nodes need a daemon pod, which pods must go. */
  async #manage(ds: DaemonSet, selector: Selector, nodes: Node[], hash: string): Promise<void> {
    const byNode = await this.#nodesToDaemonPods(ds, selector);
    const create: string[] = [];
    const remove: string[] = [];
    for (const node of nodes) {
      const r = this.#podsShouldBeOnNode(ds, node, byNode.get(node.metadata.name ?? ""), hash);
      create.push(...r.create);
      remove.push(...r.remove);
    }
    // Unscheduled pods for nodes that no longer exist can never be placed.
    const known = new Set(nodes.map((n) => n.metadata.name ?? ""));
    for (const [node, pods] of byNode) {
      if (known.has(node)) continue;
      for (const p of pods) if (!p.spec?.nodeName && !p.metadata.deletionTimestamp) remove.push(p.metadata.name ?? "");
    }
    await this.#syncNodes(ds, remove, create, hash);
  }

  #podsShouldBeOnNode(
    ds: DaemonSet,
    node: Node,
    pods: Pod[] | undefined,
    hash: string,
  ): { create: string[]; remove: string[] } {
    const nodeName = node.metadata.name ?? "";
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const create: string[] = [];
    const remove: string[] = [];
    if (shouldRun && !pods) return { create: [nodeName], remove };
    if (!shouldContinueRunning) {
      // Not supposed to run here (any more): every daemon pod on the node goes.
      for (const p of pods ?? []) if (!p.metadata.deletionTimestamp) remove.push(p.metadata.name ?? "");
      return { create, remove };
    }
    const running: Pod[] = [];
    for (const p of pods ?? []) {
      if (p.metadata.deletionTimestamp) continue;
      if (p.status?.phase === "Failed") {
        // Often a kubelet rejecting the pod: back off instead of fighting it in a hot loop.
        const wait = this.#inBackoff(ds, nodeName);
        if (wait > 0) {
          this.queue.addAfter(keyOf(ds), wait);
          continue;
        }
        this.#stepBackoff(ds, nodeName);
        this.#recorder.event(
          ds,
          "Warning",
          "FailedDaemonPod",
          `Found failed daemon pod ${p.metadata.namespace}/${p.metadata.name} on node ${nodeName}, will try to kill it`,
        );
        remove.push(p.metadata.name ?? "");
      } else if (p.status?.phase === "Succeeded") {
        remove.push(p.metadata.name ?? "");
      } else {
        running.push(p);
      }
    }
    if (running.length <= 1) return { create, remove };
    running.sort(compareByCreation);
    if (!allowsSurge(ds)) {
      // More than one daemon pod on a node: keep the oldest.
      for (const p of running.slice(1)) remove.push(p.metadata.name ?? "");
      return { create, remove };
    }
    // With surge a node may briefly hold an old and a new pod; anything beyond one of each goes.
    let oldestNew: Pod | undefined;
    let oldestOld: Pod | undefined;
    for (const p of running) {
      const updated = p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;
      if (updated && !oldestNew) oldestNew = p;
      else if (!updated && !oldestOld) oldestOld = p;
      else remove.push(p.metadata.name ?? "");
    }
    // Both there and the new one available: the old one has been replaced.
    const now = this.#clock.now();
    if (oldestNew && oldestOld && isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, now))
      remove.push(oldestOld.metadata.name ?? "");
    return { create, remove };
  }

  #inBackoff(ds: DaemonSet, node: string): number {
    const b = this.#backoff.get(`${ds.metadata.uid}/${node}`);
    if (!b) return 0;
    const left = b.at + b.delayMs - this.#clock.now();
    return Math.max(left, 0);
  }

  #stepBackoff(ds: DaemonSet, node: string): void {
    const key = `${ds.metadata.uid}/${node}`;
    const now = this.#clock.now();
    const b = this.#backoff.get(key);
    // An entry unused for twice the maximum starts over (upstream Backoff.hasExpired).
    const delayMs =
      !b || now - b.at > 2 * BACKOFF_MAX_MS ? BACKOFF_INITIAL_MS : Math.min(2 * b.delayMs, BACKOFF_MAX_MS);
    this.#backoff.set(key, { delayMs, at: now });
  }

  /** Upstream syncNodes: deletes `remove`, creates one pod for each of `create`, within the burst. */
  async #syncNodes(ds: DaemonSet, remove: string[], create: string[], hash: string): Promise<void> {
    const key = keyOf(ds);
    const creating = create.slice(0, this.#burst);
    const deleting = [...new Set(remove)].slice(0, this.#burst);
    if (creating.length === 0 && deleting.length === 0) return;
    this.expectations.setExpectations(key, creating.length, deleting.length);
    this.#log.debug({ key, create: creating, delete: deleting }, "syncing daemon pods");
    const errors: unknown[] = [];

    let next = 0;
    const { successes, error } = await slowStartBatch(creating.length, 1, async () => {
      const node = creating[next++] ?? "";
      try {
        await this.#createPod(ds, node, hash);
      } catch (err) {
        // A namespace being deleted refuses new pods: nothing to retry.
        if (hasNamespaceTerminatingCause(err)) {
          this.expectations.creationObserved(key);
          return;
        }
        throw err;
      }
    });
    // Creations that failed or were never attempted will never be observed.
    for (let i = successes; i < creating.length; i++) this.expectations.creationObserved(key);
    if (error !== undefined) errors.push(error);

    const results = await Promise.allSettled(deleting.map((name) => this.#deletePodOf(ds, name)));
    results.forEach((r) => {
      if (r.status === "fulfilled") return;
      this.expectations.deletionObserved(key);
      if (!isNotFound(r.reason)) errors.push(r.reason);
    });
    if (errors.length > 0) throw errors[0];
  }

  async #createPod(ds: DaemonSet, nodeName: string, hash: string): Promise<void> {
    const t = ds.spec?.template;
    const generation = templateGeneration(ds);
    const labels: Record<string, string> = { ...(t?.metadata?.labels ?? {}) };
    if (generation !== undefined) labels[POD_TEMPLATE_GENERATION_LABEL] = String(generation);
    if (hash) labels[CONTROLLER_REVISION_HASH_LABEL] = hash;
    const spec = withDaemonTolerations(structuredClone(t?.spec) ?? { containers: [] });
    spec.affinity = replaceNodeNameAffinity(spec.affinity, nodeName);
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `${ds.metadata.name}-`,
        namespace: ds.metadata.namespace,
        labels,
        ...(t?.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
        ...(t?.metadata?.finalizers ? { finalizers: [...t.metadata.finalizers] } : {}),
        ownerReferences: [newControllerRef(ds)],
      },
      spec,
    };
    try {
      const created = await this.#client.create(PODS, ds.metadata.namespace, pod);
      this.#recorder.event(ds, "Normal", "SuccessfulCreate", `Created pod: ${created.metadata.name}`);
    } catch (err) {
      if (!hasNamespaceTerminatingCause(err))
        this.#recorder.event(ds, "Warning", "FailedCreate", `Error creating: ${errorMessage(err)}`);
      throw err;
    }
  }

  async #deletePodOf(ds: DaemonSet, name: string): Promise<void> {
    try {
      await this.#client.delete(PODS, ds.metadata.namespace, name);
      this.#recorder.event(ds, "Normal", "SuccessfulDelete", `Deleted pod: ${name}`);
    } catch (err) {
      if (!isNotFound(err)) this.#recorder.event(ds, "Warning", "FailedDelete", `Error deleting: ${errorMessage(err)}`);
      throw err;
    }
  }

  // ---------------------------------------------------------------- rolling update

  /** Old and new daemon pods of a node; undefined when it holds two of either (findUpdatedPodsOnNode). */
  #splitOnNode(ds: DaemonSet, pods: Pod[], hash: string): { newPod?: Pod; oldPod?: Pod } | undefined {
    const generation = templateGeneration(ds);
    let newPod: Pod | undefined;
    let oldPod: Pod | undefined;
    for (const p of pods) {
      if (p.metadata.deletionTimestamp) continue;
      if (isPodUpdated(p, hash, generation)) {
        if (newPod) return undefined;
        newPod = p;
      } else {
        if (oldPod) return undefined;
        oldPod = p;
      }
    }
    return { newPod, oldPod };
  }

  /** Upstream rollingUpdate: old pods replaced node by node within maxUnavailable, or surged within maxSurge. */
  async #rollingUpdate(ds: DaemonSet, selector: Selector, nodes: Node[], hash: string): Promise<void> {
    const byNode = await this.#nodesToDaemonPods(ds, selector);
    let desired = 0;
    for (const node of nodes) {
      if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
      desired++;
      const name = node.metadata.name ?? "";
      if (!byNode.has(name)) byNode.set(name, []);
    }
    const { maxUnavailable, maxSurge } = rollingBudgets(ds, desired);
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const now = this.#clock.now();
    const available = (p: Pod) => isPodAvailable(p, minReady, now);

    if (maxSurge === 0) {
      let unavailable = 0;
      const replaceNow: string[] = [];
      const candidates: string[] = [];
      for (const pods of byNode.values()) {
        const split = this.#splitOnNode(ds, pods, hash);
        if (!split) {
          // manage() cleans this node up; until then it counts as unavailable.
          unavailable++;
          continue;
        }
        const { newPod, oldPod } = split;
        if ((!oldPod && !newPod) || (oldPod && newPod)) unavailable++;
        else if (newPod) {
          if (!available(newPod)) unavailable++;
        } else if (oldPod) {
          if (!available(oldPod)) replaceNow.push(oldPod.metadata.name ?? "");
          else if (unavailable < maxUnavailable) candidates.push(oldPod.metadata.name ?? "");
        }
      }
      const budget = Math.min(Math.max(maxUnavailable - unavailable, 0), candidates.length);
      const remove = [...replaceNow, ...candidates.slice(0, budget)];
      if (remove.length > 0)
        this.#log.info(
          { key: keyOf(ds), delete: remove, unavailable, maxUnavailable },
          "rolling update: deleting old pods",
        );
      await this.#syncNodes(ds, remove, [], hash);
      return;
    }

    let surging = 0;
    const removeOld: string[] = [];
    const allowedNew: string[] = [];
    const candidateNew: string[] = [];
    const nodeByName = new Map(nodes.map((n) => [n.metadata.name ?? "", n]));
    for (const [nodeName, pods] of byNode) {
      const split = this.#splitOnNode(ds, pods, hash);
      if (!split) {
        surging++;
        continue;
      }
      const { newPod, oldPod } = split;
      if (!oldPod) continue; // nothing to replace; manage() creates a missing pod
      if (!newPod) {
        if (!available(oldPod)) {
          const node = nodeByName.get(nodeName);
          if (!node || !nodeShouldRunDaemonPod(node, ds).shouldRun) {
            removeOld.push(oldPod.metadata.name ?? "");
            continue;
          }
          // An old pod that is not available anyway may be replaced at once.
          allowedNew.push(nodeName);
        } else if (surging < maxSurge) {
          candidateNew.push(nodeName);
        }
        continue;
      }
      // Already surged here: once the new pod is available the old one goes.
      if (!available(newPod)) {
        surging++;
        continue;
      }
      removeOld.push(oldPod.metadata.name ?? "");
    }
    const budget = Math.min(Math.max(maxSurge - surging, 0), candidateNew.length);
    await this.#syncNodes(ds, removeOld, [...allowedNew, ...candidateNew.slice(0, budget)], hash);
  }

  // ---------------------------------------------------------------- history

  /** The hash naming the DaemonSet's current template (ComputeHash over the typed template). */
  #hash(ds: DaemonSet): string {
    return computeHash(typedTemplate(ds.spec?.template), ds.status?.collisionCount);
  }

  /** Upstream constructHistory: the current revision (made or renumbered as needed) and the old ones. */
  async #constructHistory(
    ds: DaemonSet,
    selector: Selector,
  ): Promise<{ cur: ControllerRevision; old: ControllerRevision[] }> {
    const { namespace, name = "" } = ds.metadata;
    const candidates = candidateRevisions(
      this.#historyInformer.byIndex(NAMESPACE_INDEX, namespace ?? ""),
      ds.metadata.uid,
    );
    const histories = await claimRevisions(this.#client, ds, selector, candidates, () =>
      this.#client.get(DAEMONSETS, namespace, name),
    );
    const patch = templatePatch(ds);
    const current: ControllerRevision[] = [];
    const old: ControllerRevision[] = [];
    for (const h of histories) (sameData(h.data, patch) ? current : old).push(h);
    const next = maxRevision(old) + 1;
    let cur: ControllerRevision;
    if (current.length === 0) {
      cur = await this.#snapshot(ds, next, patch);
    } else {
      cur = await this.#dedup(ds, selector, current);
      if ((cur.revision ?? 0) < next) {
        cur = await this.#client.update(CONTROLLERREVISIONS, namespace, { ...structuredClone(cur), revision: next });
      }
    }
    return { cur, old };
  }

  /** Several revisions with the current data: keep the newest, move pods to its hash, delete the rest. */
  async #dedup(ds: DaemonSet, selector: Selector, current: ControllerRevision[]): Promise<ControllerRevision> {
    if (current.length === 1) return current[0] as ControllerRevision;
    const sorted = sortRevisions(current);
    const keep = sorted[sorted.length - 1] as ControllerRevision;
    const keepHash = keep.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? "";
    for (const dup of sorted.slice(0, -1)) {
      const dupHash = dup.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
      for (const pod of await this.#daemonPods(ds, selector)) {
        if (pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] !== dupHash) continue;
        await this.#client.patch(
          PODS,
          pod.metadata.namespace,
          pod.metadata.name ?? "",
          { metadata: { labels: { [CONTROLLER_REVISION_HASH_LABEL]: keepHash } } },
          "strategic",
        );
      }
      try {
        await this.#client.delete(CONTROLLERREVISIONS, dup.metadata.namespace, dup.metadata.name ?? "");
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return keep;
  }

  /** Upstream snapshot: a new ControllerRevision for the template; a name collision bumps collisionCount. */
  async #snapshot(ds: DaemonSet, revision: number, patch: Record<string, unknown>): Promise<ControllerRevision> {
    const hash = this.#hash(ds);
    const { namespace } = ds.metadata;
    const name = `${ds.metadata.name}-${hash}`;
    const history: ControllerRevision = {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: {
        name,
        namespace,
        labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
        ...(ds.metadata.annotations ? { annotations: { ...ds.metadata.annotations } } : {}),
        ownerReferences: [newControllerRef(ds)],
      },
      data: patch,
      revision,
    };
    try {
      return await this.#client.create(CONTROLLERREVISIONS, namespace, history);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await this.#client.get(CONTROLLERREVISIONS, namespace, name);
      if (sameData(existing.data, patch) && controllerRef(existing)?.uid === ds.metadata.uid) return existing;
      // A different revision holds the name: bump the collision count (on a fresh read, so a
      // stale count is not bumped twice) and retry with the new hash.
      const fresh = await this.#client.get(DAEMONSETS, namespace, ds.metadata.name ?? "");
      if ((fresh.status?.collisionCount ?? 0) !== (ds.status?.collisionCount ?? 0))
        throw new Error(
          `found a stale collision count (${ds.status?.collisionCount ?? 0}, expected ${fresh.status?.collisionCount ?? 0}) of DaemonSet ${JSON.stringify(ds.metadata.name)} while processing; will retry until it is updated`,
        );
      const status = { ...(fresh.status as DaemonSetStatus), collisionCount: (fresh.status?.collisionCount ?? 0) + 1 };
      await this.#client.update(DAEMONSETS, namespace, { ...fresh, status }, { subresource: "status" });
      throw err;
    }
  }

  /** Upstream cleanupHistory: beyond revisionHistoryLimit, the oldest revisions no live pod uses go. */
  async #cleanupHistory(ds: DaemonSet, selector: Selector, old: ControllerRevision[]): Promise<void> {
    const limit = ds.spec?.revisionHistoryLimit ?? 10;
    let toKill = old.length - limit;
    if (toKill <= 0) return;
    const live = new Set<string>();
    for (const pods of (await this.#nodesToDaemonPods(ds, selector)).values())
      for (const p of pods) {
        const h = p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
        if (h) live.add(h);
      }
    for (const h of sortRevisions(old)) {
      if (toKill <= 0) break;
      const hash = h.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
      if (hash && live.has(hash)) continue;
      try {
        await this.#client.delete(CONTROLLERREVISIONS, h.metadata.namespace, h.metadata.name ?? "");
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      toKill--;
    }
  }

  // ---------------------------------------------------------------- status

  /** Upstream updateDaemonSetStatus: counts over the nodes; observedGeneration only after a full sync. */
  async #updateStatus(
    ds: DaemonSet,
    selector: Selector,
    nodes: Node[],
    hash: string,
    observed: boolean,
  ): Promise<void> {
    const byNode = await this.#nodesToDaemonPods(ds, selector);
    const generation = templateGeneration(ds);
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const now = this.#clock.now();
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const pods = byNode.get(node.metadata.name ?? "") ?? [];
      const scheduled = pods.length > 0;
      if (!shouldRun) {
        if (scheduled) misscheduled++;
        continue;
      }
      desired++;
      if (!scheduled) continue;
      current++;
      const pod = [...pods].sort(compareByCreation)[0] as Pod;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
      }
      if (isPodUpdated(pod, hash, generation)) updated++;
    }
    const prev = ds.status;
    const status: DaemonSetStatus = {
      ...(prev ? structuredClone(prev) : {}),
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available,
      observedGeneration: observed ? (ds.metadata.generation ?? 0) : (prev?.observedGeneration ?? 0),
    };
    if (!status.numberUnavailable) delete status.numberUnavailable;
    if (!status.numberAvailable) delete status.numberAvailable;
    if (!status.updatedNumberScheduled) delete status.updatedNumberScheduled;
    if (canonicalJSON(status) !== canonicalJSON(prev ?? {})) await this.#writeStatus(ds, status);
    // A last line of defence against clock skew: look again once minReadySeconds have passed.
    if (minReady > 0 && ready !== available) this.queue.addAfter(keyOf(ds), minReady * 1000);
  }

  /** Status through the status subresource; one retry on a fresh copy (upstream StatusUpdateRetries). */
  async #writeStatus(ds: DaemonSet, computed: DaemonSetStatus): Promise<void> {
    let cur = ds;
    let status = computed;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#client.update(
          DAEMONSETS,
          cur.metadata.namespace,
          { ...structuredClone(cur), status },
          {
            subresource: "status",
          },
        );
        return;
      } catch (err) {
        if (attempt >= 1 || isNotFound(err)) throw err;
        cur = await this.#client.get(DAEMONSETS, ds.metadata.namespace, ds.metadata.name ?? "");
        status = {
          ...status,
          ...(cur.status?.collisionCount !== undefined ? { collisionCount: cur.status.collisionCount } : {}),
        };
      }
    }
  }
}

export const newDaemonSetController: ControllerInit = (ctx) => new DaemonSetController(ctx);
