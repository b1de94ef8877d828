// storage.k8s.io/v1 StorageClass (upstream pkg/registry/storage/storageclass/strategy.go,
// pkg/apis/storage/validation ValidateStorageClass(Update), pkg/apis/storage/v1/defaults.go,
// printers.go printStorageClass). Cluster-scoped, no status. Provisioner, parameters, reclaim
// policy and binding mode are fixed once the class exists.

import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import {
  BINDING_IMMEDIATE,
  BINDING_WAIT_FOR_FIRST_CONSUMER,
  isDefaultStorageClass,
  RECLAIM_DELETE,
  RECLAIM_RETAIN,
  type StorageClass,
  type TopologySelectorTerm,
} from "#pkg/api/types/storage.js";
import { fieldDuplicate, fieldTooLong, qualifiedNameErrors } from "#pkg/api/validation.js";
import { age, ageCol, type Cell, col, deepEqual, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";

const SUPPORTED_RECLAIM_POLICIES = [RECLAIM_DELETE, RECLAIM_RETAIN];
const SUPPORTED_BINDING_MODES = [BINDING_IMMEDIATE, BINDING_WAIT_FOR_FIRST_CONSUMER];
const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_SIZE = 256 * 1024;

function validateProvisioner(p: string | undefined): FieldError[] {
  if (!p) return [fieldRequired("provisioner")];
  return qualifiedNameErrors(p.toLowerCase()).map((m) => fieldInvalid("provisioner", p.toLowerCase(), m));
}

function validateParameters(params: Record<string, string> | undefined): FieldError[] {
  const entries = Object.entries(params ?? {});
  if (entries.length > MAX_PARAMETERS) {
    return [fieldTooLong("parameters", MAX_PARAMETERS)];
  }
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries) {
    if (k.length < 1) errs.push(fieldInvalid("parameters", k, "field can not be empty."));
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > MAX_PARAMETERS_SIZE) errs.push(fieldTooLong("parameters", MAX_PARAMETERS_SIZE));
  return errs;
}

/** upstream validateAllowedTopologies with ValidateTopologySelectorTerm. */
function validateAllowedTopologies(terms: readonly TopologySelectorTerm[] | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const seen: Array<Record<string, string[]>> = [];
  (terms ?? []).forEach((term, i) => {
    const path = `allowedTopologies[${i}].matchLabelExpressions`;
    const exprs: Record<string, string[]> = {};
    (term.matchLabelExpressions ?? []).forEach((req, j) => {
      const p = `${path}[${j}]`;
      const values = new Set<string>();
      if ((req.values ?? []).length === 0) errs.push(fieldRequired(`${p}.values`));
      (req.values ?? []).forEach((v, k) => {
        if (values.has(v)) errs.push(fieldDuplicate(`${p}.values[${k}]`, v));
        values.add(v);
      });
      for (const m of qualifiedNameErrors(req.key ?? "")) errs.push(fieldInvalid(`${p}.key`, req.key, m));
      if (req.key in exprs) errs.push(fieldDuplicate(`${p}.key`, req.key));
      exprs[req.key] = [...values].sort();
    });
    if (seen.some((s) => deepEqual(s, exprs))) errs.push(fieldDuplicate(path, ""));
    seen.push(exprs);
  });
  return errs;
}

export function validateStorageClass(sc: StorageClass): FieldError[] {
  const errs = [...validateProvisioner(sc.provisioner), ...validateParameters(sc.parameters)];
  const rp = sc.reclaimPolicy;
  if (rp && !SUPPORTED_RECLAIM_POLICIES.includes(rp))
    errs.push(fieldNotSupported("reclaimPolicy", rp, SUPPORTED_RECLAIM_POLICIES));
  const mode = sc.volumeBindingMode;
  if (mode === undefined) errs.push(fieldRequired("volumeBindingMode"));
  else if (!SUPPORTED_BINDING_MODES.includes(mode))
    errs.push(fieldNotSupported("volumeBindingMode", mode, SUPPORTED_BINDING_MODES));
  errs.push(...validateAllowedTopologies(sc.allowedTopologies));
  return errs;
}

export function validateStorageClassUpdate(sc: StorageClass, old: StorageClass): FieldError[] {
  const errs = validateStorageClass(sc);
  if (!deepEqual(sc.parameters ?? {}, old.parameters ?? {}))
    errs.push(fieldForbidden("parameters", "updates to parameters are forbidden."));
  if (sc.provisioner !== old.provisioner)
    errs.push(fieldForbidden("provisioner", "updates to provisioner are forbidden."));
  if ((sc.reclaimPolicy ?? "") !== (old.reclaimPolicy ?? ""))
    errs.push(fieldForbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."));
  if (sc.volumeBindingMode !== old.volumeBindingMode)
    errs.push(fieldInvalid("volumeBindingMode", sc.volumeBindingMode ?? null, "field is immutable"));
  return errs;
}

export function applyStorageClassDefaults(sc: StorageClass): void {
  sc.reclaimPolicy ??= RECLAIM_DELETE;
  sc.volumeBindingMode ??= BINDING_IMMEDIATE;
}

export function storageClassRow(sc: StorageClass, now: Date): Cell[] {
  const name = (sc.metadata.name ?? "") + (isDefaultStorageClass(sc) ? " (default)" : "");
  return [
    name,
    sc.provisioner ?? "",
    sc.reclaimPolicy ?? RECLAIM_DELETE,
    sc.volumeBindingMode ?? BINDING_IMMEDIATE,
    sc.allowVolumeExpansion ?? false,
    age(sc, now),
  ];
}

export function storageClassStrategy(r: ResourceInfo): Strategy<StorageClass> {
  return makeStrategy<StorageClass>(
    r,
    {
      // upstream's storageclass store: ReturnDeletedObject.
      returnDeletedObject: true,
      applyDefaults: applyStorageClassDefaults,
      validate: validateStorageClass,
      validateUpdate: validateStorageClassUpdate,
      columns: [
        nameCol(),
        col("Provisioner", "string", "provisioner indicates the type of the provisioner."),
        col(
          "ReclaimPolicy",
          "string",
          "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.",
        ),
        col(
          "VolumeBindingMode",
          "string",
          "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.",
        ),
        col(
          "AllowVolumeExpansion",
          "string",
          "allowVolumeExpansion shows whether the storage class allow volume expand.",
        ),
        ageCol(),
      ],
      row: storageClassRow,
    },
    { hasStatus: false },
  );
}
