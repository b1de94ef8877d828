// Upstream defaulting for pod specs (k8s.io/kubernetes/pkg/apis/core/v1/defaults.go) and the
// helpers that go with it (image pull policy, QoS class). Shared: the API server applies them
// to pods and pod templates; the kubelet may use them for pods it reads from files.

import { cpuMillis, isValidQuantity, parseQuantityExact } from "./quantity.js";
import {
  type Container,
  type PodSpec,
  type PodTemplateSpec,
  type Probe,
  VOLUME_SOURCE_FIELDS,
  type Volume,
} from "./types/core.js";

export const DEFAULT_SCHEDULER_NAME = "default-scheduler";
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
export const DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";
export const DEFAULT_FILE_MODE = 0o644; // 420

export type PullPolicy = "Always" | "IfNotPresent" | "Never";
export const PULL_POLICIES: readonly PullPolicy[] = ["Always", "IfNotPresent", "Never"];

/** Always for ":latest" or no tag, else IfNotPresent; digests count as tags. */
export function defaultImagePullPolicy(image: string | undefined): PullPolicy {
  if (!image) return "IfNotPresent";
  if (image.includes("@")) return "IfNotPresent";
  const lastSlash = image.lastIndexOf("/");
  const lastPart = image.slice(lastSlash + 1);
  const colon = lastPart.lastIndexOf(":");
  if (colon < 0) return "Always";
  return lastPart.slice(colon + 1) === "latest" ? "Always" : "IfNotPresent";
}

function defaultProbe(p: Probe | undefined): void {
  if (!p) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet) {
    p.httpGet.path ??= "/";
    p.httpGet.scheme ??= "HTTP";
  }
}

export function defaultContainer(c: Container, hostNetwork: boolean): void {
  c.terminationMessagePath ??= DEFAULT_TERMINATION_MESSAGE_PATH;
  c.terminationMessagePolicy ??= "File";
  c.imagePullPolicy ??= defaultImagePullPolicy(c.image);
  for (const port of c.ports ?? []) {
    port.protocol ??= "TCP";
    // With the host's network, the container port is the host port.
    if (hostNetwork && port.hostPort === undefined) port.hostPort = port.containerPort;
  }
  // Limits given without requests: requests default to the limits.
  if (c.resources?.limits) {
    c.resources.requests ??= {};
    for (const [name, q] of Object.entries(c.resources.limits)) {
      if (c.resources.requests[name] === undefined) c.resources.requests[name] = q;
    }
  }
  for (const env of c.env ?? []) {
    if (env.valueFrom?.fieldRef) env.valueFrom.fieldRef.apiVersion ??= "v1";
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

export function defaultVolume(v: Volume): void {
  if (v.configMap) v.configMap.defaultMode ??= DEFAULT_FILE_MODE;
  if (v.secret) v.secret.defaultMode ??= DEFAULT_FILE_MODE;
  if (v.projected) v.projected.defaultMode ??= DEFAULT_FILE_MODE;
  if (v.downwardAPI) {
    v.downwardAPI.defaultMode ??= DEFAULT_FILE_MODE;
    for (const item of v.downwardAPI.items ?? []) if (item.fieldRef) item.fieldRef.apiVersion ??= "v1";
  }
  if (v.hostPath) v.hostPath.type ??= "";
  // Upstream defaults a volume with no source to an emptyDir.
  if (!VOLUME_SOURCE_FIELDS.some((s) => (v as Record<string, unknown>)[s] !== undefined)) v.emptyDir = {};
}

/** SetDefaults for a pod spec (pods and every pod template). Mutates spec. */
export function defaultPodSpec(spec: PodSpec): void {
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.terminationGracePeriodSeconds ??= DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  spec.securityContext ??= {};
  spec.schedulerName ??= DEFAULT_SCHEDULER_NAME;
  spec.enableServiceLinks ??= true;
  if (spec.serviceAccountName === undefined && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  const hostNetwork = spec.hostNetwork === true;
  if (!Array.isArray(spec.containers)) return; // validation reports it
  for (const c of spec.containers) if (c && typeof c === "object") defaultContainer(c, hostNetwork);
  for (const c of spec.initContainers ?? []) if (c && typeof c === "object") defaultContainer(c, hostNetwork);
  // Ephemeral containers get a Container's defaults too (upstream SetObjectDefaults_Pod).
  for (const c of spec.ephemeralContainers ?? []) if (c && typeof c === "object") defaultContainer(c, hostNetwork);
  for (const v of spec.volumes ?? []) if (v && typeof v === "object") defaultVolume(v);
}

export function defaultPodTemplate(t: PodTemplateSpec | undefined): void {
  if (t?.spec) defaultPodSpec(t.spec);
}

/**
 * QoS class as upstream (pkg/apis/core/helper/qos): Guaranteed when every container has cpu
 * and memory limits equal to requests, BestEffort when nobody asks for anything, else Burstable.
 */
export function podQOSClass(spec: PodSpec | undefined): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  const requests = new Map<string, bigint>();
  const limits = new Map<string, bigint>();
  let isGuaranteed = true;
  const supported = new Set(["cpu", "memory"]);
  const value = (q: string | number): bigint => (isValidQuantity(q) ? parseQuantityExact(q).nanos : 0n);
  for (const c of containers) {
    const cReq = c.resources?.requests ?? {};
    const cLim = c.resources?.limits ?? {};
    for (const [name, q] of Object.entries(cReq)) {
      if (!supported.has(name)) continue;
      const v = value(q);
      if (v !== 0n) requests.set(name, (requests.get(name) ?? 0n) + v);
    }
    const limitNames = new Set<string>();
    for (const [name, q] of Object.entries(cLim)) {
      if (!supported.has(name)) continue;
      const v = value(q);
      if (v !== 0n) {
        limitNames.add(name);
        limits.set(name, (limits.get(name) ?? 0n) + v);
      }
    }
    if (!(limitNames.has("cpu") && limitNames.has("memory"))) isGuaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return "BestEffort";
  if (isGuaranteed) {
    for (const [name, v] of requests) {
      if (limits.get(name) !== v) {
        isGuaranteed = false;
        break;
      }
    }
  }
  return isGuaranteed && limits.size === requests.size ? "Guaranteed" : "Burstable";
}

/** Sum of container cpu requests in millicores (scheduler/kubelet helper). */
export function podCpuRequestMillis(spec: PodSpec | undefined): number {
  let total = 0;
  for (const c of spec?.containers ?? []) {
    const q = c.resources?.requests?.cpu;
    if (q !== undefined && isValidQuantity(q)) total += cpuMillis(q);
  }
  return total;
}
