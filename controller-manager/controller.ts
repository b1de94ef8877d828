// What every controller of kubeling-controller-manager is (upstream: cmd/kube-controller-manager's
// InitFunc and ControllerContext): built from one shared context, run until the signal aborts.
// A controller registers handlers on the shared informers, keeps one WorkQueue of its own
// (named after it, so its workqueue_* metrics carry name="<controller>"), and syncs keys with
// pkg/controller's runWorkers, level-triggered: a handler only enqueues a key.

import type { Registry } from "prom-client";
import type { InformerFactory } from "#pkg/cache/factory.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import type { EndpointsControllerOptions } from "./endpoint/endpoints-controller.js";
import type { EndpointSliceControllerOptions } from "./endpointslice/endpointslice-controller.js";
import type { MirroringControllerOptions } from "./endpointslicemirroring/mirroring-controller.js";
import type { JobControllerOptions } from "./job/job-controller.js";
import type { NodeLifecycleOptions } from "./nodelifecycle/node-lifecycle-controller.js";
import type { PodGCOptions } from "./podgc/gc-controller.js";
import type { ResourceQuotaOptions } from "./resourcequota/resource-quota-controller.js";
import type { LocalPathProvisionerOptions } from "./volume/localpath/provisioner.js";
import type { PersistentVolumeControllerOptions } from "./volume/persistentvolume/pv-controller.js";

export interface ControllerContext {
  client: ApiClient;
  /** One informer per resource for every controller of the process; started after all are built. */
  informers: InformerFactory;
  /** Events with source.component "<controller>-controller", as upstream's recorders. */
  recorder(component: string): EventRecorder;
  /** The process's prom-client registry. */
  metrics: Registry;
  log: Logger;
  clock: Clock;
  /** Settings from the command line; a controller whose part is absent uses upstream's defaults. */
  options?: ControllerOptions;
}

/**
 * ControllerOptions: the controllers' command-line settings (upstream: the per-controller parts
 * of KubeControllerManagerConfiguration), one optional field per controller.
 */
export interface ControllerOptions {
  /** --endpoint-updates-batch-period. */
  endpoint?: EndpointsControllerOptions;
  /** --max-endpoints-per-slice, --endpointslice-updates-batch-period. */
  endpointSlice?: EndpointSliceControllerOptions;
  /** --job-pod-failure-backoff (kubeling's: upstream's base of 10 s is fixed). */
  job?: JobControllerOptions;
  /** --mirroring-max-endpoints-per-subset. */
  endpointSliceMirroring?: MirroringControllerOptions;
  /** --node-monitor-period, --node-monitor-grace-period, --node-startup-grace-period, --node-eviction-rate, ... */
  nodeLifecycle?: NodeLifecycleOptions;
  /** --terminated-pod-gc-threshold. */
  podGC?: PodGCOptions;
  /** --resource-quota-sync-period. */
  resourceQuota?: ResourceQuotaOptions;
  /** --pvclaimbinder-sync-period. */
  persistentVolume?: PersistentVolumeControllerOptions;
  /** --local-path-helper-image, --local-path-storage-class. */
  localPath?: LocalPathProvisionerOptions;
  /** --root-ca-file's contents: the CA bundle published as kube-root-ca.crt (default: the kubeconfig's CA). */
  rootCA?: string;
}

export interface Controller {
  readonly name: string;
  /** Runs `workers` sync loops until signal aborts; resolves once they have drained. */
  run(signal: AbortSignal, workers: number): Promise<void>;
}

/** Builds a controller; it must not start anything before run(). */
export type ControllerInit = (ctx: ControllerContext) => Controller;
