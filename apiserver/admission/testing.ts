// Fakes for admission plugin tests: a context over in-memory namespaces and cached objects, and
// attributes that collect warnings and annotations.

import type { KubeObject } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import { silentLogger } from "#pkg/runtime/log.js";
import type { UserInfo } from "../auth/user.js";
import type { Store } from "../registry/store.js";
import { type Attributes, newAttributes, type Operation, type RequestSink } from "./attributes.js";
import type { AdmissionContext } from "./context.js";

export interface FakeContext extends AdmissionContext {
  namespaces: Map<string, KubeObject>;
  /** Cached objects by "group/resource". */
  objects: Map<string, KubeObject[]>;
}

export function fakeContext(
  o: { namespaces?: KubeObject[]; objects?: Record<string, KubeObject[]>; stores?: Record<string, Store> } = {},
): FakeContext {
  const namespaces = new Map((o.namespaces ?? []).map((n) => [n.metadata.name ?? "", n]));
  const objects = new Map(Object.entries(o.objects ?? {}));
  const cachedOf = (r: ResourceInfo, namespace: string) =>
    (objects.get(`${r.group}/${r.resource}`) ?? []).filter((x) => !r.namespaced || x.metadata.namespace === namespace);
  return {
    namespaces,
    objects,
    getNamespace: async (name) => namespaces.get(name),
    cached: (r: ResourceInfo, namespace: string) => cachedOf(r, namespace),
    current: async (r: ResourceInfo, namespace: string) => cachedOf(r, namespace),
    store: (r) => {
      const s = o.stores?.[`${r.group}/${r.resource}`];
      if (!s) throw new Error(`no fake store for ${r.resource}`);
      return s;
    },
    log: silentLogger,
  };
}

export function namespace(name: string, labels: Record<string, string> = {}, phase = "Active"): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels }, status: { phase } };
}

/** Attributes of a request on r, collecting into the returned sink. */
export function attrs(
  r: Pick<ResourceInfo, "group" | "version" | "resource" | "kind">,
  op: Operation,
  o: {
    namespace?: string;
    name?: string;
    object?: KubeObject;
    oldObject?: KubeObject;
    subresource?: string;
    dryRun?: boolean;
    /** Default: alice in system:authenticated. */
    userInfo?: UserInfo;
    /** Default: r's own kind (a subresource's body has its own, e.g. policy/v1 Eviction). */
    kind?: { group: string; version: string; kind: string };
  } = {},
): { a: Attributes; sink: RequestSink } {
  const sink: RequestSink = { warnings: [], annotations: {} };
  const a = newAttributes({
    operation: op,
    resource: { group: r.group, version: r.version, resource: r.resource },
    kind: o.kind ?? { group: r.group, version: r.version, kind: r.kind },
    subresource: o.subresource,
    namespace: o.namespace,
    name: o.name ?? o.object?.metadata.name ?? "",
    object: o.object,
    oldObject: o.oldObject,
    dryRun: o.dryRun,
    userInfo: o.userInfo ?? { name: "alice", uid: "1", groups: ["system:authenticated"] },
    sink,
  });
  return { a, sink };
}
