// Namespace lifecycle (upstream: pkg/registry/core/namespace/storage, and the messages of the
// NamespaceLifecycle admission plugin in apiserver/admission/plugins): the namespaces every
// cluster has, which of them may never be deleted, and when a terminating namespace is finally
// removed.

import { forbidden, type QualifiedResource, StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";

export const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

/** Upstream's immortal namespaces: deleting them is forbidden. */
export const IMMORTAL_NAMESPACES: ReadonlySet<string> = new Set(["default", "kube-system", "kube-public"]);

/** spec.finalizers entry the namespace controller removes once the namespace is empty. */
export const NAMESPACE_FINALIZER = "kubernetes";

interface NamespaceShape {
  spec?: { finalizers?: string[] };
  status?: { phase?: string };
}

export function namespaceObject(name: string): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name } };
}

/** A namespace being deleted: new content may not be created in it. */
export function isTerminating(ns: KubeObject): boolean {
  const phase = (ns as NamespaceShape).status?.phase;
  return phase === "Terminating" || ns.metadata.deletionTimestamp !== undefined;
}

/** On create: spec.finalizers ["kubernetes"] and phase Active, as upstream's strategy does. */
export function prepareNamespaceForCreate(obj: KubeObject): void {
  const ns = obj as KubeObject & NamespaceShape;
  ns.spec ??= {};
  const spec = ns.spec;
  const finalizers = spec.finalizers ?? [];
  if (!finalizers.includes(NAMESPACE_FINALIZER)) finalizers.push(NAMESPACE_FINALIZER);
  spec.finalizers = finalizers;
  ns.status = { ...(ns.status ?? {}), phase: "Active" };
}

/** True when a terminating namespace has nothing left to wait for and is removed. */
export function namespaceFinalized(obj: KubeObject): boolean {
  const ns = obj as KubeObject & NamespaceShape;
  return (
    obj.metadata.deletionTimestamp !== undefined &&
    (ns.spec?.finalizers ?? []).length === 0 &&
    (obj.metadata.finalizers ?? []).length === 0
  );
}

/** Marks a namespace as terminating (deletionTimestamp + phase), returning the new object. */
export function markTerminating(obj: KubeObject, now: string): KubeObject {
  const ns = structuredClone(obj) as KubeObject & NamespaceShape;
  ns.metadata.deletionTimestamp ??= now;
  ns.metadata.deletionGracePeriodSeconds = 0;
  ns.status = { ...(ns.status ?? {}), phase: "Terminating" };
  return ns;
}

export function immortalNamespaceError(name: string): StatusError {
  return forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
}

/** NamespaceLifecycle's message for a create in a terminating namespace. */
export function terminatingNamespaceError(r: QualifiedResource, name: string, namespace: string): StatusError {
  const what = r.group ? `${r.resource}.${r.group}` : r.resource;
  return new StatusError(
    403,
    "Forbidden",
    `${what} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
    {
      name,
      group: r.group,
      kind: r.resource,
      causes: [
        {
          reason: "NamespaceTerminating",
          message: `namespace ${namespace} is being terminated`,
          field: "metadata.namespace",
        },
      ],
    },
  );
}
