// Storage kinds, shaped as upstream (k8s.io/api/core/v1 and k8s.io/api/storage/v1 types.go):
// core/v1 PersistentVolume and PersistentVolumeClaim, storage.k8s.io/v1 StorageClass. PV and PVC
// are core kinds; they live here rather than in core.ts so storage has one file.

import type { KubeObject } from "../meta.js";
import {
  Bool,
  Conditions,
  List,
  MapOf,
  Obj,
  Opt,
  Quantity,
  type Static,
  Str,
  StrMap,
  Time,
  Type,
} from "../schema/helpers.js";
import {
  HostPathVolumeSourceSchema,
  NodeSelectorSchema,
  ObjectReferenceSchema,
  PersistentVolumeInTreeSources,
  SecretReferenceSchema,
} from "./core.js";
import { type KindBody, KindSchema, LabelSelectorSchema } from "./meta.js";

// ---------------------------------------------------------------- well-known names

/** Access modes (v1.PersistentVolumeAccessMode). */
export const READ_WRITE_ONCE = "ReadWriteOnce";
export const READ_ONLY_MANY = "ReadOnlyMany";
export const READ_WRITE_MANY = "ReadWriteMany";
export const READ_WRITE_ONCE_POD = "ReadWriteOncePod";
export const ACCESS_MODES = [READ_WRITE_ONCE, READ_ONLY_MANY, READ_WRITE_MANY, READ_WRITE_ONCE_POD] as const;

/** PV reclaim policies. Recycle is deprecated but still accepted, as upstream. */
export const RECLAIM_RETAIN = "Retain";
export const RECLAIM_DELETE = "Delete";
export const RECLAIM_RECYCLE = "Recycle";

/** volumeMode values. */
export const VOLUME_MODE_FILESYSTEM = "Filesystem";
export const VOLUME_MODE_BLOCK = "Block";

/** PV phases (status.phase). */
export const VOLUME_PENDING = "Pending";
export const VOLUME_AVAILABLE = "Available";
export const VOLUME_BOUND = "Bound";
export const VOLUME_RELEASED = "Released";
export const VOLUME_FAILED = "Failed";

/** PVC phases (status.phase). */
export const CLAIM_PENDING = "Pending";
export const CLAIM_BOUND = "Bound";
export const CLAIM_LOST = "Lost";

/** StorageClass volumeBindingMode values. */
export const BINDING_IMMEDIATE = "Immediate";
export const BINDING_WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer";

/** The annotation that makes a StorageClass the default (and its beta spelling, still honoured). */
export const ANN_DEFAULT_STORAGE_CLASS = "storageclass.kubernetes.io/is-default-class";
export const ANN_BETA_DEFAULT_STORAGE_CLASS = "storageclass.beta.kubernetes.io/is-default-class";

/** The finalizers of StorageObjectInUseProtection. */
export const PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection";
export const PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection";

/** Annotations the PV controller and the scheduler use (upstream pkg/controller/volume/persistentvolume/util). */
export const ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node";
export const ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";
export const ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner";
export const ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller";
export const ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed";
export const ANN_DYNAMICALLY_PROVISIONED = "pv.kubernetes.io/provisioned-by";

// ---------------------------------------------------------------- PersistentVolume

export const LocalVolumeSourceSchema = Obj({ path: Str(), fsType: Opt(Str()) });
export type LocalVolumeSource = Static<typeof LocalVolumeSourceSchema>;

export const CSIPersistentVolumeSourceSchema = Obj({
  driver: Str(),
  volumeHandle: Str(),
  readOnly: Opt(Bool()),
  fsType: Opt(Str()),
  volumeAttributes: Opt(StrMap()),
  controllerPublishSecretRef: Opt(SecretReferenceSchema),
  nodeStageSecretRef: Opt(SecretReferenceSchema),
  nodePublishSecretRef: Opt(SecretReferenceSchema),
  controllerExpandSecretRef: Opt(SecretReferenceSchema),
  nodeExpandSecretRef: Opt(SecretReferenceSchema),
});

export const VolumeNodeAffinitySchema = Obj({ required: Opt(NodeSelectorSchema) });
export type VolumeNodeAffinity = Static<typeof VolumeNodeAffinitySchema>;

export const PersistentVolumeSpecSchema = Obj({
  capacity: Opt(MapOf(Quantity(), "the volume's resources; only storage is allowed")),
  accessModes: Opt(List(Str("ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod"))),
  // upstream +structType=granular: a patch merges into the reference.
  claimRef: Opt(ObjectReferenceSchema),
  persistentVolumeReclaimPolicy: Opt(Str("Retain (default), Delete or Recycle")),
  storageClassName: Opt(Str()),
  mountOptions: Opt(List(Str())),
  volumeMode: Opt(Str("Filesystem (default) or Block")),
  nodeAffinity: Opt(VolumeNodeAffinitySchema),
  volumeAttributesClassName: Opt(Str()),
  // Sources kubeling's kubelet can use.
  hostPath: Opt(HostPathVolumeSourceSchema),
  local: Opt(LocalVolumeSourceSchema),
  nfs: Opt(Obj({ server: Str(), path: Str(), readOnly: Opt(Bool()) })),
  csi: Opt(CSIPersistentVolumeSourceSchema),
  // In-tree/cloud sources kubeling cannot mount: accepted as upstream does.
  ...PersistentVolumeInTreeSources.properties,
});
export type PersistentVolumeSpec = Static<typeof PersistentVolumeSpecSchema>;

/** Every PersistentVolumeSource field of a PV's spec (exactly one must be set). */
export const PERSISTENT_VOLUME_SOURCE_FIELDS: readonly string[] = [
  "hostPath",
  "local",
  "nfs",
  "csi",
  "awsElasticBlockStore",
  "azureDisk",
  "azureFile",
  "cephfs",
  "cinder",
  "fc",
  "flexVolume",
  "flocker",
  "gcePersistentDisk",
  "glusterfs",
  "iscsi",
  "photonPersistentDisk",
  "portworxVolume",
  "quobyte",
  "rbd",
  "scaleIO",
  "storageos",
  "vsphereVolume",
];

export const PersistentVolumeStatusSchema = Obj({
  phase: Opt(Str("Pending, Available, Bound, Released or Failed")),
  message: Opt(Str()),
  reason: Opt(Str()),
  lastPhaseTransitionTime: Opt(Time()),
});
export type PersistentVolumeStatus = Static<typeof PersistentVolumeStatusSchema>;

export const PersistentVolumeSchema = KindSchema("PersistentVolume", {
  spec: Opt(PersistentVolumeSpecSchema),
  status: Opt(PersistentVolumeStatusSchema),
});
export interface PersistentVolume extends KubeObject, KindBody<typeof PersistentVolumeSchema> {}

// ---------------------------------------------------------------- PersistentVolumeClaim

export const TypedLocalObjectReferenceSchema = Obj(
  { apiGroup: Opt(Str()), kind: Str(), name: Str() },
  { "x-kubernetes-map-type": "atomic" },
);
export type TypedLocalObjectReference = Static<typeof TypedLocalObjectReferenceSchema>;

export const TypedObjectReferenceSchema = Obj({
  apiGroup: Opt(Str()),
  kind: Str(),
  name: Str(),
  namespace: Opt(Str()),
});
export type TypedObjectReference = Static<typeof TypedObjectReferenceSchema>;

export const VolumeResourceRequirementsSchema = Obj({
  limits: Opt(MapOf(Quantity())),
  requests: Opt(MapOf(Quantity())),
});
export type VolumeResourceRequirements = Static<typeof VolumeResourceRequirementsSchema>;

export const PersistentVolumeClaimSpecSchema = Obj({
  accessModes: Opt(List(Str("ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod"))),
  selector: Opt(LabelSelectorSchema),
  resources: Opt(VolumeResourceRequirementsSchema),
  volumeName: Opt(Str("the PV this claim is bound to (or asks for)")),
  storageClassName: Opt(Str()),
  volumeMode: Opt(Str("Filesystem (default) or Block")),
  dataSource: Opt(TypedLocalObjectReferenceSchema),
  dataSourceRef: Opt(TypedObjectReferenceSchema),
  volumeAttributesClassName: Opt(Str()),
});
export type PersistentVolumeClaimSpec = Static<typeof PersistentVolumeClaimSpecSchema>;

export const PersistentVolumeClaimConditionSchema = Obj({
  type: Str("Resizing, FileSystemResizePending, ControllerResizeError, NodeResizeError, ModifyingVolume..."),
  status: Str("True, False or Unknown"),
  lastProbeTime: Opt(Type.Union([Time(), Type.Null()])),
  lastTransitionTime: Opt(Type.Union([Time(), Type.Null()])),
  reason: Opt(Str()),
  message: Opt(Str()),
});
export type PersistentVolumeClaimCondition = Static<typeof PersistentVolumeClaimConditionSchema>;

export const PersistentVolumeClaimStatusSchema = Obj({
  phase: Opt(Str("Pending, Bound or Lost")),
  accessModes: Opt(List(Str())),
  capacity: Opt(MapOf(Quantity())),
  conditions: Opt(Conditions(PersistentVolumeClaimConditionSchema)),
  allocatedResources: Opt(MapOf(Quantity())),
  allocatedResourceStatuses: Opt(
    Type.Unsafe<Record<string, string>>({ ...StrMap(), "x-kubernetes-map-type": "granular" }),
  ),
  currentVolumeAttributesClassName: Opt(Str()),
  modifyVolumeStatus: Opt(Obj({ targetVolumeAttributesClassName: Opt(Str()), status: Str() })),
});
export type PersistentVolumeClaimStatus = Static<typeof PersistentVolumeClaimStatusSchema>;

export const PersistentVolumeClaimSchema = KindSchema("PersistentVolumeClaim", {
  spec: Opt(PersistentVolumeClaimSpecSchema),
  status: Opt(PersistentVolumeClaimStatusSchema),
});
export interface PersistentVolumeClaim extends KubeObject, KindBody<typeof PersistentVolumeClaimSchema> {}

// ---------------------------------------------------------------- StorageClass (storage.k8s.io/v1)

export const TopologySelectorLabelRequirementSchema = Obj({ key: Str(), values: List(Str()) });
export const TopologySelectorTermSchema = Obj(
  { matchLabelExpressions: Opt(List(TopologySelectorLabelRequirementSchema)) },
  { "x-kubernetes-map-type": "atomic" },
);
export type TopologySelectorTerm = Static<typeof TopologySelectorTermSchema>;

export const StorageClassSchema = KindSchema("StorageClass", {
  provisioner: Str("the provisioner's name, e.g. rancher.io/local-path or kubernetes.io/no-provisioner"),
  parameters: Opt(StrMap()),
  reclaimPolicy: Opt(Str("Delete (default) or Retain")),
  mountOptions: Opt(List(Str())),
  allowVolumeExpansion: Opt(Bool()),
  volumeBindingMode: Opt(Str("Immediate (default) or WaitForFirstConsumer")),
  allowedTopologies: Opt(List(TopologySelectorTermSchema)),
});
export interface StorageClass extends KubeObject, KindBody<typeof StorageClassSchema> {}

// ---------------------------------------------------------------- helpers

/** upstream storagehelpers.GetPersistentVolumeClaimClass: spec.storageClassName, else the beta annotation. */
export function claimClass(pvc: Pick<PersistentVolumeClaim, "metadata" | "spec">): string {
  const beta = pvc.metadata.annotations?.["volume.beta.kubernetes.io/storage-class"];
  if (beta !== undefined) return beta;
  return pvc.spec?.storageClassName ?? "";
}

/** upstream storagehelpers.GetPersistentVolumeClass. */
export function volumeClass(pv: Pick<PersistentVolume, "metadata" | "spec">): string {
  const beta = pv.metadata.annotations?.["volume.beta.kubernetes.io/storage-class"];
  if (beta !== undefined) return beta;
  return pv.spec?.storageClassName ?? "";
}

/** upstream storageutil.IsDefaultAnnotation: the class is marked default (GA or beta annotation). */
export function isDefaultStorageClass(sc: Pick<StorageClass, "metadata">): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[ANN_DEFAULT_STORAGE_CLASS] === "true" || a[ANN_BETA_DEFAULT_STORAGE_CLASS] === "true";
}
