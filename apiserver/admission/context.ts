// What the API server lends admission plugins (upstream: the plugin initializers' informers,
// listers and clients): namespace lookups, the watch cache's view of a namespace, and the stores
// for the few plugins that read current state or write (ResourceQuota's status).

import type { KubeObject } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Logger } from "#pkg/runtime/log.js";
import type { Store } from "../registry/store.js";

export interface AdmissionContext {
  /** A namespace by name: the watch cache first, then storage; undefined when it does not exist. */
  getNamespace(name: string): Promise<KubeObject | undefined>;
  /** The objects of r in namespace as the watch cache has them (may lag a write by milliseconds). */
  cached(r: ResourceInfo, namespace: string): KubeObject[];
  /**
   * The same once the watch cache has seen every write of r this server made (a LimitRange
   * created a moment ago is there); writes through other API servers may still lag.
   */
  current(r: ResourceInfo, namespace: string): Promise<KubeObject[]>;
  /** The store of r (reads that must be current, and writes). */
  store(r: ResourceInfo): Store;
  log: Logger;
}
