// The EndpointSlice controller (upstream pkg/controller/endpointslice/endpointslice_controller.go):
// every Service with a selector (not ExternalName) has EndpointSlices named <service>-<random>,
// owned by it, labelled kubernetes.io/service-name and
// endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io, holding the pods it
// selects with their ready/serving/terminating conditions, nodeName, zone and targetRef, at most
// --max-endpoints-per-slice (100) a slice (reconciler.ts). The slices of a deleted Service go
// with it through the garbage collector (their owner reference).
//
// Level-triggered: Service, pod (only changes slices show) and slice events enqueue the Service;
// the controller's own writes are recognised by the EndpointSliceTracker and trigger nothing, and
// a sync on a slice cache behind those writes is retried rather than acted on.

import { isNotFound, type StatusError } from "#pkg/api/errors.js";
import { keyFor, keyOf, splitKey } from "#pkg/api/keys.js";
import { ENDPOINTSLICES, NODES, PODS, SERVICES } from "#pkg/api/resources.js";
import type { Node, Pod, Service } from "#pkg/api/types/core.js";
import { type EndpointSlice, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from "#pkg/api/types/discovery.js";
import type { Informer, Tombstone } from "#pkg/cache/informer.js";
import { objectOf } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX } from "#pkg/cache/store.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext } from "../controller.js";
import { formatTriggerTime, LAST_CHANGE_TRIGGER_TIME, TriggerTimeTracker } from "../endpointutil/trigger-time.js";
import { hasSelector, podServiceMemberships, podsForService, watchServicePods } from "../endpointutil/util.js";
import { CONTROLLER_NAME, DEFAULT_MAX_ENDPOINTS_PER_SLICE, reconcile } from "./reconciler.js";
import { EndpointSliceTracker, StaleInformerCache } from "./tracker.js";

export const NAME = "endpointslice-controller";

export interface EndpointSliceControllerOptions {
  /** --max-endpoints-per-slice (100). */
  maxEndpointsPerSlice?: number;
  /** --endpointslice-updates-batch-period (0). */
  batchPeriodMs?: number;
}

/** Sets or clears the trigger-time annotation of a slice about to be written. */
export function setTriggerTime(slice: EndpointSlice, triggerTime: number | undefined): void {
  const annotations = { ...(slice.metadata.annotations ?? {}) };
  if (triggerTime !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = formatTriggerTime(triggerTime);
  else delete annotations[LAST_CHANGE_TRIGGER_TIME];
  if (Object.keys(annotations).length > 0) slice.metadata.annotations = annotations;
  else delete slice.metadata.annotations;
}

const namespaceTerminating = (err: unknown) =>
  (err as StatusError).details?.causes?.some((c) => c.reason === "NamespaceTerminating") === true;

export class EndpointSliceController implements Controller {
  readonly name = NAME;
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #services: Informer<Service>;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #slices: Informer<EndpointSlice>;
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #triggers = new TriggerTimeTracker();
  readonly #tracker = new EndpointSliceTracker((s) =>
    s.metadata.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME ? s.metadata.labels?.[LABEL_SERVICE_NAME] : undefined,
  );
  readonly #max: number;
  readonly #batchMs: number;

  constructor(ctx: ControllerContext, o: EndpointSliceControllerOptions = {}) {
    this.#client = ctx.client;
    this.#log = ctx.log.child({ controller: NAME });
    this.#recorder = ctx.recorder("endpoint-slice-controller");
    this.#max = o.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE;
    this.#batchMs = o.batchPeriodMs ?? 0;
    this.queue = new WorkQueue({ name: "endpoint_slice", clock: ctx.clock });
    this.#services = ctx.informers.informer(SERVICES);
    this.#pods = ctx.informers.informer(PODS);
    this.#nodes = ctx.informers.informer(NODES);
    this.#slices = ctx.informers.informer(ENDPOINTSLICES);

    watchServicePods(
      this.#services,
      this.#pods,
      (k) => this.queue.add(k),
      (keys) => this.#enqueueAll(keys),
    );
    // A node that appears lets its pods in (pods on unknown nodes are left out).
    this.#nodes.on("add", (node) => {
      const keys = new Set<string>();
      for (const pod of this.#pods.list())
        if (pod.spec?.nodeName === node.metadata.name)
          for (const k of podServiceMemberships(this.#services, pod)) keys.add(k);
      this.#enqueueAll(keys);
    });
    this.#slices.on("add", (s) => {
      if (this.#managed(s) && this.#tracker.shouldSync(s)) this.#enqueueSlice(s);
    });
    this.#slices.on("update", (old, cur) => {
      // A slice someone else changed, or one that changed hands or services, is resynced.
      if (
        old.metadata.labels?.[LABEL_MANAGED_BY] !== cur.metadata.labels?.[LABEL_MANAGED_BY] ||
        old.metadata.labels?.[LABEL_SERVICE_NAME] !== cur.metadata.labels?.[LABEL_SERVICE_NAME]
      ) {
        this.#enqueueSlice(old);
        this.#enqueueSlice(cur);
      } else if (this.#managed(cur) && this.#tracker.shouldSync(cur)) this.#enqueueSlice(cur);
    });
    this.#slices.on("delete", (t: EndpointSlice | Tombstone<EndpointSlice>) => {
      const s = objectOf(t);
      if (!this.#managed(s)) return;
      if (!this.#tracker.has(s) || this.#tracker.handleDeletion(s)) this.#enqueueSlice(s);
    });
  }

  #managed(s: EndpointSlice): boolean {
    return s.metadata.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME;
  }

  #enqueueSlice(s: EndpointSlice): void {
    const svc = s.metadata.labels?.[LABEL_SERVICE_NAME];
    if (svc) this.queue.add(keyFor(s.metadata.namespace, svc));
  }

  #enqueueAll(keys: Set<string>): void {
    for (const k of keys) {
      if (this.#batchMs > 0) this.queue.addAfter(k, this.#batchMs);
      else this.queue.add(k);
    }
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ workers, maxEndpointsPerSlice: this.#max }, "starting endpoint slice controller");
    if (!(await waitForCacheSync(signal, this.#services, this.#pods, this.#nodes, this.#slices))) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log);
  }

  /** upstream syncService. Throws to be retried. */
  async sync(key: string): Promise<void> {
    const { namespace = "", name } = splitKey(key);
    const svc = this.#services.get(key);
    if (!svc) {
      // Its slices go with it (owner references, the garbage collector).
      this.#triggers.delete(namespace, name);
      this.#tracker.deleteService(namespace, name);
      return;
    }
    if (svc.spec?.type === "ExternalName" || !hasSelector(svc)) return;
    const pods = podsForService(this.#pods, svc);
    const existing = this.#slices
      .byIndex(NAMESPACE_INDEX, namespace)
      .filter(
        (s) =>
          s.metadata.labels?.[LABEL_SERVICE_NAME] === name &&
          this.#managed(s) &&
          s.metadata.deletionTimestamp === undefined,
      );
    if (this.#tracker.staleSlices(namespace, name, existing)) throw new StaleInformerCache();
    // Computed on every sync, so that a no-op sync still moves the tracker's state on.
    const { time: triggerTime, restore } = this.#triggers.compute(svc, pods);
    const changes = reconcile({
      svc,
      pods,
      existing,
      nodeOf: (n) => this.#nodes.get(n),
      maxEndpointsPerSlice: this.#max,
    });
    try {
      await this.#finalize(svc, changes, triggerTime);
    } catch (err) {
      restore();
      this.#recorder.event(
        svc,
        "Warning",
        "FailedToUpdateEndpointSlices",
        `Error updating Endpoint Slices for Service ${namespace}/${name}: ${(err as Error).message}`,
      );
      throw err;
    }
    if (changes.missingNodes.length > 0)
      throw new Error(
        `skipping pods of Service ${namespace}/${name}: Node(s) ${[...new Set(changes.missingNodes)].join(", ")} not found`,
      );
  }

  async #finalize(svc: Service, changes: ReturnType<typeof reconcile>, triggerTime: number | undefined): Promise<void> {
    const namespace = svc.metadata.namespace ?? "";
    // No new slices for a Service being deleted: the garbage collector would race them.
    if (svc.metadata.deletionTimestamp === undefined) {
      for (const s of changes.create) {
        setTriggerTime(s, triggerTime);
        try {
          this.#tracker.update(await this.#client.create<EndpointSlice>(ENDPOINTSLICES, namespace, s));
        } catch (err) {
          if (namespaceTerminating(err)) return;
          throw new Error(
            `failed to create EndpointSlice for Service ${namespace}/${svc.metadata.name}: ${(err as Error).message}`,
            {
              cause: err,
            },
          );
        }
      }
    }
    for (const s of changes.update) {
      setTriggerTime(s, triggerTime);
      try {
        this.#tracker.update(await this.#client.update<EndpointSlice>(ENDPOINTSLICES, namespace, s));
      } catch (err) {
        throw new Error(
          `failed to update ${s.metadata.name} EndpointSlice for Service ${namespace}/${svc.metadata.name}: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
    }
    for (const s of changes.delete) {
      try {
        await this.#client.delete(ENDPOINTSLICES, namespace, s.metadata.name ?? "");
      } catch (err) {
        if (!isNotFound(err))
          throw new Error(
            `failed to delete ${s.metadata.name} EndpointSlice for Service ${namespace}/${svc.metadata.name}: ${(err as Error).message}`,
            {
              cause: err,
            },
          );
      }
      this.#tracker.expectDeletion(s);
    }
    if (changes.create.length + changes.update.length + changes.delete.length > 0)
      this.#log.debug(
        {
          service: keyOf(svc),
          created: changes.create.length,
          updated: changes.update.length,
          deleted: changes.delete.length,
        },
        "endpoint slices reconciled",
      );
  }
}

export function newEndpointSliceController(ctx: ControllerContext): Controller {
  return new EndpointSliceController(ctx, ctx.options?.endpointSlice ?? {});
}
