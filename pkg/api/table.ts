// meta.k8s.io/v1 Table: server-side printing. The API server builds these per kind; kubectl
// and the kubeling CLI print them as given.

import type { ListMeta, ObjectMeta } from "./meta.js";

export interface TableColumnDefinition {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: Array<string | number | boolean | null>;
  object?:
    | { kind: "PartialObjectMetadata"; apiVersion: "meta.k8s.io/v1"; metadata: ObjectMeta }
    | Record<string, unknown>;
}

export interface Table {
  kind: "Table";
  apiVersion: "meta.k8s.io/v1";
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export const TABLE_ACCEPT =
  "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
