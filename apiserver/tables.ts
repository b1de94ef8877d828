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

/** "5s", "3m", "2d": upstream's duration.HumanDuration, for AGE columns. */
export function humanDuration(ms: number): string {
  // Up to two seconds in the future counts as now (clock skew), as upstream.
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** AGE of an object from its creationTimestamp ("<unknown>" without one, as upstream). */
export function age(creationTimestamp: string | undefined, now: Date): string {
  if (!creationTimestamp) return "<unknown>";
  const t = Date.parse(creationTimestamp);
  return Number.isNaN(t) ? "<unknown>" : humanDuration(now.getTime() - t);
}
