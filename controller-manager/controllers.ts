// The controllers kubeling-controller-manager knows, by their --controllers name (upstream:
// cmd/kube-controller-manager/app's NewControllerDescriptors), and the parsing of --controllers.

import { newClusterRoleAggregationController } from "./clusterroleaggregation/clusterrole-aggregation-controller.js";
import type { ControllerInit } from "./controller.js";
import { newCronJobController } from "./cronjob/cronjob-controller.js";
import { newDaemonSetController } from "./daemon/daemon-controller.js";
import { newDeploymentController } from "./deployment/deployment-controller.js";
import { newDisruptionController } from "./disruption/disruption.js";
import { newEndpointsController } from "./endpoint/endpoints-controller.js";
import { newEndpointSliceController } from "./endpointslice/endpointslice-controller.js";
import { newEndpointSliceMirroringController } from "./endpointslicemirroring/mirroring-controller.js";
import { newGarbageCollector } from "./garbagecollector/garbage-collector.js";
import { newJobController } from "./job/job-controller.js";
import { newNamespaceController } from "./namespace/namespace-controller.js";
import { newNodeLifecycleController } from "./nodelifecycle/node-lifecycle-controller.js";
import { newPodGCController } from "./podgc/gc-controller.js";
import { newReplicaSetController } from "./replicaset/replica-set.js";
import { newReplicationController } from "./replication/replication-controller.js";
import { newResourceQuotaController } from "./resourcequota/resource-quota-controller.js";
import { newRootCACertPublisher } from "./rootcacertpublisher/publisher.js";
import { newServiceAccountsController } from "./serviceaccount/serviceaccounts-controller.js";
import { newStatefulSetController } from "./statefulset/statefulset-controller.js";
import { newTaintEvictionController } from "./tainteviction/taint-eviction.js";
import { newTTLAfterFinishedController } from "./ttlafterfinished/ttl-after-finished-controller.js";
import { newLocalPathProvisioner } from "./volume/localpath/provisioner.js";
import { newPersistentVolumeController } from "./volume/persistentvolume/pv-controller.js";
import { newPVCProtectionController } from "./volume/pvcprotection/pvc-protection-controller.js";
import { newPVProtectionController } from "./volume/pvprotection/pv-protection-controller.js";

export const CONTROLLERS: Record<string, ControllerInit> = {
  "clusterrole-aggregation": newClusterRoleAggregationController,
  "cronjob-controller": newCronJobController,
  daemonset: newDaemonSetController,
  deployment: newDeploymentController,
  disruption: newDisruptionController,
  "endpoints-controller": newEndpointsController,
  "endpointslice-controller": newEndpointSliceController,
  "endpointslice-mirroring-controller": newEndpointSliceMirroringController,
  garbagecollector: newGarbageCollector,
  "job-controller": newJobController,
  "local-path-provisioner": newLocalPathProvisioner,
  namespace: newNamespaceController,
  nodelifecycle: newNodeLifecycleController,
  "persistentvolume-binder-controller": newPersistentVolumeController,
  "persistentvolume-protection-controller": newPVProtectionController,
  "persistentvolumeclaim-protection-controller": newPVCProtectionController,
  podgc: newPodGCController,
  replicaset: newReplicaSetController,
  replicationcontroller: newReplicationController,
  resourcequota: newResourceQuotaController,
  "root-ca-certificate-publisher-controller": newRootCACertPublisher,
  serviceaccount: newServiceAccountsController,
  statefulset: newStatefulSetController,
  "taint-eviction-controller": newTaintEvictionController,
  "ttl-after-finished-controller": newTTLAfterFinishedController,
};

/**
 * Upstream's per-controller worker flags (--concurrent-deployment-syncs, ...), by controller name,
 * with their defaults; a controller not listed runs --concurrent-syncs workers.
 */
export const CONCURRENCY_FLAGS: Record<string, { flag: string; default: number }> = {
  "cronjob-controller": { flag: "concurrent-cron-job-syncs", default: 5 },
  daemonset: { flag: "concurrent-daemonset-syncs", default: 2 },
  deployment: { flag: "concurrent-deployment-syncs", default: 5 },
  "endpoints-controller": { flag: "concurrent-endpoint-syncs", default: 5 },
  "endpointslice-controller": { flag: "concurrent-service-endpoint-syncs", default: 5 },
  "endpointslice-mirroring-controller": { flag: "mirroring-concurrent-service-endpoint-syncs", default: 5 },
  garbagecollector: { flag: "concurrent-gc-syncs", default: 20 },
  "job-controller": { flag: "concurrent-job-syncs", default: 5 },
  namespace: { flag: "concurrent-namespace-syncs", default: 10 },
  replicaset: { flag: "concurrent-replicaset-syncs", default: 5 },
  replicationcontroller: { flag: "concurrent-rc-syncs", default: 5 },
  resourcequota: { flag: "concurrent-resource-quota-syncs", default: 5 },
  statefulset: { flag: "concurrent-statefulset-syncs", default: 5 },
  "ttl-after-finished-controller": { flag: "concurrent-ttl-after-finished-syncs", default: 5 },
};

/**
 * Upstream's older --controllers names still accepted for a controller (cmd/kube-controller-manager
 * names.go's aliases), by alias.
 */
export const CONTROLLER_ALIASES: Record<string, string> = {
  cronjob: "cronjob-controller",
  job: "job-controller",
  "ttl-after-finished": "ttl-after-finished-controller",
  endpoint: "endpoints-controller",
  endpointslice: "endpointslice-controller",
  endpointslicemirroring: "endpointslice-mirroring-controller",
  "pv-protection": "persistentvolume-protection-controller",
  "pvc-protection": "persistentvolumeclaim-protection-controller",
  "persistentvolume-binder": "persistentvolume-binder-controller",
};

/** Controllers `*` leaves off (upstream: bootstrapsigner, tokencleaner); none here yet. */
export const DISABLED_BY_DEFAULT: ReadonlySet<string> = new Set();

/**
 * enabledControllers: the names --controllers turns on, in the table's order, as upstream's
 * IsControllerEnabled (an alias stands for its controller): `foo` enables foo, `-foo` disables it (either wins over `*`), and `*` enables
 * every controller not disabled by default. A name not in `known` is an error listing them.
 */
export function enabledControllers(
  flags: readonly string[],
  known: readonly string[] = Object.keys(CONTROLLERS),
  disabledByDefault: ReadonlySet<string> = DISABLED_BY_DEFAULT,
  aliases: Record<string, string> = CONTROLLER_ALIASES,
): string[] {
  flags = flags.map((f) => {
    const neg = f.startsWith("-");
    const name = neg ? f.slice(1) : f;
    const canonical = aliases[name];
    return canonical ? `${neg ? "-" : ""}${canonical}` : f;
  });
  for (const f of flags) {
    if (f === "*") continue;
    const name = f.startsWith("-") ? f.slice(1) : f;
    if (!known.includes(name)) {
      throw new Error(`${JSON.stringify(name)} is not in the list of known controllers: ${known.join(", ")}`);
    }
  }
  const star = flags.includes("*");
  return known.filter((name) => {
    if (flags.includes(`-${name}`)) return false;
    if (flags.includes(name)) return true;
    return star && !disabledByDefault.has(name);
  });
}
