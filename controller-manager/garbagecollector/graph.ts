// The garbage collector's dependency graph (upstream: pkg/controller/garbagecollector/graph.go):
// one node per object uid, its owners as its ownerReferences say, and the nodes that name it as
// an owner (its dependents). A node the graph has only heard of through a dependent's reference
// is "virtual" until an informer shows the object. The graph builder is the only writer; the
// workers read it. Node is single-threaded, so nodes are changed in place (upstream copies them
// because its workers run in parallel goroutines).

import type { OwnerReference } from "#pkg/api/meta.js";

/** Who an object is: an owner reference's coordinates plus the namespace ("" cluster-scoped). */
export interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  namespace: string;
}

export class GraphNode {
  identity: ObjectReference;
  /** The nodes that have identity.uid in their ownerReferences. */
  readonly dependents = new Set<GraphNode>();
  /** This object's ownerReferences as last observed. */
  owners: OwnerReference[];
  /** deletionTimestamp set and the foregroundDeletion finalizer present. */
  deletingDependents: boolean;
  /** deletionTimestamp set: a one-way trip. */
  beingDeleted: boolean;
  /** Known only from a dependent's ownerReference, never observed through an informer. */
  virtual: boolean;

  constructor(
    identity: ObjectReference,
    o: { owners?: OwnerReference[]; deletingDependents?: boolean; beingDeleted?: boolean; virtual?: boolean } = {},
  ) {
    this.identity = identity;
    this.owners = o.owners ?? [];
    this.deletingDependents = o.deletingDependents ?? false;
    this.beingDeleted = o.beingDeleted ?? false;
    this.virtual = o.virtual ?? false;
  }

  /** The dependents whose reference to this node has blockOwnerDeletion: true. */
  blockingDependents(): GraphNode[] {
    return [...this.dependents].filter((dep) =>
      dep.owners.some((o) => o.uid === this.identity.uid && o.blockOwnerDeletion === true),
    );
  }
}

/** upstream ownerReferenceCoordinates: uid, name, kind, apiVersion only. */
export function ownerReferenceCoordinates(ref: OwnerReference): OwnerReference {
  return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid };
}

export function ownerReferenceMatchesCoordinates(
  a: Pick<OwnerReference, "apiVersion" | "kind" | "name" | "uid">,
  b: Pick<OwnerReference, "apiVersion" | "kind" | "name" | "uid">,
): boolean {
  return a.uid === b.uid && a.name === b.name && a.kind === b.kind && a.apiVersion === b.apiVersion;
}

export function sameIdentity(a: ObjectReference, b: ObjectReference): boolean {
  return ownerReferenceMatchesCoordinates(a, b) && a.namespace === b.namespace;
}

/** A key for maps and the absent-owner cache. */
export function identityKey(r: ObjectReference): string {
  return `${r.apiVersion}|${r.kind}|${r.namespace}|${r.name}|${r.uid}`;
}

/** For logs: namespace/name with kind and uid, as upstream's objectReference.MarshalLog. */
export function describe(r: ObjectReference): {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid: string;
} {
  return {
    apiVersion: r.apiVersion,
    kind: r.kind,
    ...(r.namespace ? { namespace: r.namespace } : {}),
    name: r.name,
    uid: r.uid,
  };
}

export function referenceString(r: ObjectReference): string {
  return `[${r.apiVersion}/${r.kind}, namespace: ${r.namespace}, name: ${r.name}, uid: ${r.uid}]`;
}

export interface OwnerRefPair {
  oldRef: OwnerReference;
  newRef: OwnerReference;
}

function sameRef(a: OwnerReference, b: OwnerReference): boolean {
  return (
    ownerReferenceMatchesCoordinates(a, b) &&
    (a.controller ?? null) === (b.controller ?? null) &&
    (a.blockOwnerDeletion ?? null) === (b.blockOwnerDeletion ?? null)
  );
}

/** upstream referencesDiffs: owner references added, removed, and changed (same uid), old → new. */
export function referencesDiffs(
  old: readonly OwnerReference[],
  next: readonly OwnerReference[],
): { added: OwnerReference[]; removed: OwnerReference[]; changed: OwnerRefPair[] } {
  const oldByUid = new Map(old.map((r) => [r.uid, r]));
  const added: OwnerReference[] = [];
  const changed: OwnerRefPair[] = [];
  for (const ref of next) {
    const was = oldByUid.get(ref.uid);
    if (was) {
      if (!sameRef(was, ref)) changed.push({ oldRef: was, newRef: ref });
      oldByUid.delete(ref.uid);
    } else {
      added.push(ref);
    }
  }
  return { added, removed: [...oldByUid.values()], changed };
}

/**
 * upstream partitionDependents: the dependents whose reference to identity.uid matches all of
 * identity's coordinates, and those with a reference to that uid that does not (or that live in
 * another namespace than a namespaced owner). One dependent may be in both.
 */
export function partitionDependents(
  dependents: Iterable<GraphNode>,
  identity: ObjectReference,
): { matching: GraphNode[]; nonmatching: GraphNode[] } {
  const matching: GraphNode[] = [];
  const nonmatching: GraphNode[] = [];
  const ownerNamespaced = identity.namespace !== "";
  for (const dep of dependents) {
    let match = false;
    let mismatch = false;
    if (ownerNamespaced && identity.namespace !== dep.identity.namespace) {
      mismatch = true;
    } else {
      for (const ref of dep.owners) {
        if (ref.uid !== identity.uid) continue;
        if (ownerReferenceMatchesCoordinates(ref, identity)) match = true;
        else mismatch = true;
      }
    }
    if (match) matching.push(dep);
    if (mismatch) nonmatching.push(dep);
  }
  return { matching, nonmatching };
}

/** upstream referenceLessThan: kind, apiVersion, namespace, name, uid. */
export function referenceLessThan(a: ObjectReference, b: ObjectReference): boolean {
  for (const f of ["kind", "apiVersion", "namespace", "name", "uid"] as const) {
    if (a[f] !== b[f]) return a[f] < b[f];
  }
  return false;
}

/**
 * upstream getAlternateOwnerIdentity: among the dependents' references to absent.uid, another
 * identity to try once `absent` is verified gone: the first after it in referenceLessThan order,
 * else the first overall; undefined when there is none.
 */
export function getAlternateOwnerIdentity(
  deps: Iterable<GraphNode>,
  absent: ObjectReference,
): ObjectReference | undefined {
  const absentClusterScoped = absent.namespace === "";
  const seen = new Set<string>([identityKey(absent)]);
  let first: ObjectReference | undefined;
  let firstFollowing: ObjectReference | undefined;
  for (const dep of deps) {
    for (const ref of dep.owners) {
      if (ref.uid !== absent.uid) continue;
      if (
        ownerReferenceMatchesCoordinates(ref, absent) &&
        (absentClusterScoped || absent.namespace === dep.identity.namespace)
      )
        continue;
      const alt: ObjectReference = { ...ownerReferenceCoordinates(ref), namespace: dep.identity.namespace };
      // That apiVersion/kind is known to be cluster-scoped from the absent identity.
      if (absentClusterScoped && alt.apiVersion === absent.apiVersion && alt.kind === absent.kind) alt.namespace = "";
      const key = identityKey(alt);
      if (seen.has(key)) continue;
      seen.add(key);
      if (!first || referenceLessThan(alt, first)) first = alt;
      if (referenceLessThan(absent, alt) && (!firstFollowing || referenceLessThan(alt, firstFollowing)))
        firstFollowing = alt;
    }
  }
  return firstFollowing ?? first;
}

/**
 * ReferenceCache (upstream uid_cache.go): the owners the API server said are absent, an LRU of
 * bounded size, so that many dependents of one deleted owner cost one lookup.
 */
export class ReferenceCache {
  readonly #max: number;
  readonly #keys = new Map<string, true>();

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  add(r: ObjectReference): void {
    const k = identityKey(r);
    this.#keys.delete(k);
    this.#keys.set(k, true);
    if (this.#keys.size > this.#max) {
      const oldest = this.#keys.keys().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
  }

  has(r: ObjectReference): boolean {
    const k = identityKey(r);
    if (!this.#keys.has(k)) return false;
    // A hit is a use: keep it.
    this.#keys.delete(k);
    this.#keys.set(k, true);
    return true;
  }

  get size(): number {
    return this.#keys.size;
  }
}
