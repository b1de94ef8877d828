// Server-side printing: a list (or one object, or one watch event's object) as a
// meta.k8s.io Table with the kind's columns. Each row carries the object's metadata as a
// PartialObjectMetadata by default, which kubectl needs for the NAMESPACE column (-A),
// --show-labels and -L (KUBECTL_WIRE 1.7).

import type { KubeObject, ListMeta } from "#pkg/api/meta.js";
import type { Table, TableRow } from "#pkg/api/table.js";
import type { Strategy } from "./registry/strategy.js";

export type IncludeObject = "None" | "Metadata" | "Object";

export interface TableOptions {
  /** What each row's `object` holds (upstream's includeObject query parameter). Default Metadata. */
  includeObject?: IncludeObject;
  /** Table version asked for in the Accept header. Default v1. */
  version?: "v1" | "v1beta1";
}

/** Validates the includeObject query parameter; undefined when absent, throws-free. */
export function parseIncludeObject(v: string | undefined): IncludeObject | undefined {
  return v === "None" || v === "Metadata" || v === "Object" ? v : undefined;
}

function rowObject(obj: KubeObject, include: IncludeObject, apiVersion: string): TableRow["object"] {
  if (include === "None") return undefined;
  if (include === "Object") return obj;
  return { kind: "PartialObjectMetadata", apiVersion, metadata: obj.metadata } as TableRow["object"];
}

/** The rows of some objects (cells from the strategy, now for AGE). */
export function toRows<T extends KubeObject>(
  strategy: Strategy<T>,
  objects: readonly T[],
  now: Date,
  opts: TableOptions = {},
): TableRow[] {
  const include = opts.includeObject ?? "Metadata";
  const apiVersion = `meta.k8s.io/${opts.version ?? "v1"}`;
  return objects.map((obj) => {
    const row: TableRow = { cells: strategy.row(obj, now) };
    const o = rowObject(obj, include, apiVersion);
    if (o) row.object = o;
    return row;
  });
}

/** A Table of the given objects: the strategy's columns, one row per object. */
export function toTable<T extends KubeObject>(
  strategy: Strategy<T>,
  objects: readonly T[],
  listMeta: ListMeta,
  now: Date,
  opts: TableOptions = {},
): Table {
  const table: Table = {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { ...listMeta },
    columnDefinitions: strategy.columns.map((c) => ({ ...c })),
    rows: toRows(strategy, objects, now, opts),
  };
  if (opts.version === "v1beta1") (table as { apiVersion: string }).apiVersion = "meta.k8s.io/v1beta1";
  return table;
}

/**
 * The object of one watch event as kubectl asks for it with a Table Accept: a one-row Table
 * whose metadata.resourceVersion is the object's.
 */
export function watchEventTable<T extends KubeObject>(
  strategy: Strategy<T>,
  obj: T,
  now: Date,
  opts: TableOptions = {},
): Table {
  const listMeta: ListMeta = {};
  if (obj.metadata.resourceVersion !== undefined) listMeta.resourceVersion = obj.metadata.resourceVersion;
  return toTable(strategy, [obj], listMeta, now, opts);
}

/** AGE cells and durations: one implementation, in pkg/api/duration. */
export { formatAge as age, humanDuration } from "#pkg/api/duration.js";
