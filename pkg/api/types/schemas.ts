// The top-level schema of every built-in kind, keyed by "group/version/Kind" (core: "v1/Pod").
// Used for unknown-field detection and OpenAPI v3.

import type { TSchema } from "../schema/helpers.js";
import {
  ControllerRevisionSchema,
  DaemonSetSchema,
  DeploymentSchema,
  ReplicaSetSchema,
  StatefulSetSchema,
} from "./apps.js";
import { SelfSubjectReviewSchema, TokenRequestSchema, TokenReviewSchema } from "./authentication.js";
import {
  LocalSubjectAccessReviewSchema,
  SelfSubjectAccessReviewSchema,
  SelfSubjectRulesReviewSchema,
  SubjectAccessReviewSchema,
} from "./authorization.js";
import { ScaleSchema } from "./autoscaling.js";
import { CronJobSchema, JobSchema } from "./batch.js";
import { LeaseSchema } from "./coordination.js";
import {
  BindingSchema,
  ConfigMapSchema,
  EndpointsSchema,
  EventSchema,
  LimitRangeSchema,
  NamespaceSchema,
  NodeSchema,
  PodSchema,
  ReplicationControllerSchema,
  ResourceQuotaSchema,
  SecretSchema,
  ServiceAccountSchema,
  ServiceSchema,
} from "./core.js";
import { EndpointSliceSchema } from "./discovery.js";
import { EvictionSchema, PodDisruptionBudgetSchema } from "./policy.js";
import { ClusterRoleBindingSchema, ClusterRoleSchema, RoleBindingSchema, RoleSchema } from "./rbac.js";
import { PriorityClassSchema } from "./scheduling.js";
import { PersistentVolumeClaimSchema, PersistentVolumeSchema, StorageClassSchema } from "./storage.js";

export const KIND_SCHEMAS: Readonly<Record<string, TSchema>> = {
  "v1/Pod": PodSchema,
  "v1/Binding": BindingSchema,
  "v1/Node": NodeSchema,
  "v1/Service": ServiceSchema,
  "v1/Endpoints": EndpointsSchema,
  "v1/ConfigMap": ConfigMapSchema,
  "v1/Secret": SecretSchema,
  "v1/ServiceAccount": ServiceAccountSchema,
  "v1/Namespace": NamespaceSchema,
  "v1/Event": EventSchema,
  "v1/ReplicationController": ReplicationControllerSchema,
  "v1/ResourceQuota": ResourceQuotaSchema,
  "v1/LimitRange": LimitRangeSchema,
  "v1/PersistentVolume": PersistentVolumeSchema,
  "v1/PersistentVolumeClaim": PersistentVolumeClaimSchema,
  "apps/v1/Deployment": DeploymentSchema,
  "apps/v1/ReplicaSet": ReplicaSetSchema,
  "apps/v1/StatefulSet": StatefulSetSchema,
  "apps/v1/DaemonSet": DaemonSetSchema,
  "apps/v1/ControllerRevision": ControllerRevisionSchema,
  "batch/v1/Job": JobSchema,
  "batch/v1/CronJob": CronJobSchema,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudgetSchema,
  "policy/v1/Eviction": EvictionSchema,
  "autoscaling/v1/Scale": ScaleSchema,
  "coordination.k8s.io/v1/Lease": LeaseSchema,
  "discovery.k8s.io/v1/EndpointSlice": EndpointSliceSchema,
  "storage.k8s.io/v1/StorageClass": StorageClassSchema,
  "scheduling.k8s.io/v1/PriorityClass": PriorityClassSchema,
  "rbac.authorization.k8s.io/v1/Role": RoleSchema,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRoleSchema,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBindingSchema,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBindingSchema,
  "authorization.k8s.io/v1/SubjectAccessReview": SubjectAccessReviewSchema,
  "authorization.k8s.io/v1/LocalSubjectAccessReview": LocalSubjectAccessReviewSchema,
  "authorization.k8s.io/v1/SelfSubjectAccessReview": SelfSubjectAccessReviewSchema,
  "authorization.k8s.io/v1/SelfSubjectRulesReview": SelfSubjectRulesReviewSchema,
  "authentication.k8s.io/v1/SelfSubjectReview": SelfSubjectReviewSchema,
  "authentication.k8s.io/v1/TokenReview": TokenReviewSchema,
  "authentication.k8s.io/v1/TokenRequest": TokenRequestSchema,
};

/** The schema of a kind by apiVersion ("apps/v1", "v1") and kind, or undefined. */
export function schemaForKind(apiVersion: string, kind: string): TSchema | undefined {
  return KIND_SCHEMAS[`${apiVersion}/${kind}`];
}
