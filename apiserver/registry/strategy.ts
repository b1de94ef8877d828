// The per-kind half of the registry/strategy split (upstream: rest.RESTCreateStrategy and
// friends). The generic store does storage, concurrency and metadata; a Strategy says what is
// special about one kind. Adding a kind = a ResourceInfo, a Strategy, a table.

import type { FieldError } from "#pkg/api/errors.js";
import type { DeleteOptions, KubeObject } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { TableColumnDefinition } from "#pkg/api/table.js";
import type { NameValidator } from "#pkg/api/validation.js";
import type { DELETE, NO_CHANGE } from "../storage/interfaces.js";

/** upstream rest.GarbageCollectionPolicy. */
export type GarbageCollectionPolicy = "DeleteDependents" | "OrphanDependents" | "Unsupported";

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

  /** The kind's rule for metadata.name (upstream ValidateObjectMeta's nameFn); default: a DNS subdomain. */
  readonly nameValidator?: NameValidator | undefined;

  /** A PUT of a missing object creates it (upstream AllowCreateOnUpdate). */
  readonly allowCreateOnUpdate?: boolean | undefined;

  /**
   * The namespaces/finalize endpoint: the object stored from the request and the current one
   * (upstream namespaceFinalizeStrategy). Kinds without it have no finalize subresource.
   */
  prepareForFinalizeUpdate?(obj: T, old: T): T;

  /**
   * pods/{name}/ephemeralcontainers (upstream podEphemeralContainersStrategy): `prepare` gives
   * what is stored (the old object with only what the subresource may change taken from the
   * request), `validate` replaces validateUpdate. Kinds without it have no such subresource.
   */
  readonly ephemeralContainersUpdate?:
    | { prepare(obj: T, old: T): T; validate(obj: T, old: T): FieldError[] }
    | undefined;

  /**
   * upstream CheckGracefulDelete: how many seconds a delete of obj waits for whoever runs it (a
   * kubelet) before the object goes; 0 or absent: at once.
   */
  gracePeriodSeconds?(obj: T, opts: DeleteOptions): number;

  /**
   * upstream GarbageCollectionDeleteStrategy.DefaultGarbageCollectionPolicy: what a delete without
   * a propagation policy does to dependents. Default "DeleteDependents" (background, as apps/v1);
   * "OrphanDependents" adds the orphan finalizer by default; "Unsupported" (events) never gets
   * the garbage collector's finalizers.
   */
  readonly defaultGarbageCollectionPolicy?: GarbageCollectionPolicy | undefined;

  /**
   * upstream Store.ReturnDeletedObject: a delete that removes the object at once answers with the
   * object (pods, services, serviceaccounts, storageclasses) instead of a Status Success naming it.
   */
  readonly returnDeletedObject?: boolean | undefined;

  /** Refuses a delete before anything is read (throws), e.g. the immortal namespaces. */
  beforeDelete?(name: string): void;

  /**
   * A kind whose delete is its own (upstream: the namespace storage's Delete): what deleting old
   * does, given the metadata.finalizers it will have after the propagation policy.
   */
  decideDelete?(old: T, finalizers: string[]): T | typeof DELETE | typeof NO_CHANGE;

  /**
   * upstream ShouldDeleteDuringUpdate: an update that leaves an object being deleted with nothing
   * to wait for removes it. Default: no metadata.finalizers left and a zero grace period.
   */
  shouldDeleteDuringUpdate?(obj: T): boolean;

  /** Server-side printing: the columns, and the cells of one object (AGE included). */
  readonly columns: readonly TableColumnDefinition[];
  row(obj: T, now: Date): Array<string | number | boolean | null>;
}
