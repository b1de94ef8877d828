// The per-kind half of the registry/strategy split (upstream: rest.RESTCreateStrategy and
// friends). The generic store does storage, concurrency and metadata; a Strategy says what is
// special about one kind. Adding a kind = a ResourceInfo, a Strategy, a table.

import type { FieldError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { TableColumnDefinition } from "#pkg/api/table.js";

export interface Strategy<T extends KubeObject = KubeObject> {
  readonly resource: ResourceInfo;

  /** Fill upstream defaults (spec fields the user left out). Mutates obj. Runs on create and update. */
  applyDefaults(obj: T): void;

  /** Normalise a new object before validation: reset status, set generation, etc. Mutates obj. */
  prepareForCreate(obj: T): void;

  /** Main-endpoint update: keep the old status, bump generation on spec change. Mutates obj. */
  prepareForUpdate(obj: T, old: T): void;

  /** Status-subresource update: keep the old spec and metadata except what status may touch. Mutates obj. */
  prepareForStatusUpdate(obj: T, old: T): void;

  /** Field errors of a new object (never mutates). Metadata (name, labels) is validated by the store. */
  validate(obj: T): FieldError[];

  /** Field errors of an update, immutable fields included (never mutates). */
  validateUpdate(obj: T, old: T): FieldError[];

  /**
   * Values that field selectors may match on, e.g. {"spec.nodeName": "node-1", "status.phase":
   * "Running"}. metadata.name and metadata.namespace are added by the store.
   */
  selectableFields(obj: T): Record<string, string>;

  /** Server-side printing: the columns, and the cells of one object (AGE included). */
  readonly columns: readonly TableColumnDefinition[];
  row(obj: T, now: Date): Array<string | number | boolean | null>;
}
