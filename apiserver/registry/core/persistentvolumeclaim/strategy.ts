// core/v1 PersistentVolumeClaim (upstream pkg/registry/core/persistentvolumeclaim/strategy.go,
// pkg/apis/core/validation ValidatePersistentVolumeClaim(Update), pkg/api/persistentvolumeclaim
// util.go, defaults.go, printers.go printPersistentVolumeClaim). Users write the spec, which is
// immutable once created except resources.requests of a bound claim (growing only) and a
// volumeName set once; the PV controller writes status through the status subresource.

import { type FieldError, fieldForbidden, fieldInvalid, fieldRequired } from "#pkg/api/errors.js";
import { isValidQuantity, parseQuantityExact, QUANTITY_FORMAT_MESSAGE } from "#pkg/api/quantity.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import { accessModesString, storageString } from "#pkg/api/storage.js";
import {
  CLAIM_BOUND,
  CLAIM_PENDING,
  claimClass,
  type PersistentVolumeClaim,
  type PersistentVolumeClaimSpec,
  type TypedLocalObjectReference,
  type TypedObjectReference,
  VOLUME_MODE_FILESYSTEM,
} from "#pkg/api/types/storage.js";
import { dns1123LabelErrors, dns1123SubdomainErrors } from "#pkg/api/validation.js";
import { age, ageCol, type Cell, clone, col, deepEqual, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";
import {
  canonicalizeQuantities,
  storageOf,
  validateAccessModes,
  validateClassName,
  validatePositiveQuantity,
  validateVolumeMode,
} from "../persistentvolume/validation.js";
import { validateLabelSelector } from "../pod/podspec.js";

/** The storage-class annotation that predates spec.storageClassName (still honoured). */
export const ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class";

/** schema.GroupKind.String(): "Kind" or "Kind.group". */
const groupKind = (group: string, kind: string) => (group ? `${kind}.${group}` : kind);

/** upstream validateDataSource / validateDataSourceRef. */
function validateDataSource(
  ds: TypedLocalObjectReference | TypedObjectReference,
  path: string,
  ref: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  if (!ds.name) errs.push(fieldRequired(`${path}.name`));
  if (!ds.kind) errs.push(fieldRequired(`${path}.kind`));
  const group = ds.apiGroup ?? "";
  if (!group && ds.kind !== "PersistentVolumeClaim")
    errs.push(
      fieldInvalid(
        path,
        groupKind(group, ds.kind),
        "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
      ),
    );
  if (group) for (const m of dns1123SubdomainErrors(group)) errs.push(fieldInvalid(`${path}.apiGroup`, group, m));
  const ns = ref ? (ds as TypedObjectReference).namespace : undefined;
  if (ns) for (const m of dns1123LabelErrors(ns)) errs.push(fieldInvalid(`${path}.namespace`, ns, m));
  return errs;
}

/** upstream ValidatePersistentVolumeClaimSpec. */
export function validatePersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if ((spec.accessModes ?? []).length === 0)
    errs.push(fieldRequired(`${path}.accessModes`, "at least 1 access mode is required"));
  if (spec.selector) errs.push(...validateLabelSelector(spec.selector, `${path}.selector`));
  errs.push(...validateAccessModes(spec.accessModes, `${path}.accessModes`));
  // Upstream's path is resources[storage], not resources.requests[storage].
  const storagePath = `${path}.resources[storage]`;
  const storage = spec.resources?.requests?.storage;
  if (storage === undefined) errs.push(fieldRequired(storagePath));
  else errs.push(...validatePositiveQuantity(storage, storagePath));
  errs.push(...validateClassName(spec.storageClassName, `${path}.storageClassName`));
  errs.push(...validateVolumeMode(spec.volumeMode, `${path}.volumeMode`));
  if (spec.dataSource) errs.push(...validateDataSource(spec.dataSource, `${path}.dataSource`, false));
  if (spec.dataSourceRef) errs.push(...validateDataSource(spec.dataSourceRef, `${path}.dataSourceRef`, true));
  if (spec.dataSourceRef?.namespace) {
    if (spec.dataSource)
      errs.push(
        fieldInvalid(path, `${path}.dataSource`, "may not be specified when dataSourceRef.namespace is specified"),
      );
  } else if (spec.dataSource && spec.dataSourceRef) {
    const a = spec.dataSource;
    const b = spec.dataSourceRef;
    if ((a.apiGroup ?? "") !== (b.apiGroup ?? "") || a.kind !== b.kind || a.name !== b.name)
      errs.push(fieldInvalid(path, `${path}.dataSource`, "must match dataSourceRef"));
  }
  return errs;
}

export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim): FieldError[] {
  return validatePersistentVolumeClaimSpec(pvc.spec ?? {}, "spec");
}

/** A short rendering of the spec change (upstream appends a cmp.Diff of the specs). */
function specDiff(old: PersistentVolumeClaimSpec, next: PersistentVolumeClaimSpec): string {
  const lines = ["  core.PersistentVolumeClaimSpec{"];
  const keys = [...new Set([...Object.keys(old), ...Object.keys(next)])].sort();
  const o = old as Record<string, unknown>;
  const n = next as Record<string, unknown>;
  for (const k of keys) {
    if (deepEqual(o[k], n[k])) continue;
    if (o[k] !== undefined) lines.push(`- \t${k}: ${JSON.stringify(o[k])},`);
    if (n[k] !== undefined) lines.push(`+ \t${k}: ${JSON.stringify(n[k])},`);
  }
  lines.push("  }");
  return lines.join("\n");
}

/** upstream ValidatePersistentVolumeClaimUpdate (RetroactiveDefaultStorageClass on, recovery from expansion failure off). */
export function validatePersistentVolumeClaimUpdate(
  pvc: PersistentVolumeClaim,
  old: PersistentVolumeClaim,
): FieldError[] {
  const errs = validatePersistentVolumeClaim(pvc);
  const newSpec: PersistentVolumeClaimSpec = clone(pvc.spec) ?? {};
  const oldSpec: PersistentVolumeClaimSpec = clone(old.spec) ?? {};
  // The PV controller sets volumeName once.
  if (!oldSpec.volumeName) {
    if (newSpec.volumeName === undefined) delete oldSpec.volumeName;
    else oldSpec.volumeName = newSpec.volumeName;
  }
  const oldAnn = old.metadata.annotations ?? {};
  const newAnn = pvc.metadata.annotations ?? {};
  const oldBeta = oldAnn[ANN_BETA_STORAGE_CLASS];
  const newBeta = newAnn[ANN_BETA_STORAGE_CLASS];
  const upgradeFromAnnotation =
    oldBeta !== undefined &&
    old.spec?.storageClassName === undefined &&
    pvc.spec?.storageClassName !== undefined &&
    pvc.spec.storageClassName === oldBeta &&
    (newBeta === undefined || newBeta === oldBeta);
  if (upgradeFromAnnotation) {
    delete newSpec.storageClassName;
  } else {
    if ((newBeta ?? "") !== (oldBeta ?? ""))
      errs.push(fieldForbidden(`metadata.annotations.${ANN_BETA_STORAGE_CLASS}`, "field is immutable"));
    // A claim without a class may get one later (the retroactive default class).
    if (oldBeta === undefined && old.spec?.storageClassName === undefined && pvc.spec?.storageClassName)
      delete newSpec.storageClassName;
  }
  // A bound claim may change its storage request (admission and the checks below say how).
  if (pvc.status?.phase === CLAIM_BOUND && newSpec.resources?.requests) {
    const prev = old.spec?.resources?.requests?.storage;
    if (prev === undefined) delete newSpec.resources.requests.storage;
    else newSpec.resources.requests.storage = prev;
  }
  if (!deepEqual(newSpec, oldSpec)) {
    errs.push(
      fieldForbidden(
        "spec",
        `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${specDiff(oldSpec, newSpec)}`,
      ),
    );
  }
  const oldSize = storageOf(old.spec?.resources?.requests) ?? 0n;
  const newSize = storageOf(pvc.spec?.resources?.requests) ?? 0n;
  if (newSize < oldSize)
    errs.push(fieldForbidden("spec.resources.requests.storage", "field can not be less than previous value"));
  // Upstream's path is "volumeMode", without "spec.".
  if (pvc.spec?.volumeMode !== old.spec?.volumeMode)
    errs.push(fieldInvalid("volumeMode", pvc.spec?.volumeMode ?? null, "field is immutable"));
  errs.push(...validateStatusCapacity(pvc));
  return errs;
}

/** ValidatePersistentVolumeClaimStatusUpdate's capacity check (validateBasicResource). */
function validateStatusCapacity(pvc: PersistentVolumeClaim): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(pvc.status?.capacity ?? {})) {
    const path = `status.capacity[${k}]`;
    if (!isValidQuantity(v)) errs.push(fieldInvalid(path, v, QUANTITY_FORMAT_MESSAGE));
    else if (parseQuantityExact(v).nanos < 0n) errs.push(fieldInvalid(path, v, "must be a valid resource quantity"));
  }
  return errs;
}

export function applyPersistentVolumeClaimDefaults(pvc: PersistentVolumeClaim): void {
  pvc.spec ??= {};
  pvc.spec.volumeMode ??= VOLUME_MODE_FILESYSTEM;
  canonicalizeQuantities(pvc.spec.resources?.requests);
  canonicalizeQuantities(pvc.spec.resources?.limits);
  canonicalizeQuantities(pvc.status?.capacity);
  canonicalizeQuantities(pvc.status?.allocatedResources);
  if (pvc.status && !pvc.status.phase) pvc.status.phase = CLAIM_PENDING;
}

/** upstream NormalizeDataSources: dataSource and dataSourceRef say the same unless both were given. */
function normalizeDataSources(spec: PersistentVolumeClaimSpec): void {
  if (spec.dataSource && !spec.dataSourceRef) {
    spec.dataSourceRef = clone(spec.dataSource);
  } else if (spec.dataSourceRef && !spec.dataSource && !spec.dataSourceRef.namespace) {
    const { namespace: _, ...ref } = spec.dataSourceRef;
    spec.dataSource = ref;
  }
}

/** DropDisabledFields: VolumeAttributesClass and CrossNamespaceVolumeDataSource are off in 1.31. */
function dropDisabledFields(spec: PersistentVolumeClaimSpec, old: PersistentVolumeClaimSpec | undefined): void {
  if (old?.volumeAttributesClassName === undefined) delete spec.volumeAttributesClassName;
  if (spec.dataSourceRef?.namespace && !old?.dataSourceRef?.namespace) delete spec.dataSourceRef.namespace;
}

export function persistentVolumeClaimRow(pvc: PersistentVolumeClaim, now: Date): Cell[] {
  const spec = pvc.spec ?? {};
  const phase = pvc.metadata.deletionTimestamp ? "Terminating" : (pvc.status?.phase ?? "");
  // Capacity and access modes are the bound volume's, shown only once a volume is named.
  const bound = !!spec.volumeName;
  return [
    pvc.metadata.name ?? "",
    phase,
    spec.volumeName ?? "",
    bound ? storageString(pvc.status?.capacity) : "",
    bound ? accessModesString(pvc.status?.accessModes) : "",
    claimClass(pvc),
    spec.volumeAttributesClassName ?? "<unset>",
    age(pvc, now),
    spec.volumeMode ?? "<unset>",
  ];
}

export function persistentVolumeClaimStrategy(r: ResourceInfo): Strategy<PersistentVolumeClaim> {
  return makeStrategy<PersistentVolumeClaim>(r, {
    applyDefaults: applyPersistentVolumeClaimDefaults,
    prepareForCreate(pvc) {
      pvc.status = { phase: CLAIM_PENDING };
      pvc.spec ??= {};
      dropDisabledFields(pvc.spec, undefined);
      normalizeDataSources(pvc.spec);
    },
    prepareForUpdate(pvc, old) {
      pvc.spec ??= {};
      dropDisabledFields(pvc.spec, old.spec);
    },
    validate: validatePersistentVolumeClaim,
    validateUpdate: validatePersistentVolumeClaimUpdate,
    selectableFields: (pvc) => ({ name: pvc.metadata.name ?? "" }),
    columns: [
      nameCol(),
      col("Status", "string", "phase represents the current phase of PersistentVolumeClaim."),
      col("Volume", "string", "volumeName is the binding reference to the PersistentVolume backing this claim."),
      col("Capacity", "string", "capacity represents the actual resources of the underlying volume."),
      col(
        "Access Modes",
        "string",
        "accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1",
      ),
      col("StorageClass", "string", "StorageClass of the pvc"),
      col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
      ageCol(),
      col(
        "VolumeMode",
        "string",
        "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.",
        1,
      ),
    ],
    row: persistentVolumeClaimRow,
  });
}
