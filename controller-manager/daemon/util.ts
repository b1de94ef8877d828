// The DaemonSet controller's pure parts (upstream pkg/controller/daemon/util/daemonset_util.go and
// daemon_controller.go's NodeShouldRunDaemonPod): the tolerations every daemon pod gets, the pod
// made for a node (node affinity on metadata.name, so the scheduler places it), whether a node
// should run (or may keep running) a daemon pod, and the rolling update's budgets.

import { scaledValueFromIntOrPercent } from "#pkg/api/intstr.js";
import { podMatchesNode } from "#pkg/api/nodeaffinity.js";
import {
  TAINT_NODE_DISK_PRESSURE,
  TAINT_NODE_MEMORY_PRESSURE,
  TAINT_NODE_NETWORK_UNAVAILABLE,
  TAINT_NODE_NOT_READY,
  TAINT_NODE_PID_PRESSURE,
  TAINT_NODE_UNREACHABLE,
  TAINT_NODE_UNSCHEDULABLE,
  toleratesTaint,
} from "#pkg/api/taints.js";
import type { DaemonSet } from "#pkg/api/types/apps.js";
import type { Affinity, Node, NodeSelectorRequirement, Pod, PodSpec, Toleration } from "#pkg/api/types/core.js";
import { CONTROLLER_REVISION_HASH_LABEL } from "../history/history.js";

/** Upstream extensions.DaemonSetTemplateGenerationKey: the pods' copy of the template generation. */
export const POD_TEMPLATE_GENERATION_LABEL = "pod-template-generation";
/** The annotation the API server keeps the template generation in (apps/v1's spec.templateGeneration). */
export const TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation";
const NAME_FIELD = "metadata.name";

/** The tolerations upstream's AddOrUpdateDaemonPodTolerations adds (network-unavailable only with hostNetwork). */
export function daemonPodTolerations(hostNetwork: boolean): Toleration[] {
  const t = (key: string, effect: string): Toleration => ({ key, operator: "Exists", effect });
  return [
    t(TAINT_NODE_NOT_READY, "NoExecute"),
    t(TAINT_NODE_UNREACHABLE, "NoExecute"),
    t(TAINT_NODE_DISK_PRESSURE, "NoSchedule"),
    t(TAINT_NODE_MEMORY_PRESSURE, "NoSchedule"),
    t(TAINT_NODE_PID_PRESSURE, "NoSchedule"),
    t(TAINT_NODE_UNSCHEDULABLE, "NoSchedule"),
    ...(hostNetwork ? [t(TAINT_NODE_NETWORK_UNAVAILABLE, "NoSchedule")] : []),
  ];
}

/** addOrUpdateTolerations: each toleration replaces one with the same key, operator and effect, or is added. */
export function withDaemonTolerations(spec: PodSpec): PodSpec {
  const tolerations = [...(spec.tolerations ?? [])];
  for (const add of daemonPodTolerations(spec.hostNetwork === true)) {
    const i = tolerations.findIndex(
      (t) => t.key === add.key && (t.operator ?? "Equal") === add.operator && (t.effect ?? "") === add.effect,
    );
    if (i >= 0) tolerations[i] = add;
    else tolerations.push(add);
  }
  return { ...spec, tolerations };
}

/** The template generation the API server recorded, undefined when absent or malformed. */
export function templateGeneration(ds: DaemonSet): number | undefined {
  const raw = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/**
 * replaceNodeNameAffinity (upstream ReplaceDaemonSetPodNodeNameNodeAffinity): the pod's required
 * node affinity pinned to nodeName by a metadata.name matchFields requirement in every term.
 */
export function replaceNodeNameAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  const req: NodeSelectorRequirement = { key: NAME_FIELD, operator: "In", values: [nodeName] };
  const next: Affinity = structuredClone(affinity ?? {});
  next.nodeAffinity ??= {};
  const required = next.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required || required.nodeSelectorTerms.length === 0) {
    next.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [{ matchFields: [req] }] };
    return next;
  }
  required.nodeSelectorTerms = required.nodeSelectorTerms.map((t) => ({ ...t, matchFields: [req] }));
  return next;
}

/** The node a daemon pod is for: its nodeName, else the single metadata.name of its affinity (GetTargetNodeName). */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  for (const term of terms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === NAME_FIELD && f.operator === "In" && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

/** The pod a DaemonSet would run on nodeName (upstream NewPod), for the scheduling predicates. */
function podForNode(ds: DaemonSet, nodeName: string): Pod {
  const t = ds.spec?.template;
  const spec = withDaemonTolerations({ ...(structuredClone(t?.spec) ?? { containers: [] }), nodeName });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...(structuredClone(t?.metadata) ?? {}), namespace: ds.metadata.namespace },
    spec,
  };
}

function untoleratedTaint(node: Node, tolerations: readonly Toleration[], effects: readonly string[]): boolean {
  return (node.spec?.taints ?? []).some(
    (taint) => effects.includes(taint.effect) && !tolerations.some((t) => toleratesTaint(t, taint)),
  );
}

/**
 * nodeShouldRunDaemonPod: shouldRun (a daemon pod should be created there) and
 * shouldContinueRunning (one there may stay: its only untolerated taints are NoSchedule).
 */
export function nodeShouldRunDaemonPod(
  node: Node,
  ds: DaemonSet,
): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const name = node.metadata.name ?? "";
  const wanted = ds.spec?.template?.spec?.nodeName;
  if (wanted && wanted !== name) return { shouldRun: false, shouldContinueRunning: false };
  const pod = podForNode(ds, name);
  if (!podMatchesNode(pod, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = pod.spec?.tolerations ?? [];
  if (untoleratedTaint(node, tolerations, ["NoSchedule", "NoExecute"])) {
    return { shouldRun: false, shouldContinueRunning: !untoleratedTaint(node, tolerations, ["NoExecute"]) };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** IsPodUpdated: the pod carries the current revision's hash, or the current template generation. */
export function isPodUpdated(pod: Pod, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  const byGeneration = generation !== undefined && labels[POD_TEMPLATE_GENERATION_LABEL] === String(generation);
  return (hash !== "" && labels[CONTROLLER_REVISION_HASH_LABEL] === hash) || byGeneration;
}

/** podByCreationTimestampAndPhase: scheduled pods first, then oldest, then by name. */
export function compareByCreation(a: Pod, b: Pod): number {
  const sa = a.spec?.nodeName ? 0 : 1;
  const sb = b.spec?.nodeName ? 0 : 1;
  if (sa !== sb) return sa - sb;
  const ta = a.metadata.creationTimestamp ?? "";
  const tb = b.metadata.creationTimestamp ?? "";
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");
}

/** AllowsSurge: a RollingUpdate with a non-zero maxSurge. */
export function allowsSurge(ds: DaemonSet): boolean {
  const s = ds.spec?.updateStrategy;
  if ((s?.type ?? "RollingUpdate") !== "RollingUpdate") return false;
  return scaledValueFromIntOrPercent(s?.rollingUpdate?.maxSurge ?? 0, 1, true) > 0;
}

/**
 * The rolling update's budgets for `desired` nodes (upstream updatedDesiredNodeCounts'
 * UnavailableCount and SurgeCount, percentages rounded up); never both 0 with nodes to update.
 */
export function rollingBudgets(ds: DaemonSet, desired: number): { maxUnavailable: number; maxSurge: number } {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  const rolling = (ds.spec?.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate";
  let maxUnavailable = rolling ? scaledValueFromIntOrPercent(ru?.maxUnavailable ?? 1, desired, true) : 0;
  const maxSurge = rolling ? scaledValueFromIntOrPercent(ru?.maxSurge ?? 0, desired, true) : 0;
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
  return { maxUnavailable, maxSurge };
}
