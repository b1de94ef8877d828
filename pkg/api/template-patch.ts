// The pod-template snapshot the DaemonSet and StatefulSet controllers keep in ControllerRevisions
// and kubectl rollout undo sends back (their getPatch): `{"spec":{"template":{...,"$patch":
// "replace"}}}` built from the template as Go's typed client serialises it
// (metadata.creationTimestamp null, every container's resources at least {}) with keys sorted,
// so a byte comparison of a live object's patch with a revision's data (kubectl's "skipped
// rollback" check) agrees with ours. canonicalJSON is also what template hashes are taken over.

import type { PodTemplateSpec } from "./types/core.js";

/** canonicalJSON: JSON with object keys sorted at every level, undefined members dropped. */
export function canonicalJSON(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? "null" : canonicalJSON(x))).join(",")}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJSON(x)}`).join(",")}}`;
}

/** The template as a Go client would marshal it: the fields that are never omitted are present. */
export function typedTemplate(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const copy = structuredClone(t ?? {}) as PodTemplateSpec;
  copy.metadata ??= {};
  (copy.metadata as { creationTimestamp?: string | null }).creationTimestamp ??= null;
  const spec = copy.spec;
  if (spec) {
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) c.resources ??= {};
  }
  return copy;
}

/** Re-creates a JSON value with every object's keys in sorted order (Go's map marshalling order). */
export function sortedJSON<T>(v: T): T {
  return JSON.parse(canonicalJSON(v)) as T;
}

/** getPatch of both controllers: the revision data restoring obj's spec.template. */
export function templatePatch(obj: { spec?: { template?: PodTemplateSpec } }): Record<string, unknown> {
  return sortedJSON({ spec: { template: { ...typedTemplate(obj.spec?.template), $patch: "replace" } } });
}

/** Two revisions' data are the same snapshot (upstream history.EqualRevision / Match). */
export function sameData(a: unknown, b: unknown): boolean {
  return canonicalJSON(a ?? null) === canonicalJSON(b ?? null);
}
