// EndpointSet (upstream staging/src/k8s.io/endpointslice/util/endpointset.go): endpoints keyed by
// what identifies them across syncs (their sorted addresses, hostname and target pod's name), so
// that a reconcile keeps each endpoint in the slice it is already in and only the endpoints that
// changed beyond that identity (conditions, node, zone, target uid) cause writes.

import type { Endpoint, EndpointSlicePort } from "#pkg/api/types/discovery.js";

/** upstream hashEndpoint: what identifies an endpoint. */
export function endpointKey(e: Endpoint): string {
  return JSON.stringify([
    [...(e.addresses ?? [])].sort(),
    e.hostname ?? "",
    e.targetRef?.namespace ?? "",
    e.targetRef?.name ?? "",
  ]);
}

/** upstream EndpointsEqualBeyondHash: the fields endpointKey leaves out agree. */
export function endpointsEqualBeyondKey(a: Endpoint, b: Endpoint): boolean {
  const cond = (e: Endpoint) => [e.conditions?.ready, e.conditions?.serving, e.conditions?.terminating];
  return (
    JSON.stringify(cond(a)) === JSON.stringify(cond(b)) &&
    (a.nodeName ?? "") === (b.nodeName ?? "") &&
    (a.zone ?? "") === (b.zone ?? "") &&
    JSON.stringify(a.hints ?? null) === JSON.stringify(b.hints ?? null) &&
    (a.targetRef?.uid ?? "") === (b.targetRef?.uid ?? "") &&
    (a.targetRef?.kind ?? "") === (b.targetRef?.kind ?? "")
  );
}

/** The key of a set of ports (upstream NewPortMapKey): endpoints with the same ports share slices. */
export function portMapKey(ports: readonly EndpointSlicePort[] | undefined): string {
  return JSON.stringify(
    (ports ?? [])
      .map((p) => [p.name ?? "", p.port ?? 0, p.protocol ?? "TCP", p.appProtocol ?? ""])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  );
}

/** A set of endpoints by endpointKey, popped in a stable order (sorted keys). */
export class EndpointSet {
  readonly #items = new Map<string, Endpoint>();

  insert(e: Endpoint): void {
    this.#items.set(endpointKey(e), e);
  }

  get(e: Endpoint): Endpoint | undefined {
    return this.#items.get(endpointKey(e));
  }

  delete(e: Endpoint): void {
    this.#items.delete(endpointKey(e));
  }

  get size(): number {
    return this.#items.size;
  }

  /** Removes and returns the endpoint of the smallest key. */
  pop(): Endpoint | undefined {
    let min: string | undefined;
    for (const k of this.#items.keys()) if (min === undefined || k < min) min = k;
    if (min === undefined) return undefined;
    const e = this.#items.get(min);
    this.#items.delete(min);
    return e;
  }
}
