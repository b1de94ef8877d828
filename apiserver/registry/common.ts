// Helpers shared by the per-kind strategies: equality, generation bumps, table columns, and the
// "nothing special" behaviour each kind starts from.

import { formatAge } from "#pkg/api/duration.js";
import type { FieldError } from "#pkg/api/errors.js";
import { selectorFromLabelSelector } from "#pkg/api/labels.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { TableColumnDefinition } from "#pkg/api/table.js";
import type { Strategy } from "./strategy.js";

export type Cell = string | number | boolean | null;

/** Deep equality of JSON values; a key holding undefined counts as absent. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}

export const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Upstream: generation starts at 1 and moves by one on every spec change. */
export function bumpGenerationIf(obj: KubeObject, old: KubeObject, changed: boolean): void {
  const prev = old.metadata.generation ?? 1;
  obj.metadata.generation = changed ? prev + 1 : prev;
}

export function col(
  name: string,
  type: TableColumnDefinition["type"],
  description: string,
  priority = 0,
): TableColumnDefinition {
  return { name, type, format: name === "Name" ? "name" : "", description, priority };
}

export const NAME_DESC =
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
export const AGE_DESC =
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

export const nameCol = () => col("Name", "string", NAME_DESC);
export const ageCol = () => col("Age", "string", AGE_DESC);
export const containersCol = () => col("Containers", "string", "Names of each container in the template.", 1);
export const imagesCol = () => col("Images", "string", "Images referenced by each container in the template.", 1);

export const age = (obj: KubeObject, now: Date): string => formatAge(obj.metadata.creationTimestamp, now);

/** The Containers and Images cells (names and images joined by ","). */
export function containerCells(
  containers: ReadonlyArray<{ name?: string; image?: string }> | undefined,
): [string, string] {
  const cs = containers ?? [];
  return [cs.map((c) => c.name ?? "").join(","), cs.map((c) => c.image ?? "").join(",")];
}

/** Upstream labels.FormatLabels: "a=b,c=d" sorted by key, "<none>" when empty. */
export function formatLabels(m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  if (keys.length === 0) return "<none>";
  return keys.map((k) => `${k}=${m?.[k] ?? ""}`).join(",");
}

/** The Selector cell: the selector's canonical string ("" for an unparsable one). */
export function selectorString(ls: Parameters<typeof selectorFromLabelSelector>[0]): string {
  try {
    return selectorFromLabelSelector(ls).toString();
  } catch {
    return "";
  }
}

/** The optional hooks of a Strategy, passed through as they are. */
type StrategyHooks<T extends KubeObject> = Pick<
  Strategy<T>,
  | "nameValidator"
  | "allowCreateOnUpdate"
  | "returnDeletedObject"
  | "prepareForFinalizeUpdate"
  | "ephemeralContainersUpdate"
  | "gracePeriodSeconds"
  | "defaultGarbageCollectionPolicy"
  | "beforeDelete"
  | "decideDelete"
  | "shouldDeleteDuringUpdate"
>;

/** What a kind's strategy is made of; missing parts fall back to "nothing special". */
export interface StrategyParts<T extends KubeObject> extends StrategyHooks<T> {
  applyDefaults?(obj: T): void;
  prepareForCreate?(obj: T): void;
  prepareForUpdate?(obj: T, old: T): void;
  prepareForStatusUpdate?(obj: T, old: T): void;
  validate?(obj: T): FieldError[];
  validateUpdate?(obj: T, old: T): FieldError[];
  selectableFields?(obj: T): Record<string, string>;
  columns: readonly TableColumnDefinition[];
  row(obj: T, now: Date): Cell[];
}

/**
 * A Strategy from its parts. Defaults for kinds with a status subresource: create resets
 * status to {}, main-endpoint updates keep the old status, status updates keep the old spec.
 */
export function makeStrategy<T extends KubeObject>(
  resource: ResourceInfo,
  parts: StrategyParts<T>,
  o: { hasStatus?: boolean; generation?: boolean; keepStatusOnCreate?: boolean } = {},
): Strategy<T> {
  const hasStatus = o.hasStatus ?? resource.subresources.some((s) => s.name === "status");
  const tracksGeneration = o.generation ?? false;
  const {
    applyDefaults: _a,
    prepareForCreate: _c,
    prepareForUpdate: _u,
    prepareForStatusUpdate: _s,
    validate: _v,
    validateUpdate: _vu,
    selectableFields: _f,
    columns: _col,
    row: _r,
    ...hooks
  } = parts;
  return {
    ...hooks,
    resource,
    columns: parts.columns,
    applyDefaults: (obj) => parts.applyDefaults?.(obj),
    prepareForCreate(obj) {
      if (hasStatus && !o.keepStatusOnCreate) (obj as KubeObject).status = {};
      if (tracksGeneration) obj.metadata.generation = 1;
      parts.prepareForCreate?.(obj);
    },
    prepareForUpdate(obj, old) {
      const o: KubeObject = obj;
      const prev: KubeObject = old;
      if (hasStatus) {
        if (prev.status === undefined) delete o.status;
        else o.status = clone(prev.status);
      }
      if (tracksGeneration) bumpGenerationIf(o, prev, !deepEqual(o.spec, prev.spec));
      parts.prepareForUpdate?.(obj, old);
    },
    prepareForStatusUpdate(obj, old) {
      const o: KubeObject = obj;
      const prev: KubeObject = old;
      if (prev.spec === undefined) delete o.spec;
      else o.spec = clone(prev.spec);
      if (tracksGeneration && old.metadata.generation !== undefined) obj.metadata.generation = old.metadata.generation;
      parts.prepareForStatusUpdate?.(obj, old);
    },
    validate: (obj) => parts.validate?.(obj) ?? [],
    validateUpdate: (obj, old) => parts.validateUpdate?.(obj, old) ?? [],
    selectableFields: (obj) => parts.selectableFields?.(obj) ?? {},
    row: (obj, now) => parts.row(obj, now),
  };
}
