// Cache keys as client-go's MetaNamespaceKeyFunc: "<namespace>/<name>", or "<name>" when
// the object is cluster-scoped.

import type { KubeObject } from "./meta.js";

export function keyOf(obj: Pick<KubeObject, "metadata">): string {
  const { namespace, name = "" } = obj.metadata;
  return namespace ? `${namespace}/${name}` : name;
}

export function keyFor(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf("/");
  if (slash < 0) return { name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
