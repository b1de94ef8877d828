// The EndpointSlice mirroring controller (upstream pkg/controller/endpointslicemirroring): the
// Endpoints a user wrote for a Service without a selector are mirrored into EndpointSlices (what
// kube-proxy and DNS read), named <endpoints>-<random>, owned by the Endpoints, labelled
// kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by=
// endpointslicemirroring-controller.k8s.io, carrying the Endpoints' labels and annotations (but
// the trigger time and kubectl's last-applied configuration): one slice per subset and address
// type (at most --mirroring-max-endpoints-per-subset addresses, 1000), addresses ready or not as
// the subset lists them. Endpoints labelled endpointslice.kubernetes.io/skip-mirror (the API
// server's own `kubernetes`), used as leader-election locks, of a Service with a selector or of
// none are not mirrored, and their mirrored slices go.

import { isIP } from "node:net";
import { isNotFound, type StatusError } from "#pkg/api/errors.js";
import { keyFor, keyOf, splitKey } from "#pkg/api/keys.js";
import { ENDPOINTS, ENDPOINTSLICES, SERVICES } from "#pkg/api/resources.js";
import type { EndpointAddress, Endpoints, Service } from "#pkg/api/types/core.js";
import {
  type Endpoint,
  type EndpointSlice,
  type EndpointSlicePort,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_SKIP_MIRROR,
} from "#pkg/api/types/discovery.js";
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
import { repackSubsets } from "../endpoint/repack.js";
import { EndpointSet, endpointsEqualBeyondKey, portMapKey } from "../endpointslice/endpoint-set.js";
import { slicePrefix } from "../endpointslice/reconciler.js";
import { EndpointSliceTracker, StaleInformerCache } from "../endpointslice/tracker.js";
import { LAST_CHANGE_TRIGGER_TIME } from "../endpointutil/trigger-time.js";
import { hasSelector } from "../endpointutil/util.js";

export const NAME = "endpointslice-mirroring-controller";
/** The managed-by value of mirrored slices. */
export const CONTROLLER_NAME = "endpointslicemirroring-controller.k8s.io";
/** upstream --mirroring-max-endpoints-per-subset default. */
export const DEFAULT_MAX_ENDPOINTS_PER_SUBSET = 1000;
const LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader";
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

export interface MirroringControllerOptions {
  /** --mirroring-max-endpoints-per-subset (1000). */
  maxEndpointsPerSubset?: number;
}

/** upstream shouldMirror: not skip-mirror, not a leader-election lock. */
export function shouldMirror(ep: Endpoints | undefined): ep is Endpoints {
  if (!ep) return false;
  if (ep.metadata.labels?.[LABEL_SKIP_MIRROR] === "true") return false;
  return ep.metadata.annotations?.[LEADER_ANNOTATION] === undefined;
}

/** upstream addressToEndpoint. */
function addressToEndpoint(a: EndpointAddress, ready: boolean): Endpoint {
  const e: Endpoint = { addresses: [a.ip], conditions: { ready } };
  if (a.targetRef) e.targetRef = a.targetRef;
  if (a.nodeName) e.nodeName = a.nodeName;
  if (a.hostname) e.hostname = a.hostname;
  return e;
}

/** The labels and annotations a mirrored slice carries (upstream newEndpointSlice). */
function mirroredMeta(ep: Endpoints): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = { ...(ep.metadata.labels ?? {}) };
  labels[LABEL_SERVICE_NAME] = ep.metadata.name ?? "";
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(ep.metadata.annotations ?? {}))
    if (k !== LAST_CHANGE_TRIGGER_TIME && k !== LAST_APPLIED) annotations[k] = v;
  return { labels, annotations };
}

const sameMap = (a: Record<string, string> | undefined, b: Record<string, string> | undefined) => {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => b?.[k] === a?.[k]);
};

export interface MirrorChanges {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
  /** Addresses left out: not IPs, or beyond maxEndpointsPerSubset. */
  invalid: number;
  skipped: number;
}

/** upstream reconciler.reconcile: the slice changes that mirror the Endpoints. */
export function reconcileMirror(
  ep: Endpoints,
  existing: readonly EndpointSlice[],
  maxPerSubset: number,
): MirrorChanges {
  const out: MirrorChanges = { create: [], update: [], delete: [], invalid: 0, skipped: 0 };
  const meta = mirroredMeta(ep);
  // desired: (ports, address type) -> endpoints.
  const desired = new Map<string, { ports: EndpointSlicePort[]; type: "IPv4" | "IPv6"; set: EndpointSet }>();
  for (const ss of repackSubsets(ep.subsets ?? [])) {
    const ports: EndpointSlicePort[] = (ss.ports ?? []).map((p) => ({
      name: p.name ?? "",
      port: p.port,
      protocol: p.protocol ?? "TCP",
      ...(p.appProtocol !== undefined ? { appProtocol: p.appProtocol } : {}),
    }));
    let added = 0;
    const total = (ss.addresses?.length ?? 0) + (ss.notReadyAddresses?.length ?? 0);
    const addAll = (addrs: readonly EndpointAddress[], ready: boolean) => {
      for (const a of addrs) {
        if (added >= maxPerSubset) break;
        const fam = isIP(a.ip);
        if (fam === 0) {
          out.invalid++;
          continue;
        }
        const type = fam === 6 ? "IPv6" : "IPv4";
        const key = `${type}/${portMapKey(ports)}`;
        let d = desired.get(key);
        if (!d) {
          d = { ports, type, set: new EndpointSet() };
          desired.set(key, d);
        }
        d.set.insert(addressToEndpoint(a, ready));
        added++;
      }
    };
    addAll(ss.addresses ?? [], true);
    addAll(ss.notReadyAddresses ?? [], false);
    out.skipped += total - added;
  }
  const existingByKey = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    const key = `${s.addressType}/${portMapKey(s.ports)}`;
    existingByKey.set(key, [...(existingByKey.get(key) ?? []), s]);
  }
  for (const [key, d] of desired) {
    for (const s of existingByKey.get(key) ?? []) {
      const covered: Endpoint[] = [];
      let changed = false;
      for (const e of s.endpoints ?? []) {
        const want = d.set.get(e);
        if (!want) continue;
        covered.push(want);
        if (!endpointsEqualBeyondKey(want, e)) changed = true;
        d.set.delete(e);
      }
      if (covered.length === 0) {
        out.delete.push(s);
        continue;
      }
      const owned = (s.metadata.ownerReferences ?? []).some((r) => r.uid === ep.metadata.uid);
      if (
        changed ||
        covered.length !== (s.endpoints ?? []).length ||
        !sameMap(s.metadata.labels, meta.labels) ||
        !sameMap(s.metadata.annotations, meta.annotations) ||
        !owned
      ) {
        const next = structuredClone(s);
        next.endpoints = covered;
        next.metadata.labels = meta.labels;
        if (Object.keys(meta.annotations).length > 0) next.metadata.annotations = meta.annotations;
        else delete next.metadata.annotations;
        next.metadata.ownerReferences = [ownerRefOf(ep)];
        out.update.push(next);
      }
    }
    while (d.set.size > 0) {
      const slice = newMirroredSlice(ep, d.ports, d.type, meta);
      while (d.set.size > 0 && slice.endpoints.length < maxPerSubset) slice.endpoints.push(d.set.pop() as Endpoint);
      out.create.push(slice);
    }
  }
  for (const [key, slices] of existingByKey) if (!desired.has(key)) out.delete.push(...slices);
  // Reuse slices about to be deleted for the creates (fewer writes, stable names).
  while (out.create.length > 0) {
    const i = out.delete.findIndex((s) => s.addressType === out.create[out.create.length - 1]?.addressType);
    if (i < 0) break;
    const victim = out.delete.splice(i, 1)[0] as EndpointSlice;
    const replacement = out.create.pop() as EndpointSlice;
    const next = structuredClone(victim);
    next.ports = replacement.ports ?? [];
    next.endpoints = replacement.endpoints;
    next.metadata.labels = replacement.metadata.labels ?? {};
    if (replacement.metadata.annotations) next.metadata.annotations = replacement.metadata.annotations;
    else delete next.metadata.annotations;
    next.metadata.ownerReferences = replacement.metadata.ownerReferences ?? [];
    out.update.push(next);
  }
  return out;
}

function ownerRefOf(ep: Endpoints) {
  return {
    apiVersion: "v1",
    kind: "Endpoints",
    name: ep.metadata.name ?? "",
    uid: ep.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

function newMirroredSlice(
  ep: Endpoints,
  ports: EndpointSlicePort[],
  type: "IPv4" | "IPv6",
  meta: { labels: Record<string, string>; annotations: Record<string, string> },
): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      generateName: slicePrefix(ep.metadata.name ?? ""),
      namespace: ep.metadata.namespace ?? "",
      labels: { ...meta.labels },
      ...(Object.keys(meta.annotations).length > 0 ? { annotations: { ...meta.annotations } } : {}),
      ownerReferences: [ownerRefOf(ep)],
    },
    addressType: type,
    endpoints: [],
    ports,
  };
}

export class EndpointSliceMirroringController implements Controller {
  readonly name = NAME;
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #services: Informer<Service>;
  readonly #endpoints: Informer<Endpoints>;
  readonly #slices: Informer<EndpointSlice>;
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #max: number;
  readonly #tracker = new EndpointSliceTracker((s) =>
    s.metadata.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME ? s.metadata.labels?.[LABEL_SERVICE_NAME] : undefined,
  );

  constructor(ctx: ControllerContext, o: MirroringControllerOptions = {}) {
    this.#client = ctx.client;
    this.#log = ctx.log.child({ controller: NAME });
    this.#recorder = ctx.recorder("endpointslice-mirroring-controller");
    this.#max = o.maxEndpointsPerSubset ?? DEFAULT_MAX_ENDPOINTS_PER_SUBSET;
    this.queue = new WorkQueue({ name: "endpoint_slice_mirroring", clock: ctx.clock });
    this.#services = ctx.informers.informer(SERVICES);
    this.#endpoints = ctx.informers.informer(ENDPOINTS);
    this.#slices = ctx.informers.informer(ENDPOINTSLICES);

    this.#services.on("add", (svc) => this.queue.add(keyOf(svc)));
    this.#services.on("update", (old, cur) => {
      // Only a selector appearing or going (or a type change) changes what is mirrored.
      if (hasSelector(old) !== hasSelector(cur) || old.spec?.type !== cur.spec?.type) this.queue.add(keyOf(cur));
    });
    this.#services.on("delete", (svc) => this.queue.add(keyOf(objectOf(svc))));
    this.#endpoints.on("add", (ep) => this.queue.add(keyOf(ep)));
    this.#endpoints.on("update", (_old, ep) => this.queue.add(keyOf(ep)));
    this.#endpoints.on("delete", (ep) => this.queue.add(keyOf(objectOf(ep))));
    this.#slices.on("add", (s) => {
      if (this.#managed(s) && this.#tracker.shouldSync(s)) this.#enqueueSlice(s);
    });
    this.#slices.on("update", (old, cur) => {
      if (
        this.#managed(old) !== this.#managed(cur) ||
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

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ workers }, "starting endpoint slice mirroring controller");
    if (!(await waitForCacheSync(signal, this.#services, this.#endpoints, this.#slices))) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log);
  }

  #mirrored(namespace: string, name: string): EndpointSlice[] {
    return this.#slices
      .byIndex(NAMESPACE_INDEX, namespace)
      .filter((s) => s.metadata.labels?.[LABEL_SERVICE_NAME] === name && this.#managed(s));
  }

  /** upstream syncEndpoints. Throws to be retried. */
  async sync(key: string): Promise<void> {
    const { namespace = "", name } = splitKey(key);
    const svc = this.#services.get(key);
    if (!svc) {
      // Slices go with their Endpoints (owner references).
      this.#tracker.deleteService(namespace, name);
      return;
    }
    if (svc.spec?.type === "ExternalName") return;
    const ep = this.#endpoints.get(key);
    if (hasSelector(svc) || !shouldMirror(ep)) {
      await this.#deleteMirrored(namespace, name);
      return;
    }
    const existing = this.#mirrored(namespace, name).filter((s) => s.metadata.deletionTimestamp === undefined);
    if (this.#tracker.staleSlices(namespace, name, existing)) throw new StaleInformerCache();
    const changes = reconcileMirror(ep, existing, this.#max);
    if (changes.invalid > 0)
      this.#recorder.event(
        ep,
        "Warning",
        "InvalidIPAddress",
        `Skipped ${changes.invalid} invalid IP addresses when mirroring to EndpointSlices`,
      );
    if (changes.skipped > changes.invalid)
      this.#recorder.event(
        ep,
        "Warning",
        "TooManyAddressesToMirror",
        `A max of ${this.#max} addresses can be mirrored to EndpointSlices per Endpoints subset. ${changes.skipped} addresses were skipped`,
      );
    for (const s of changes.create) {
      try {
        this.#tracker.update(await this.#client.create<EndpointSlice>(ENDPOINTSLICES, namespace, s));
      } catch (err) {
        if ((err as StatusError).details?.causes?.some((c) => c.reason === "NamespaceTerminating")) return;
        throw err;
      }
    }
    for (const s of changes.update)
      this.#tracker.update(await this.#client.update<EndpointSlice>(ENDPOINTSLICES, namespace, s));
    for (const s of changes.delete) await this.#deleteSlice(s);
  }

  async #deleteMirrored(namespace: string, name: string): Promise<void> {
    for (const s of this.#mirrored(namespace, name)) await this.#deleteSlice(s);
  }

  async #deleteSlice(s: EndpointSlice): Promise<void> {
    try {
      await this.#client.delete(ENDPOINTSLICES, s.metadata.namespace, s.metadata.name ?? "");
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.#tracker.expectDeletion(s);
  }
}

export function newEndpointSliceMirroringController(ctx: ControllerContext): Controller {
  return new EndpointSliceMirroringController(ctx, ctx.options?.endpointSliceMirroring ?? {});
}
