// The Endpoints controller (upstream pkg/controller/endpoint/endpoints_controller.go): every
// Service with a selector has Endpoints of the same name listing the pods it selects, ready ones
// in `addresses` and not-ready ones in `notReadyAddresses` (all in `addresses` with
// publishNotReadyAddresses), terminating and finished pods left out, each service port resolved
// per pod (a named targetPort is looked up in the pod's containers), the Service's labels (plus
// service.kubernetes.io/headless for a headless one) and the
// endpoints.kubernetes.io/last-change-trigger-time annotation. A Service without a selector, or
// of type ExternalName, keeps whatever Endpoints its user wrote; a deleted Service's Endpoints go.
//
// Level-triggered: Service events enqueue the Service; pod events enqueue the Services the pod
// is or was in (only for changes endpoints show: readiness, IPs, deletion, labels), at once, so
// a readiness flip reaches the Endpoints in one round trip; sync(key) reads the caches.

import { isAlreadyExists, isConflict, isNotFound, type StatusError } from "#pkg/api/errors.js";
import { keyOf, splitKey } from "#pkg/api/keys.js";
import { ENDPOINTS, PODS, SERVICES } from "#pkg/api/resources.js";
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from "#pkg/api/types/core.js";
import type { Informer } from "#pkg/cache/informer.js";
import { objectOf } from "#pkg/cache/informer.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext } from "../controller.js";
import { formatTriggerTime, LAST_CHANGE_TRIGGER_TIME, TriggerTimeTracker } from "../endpointutil/trigger-time.js";
import {
  findPort,
  hasSelector,
  isPodReady,
  podHostnameForService,
  podIPForFamily,
  podsForService,
  serviceIPFamily,
  shouldPodBeInEndpoints,
  watchServicePods,
} from "../endpointutil/util.js";
import { repackSubsets } from "./repack.js";

export const NAME = "endpoints-controller";

/** Set on the Endpoints of a headless Service. */
export const LABEL_HEADLESS = "service.kubernetes.io/headless";
/** Set when the Endpoints were cut to MAX_CAPACITY addresses. */
export const OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity";
/** upstream maxCapacity: Endpoints keep at most this many addresses. */
export const MAX_CAPACITY = 1000;
/** Endpoints used as a leader-election lock (old controller-managers) are not this controller's. */
const LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader";

export interface EndpointsControllerOptions {
  /** --endpoint-updates-batch-period: pod changes wait this long to be folded (default 0). */
  batchPeriodMs?: number;
}

/** The subsets a Service's pods give (before repacking), and how many were ready. */
export function subsetsForService(svc: Service, pods: readonly Pod[]): { subsets: EndpointSubset[]; ready: number } {
  const subsets: EndpointSubset[] = [];
  let ready = 0;
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const headless = svc.spec?.clusterIP === "None";
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const ip = podIPForFamily(pod, serviceIPFamily(svc, pod));
    if (!ip) continue;
    const address: EndpointAddress = {
      ip,
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: {
        kind: "Pod",
        namespace: pod.metadata.namespace ?? "",
        name: pod.metadata.name ?? "",
        uid: pod.metadata.uid ?? "",
      },
    };
    const hostname = podHostnameForService(pod, svc);
    if (hostname) address.hostname = hostname;
    const isReady = tolerateUnready || isPodReady(pod);
    const add = (port: EndpointPort | undefined) => {
      const ss: EndpointSubset = isReady ? { addresses: [address] } : { notReadyAddresses: [address] };
      if (port) ss.ports = [port];
      subsets.push(ss);
      if (isReady) ready++;
    };
    const ports = svc.spec?.ports ?? [];
    // A headless Service without ports still lists its pods (DNS needs only the addresses).
    if (ports.length === 0) {
      if (headless) add(undefined);
      continue;
    }
    for (const sp of ports) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      add({
        ...(sp.name !== undefined ? { name: sp.name } : {}),
        port,
        protocol: sp.protocol ?? "TCP",
        ...(sp.appProtocol !== undefined ? { appProtocol: sp.appProtocol } : {}),
      });
    }
  }
  return { subsets: repackSubsets(subsets), ready };
}

/** upstream truncateEndpoints: over MAX_CAPACITY, not-ready addresses go first, subsets in proportion. */
export function truncateEndpoints(subsets: EndpointSubset[]): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const ss of subsets) {
    totalReady += ss.addresses?.length ?? 0;
    totalNotReady += ss.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= MAX_CAPACITY) return false;
  const truncateReady = totalReady > MAX_CAPACITY;
  const max = truncateReady ? MAX_CAPACITY : MAX_CAPACITY - totalReady;
  const numTotal = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = max;
  for (const ss of subsets) {
    const inSubset = (truncateReady ? ss.addresses?.length : ss.notReadyAddresses?.length) ?? 0;
    const toBeAdded = Math.min(Math.floor((max * inSubset) / numTotal), canBeAdded);
    if (truncateReady) {
      ss.addresses = (ss.addresses ?? []).slice(0, toBeAdded);
      delete ss.notReadyAddresses;
      canBeAdded -= ss.addresses.length;
    } else {
      ss.notReadyAddresses = (ss.notReadyAddresses ?? []).slice(0, toBeAdded);
      canBeAdded -= ss.notReadyAddresses.length;
    }
  }
  return true;
}

const sameJSON = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Labels compare as maps: key order does not matter. */
function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {}).sort();
  const kb = Object.keys(b ?? {}).sort();
  return sameJSON(ka, kb) && ka.every((k) => a?.[k] === b?.[k]);
}

export class EndpointsController implements Controller {
  readonly name = NAME;
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #services: Informer<Service>;
  readonly #pods: Informer<Pod>;
  readonly #endpoints: Informer<Endpoints>;
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #tracker = new TriggerTimeTracker();
  readonly #batchMs: number;

  constructor(ctx: ControllerContext, o: EndpointsControllerOptions = {}) {
    this.#client = ctx.client;
    this.#log = ctx.log.child({ controller: NAME });
    this.#recorder = ctx.recorder("endpoint-controller");
    this.#batchMs = o.batchPeriodMs ?? 0;
    this.queue = new WorkQueue({ name: "endpoint", clock: ctx.clock });
    this.#services = ctx.informers.informer(SERVICES);
    this.#pods = ctx.informers.informer(PODS);
    this.#endpoints = ctx.informers.informer(ENDPOINTS);

    watchServicePods(
      this.#services,
      this.#pods,
      (k) => this.queue.add(k),
      (keys) => this.#enqueueAll(keys),
    );
    // Endpoints deleted under a Service that still wants them are made again.
    this.#endpoints.on("delete", (ep) => {
      const key = keyOf(objectOf(ep));
      if (this.#services.get(key)) this.queue.add(key);
    });
  }

  #enqueueAll(keys: Set<string>): void {
    for (const k of keys) {
      if (this.#batchMs > 0) this.queue.addAfter(k, this.#batchMs);
      else this.queue.add(k);
    }
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ workers }, "starting endpoint controller");
    if (!(await waitForCacheSync(signal, this.#services, this.#pods, this.#endpoints))) return;
    this.#checkLeftoverEndpoints();
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log);
  }

  /** upstream checkLeftoverEndpoints: Endpoints of Services deleted while no controller ran go too. */
  #checkLeftoverEndpoints(): void {
    for (const ep of this.#endpoints.list()) {
      if (ep.metadata.annotations?.[LEADER_ANNOTATION] !== undefined) continue;
      this.queue.add(keyOf(ep));
    }
  }

  /** upstream syncService. Throws to be retried. */
  async sync(key: string): Promise<void> {
    const { namespace = "", name } = splitKey(key);
    const svc = this.#services.get(key);
    if (!svc) {
      // The Service is gone: so are its Endpoints.
      try {
        if (this.#endpoints.get(key)) await this.#client.delete(ENDPOINTS, namespace, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.#tracker.delete(namespace, name);
      return;
    }
    // ExternalName Services have no endpoints; selector-less ones get theirs from their users.
    if (svc.spec?.type === "ExternalName" || !hasSelector(svc)) return;

    const pods = podsForService(this.#pods, svc);
    const { time: triggerTime, restore } = this.#tracker.compute(svc, pods);
    const { subsets, ready } = subsetsForService(svc, pods);
    const current = this.#endpoints.get(key);
    const create = !current?.metadata.resourceVersion;
    const headless = !svc.spec?.clusterIP || svc.spec.clusterIP === "None";
    const currentLabels = { ...(current?.metadata.labels ?? {}) };
    delete currentLabels[LABEL_HEADLESS];
    const totalAddresses = (current?.subsets ?? []).reduce(
      (n, ss) => n + (ss.addresses?.length ?? 0) + (ss.notReadyAddresses?.length ?? 0),
      0,
    );
    const capacityAnnotationCorrect =
      totalAddresses <= MAX_CAPACITY && current?.metadata.annotations?.[OVER_CAPACITY] === undefined;
    if (
      !create &&
      sameJSON(current?.subsets ?? [], subsets) &&
      sameLabels(currentLabels, svc.metadata.labels) &&
      capacityAnnotationCorrect
    ) {
      this.#log.debug({ key }, "endpoints are equal, skipping update");
      return;
    }

    const next: Endpoints = current
      ? structuredClone(current)
      : { apiVersion: "v1", kind: "Endpoints", metadata: { name, namespace } };
    next.subsets = subsets;
    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (headless) labels[LABEL_HEADLESS] = "";
    next.metadata.labels = labels;
    const annotations: Record<string, string> = { ...(next.metadata.annotations ?? {}) };
    if (triggerTime !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = formatTriggerTime(triggerTime);
    else delete annotations[LAST_CHANGE_TRIGGER_TIME];
    if (truncateEndpoints(subsets)) annotations[OVER_CAPACITY] = "truncated";
    else delete annotations[OVER_CAPACITY];
    if (Object.keys(annotations).length > 0) next.metadata.annotations = annotations;
    else delete next.metadata.annotations;

    this.#log.debug({ key, ready }, create ? "creating endpoints" : "updating endpoints");
    try {
      if (create) await this.#client.create(ENDPOINTS, namespace, next);
      else await this.#client.update(ENDPOINTS, namespace, next);
    } catch (err) {
      restore();
      // A terminating namespace refuses new content: nothing to retry.
      if (create && (err as StatusError).details?.causes?.some((c) => c.reason === "NamespaceTerminating")) return;
      // A cache behind the server (a conflict, or Endpoints it has not seen yet): retried, without
      // the event upstream records, since the informer catches up within a round trip.
      if (!isConflict(err) && !isAlreadyExists(err))
        this.#recorder.event(
          next,
          "Warning",
          create ? "FailedToCreateEndpoint" : "FailedToUpdateEndpoint",
          create
            ? `Failed to create endpoint for service ${namespace}/${name}: ${(err as Error).message}`
            : `Failed to update endpoint ${namespace}/${name}: ${(err as Error).message}`,
        );
      throw err;
    }
  }
}

export function newEndpointsController(ctx: ControllerContext): Controller {
  return new EndpointsController(ctx, ctx.options?.endpoint ?? {});
}
