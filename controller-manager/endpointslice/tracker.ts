// EndpointSliceTracker (upstream staging/src/k8s.io/endpointslice/endpointslice_tracker.go): the
// generation of every slice this controller wrote, by Service, so that a sync on an informer
// cache that has not yet seen those writes is refused (retried) instead of acting on stale state
// and, say, creating a second slice for endpoints it just placed; and so that the informer
// events of the controller's own writes do not trigger another sync.

import type { EndpointSlice } from "#pkg/api/types/discovery.js";

/** The generation recorded for a slice this controller deleted. */
const DELETION_EXPECTED = -1;

const serviceKey = (namespace: string, name: string) => `${namespace}/${name}`;

export class EndpointSliceTracker {
  readonly #byService = new Map<string, Map<string, number>>();

  constructor(private readonly serviceNameOf: (slice: EndpointSlice) => string | undefined) {}

  #gens(slice: EndpointSlice, create: boolean): Map<string, number> | undefined {
    const svc = this.serviceNameOf(slice);
    if (svc === undefined) return undefined;
    const key = serviceKey(slice.metadata.namespace ?? "", svc);
    let gens = this.#byService.get(key);
    if (!gens && create) {
      gens = new Map();
      this.#byService.set(key, gens);
    }
    return gens;
  }

  /** has: the slice is tracked. */
  has(slice: EndpointSlice): boolean {
    return this.#gens(slice, false)?.has(slice.metadata.uid ?? "") === true;
  }

  /** shouldSync: the slice is not one this controller wrote at this generation (someone else changed it). */
  shouldSync(slice: EndpointSlice): boolean {
    const g = this.#gens(slice, false)?.get(slice.metadata.uid ?? "");
    return g === undefined || (slice.metadata.generation ?? 0) > g;
  }

  /**
   * staleSlices: the cache's slices of the Service are older than what this controller wrote: a
   * slice older than its tracked generation or one it deleted, or a tracked slice missing.
   */
  staleSlices(namespace: string, name: string, slices: readonly EndpointSlice[]): boolean {
    const gens = this.#byService.get(serviceKey(namespace, name));
    if (!gens) return false;
    const provided = new Set<string>();
    for (const s of slices) {
      const uid = s.metadata.uid ?? "";
      provided.add(uid);
      const g = gens.get(uid);
      if (g !== undefined && (g === DELETION_EXPECTED || g > (s.metadata.generation ?? 0))) return true;
    }
    for (const [uid, g] of gens) if (g !== DELETION_EXPECTED && !provided.has(uid)) return true;
    return false;
  }

  /** update records a slice as written (what the API server answered). */
  update(slice: EndpointSlice): void {
    this.#gens(slice, true)?.set(slice.metadata.uid ?? "", slice.metadata.generation ?? 0);
  }

  /** expectDeletion records a slice this controller deleted. */
  expectDeletion(slice: EndpointSlice): void {
    this.#gens(slice, true)?.set(slice.metadata.uid ?? "", DELETION_EXPECTED);
  }

  /** handleDeletion forgets a deleted slice; true when the deletion was not this controller's doing. */
  handleDeletion(slice: EndpointSlice): boolean {
    const gens = this.#gens(slice, false);
    const uid = slice.metadata.uid ?? "";
    const g = gens?.get(uid);
    gens?.delete(uid);
    return g !== DELETION_EXPECTED;
  }

  deleteService(namespace: string, name: string): void {
    this.#byService.delete(serviceKey(namespace, name));
  }
}

/** Thrown when the informer cache is behind this controller's own writes: the key is retried. */
export class StaleInformerCache extends Error {
  constructor(message = "EndpointSlice informer cache is out of date") {
    super(message);
    this.name = "StaleInformerCache";
  }
}
