// Fixtures for the service-account token tests: a getter over plain maps, as the API server's
// cache and storage would answer (misses throw upstream's NotFound).

import { notFound } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { Node, Pod, Secret, ServiceAccount } from "#pkg/api/types/index.js";
import type { ServiceAccountTokenGetter } from "./claims.js";

export interface FakeObjects {
  serviceaccounts: Map<string, ServiceAccount>;
  pods: Map<string, Pod>;
  secrets: Map<string, Secret>;
  nodes: Map<string, Node>;
}

export const emptyObjects = (): FakeObjects => ({
  serviceaccounts: new Map(),
  pods: new Map(),
  secrets: new Map(),
  nodes: new Map(),
});

const key = (o: KubeObject) =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : `${o.metadata.name}`;

/** put adds objects under the map of their kind. */
export function put(objects: FakeObjects, ...items: Array<ServiceAccount | Pod | Secret | Node>): void {
  for (const o of items) {
    const m = {
      ServiceAccount: objects.serviceaccounts,
      Pod: objects.pods,
      Secret: objects.secrets,
      Node: objects.nodes,
    }[o.kind ?? ""] as Map<string, KubeObject> | undefined;
    if (!m) throw new Error(`no map for kind ${o.kind}`);
    m.set(key(o), o);
  }
}

export function fakeGetter(objects: FakeObjects): ServiceAccountTokenGetter {
  const get = <T>(m: Map<string, T>, resource: string, ns: string | undefined, name: string): Promise<T> => {
    const o = m.get(ns ? `${ns}/${name}` : name);
    return o ? Promise.resolve(o) : Promise.reject(notFound({ group: "", resource }, name));
  };
  return {
    getServiceAccount: (ns, name) => get(objects.serviceaccounts, "serviceaccounts", ns, name),
    getPod: (ns, name) => get(objects.pods, "pods", ns, name),
    getSecret: (ns, name) => get(objects.secrets, "secrets", ns, name),
    getNode: (name) => get(objects.nodes, "nodes", undefined, name),
  };
}

export const serviceAccount = (ns: string, name: string, uid: string): ServiceAccount => ({
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: { namespace: ns, name, uid },
});

export const pod = (ns: string, name: string, uid: string, o: { sa?: string; node?: string } = {}): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { namespace: ns, name, uid },
  spec: {
    containers: [{ name: "c", image: "busybox" }],
    ...(o.sa ? { serviceAccountName: o.sa } : {}),
    ...(o.node ? { nodeName: o.node } : {}),
  },
});

export const secret = (ns: string, name: string, uid: string): Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { namespace: ns, name, uid },
});

export const node = (name: string, uid: string): Node => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, uid },
});
