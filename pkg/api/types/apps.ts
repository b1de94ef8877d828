// apps/v1 kinds (k8s.io/api/apps/v1/types.go): Deployment, ReplicaSet, StatefulSet, DaemonSet.

import type { KubeObject } from "../meta.js";
import {
  AnyJson,
  Bool,
  Conditions,
  Int,
  IntOrString,
  List,
  MapOf,
  Obj,
  Opt,
  Quantity,
  type Static,
  Str,
  Time,
} from "../schema/helpers.js";
import { PodTemplateSpecSchema } from "./core.js";
import { type KindBody, KindSchema, LabelSelectorSchema, ObjectMetaSchema } from "./meta.js";

/** Shared shape of the apps conditions (DeploymentCondition, ReplicaSetCondition...). */
export const AppsConditionSchema = Obj({
  type: Str(),
  status: Str("True, False or Unknown"),
  lastUpdateTime: Opt(Time()),
  lastTransitionTime: Opt(Time()),
  reason: Opt(Str()),
  message: Opt(Str()),
});
export type AppsCondition = Static<typeof AppsConditionSchema>;
export type DeploymentCondition = AppsCondition;

/** ReplicaSet/StatefulSet/DaemonSet conditions: like Deployment's without lastUpdateTime. */
export const WorkloadConditionSchema = Obj({
  type: Str(),
  status: Str("True, False or Unknown"),
  lastTransitionTime: Opt(Time()),
  reason: Opt(Str()),
  message: Opt(Str()),
});
export type WorkloadCondition = Static<typeof WorkloadConditionSchema>;

// ---------------------------------------------------------------- deployment

export const RollingUpdateDeploymentSchema = Obj({
  maxUnavailable: Opt(IntOrString()),
  maxSurge: Opt(IntOrString()),
});
export const DeploymentStrategySchema = Obj({
  type: Opt(Str("Recreate or RollingUpdate")),
  rollingUpdate: Opt(RollingUpdateDeploymentSchema),
});
export type DeploymentStrategy = Static<typeof DeploymentStrategySchema>;

export const DeploymentSpecSchema = Obj({
  replicas: Opt(Int()),
  selector: LabelSelectorSchema,
  template: PodTemplateSpecSchema,
  // upstream's patchStrategy=retainKeys: kubectl's apply (reading OpenAPI v2) sends $retainKeys,
  // so switching to Recreate drops the old rollingUpdate.
  strategy: Opt({ ...DeploymentStrategySchema, "x-kubernetes-patch-strategy": "retainKeys" }),
  minReadySeconds: Opt(Int()),
  revisionHistoryLimit: Opt(Int()),
  paused: Opt(Bool()),
  progressDeadlineSeconds: Opt(Int()),
});
export type DeploymentSpec = Static<typeof DeploymentSpecSchema>;

export const DeploymentStatusSchema = Obj({
  observedGeneration: Opt(Int()),
  replicas: Opt(Int()),
  updatedReplicas: Opt(Int()),
  readyReplicas: Opt(Int()),
  availableReplicas: Opt(Int()),
  unavailableReplicas: Opt(Int()),
  terminatingReplicas: Opt(Int()),
  conditions: Opt(Conditions(AppsConditionSchema)),
  collisionCount: Opt(Int()),
});
export type DeploymentStatus = Static<typeof DeploymentStatusSchema>;

export const DeploymentSchema = KindSchema("Deployment", {
  spec: Opt(DeploymentSpecSchema),
  status: Opt(DeploymentStatusSchema),
});
export interface Deployment extends KubeObject, KindBody<typeof DeploymentSchema> {}

// ---------------------------------------------------------------- replicaset

export const ReplicaSetSpecSchema = Obj({
  replicas: Opt(Int()),
  minReadySeconds: Opt(Int()),
  selector: LabelSelectorSchema,
  template: Opt(PodTemplateSpecSchema),
});
export type ReplicaSetSpec = Static<typeof ReplicaSetSpecSchema>;

export const ReplicaSetStatusSchema = Obj({
  replicas: Int(),
  fullyLabeledReplicas: Opt(Int()),
  readyReplicas: Opt(Int()),
  availableReplicas: Opt(Int()),
  terminatingReplicas: Opt(Int()),
  observedGeneration: Opt(Int()),
  conditions: Opt(Conditions(WorkloadConditionSchema)),
});
export type ReplicaSetStatus = Static<typeof ReplicaSetStatusSchema>;

export const ReplicaSetSchema = KindSchema("ReplicaSet", {
  spec: Opt(ReplicaSetSpecSchema),
  status: Opt(ReplicaSetStatusSchema),
});
export interface ReplicaSet extends KubeObject, KindBody<typeof ReplicaSetSchema> {}

// ---------------------------------------------------------------- statefulset

export const PersistentVolumeClaimTemplateSchema = Obj({
  apiVersion: Opt(Str()),
  kind: Opt(Str()),
  metadata: Opt(ObjectMetaSchema),
  spec: Opt(
    Obj({
      accessModes: Opt(List(Str())),
      selector: Opt(LabelSelectorSchema),
      resources: Opt(Obj({ requests: Opt(MapOf(Quantity())), limits: Opt(MapOf(Quantity())) })),
      volumeName: Opt(Str()),
      storageClassName: Opt(Str()),
      volumeMode: Opt(Str()),
      dataSource: Opt(AnyJson()),
      dataSourceRef: Opt(AnyJson()),
      volumeAttributesClassName: Opt(Str()),
    }),
  ),
  status: Opt(AnyJson()),
});

export const StatefulSetUpdateStrategySchema = Obj({
  type: Opt(Str("RollingUpdate or OnDelete")),
  rollingUpdate: Opt(Obj({ partition: Opt(Int()), maxUnavailable: Opt(IntOrString()) })),
});

export const StatefulSetSpecSchema = Obj({
  replicas: Opt(Int()),
  selector: LabelSelectorSchema,
  template: PodTemplateSpecSchema,
  volumeClaimTemplates: Opt(List(PersistentVolumeClaimTemplateSchema)),
  serviceName: Opt(Str()),
  podManagementPolicy: Opt(Str("OrderedReady or Parallel")),
  updateStrategy: Opt(StatefulSetUpdateStrategySchema),
  revisionHistoryLimit: Opt(Int()),
  minReadySeconds: Opt(Int()),
  persistentVolumeClaimRetentionPolicy: Opt(Obj({ whenDeleted: Opt(Str()), whenScaled: Opt(Str()) })),
  ordinals: Opt(Obj({ start: Opt(Int()) })),
});
export type StatefulSetSpec = Static<typeof StatefulSetSpecSchema>;

export const StatefulSetStatusSchema = Obj({
  observedGeneration: Opt(Int()),
  replicas: Int(),
  readyReplicas: Opt(Int()),
  currentReplicas: Opt(Int()),
  updatedReplicas: Opt(Int()),
  availableReplicas: Opt(Int()),
  currentRevision: Opt(Str()),
  updateRevision: Opt(Str()),
  collisionCount: Opt(Int()),
  conditions: Opt(Conditions(WorkloadConditionSchema)),
});
export type StatefulSetStatus = Static<typeof StatefulSetStatusSchema>;

export const StatefulSetSchema = KindSchema("StatefulSet", {
  spec: Opt(StatefulSetSpecSchema),
  status: Opt(StatefulSetStatusSchema),
});
export interface StatefulSet extends KubeObject, KindBody<typeof StatefulSetSchema> {}

// ---------------------------------------------------------------- daemonset

export const DaemonSetUpdateStrategySchema = Obj({
  type: Opt(Str("RollingUpdate or OnDelete")),
  rollingUpdate: Opt(Obj({ maxUnavailable: Opt(IntOrString()), maxSurge: Opt(IntOrString()) })),
});

export const DaemonSetSpecSchema = Obj({
  selector: LabelSelectorSchema,
  template: PodTemplateSpecSchema,
  updateStrategy: Opt(DaemonSetUpdateStrategySchema),
  minReadySeconds: Opt(Int()),
  revisionHistoryLimit: Opt(Int()),
});
export type DaemonSetSpec = Static<typeof DaemonSetSpecSchema>;

export const DaemonSetStatusSchema = Obj({
  currentNumberScheduled: Int(),
  numberMisscheduled: Int(),
  desiredNumberScheduled: Int(),
  numberReady: Int(),
  observedGeneration: Opt(Int()),
  updatedNumberScheduled: Opt(Int()),
  numberAvailable: Opt(Int()),
  numberUnavailable: Opt(Int()),
  collisionCount: Opt(Int()),
  conditions: Opt(Conditions(WorkloadConditionSchema)),
});
export type DaemonSetStatus = Static<typeof DaemonSetStatusSchema>;

export const DaemonSetSchema = KindSchema("DaemonSet", {
  spec: Opt(DaemonSetSpecSchema),
  status: Opt(DaemonSetStatusSchema),
});
export interface DaemonSet extends KubeObject, KindBody<typeof DaemonSetSchema> {}

// ---------------------------------------------------------------- controllerrevision

/**
 * ControllerRevision: an immutable snapshot of a controller's state (DaemonSet and StatefulSet
 * history). data is the snapshot as the controller wrote it (for DaemonSets and StatefulSets, a
 * strategic merge patch replacing spec.template); revision orders the snapshots.
 */
export const ControllerRevisionSchema = KindSchema("ControllerRevision", {
  data: Opt(AnyJson()),
  revision: Int(),
});
export interface ControllerRevision extends KubeObject, KindBody<typeof ControllerRevisionSchema> {}
