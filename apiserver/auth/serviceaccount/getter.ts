// Where the ServiceAccount token authenticator finds the objects a token names: the API
// server's own watch cache, then its storage on a miss (upstream's getter: the informers'
// listers, then a live GET), never over HTTP. A miss on both throws the storage's NotFound.

import type { KubeObject } from "#pkg/api/meta.js";
import { NODES, PODS, type ResourceInfo, SECRETS, SERVICEACCOUNTS } from "#pkg/api/resources.js";
import type { Node, Pod, Secret, ServiceAccount } from "#pkg/api/types/index.js";
import type { StoreView } from "../../http/types.js";
import type { ServiceAccountTokenGetter } from "./claims.js";

/** What the getter reads: the watch cache's current objects and the stores. */
export interface ObjectSource {
  cached(r: ResourceInfo, namespace: string | undefined, name: string): KubeObject | undefined;
  store(r: ResourceInfo): Pick<StoreView, "get">;
}

export function serviceAccountTokenGetter(src: ObjectSource): ServiceAccountTokenGetter {
  const get = async <T extends KubeObject>(r: ResourceInfo, namespace: string | undefined, name: string) =>
    (src.cached(r, namespace, name) ?? (await src.store(r).get(namespace, name))) as T;
  return {
    getServiceAccount: (ns, name) => get<ServiceAccount>(SERVICEACCOUNTS, ns, name),
    getPod: (ns, name) => get<Pod>(PODS, ns, name),
    getSecret: (ns, name) => get<Secret>(SECRETS, ns, name),
    getNode: (name) => get<Node>(NODES, undefined, name),
  };
}
