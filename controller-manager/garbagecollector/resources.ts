// What the garbage collector knows of the server's kinds, all from discovery (upstream:
// GetDeletableResources and the REST mapper it resets on every resync): the resources it keeps a
// monitor on, and the mapping from an owner reference's apiVersion/kind to a resource.

import { apiVersionOf, type ResourceInfo, splitApiVersion } from "#pkg/api/resources.js";
import { type DiscoveredGroupVersion, resourceInfoOf } from "#pkg/client/discovery.js";

/** upstream DefaultIgnoredResources: events change all the time and own nothing. */
export const IGNORED_RESOURCES: ReadonlySet<string> = new Set(["events", "events.events.k8s.io"]);

/** "<resource>.<group>" ("pods" for the core group): the key monitors are kept by. */
export function groupResource(r: Pick<ResourceInfo, "group" | "resource">): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

/** "<group>/<version>/<resource>": one monitored resource. */
export function resourceKey(r: Pick<ResourceInfo, "group" | "version" | "resource">): string {
  return `${r.group}/${r.version}/${r.resource}`;
}

/**
 * deletableResources: the preferred version of every resource that supports delete, list and
 * watch (subresources excluded), minus the ignored ones, as upstream's GetDeletableResources.
 */
export function deletableResources(
  groups: readonly DiscoveredGroupVersion[],
  ignored: ReadonlySet<string> = IGNORED_RESOURCES,
): ResourceInfo[] {
  const out: ResourceInfo[] = [];
  for (const gv of groups) {
    for (const r of gv.resources) {
      if (r.name.includes("/")) continue;
      const verbs = r.verbs ?? [];
      if (!["delete", "list", "watch"].every((v) => verbs.includes(v))) continue;
      const info = resourceInfoOf(gv, r);
      if (ignored.has(groupResource(info))) continue;
      out.push(info);
    }
  }
  return out;
}

/**
 * RESTMapper: apiVersion + kind → the resource that serves it, from one discovery pass. A
 * reference whose version is not the one discovered maps to the group's served version of the
 * kind (the objects are the same across versions); an unknown kind maps to nothing.
 */
export class RESTMapper {
  readonly #byGVK = new Map<string, ResourceInfo>();
  readonly #byGK = new Map<string, ResourceInfo>();

  constructor(groups: readonly DiscoveredGroupVersion[]) {
    for (const gv of groups) {
      for (const r of gv.resources) {
        if (r.name.includes("/")) continue;
        const info = resourceInfoOf(gv, r);
        this.#byGVK.set(`${apiVersionOf(info)}|${info.kind}`, info);
        if (!this.#byGK.has(`${info.group}|${info.kind}`)) this.#byGK.set(`${info.group}|${info.kind}`, info);
      }
    }
  }

  resourceFor(apiVersion: string, kind: string): ResourceInfo | undefined {
    const exact = this.#byGVK.get(`${apiVersion}|${kind}`);
    if (exact) return exact;
    return this.#byGK.get(`${splitApiVersion(apiVersion).group}|${kind}`);
  }
}

/** upstream restMappingError: a reference to a kind discovery does not (yet) know. */
export class RESTMappingError extends Error {
  constructor(kind: string, apiVersion: string) {
    super(
      `unable to get REST mapping for ${kind}.${apiVersion}. If ${kind} is a custom resource, check that the garbage collector has discovered it`,
    );
    this.name = "RESTMappingError";
  }
}
