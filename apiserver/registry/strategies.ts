// strategyFor(r): the Strategy of every built-in resource (one file per kind, as upstream's
// pkg/registry/<group>/<kind>/strategy.go); unknownFields(r, obj): fields of a
// request body that the kind's schema does not declare (for ?fieldValidation).

import type { KubeObject } from "#pkg/api/meta.js";
import { apiVersionOf, BUILTIN_RESOURCES, type ResourceInfo } from "#pkg/api/resources.js";
import { unknownFieldsBySchema } from "#pkg/api/schema/unknown.js";
import { schemaForKind } from "#pkg/api/types/schemas.js";
import { controllerRevisionStrategy } from "./apps/controllerrevision/strategy.js";
import { daemonSetStrategy } from "./apps/daemonset/strategy.js";
import { deploymentStrategy } from "./apps/deployment/strategy.js";
import { replicaSetStrategy } from "./apps/replicaset/strategy.js";
import { statefulSetStrategy } from "./apps/statefulset/strategy.js";
import { cronJobStrategy } from "./batch/cronjob/strategy.js";
import { jobStrategy } from "./batch/job/strategy.js";
import { age, ageCol, makeStrategy, nameCol } from "./common.js";
import { leaseStrategy } from "./coordination/lease/strategy.js";
import { configMapStrategy } from "./core/configmap/strategy.js";
import { endpointsStrategy } from "./core/endpoints/strategy.js";
import { eventStrategy } from "./core/event/strategy.js";
import { limitRangeStrategy } from "./core/limitrange/strategy.js";
import { namespaceStrategy } from "./core/namespace/strategy.js";
import { nodeStrategy } from "./core/node/strategy.js";
import { persistentVolumeStrategy } from "./core/persistentvolume/strategy.js";
import { persistentVolumeClaimStrategy } from "./core/persistentvolumeclaim/strategy.js";
import { podStrategy } from "./core/pod/strategy.js";
import { replicationControllerStrategy } from "./core/replicationcontroller/strategy.js";
import { resourceQuotaStrategy } from "./core/resourcequota/strategy.js";
import { secretStrategy } from "./core/secret/strategy.js";
import { serviceStrategy } from "./core/service/strategy.js";
import { serviceAccountStrategy } from "./core/serviceaccount/strategy.js";
import { endpointSliceStrategy } from "./discovery/endpointslice/strategy.js";
import { podDisruptionBudgetStrategy } from "./policy/poddisruptionbudget/strategy.js";
import { clusterRoleStrategy } from "./rbac/clusterrole/strategy.js";
import { clusterRoleBindingStrategy } from "./rbac/clusterrolebinding/strategy.js";
import { roleStrategy } from "./rbac/role/strategy.js";
import { roleBindingStrategy } from "./rbac/rolebinding/strategy.js";
import { priorityClassStrategy } from "./scheduling/priorityclass/strategy.js";
import { storageClassStrategy } from "./storage/storageclass/strategy.js";
import type { Strategy } from "./strategy.js";

export { formatAge } from "#pkg/api/duration.js";

type Factory = (r: ResourceInfo) => Strategy;

const CORE_STRATEGIES: Record<string, Factory> = {
  services: serviceStrategy as Factory,
  endpoints: endpointsStrategy as Factory,
  namespaces: namespaceStrategy as Factory,
  nodes: nodeStrategy as Factory,
  configmaps: configMapStrategy as Factory,
  secrets: secretStrategy as Factory,
  events: eventStrategy as Factory,
  serviceaccounts: serviceAccountStrategy as Factory,
  replicationcontrollers: replicationControllerStrategy as Factory,
  resourcequotas: resourceQuotaStrategy as Factory,
  limitranges: limitRangeStrategy as Factory,
  persistentvolumes: persistentVolumeStrategy as Factory,
  persistentvolumeclaims: persistentVolumeClaimStrategy as Factory,
};

const APPS_STRATEGIES: Record<string, Factory> = {
  deployments: deploymentStrategy as Factory,
  replicasets: replicaSetStrategy as Factory,
  statefulsets: statefulSetStrategy as Factory,
  daemonsets: daemonSetStrategy as Factory,
  controllerrevisions: controllerRevisionStrategy as Factory,
};

const BATCH_STRATEGIES: Record<string, Factory> = {
  jobs: jobStrategy as Factory,
  cronjobs: cronJobStrategy as Factory,
};

const COORDINATION_STRATEGIES: Record<string, Factory> = {
  leases: leaseStrategy as Factory,
};

const POLICY_STRATEGIES: Record<string, Factory> = {
  poddisruptionbudgets: podDisruptionBudgetStrategy as Factory,
};

const RBAC_STRATEGIES: Record<string, Factory> = {
  roles: roleStrategy as Factory,
  clusterroles: clusterRoleStrategy as Factory,
  rolebindings: roleBindingStrategy as Factory,
  clusterrolebindings: clusterRoleBindingStrategy as Factory,
};

const byGroup: Record<string, Record<string, Factory>> = {
  "": { pods: podStrategy as Factory, ...CORE_STRATEGIES },
  apps: APPS_STRATEGIES,
  batch: BATCH_STRATEGIES,
  policy: POLICY_STRATEGIES,
  "coordination.k8s.io": COORDINATION_STRATEGIES,
  "discovery.k8s.io": { endpointslices: endpointSliceStrategy as Factory },
  "rbac.authorization.k8s.io": RBAC_STRATEGIES,
  "storage.k8s.io": { storageclasses: storageClassStrategy as Factory },
  "scheduling.k8s.io": { priorityclasses: priorityClassStrategy as Factory },
};

/** The fallback: metadata-only semantics with Name/Age columns. */
function genericStrategy(r: ResourceInfo): Strategy {
  return makeStrategy<KubeObject>(r, {
    columns: [nameCol(), ageCol()],
    row: (obj, now) => [obj.metadata.name ?? "", age(obj, now)],
  });
}

const cache = new Map<ResourceInfo, Strategy>();

/** The Strategy of a resource (every entry of BUILTIN_RESOURCES has one). */
export function strategyFor(r: ResourceInfo): Strategy {
  let s = cache.get(r);
  if (!s) {
    const f = byGroup[r.group]?.[r.resource] ?? genericStrategy;
    s = f(r);
    cache.set(r, s);
  }
  return s;
}

/**
 * Paths of fields in obj unknown to r's schema, e.g. "spec.template.spec.containers[0].imagePullPolic".
 * apiVersion, kind and metadata's own fields are known; free-form maps (labels, data) accept any key.
 */
export function unknownFields(r: ResourceInfo, obj: unknown): string[] {
  const schema = schemaForKind(apiVersionOf(r), r.kind);
  if (!schema) return [];
  return unknownFieldsBySchema(schema, obj);
}

/** unknownFields for a body that is not a resource of its own (pods/binding's Binding). */
export function unknownFieldsOfKind(apiVersion: string, kind: string, obj: unknown): string[] {
  const schema = schemaForKind(apiVersion, kind);
  return schema ? unknownFieldsBySchema(schema, obj) : [];
}

export const ALL_STRATEGIES = (): Strategy[] => BUILTIN_RESOURCES.map(strategyFor);

export { podPrintStatus, validateBinding } from "./core/pod/strategy.js";
