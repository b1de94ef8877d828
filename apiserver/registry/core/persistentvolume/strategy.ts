// core/v1 PersistentVolume (upstream pkg/registry/core/persistentvolume/strategy.go,
// pkg/apis/core/validation ValidatePersistentVolume(Update), pkg/volume/validation, defaults.go
// SetDefaults_PersistentVolume, printers.go printPersistentVolume). Cluster-scoped. Users write
// the spec; the PV controller writes status (phase) through the status subresource, and the
// API server stamps lastPhaseTransitionTime when the phase moves.

import { posix } from "node:path";
import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import { accessModesString, storageString } from "#pkg/api/storage.js";
import { metaTime } from "#pkg/api/time.js";
import {
  PERSISTENT_VOLUME_SOURCE_FIELDS,
  type PersistentVolume,
  type PersistentVolumeSpec,
  RECLAIM_DELETE,
  RECLAIM_RECYCLE,
  RECLAIM_RETAIN,
  VOLUME_MODE_FILESYSTEM,
  VOLUME_PENDING,
  volumeClass,
} from "#pkg/api/types/storage.js";
import { dns1123LabelErrors, dns1123SubdomainErrors, fieldTooLong } from "#pkg/api/validation.js";
import { age, ageCol, type Cell, col, deepEqual, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";
import { validateNodeSelectorTerm } from "../pod/podspec.js";
import {
  canonicalizeQuantities,
  validateAccessModes,
  validateClassName,
  validatePathNoBacksteps,
  validatePositiveQuantity,
  validateVolumeMode,
} from "./validation.js";

/** sets.List(supportedReclaimPolicy). */
const SUPPORTED_RECLAIM_POLICIES = [RECLAIM_DELETE, RECLAIM_RECYCLE, RECLAIM_RETAIN];
/** supportedHostPathTypes, in upstream's sorted order. */
const HOST_PATH_TYPES = [
  "",
  "BlockDevice",
  "CharDevice",
  "Directory",
  "DirectoryOrCreate",
  "File",
  "FileOrCreate",
  "Socket",
];

/** The nodeAffinity part of ValidatePersistentVolumeSpec (validateVolumeNodeAffinity + ValidateNodeSelector). */
function validateVolumeNodeAffinity(na: PersistentVolumeSpec["nodeAffinity"], path: string): FieldError[] {
  if (!na) return [];
  if (!na.required) return [fieldRequired(`${path}.required`, "must specify required node constraints")];
  const terms = na.required.nodeSelectorTerms ?? [];
  const tp = `${path}.required.nodeSelectorTerms`;
  if (terms.length === 0) return [fieldRequired(tp, "must have at least one node selector term")];
  return terms.flatMap((t, i) => validateNodeSelectorTerm(t, `${tp}[${i}]`));
}

const CSI_SECRET_REFS = [
  "controllerPublishSecretRef",
  "nodeStageSecretRef",
  "nodePublishSecretRef",
  "controllerExpandSecretRef",
  "nodeExpandSecretRef",
] as const;

/** validateCSIPersistentVolumeSource with ValidateCSIDriverName. */
function validateCSISource(csi: NonNullable<PersistentVolumeSpec["csi"]>, p: string): FieldError[] {
  const errs: FieldError[] = [];
  const driver = csi.driver ?? "";
  if (!driver) errs.push(fieldRequired(`${p}.driver`));
  if (driver.length > 63) errs.push(fieldTooLong(`${p}.driver`, 63));
  if (driver)
    for (const m of dns1123SubdomainErrors(driver.toLowerCase())) errs.push(fieldInvalid(`${p}.driver`, driver, m));
  if (!csi.volumeHandle) errs.push(fieldRequired(`${p}.volumeHandle`));
  for (const ref of CSI_SECRET_REFS) {
    const r = csi[ref];
    if (!r) continue;
    const rp = `${p}.${ref}`;
    if (!r.name) errs.push(fieldRequired(`${rp}.name`));
    else for (const m of dns1123SubdomainErrors(r.name)) errs.push(fieldInvalid(`${rp}.name`, r.name, m));
    if (!r.namespace) errs.push(fieldRequired(`${rp}.namespace`));
    else for (const m of dns1123LabelErrors(r.namespace)) errs.push(fieldInvalid(`${rp}.namespace`, r.namespace, m));
  }
  return errs;
}

/** The volume sources of the spec: exactly one, each checked as upstream checks it. */
function validateSources(spec: PersistentVolumeSpec, nodeAffinity: boolean): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  const s = spec as Record<string, unknown>;
  for (const f of PERSISTENT_VOLUME_SOURCE_FIELDS) {
    if (s[f] === undefined || s[f] === null) continue;
    const p = `spec.${f}`;
    if (n > 0) {
      errs.push(fieldForbidden(p, "may not specify more than 1 volume type"));
      continue;
    }
    n++;
    if (f === "hostPath" && spec.hostPath) {
      const hp = spec.hostPath;
      if (!hp.path) {
        errs.push(fieldRequired(`${p}.path`));
        continue;
      }
      errs.push(...validatePathNoBacksteps(hp.path, `${p}.path`));
      if (hp.type !== undefined && !HOST_PATH_TYPES.includes(hp.type))
        errs.push(fieldNotSupported(`${p}.type`, hp.type, HOST_PATH_TYPES));
    } else if (f === "local" && spec.local) {
      if (!spec.local.path) errs.push(fieldRequired(`${p}.path`));
      else errs.push(...validatePathNoBacksteps(spec.local.path, `${p}.path`));
      if (!nodeAffinity) errs.push(fieldRequired("spec.nodeAffinity", "Local volume requires node affinity"));
    } else if (f === "nfs" && spec.nfs) {
      if (!spec.nfs.server) errs.push(fieldRequired(`${p}.server`));
      if (!spec.nfs.path) errs.push(fieldRequired(`${p}.path`));
      else if (!spec.nfs.path.startsWith("/"))
        errs.push(fieldInvalid(`${p}.path`, spec.nfs.path, "must be an absolute path"));
    } else if (f === "csi" && spec.csi) {
      errs.push(...validateCSISource(spec.csi, p));
    }
  }
  if (n === 0) errs.push(fieldRequired("spec", "must specify a volume type"));
  return errs;
}

/** upstream ValidatePersistentVolumeSpec (not inline) plus pkg/volume/validation's checks. */
export function validatePersistentVolume(pv: PersistentVolume): FieldError[] {
  const spec = pv.spec ?? {};
  const errs: FieldError[] = [];
  if ((spec.accessModes ?? []).length === 0) errs.push(fieldRequired("spec.accessModes"));
  errs.push(...validateAccessModes(spec.accessModes, "spec.accessModes"));
  const capacity = spec.capacity ?? {};
  const keys = Object.keys(capacity);
  if (keys.length === 0) errs.push(fieldRequired("spec.capacity"));
  if (!("storage" in capacity) || keys.length > 1)
    errs.push(fieldNotSupported("spec.capacity", "storage", ["storage"]));
  for (const k of keys) errs.push(...validatePositiveQuantity(capacity[k], `spec.capacity[${k}]`));
  errs.push(...validateClassName(spec.storageClassName, "spec.storageClassName"));
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy && !SUPPORTED_RECLAIM_POLICIES.includes(policy))
    errs.push(fieldNotSupported("spec.persistentVolumeReclaimPolicy", policy, SUPPORTED_RECLAIM_POLICIES));
  errs.push(...validateVolumeNodeAffinity(spec.nodeAffinity, "spec.nodeAffinity"));
  errs.push(...validateSources(spec, spec.nodeAffinity !== undefined));
  const hp = spec.hostPath?.path;
  if (hp && posix.normalize(hp) === "/" && policy === RECLAIM_RECYCLE)
    errs.push(fieldForbidden("spec.persistentVolumeReclaimPolicy", "may not be 'recycle' for a hostPath mount of '/'"));
  errs.push(...validateVolumeMode(spec.volumeMode, "spec.volumeMode"));
  return errs;
}

/** The spec's PersistentVolumeSource (the inlined source fields), for the immutability check. */
function sourceOf(spec: PersistentVolumeSpec | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const s = (spec ?? {}) as Record<string, unknown>;
  for (const f of PERSISTENT_VOLUME_SOURCE_FIELDS) if (s[f] !== undefined) out[f] = s[f];
  return out;
}

/** A short rendering of what changed (upstream appends a cmp.Diff of the source structs). */
function sourceDiff(oldSrc: Record<string, unknown>, newSrc: Record<string, unknown>): string {
  const lines = ["  core.PersistentVolumeSource{"];
  for (const f of PERSISTENT_VOLUME_SOURCE_FIELDS) {
    if (deepEqual(oldSrc[f], newSrc[f])) continue;
    if (oldSrc[f] !== undefined) lines.push(`- \t${f}: ${JSON.stringify(oldSrc[f])},`);
    if (newSrc[f] !== undefined) lines.push(`+ \t${f}: ${JSON.stringify(newSrc[f])},`);
  }
  lines.push("  }");
  return lines.join("\n");
}

/** upstream ValidatePersistentVolumeUpdate (the spec checks; metadata is the store's). */
export function validatePersistentVolumeUpdate(pv: PersistentVolume, old: PersistentVolume): FieldError[] {
  const errs = validatePersistentVolume(pv);
  const newSrc = sourceOf(pv.spec);
  const oldSrc = sourceOf(old.spec);
  // A CSI volume may gain a controllerExpandSecretRef it did not have.
  const oldCsi = old.spec?.csi;
  const newCsi = pv.spec?.csi;
  if (oldCsi && !oldCsi.controllerExpandSecretRef && newCsi?.controllerExpandSecretRef) {
    const { controllerExpandSecretRef: _, ...rest } = newCsi;
    newSrc.csi = rest;
  }
  if (!deepEqual(newSrc, oldSrc)) {
    errs.push(
      fieldForbidden(
        "spec.persistentvolumesource",
        `spec.persistentvolumesource is immutable after creation\n${sourceDiff(oldSrc, newSrc)}`,
      ),
    );
  }
  // Upstream's path is "volumeMode", without "spec.".
  if (pv.spec?.volumeMode !== old.spec?.volumeMode)
    errs.push(fieldInvalid("volumeMode", pv.spec?.volumeMode ?? null, "field is immutable"));
  if (old.spec?.nodeAffinity !== undefined && !deepEqual(pv.spec?.nodeAffinity, old.spec.nodeAffinity))
    errs.push(fieldInvalid("nodeAffinity", pv.spec?.nodeAffinity ?? null, "field is immutable"));
  return errs;
}

export function applyPersistentVolumeDefaults(pv: PersistentVolume): void {
  pv.spec ??= {};
  const spec = pv.spec;
  if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = RECLAIM_RETAIN;
  spec.volumeMode ??= VOLUME_MODE_FILESYSTEM;
  if (spec.hostPath && spec.hostPath.type === undefined) spec.hostPath.type = "";
  canonicalizeQuantities(spec.capacity);
  if (pv.status && !pv.status.phase) pv.status.phase = VOLUME_PENDING;
}

/** The VolumeAttributesClass feature is off in 1.31: the field is dropped unless already in use. */
function dropDisabledFields(pv: PersistentVolume, old: PersistentVolume | undefined): void {
  if (pv.spec && old?.spec?.volumeAttributesClassName === undefined) delete pv.spec.volumeAttributesClassName;
}

export function persistentVolumeRow(pv: PersistentVolume, now: Date): Cell[] {
  const spec = pv.spec ?? {};
  const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ""}/${spec.claimRef.name ?? ""}` : "";
  const phase = pv.metadata.deletionTimestamp ? "Terminating" : (pv.status?.phase ?? "");
  return [
    pv.metadata.name ?? "",
    storageString(spec.capacity),
    accessModesString(spec.accessModes),
    spec.persistentVolumeReclaimPolicy ?? "",
    phase,
    claim,
    volumeClass(pv),
    spec.volumeAttributesClassName ?? "<unset>",
    pv.status?.reason ?? "",
    age(pv, now),
    spec.volumeMode ?? "<unset>",
  ];
}

export function persistentVolumeStrategy(r: ResourceInfo): Strategy<PersistentVolume> {
  return makeStrategy<PersistentVolume>(r, {
    applyDefaults: applyPersistentVolumeDefaults,
    prepareForCreate(pv) {
      // makeStrategy reset status; a new volume is Pending from now (PersistentVolumeLastPhaseTransitionTime).
      pv.status = { phase: VOLUME_PENDING, lastPhaseTransitionTime: metaTime() };
      dropDisabledFields(pv, undefined);
    },
    prepareForUpdate(pv, old) {
      dropDisabledFields(pv, old);
    },
    prepareForStatusUpdate(pv, old) {
      const st = pv.status ?? {};
      pv.status = st;
      const prev = old.status ?? {};
      if ((st.phase ?? "") === (prev.phase ?? "")) {
        // Same phase: the transition time stays unless the writer set one.
        if (st.lastPhaseTransitionTime === undefined && prev.lastPhaseTransitionTime !== undefined)
          st.lastPhaseTransitionTime = prev.lastPhaseTransitionTime;
      } else if (
        st.lastPhaseTransitionTime === undefined ||
        st.lastPhaseTransitionTime === prev.lastPhaseTransitionTime
      ) {
        st.lastPhaseTransitionTime = metaTime();
      }
    },
    validate: validatePersistentVolume,
    validateUpdate: validatePersistentVolumeUpdate,
    selectableFields: (pv) => ({ name: pv.metadata.name ?? "" }),
    columns: [
      nameCol(),
      col(
        "Capacity",
        "string",
        "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity",
      ),
      col(
        "Access Modes",
        "string",
        "accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes",
      ),
      col(
        "Reclaim Policy",
        "string",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming",
      ),
      col(
        "Status",
        "string",
        "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase",
      ),
      col(
        "Claim",
        "string",
        "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding",
      ),
      col("StorageClass", "string", "StorageClass of the pv"),
      col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
      col(
        "Reason",
        "string",
        "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
      ),
      ageCol(),
      col(
        "VolumeMode",
        "string",
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.",
        1,
      ),
    ],
    row: persistentVolumeRow,
  });
}
