// Fixtures for the Deployment controller's unit tests: Deployments and ReplicaSets as the API
// server would store them (defaults applied), small enough to read in a test.

import { metaTime } from "#pkg/api/time.js";
import type { Deployment, DeploymentStrategy, ReplicaSet, ReplicaSetStatus } from "#pkg/api/types/apps.js";
import type { PodTemplateSpec } from "#pkg/api/types/core.js";
import { computeHash } from "./hash.js";
import {
  DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  REVISION_ANNOTATION,
} from "./util.js";

export const NS = "default";
const T0 = Date.parse("2026-01-01T00:00:00Z");

export function template(image: string, labels: Record<string, string> = { app: "web" }): PodTemplateSpec {
  return { metadata: { labels }, spec: { containers: [{ name: "c", image }] } };
}

export interface DeploymentFixture {
  name?: string;
  replicas?: number;
  image?: string;
  strategy?: DeploymentStrategy;
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  generation?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
  revisionHistoryLimit?: number;
  annotations?: Record<string, string>;
  status?: Deployment["status"];
}

export function deployment(o: DeploymentFixture = {}): Deployment {
  const name = o.name ?? "web";
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      generation: o.generation ?? 1,
      creationTimestamp: metaTime(T0),
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: "web" } },
      template: template(o.image ?? "v1"),
      strategy: o.strategy ?? {
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: o.maxSurge ?? "25%", maxUnavailable: o.maxUnavailable ?? "25%" },
      },
      revisionHistoryLimit: o.revisionHistoryLimit ?? 10,
      progressDeadlineSeconds: o.progressDeadlineSeconds ?? 600,
      ...(o.paused !== undefined ? { paused: o.paused } : {}),
    },
    ...(o.status ? { status: o.status } : {}),
  };
}

export interface ReplicaSetFixture {
  replicas: number;
  image?: string;
  revision?: number;
  /** Seconds after T0. */
  created?: number;
  status?: Partial<ReplicaSetStatus>;
  /** Available = ready = status.replicas = replicas unless given. */
  available?: number;
  desired?: number;
  max?: number;
  owner?: Deployment | null;
  name?: string;
  generation?: number;
}

/** A ReplicaSet of template(image), named as the Deployment controller names it. */
export function replicaSet(o: ReplicaSetFixture): ReplicaSet {
  const t = template(o.image ?? "v1");
  const hash = computeHash(t);
  const labels = { ...(t.metadata?.labels ?? {}), [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: hash };
  const name = o.name ?? `web-${hash}`;
  const owner = o.owner === undefined ? deployment() : o.owner;
  const annotations: Record<string, string> = {};
  if (o.revision !== undefined) annotations[REVISION_ANNOTATION] = String(o.revision);
  if (o.desired !== undefined) annotations[DESIRED_REPLICAS_ANNOTATION] = String(o.desired);
  if (o.max !== undefined) annotations[MAX_REPLICAS_ANNOTATION] = String(o.max);
  const available = o.available ?? o.replicas;
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      generation: o.generation ?? 1,
      labels,
      annotations,
      creationTimestamp: metaTime(T0 + (o.created ?? 0) * 1000),
      ...(owner
        ? {
            ownerReferences: [
              {
                apiVersion: "apps/v1",
                kind: "Deployment",
                name: owner.metadata.name ?? "",
                uid: owner.metadata.uid ?? "",
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
    },
    spec: {
      replicas: o.replicas,
      minReadySeconds: 0,
      selector: { matchLabels: { app: "web", [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: hash } },
      template: { ...t, metadata: { labels } },
    },
    status: {
      replicas: o.replicas,
      readyReplicas: available,
      availableReplicas: available,
      observedGeneration: o.generation ?? 1,
      ...(o.status ?? {}),
    },
  };
}

export { T0 };
