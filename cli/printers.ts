// Output of `get`: server-side Tables printed as kubectl does (upper-case headers,
// tabwriter alignment, wide columns only with -o wide, NAMESPACE from the row's object
// metadata with -A, `kind/name` when several types are printed), and -o yaml|json|name.

import { stringify } from "yaml";
import type { KubeObject, ObjectMeta } from "#pkg/api/meta.js";
import type { Table, TableRow } from "#pkg/api/table.js";
import { labelsString } from "./format.js";

export interface TableFormat {
  wide: boolean;
  withNamespace: boolean;
  /** "deployment.apps": prefix for the name column when several types are printed. */
  kindPrefix?: string;
  showLabels?: boolean;
}

function rowMeta(row: TableRow): ObjectMeta | undefined {
  const o = row.object as { metadata?: ObjectMeta } | undefined;
  return o?.metadata;
}

function cellText(cell: unknown): string {
  if (cell === null || cell === undefined) return "<none>";
  if (typeof cell === "string") return cell;
  return String(cell);
}

function visibleColumns(table: Table, wide: boolean): number[] {
  const idx: number[] = [];
  table.columnDefinitions.forEach((c, i) => {
    if (c.priority === 0 || wide) idx.push(i);
  });
  return idx;
}

function nameColumn(table: Table): number {
  const i = table.columnDefinitions.findIndex((c) => c.format === "name");
  return Math.max(i, 0);
}

/** The tab-separated header line (with trailing newline). */
export function tableHeader(table: Table, f: TableFormat): string {
  const cells: string[] = [];
  if (f.withNamespace) cells.push("NAMESPACE");
  for (const i of visibleColumns(table, f.wide)) cells.push((table.columnDefinitions[i]?.name ?? "").toUpperCase());
  if (f.showLabels) cells.push("LABELS");
  return `${cells.join("\t")}\n`;
}

/** Tab-separated row lines (each with trailing newline). */
export function tableRows(table: Table, f: TableFormat): string {
  const cols = visibleColumns(table, f.wide);
  const nameCol = nameColumn(table);
  let out = "";
  for (const row of table.rows) {
    const meta = rowMeta(row);
    const cells: string[] = [];
    if (f.withNamespace) cells.push(meta?.namespace ?? "");
    for (const i of cols) {
      let text = cellText(row.cells[i]);
      if (i === nameCol && f.kindPrefix) text = `${f.kindPrefix}/${text}`;
      cells.push(text);
    }
    if (f.showLabels) cells.push(labelsString(meta?.labels));
    out += `${cells.join("\t")}\n`;
  }
  return out;
}

/** kubectl hides managedFields unless --show-managed-fields. */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (!obj.metadata?.managedFields) return obj;
  const { managedFields: _drop, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** Put apiVersion and kind first, as Go's typed structs serialise them. */
function typedOrder(obj: KubeObject): KubeObject {
  const { apiVersion, kind, metadata, ...rest } = obj;
  return { apiVersion, kind, metadata, ...rest } as KubeObject;
}

/** A single object as itself, several as `kind: List` (kubectl's -o yaml|json shape). */
export function asPrintable(objects: KubeObject[], forceList: boolean): unknown {
  const cleaned = objects.map((o) => typedOrder(stripManagedFields(o)));
  if (cleaned.length === 1 && !forceList) return cleaned[0];
  return { apiVersion: "v1", items: cleaned, kind: "List", metadata: { resourceVersion: "" } };
}

export function toYaml(value: unknown): string {
  // kubectl converts JSON to YAML through a map, so keys come out sorted.
  // YAML 1.1 quoting ("yes", timestamps) matches go-yaml v2, which kubectl uses.
  return stringify(value, {
    sortMapEntries: true,
    lineWidth: 0,
    indentSeq: false,
    version: "1.1",
    aliasDuplicateObjects: false,
  });
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 4)}\n`;
}
