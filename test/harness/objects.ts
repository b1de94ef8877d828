// Objects the integration, e2e and bench suites create, and reads of their pods: workloads
// (ReplicaSet, ReplicationController, Deployment) whose pods carry app=<name> and run one
// busybox container, `sleep 3600` unless told otherwise; bare pods and nodes. Namespace
// "default" unless told otherwise.

import type { ListOptions, OwnerReference } from "#pkg/api/meta.js";
import { PODS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Deployment, DeploymentStrategy, ReplicaSet } from "#pkg/api/types/apps.js";
import type {
  Container,
  Node,
  Pod,
  PodCondition,
  PodSpec,
  PodTemplateSpec,
  ReplicationController,
  Toleration,
} from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import { type WaitOptions, waitFor } from "./wait.js";

const DEFAULT_NS = "default";
/** Keeps a busybox container running. */
export const SLEEP = ["sleep", "3600"];

export interface PodSpecOptions {
  /** The container's name; "c" by default. */
  container?: string;
  /** "busybox" by default. */
  image?: string;
  /** The container's command: `sleep 3600` by default, null for the image's own. */
  command?: string[] | null;
  imagePullPolicy?: Container["imagePullPolicy"];
  terminationGracePeriodSeconds?: number;
  tolerations?: Toleration[];
  nodeName?: string;
  restartPolicy?: PodSpec["restartPolicy"];
}

/** A pod spec of one container. */
export function podSpec(o: PodSpecOptions = {}): PodSpec {
  const command = o.command === undefined ? SLEEP : o.command;
  return {
    ...(o.nodeName !== undefined ? { nodeName: o.nodeName } : {}),
    ...(o.terminationGracePeriodSeconds !== undefined
      ? { terminationGracePeriodSeconds: o.terminationGracePeriodSeconds }
      : {}),
    ...(o.tolerations ? { tolerations: o.tolerations } : {}),
    ...(o.restartPolicy ? { restartPolicy: o.restartPolicy } : {}),
    containers: [
      {
        name: o.container ?? "c",
        image: o.image ?? "busybox",
        ...(o.imagePullPolicy ? { imagePullPolicy: o.imagePullPolicy } : {}),
        ...(command ? { command } : {}),
      },
    ],
  };
}

export interface TemplateOptions extends PodSpecOptions {
  /** The pods' finalizers. */
  finalizers?: string[];
}

/** A pod template labelled app=<app>. */
export function podTemplate(app: string, o: TemplateOptions = {}): PodTemplateSpec {
  const { finalizers, ...spec } = o;
  return { metadata: { labels: { app }, ...(finalizers ? { finalizers } : {}) }, spec: podSpec(spec) };
}

export interface WorkloadOptions extends TemplateOptions {
  namespace?: string;
}

/** A ReplicaSet selecting app=<name>. */
export function replicaSet(name: string, replicas: number, o: WorkloadOptions = {}): ReplicaSet {
  const { namespace = DEFAULT_NS, ...template } = o;
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name, namespace },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate(name, template) },
  };
}

/** A ReplicationController as users write them: no selector, no labels (both defaulted from the template). */
export function replicationController(name: string, replicas: number, o: WorkloadOptions = {}): ReplicationController {
  const { namespace = DEFAULT_NS, ...template } = o;
  return {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name, namespace },
    spec: { replicas, template: podTemplate(name, template) },
  };
}

export interface DeploymentOptions extends WorkloadOptions {
  /** RollingUpdate's bounds, "25%" each by default. */
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  /** The Recreate strategy instead of RollingUpdate. */
  recreate?: boolean;
  minReadySeconds?: number;
  progressDeadlineSeconds?: number;
  revisionHistoryLimit?: number;
}

/** A Deployment selecting app=<name>, RollingUpdate (25%/25% unless told) or Recreate. */
export function deployment(name: string, replicas: number, o: DeploymentOptions = {}): Deployment {
  const {
    namespace = DEFAULT_NS,
    maxSurge = "25%",
    maxUnavailable = "25%",
    recreate,
    minReadySeconds,
    progressDeadlineSeconds,
    revisionHistoryLimit,
    ...template
  } = o;
  const strategy: DeploymentStrategy = recreate
    ? { type: "Recreate" }
    : { type: "RollingUpdate", rollingUpdate: { maxSurge, maxUnavailable } };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: podTemplate(name, template),
      strategy,
      ...(minReadySeconds !== undefined ? { minReadySeconds } : {}),
      ...(progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds } : {}),
      ...(revisionHistoryLimit !== undefined ? { revisionHistoryLimit } : {}),
    },
  };
}

export interface PodOptions extends PodSpecOptions {
  namespace?: string;
  /** Labels the pod app=<app>. */
  app?: string;
  ownerReferences?: OwnerReference[];
}

/** A bare pod of one container. */
export function pod(name: string, o: PodOptions = {}): Pod {
  const { namespace = DEFAULT_NS, app, ownerReferences, ...spec } = o;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace,
      ...(app !== undefined ? { labels: { app } } : {}),
      ...(ownerReferences ? { ownerReferences } : {}),
    },
    spec: podSpec(spec),
  };
}

/**
 * What a kubelet writes of a pod it started: Running, and Ready since now (o.ready false: not
 * Ready since now), with o.podIP as its IP when given.
 */
export function setPodRunningReady(
  client: ApiClient,
  p: Pod,
  o: { podIP?: string; ready?: boolean } = {},
): Promise<Pod> {
  const ready: PodCondition = {
    type: "Ready",
    status: o.ready === false ? "False" : "True",
    lastTransitionTime: metaTime(),
  };
  const ip = o.podIP ? { podIP: o.podIP, podIPs: [{ ip: o.podIP }] } : {};
  return client.update(
    PODS,
    p.metadata.namespace,
    { ...p, status: { ...p.status, ...ip, phase: "Running", conditions: [ready] } },
    { subresource: "status" },
  );
}

/** A Node object; nothing runs it unless a test's kubelet does. */
export function node(name: string, status?: Node["status"]): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name }, ...(status ? { status } : {}) };
}

/** The pods labelled app=<app> that are not terminating. */
export async function activePods(client: ApiClient, app: string, namespace = DEFAULT_NS): Promise<Pod[]> {
  const opts: ListOptions = { labelSelector: `app=${app}` };
  const list = await client.list(PODS, namespace, opts);
  return list.items.filter((p) => !p.metadata.deletionTimestamp);
}

/** Waits until exactly n pods of app=<app> are active (20 s by default); returns them. */
export function waitForPods(
  client: ApiClient,
  app: string,
  n: number,
  o: WaitOptions & { namespace?: string } = {},
): Promise<Pod[]> {
  const { namespace, ...wait } = o;
  return waitFor(
    async () => {
      const pods = await activePods(client, app, namespace);
      return pods.length === n ? pods : undefined;
    },
    { timeoutMs: 20_000, message: `${n} pods of ${app}`, ...wait },
  );
}
