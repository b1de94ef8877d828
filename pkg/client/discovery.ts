// Discovery documents as a client reads them (upstream: apimachinery's metav1 APIVersions,
// APIGroupList, APIResourceList; client-go's DiscoveryClient). Lenient: a real API server
// sends fields kubeling's does not, and the other way round.

import type { ResourceInfo } from "../api/resources.js";

export interface APIResource {
  /** Plural, or "pods/log" for a subresource. */
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
  shortNames?: string[];
  categories?: string[];
}

export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

/** GET /api */
export interface APIVersions {
  versions?: string[];
}

/** GET /apis */
export interface APIGroupList {
  groups?: Array<{ name: string; preferredVersion?: GroupVersionForDiscovery; versions?: GroupVersionForDiscovery[] }>;
}

/** GET /api/v1, /apis/{group}/{version} */
export interface APIResourceList {
  groupVersion?: string;
  resources?: APIResource[];
}

/** One served group-version and its resources ("" is the core group). */
export interface DiscoveredGroupVersion {
  group: string;
  version: string;
  resources: APIResource[];
}

/** GET /version */
export interface VersionInfo {
  major?: string;
  minor?: string;
  gitVersion?: string;
  [field: string]: unknown;
}

/**
 * resourceInfoOf: a discovered resource as the ResourceInfo that clients, informers and paths
 * take, for kinds the caller knows only through discovery (the namespace controller, the
 * garbage collector).
 */
export function resourceInfoOf(gv: Pick<DiscoveredGroupVersion, "group" | "version">, r: APIResource): ResourceInfo {
  return {
    group: gv.group,
    version: gv.version,
    kind: r.kind,
    listKind: `${r.kind}List`,
    resource: r.name,
    singular: r.singularName || r.kind.toLowerCase(),
    namespaced: r.namespaced,
    shortNames: r.shortNames ?? [],
    categories: r.categories ?? [],
    verbs: r.verbs ?? [],
    subresources: [],
  };
}
