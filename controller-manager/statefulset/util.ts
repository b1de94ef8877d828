// The StatefulSet controller's pure parts (upstream pkg/controller/statefulset/stateful_set_utils.go):
// a pod's identity (name <set>-<ordinal>, the pod-name and pod-index labels, hostname and
// subdomain) and storage (one claim per volumeClaimTemplate, <template>-<set>-<ordinal>), the
// pod made for an ordinal at a revision, and the claims' owner references that carry
// persistentVolumeClaimRetentionPolicy.

import type { OwnerReference } from "#pkg/api/meta.js";
import type { ControllerRevision, StatefulSet } from "#pkg/api/types/apps.js";
import type { Pod, PodTemplateSpec, Volume } from "#pkg/api/types/core.js";
import type { PersistentVolumeClaim } from "#pkg/api/types/storage.js";
import { newControllerRef } from "#pkg/controller/owners.js";
import { isPodReady } from "#pkg/controller/pod-util.js";
import { CONTROLLER_REVISION_HASH_LABEL } from "../history/history.js";

/** Upstream apps.StatefulSetPodNameLabel and apps.PodIndexLabel. */
export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

const ORDINAL_RE = /^(.*)-([0-9]+)$/;

/** getParentNameAndOrdinal: "web-2" → { parent: "web", ordinal: 2 }; ordinal -1 when the name has none. */
export function parentAndOrdinal(pod: Pick<Pod, "metadata">): { parent: string; ordinal: number } {
  const m = ORDINAL_RE.exec(pod.metadata.name ?? "");
  if (!m) return { parent: "", ordinal: -1 };
  return { parent: m[1] ?? "", ordinal: Number(m[2]) };
}

export const ordinalOf = (pod: Pick<Pod, "metadata">): number => parentAndOrdinal(pod).ordinal;

export const startOrdinal = (set: StatefulSet): number => set.spec?.ordinals?.start ?? 0;
export const replicasOf = (set: StatefulSet): number => set.spec?.replicas ?? 1;

/** podInOrdinalRange: start <= ordinal < start + replicas. */
export function inOrdinalRange(pod: Pick<Pod, "metadata">, set: StatefulSet): boolean {
  const o = ordinalOf(pod);
  return o >= startOrdinal(set) && o < startOrdinal(set) + replicasOf(set);
}

/** isMemberOf: the pod's name says it is one of this set's. */
export function isMemberOf(set: StatefulSet, pod: Pick<Pod, "metadata">): boolean {
  return parentAndOrdinal(pod).parent === set.metadata.name;
}

export const podName = (set: StatefulSet, ordinal: number): string => `${set.metadata.name}-${ordinal}`;

/** getPersistentVolumeClaimName: <template>-<set>-<ordinal>. */
export const claimName = (set: StatefulSet, template: string, ordinal: number): string =>
  `${template}-${set.metadata.name}-${ordinal}`;

export const revisionOfPod = (pod: Pod): string | undefined => pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];

export const isTerminating = (p: Pod): boolean => p.metadata.deletionTimestamp !== undefined;
export const isFailed = (p: Pod): boolean => p.status?.phase === "Failed";
export const isSucceeded = (p: Pod): boolean => p.status?.phase === "Succeeded";
export const isPending = (p: Pod): boolean => (p.status?.phase ?? "Pending") === "Pending";
export const isRunningAndReady = (p: Pod): boolean => p.status?.phase === "Running" && isPodReady(p);

/** isRunningAndAvailable: Running and Ready for minReadySeconds. */
export function isRunningAndAvailable(p: Pod, minReadySeconds: number, now: number): boolean {
  if (!isRunningAndReady(p)) return false;
  if (minReadySeconds <= 0) return true;
  const since = p.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime;
  return since !== undefined && Date.parse(since) + minReadySeconds * 1000 <= now;
}

/** isHealthy: running, ready and not being deleted. */
export const isHealthy = (p: Pod): boolean => isRunningAndReady(p) && !isTerminating(p);

/** identityMatches: name, namespace and pod-name label are the ordinal's. */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod);
  return (
    ordinal >= 0 &&
    parent === set.metadata.name &&
    pod.metadata.name === podName(set, ordinal) &&
    pod.metadata.namespace === set.metadata.namespace &&
    pod.metadata.labels?.[POD_NAME_LABEL] === pod.metadata.name
  );
}

/** storageMatches: every claim template is mounted from the ordinal's claim. */
export function storageMatches(set: StatefulSet, pod: Pod): boolean {
  const ordinal = ordinalOf(pod);
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  return (set.spec?.volumeClaimTemplates ?? []).every((t) => {
    const name = t.metadata?.name ?? "";
    return volumes.get(name)?.persistentVolumeClaim?.claimName === claimName(set, name, ordinal);
  });
}

/** updateIdentity: the pod's name, labels, hostname and subdomain for its ordinal. */
export function updateIdentity(set: StatefulSet, pod: Pod, ordinal: number): void {
  const name = podName(set, ordinal);
  pod.metadata.name = name;
  pod.metadata.namespace = set.metadata.namespace;
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) };
  pod.spec ??= { containers: [] };
  pod.spec.hostname = name;
  if (set.spec?.serviceName) pod.spec.subdomain = set.spec.serviceName;
  else delete pod.spec.subdomain;
}

/** updateStorage: each claim template's volume (replacing a template volume of that name) from its claim. */
export function updateStorage(set: StatefulSet, pod: Pod, ordinal: number): void {
  const templates = set.spec?.volumeClaimTemplates ?? [];
  if (templates.length === 0) return;
  pod.spec ??= { containers: [] };
  const names = new Set(templates.map((t) => t.metadata?.name ?? ""));
  const claims: Volume[] = templates.map((t) => {
    const name = t.metadata?.name ?? "";
    return { name, persistentVolumeClaim: { claimName: claimName(set, name, ordinal) } };
  });
  pod.spec.volumes = [...claims, ...(pod.spec.volumes ?? []).filter((v) => !names.has(v.name))];
}

/** The set's pod template as a revision holds it (ApplyRevision: the patch replaces spec.template). */
export function templateOfRevision(revision: ControllerRevision): PodTemplateSpec {
  const data = revision.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const { $patch: _, ...template } = structuredClone(data?.spec?.template ?? {});
  const t = template as PodTemplateSpec;
  if (t.metadata && (t.metadata as { creationTimestamp?: unknown }).creationTimestamp === null)
    delete (t.metadata as { creationTimestamp?: unknown }).creationTimestamp;
  return t;
}

/** newStatefulSetPod: the pod of `ordinal` from `template`, owned by the set, at `revision`. */
export function newStatefulSetPod(set: StatefulSet, template: PodTemplateSpec, ordinal: number, revision: string): Pod {
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...(template.metadata?.labels ? { labels: { ...template.metadata.labels } } : {}),
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ...(template.metadata?.finalizers ? { finalizers: [...template.metadata.finalizers] } : {}),
      ownerReferences: [newControllerRef(set)],
    },
    spec: structuredClone(template.spec) ?? { containers: [] },
  };
  updateIdentity(set, pod, ordinal);
  updateStorage(set, pod, ordinal);
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: revision };
  return pod;
}

/** getPersistentVolumeClaims: the claim each template asks for the ordinal, labelled with the set's selector. */
export function claimsFor(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  const matchLabels = set.spec?.selector?.matchLabels ?? {};
  return (set.spec?.volumeClaimTemplates ?? []).map((t) => {
    const name = claimName(set, t.metadata?.name ?? "", ordinal);
    const claim: PersistentVolumeClaim = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: {
        name,
        namespace: set.metadata.namespace,
        labels: { ...(t.metadata?.labels ?? {}), ...matchLabels },
        ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      },
      spec: structuredClone(t.spec ?? {}) as PersistentVolumeClaim["spec"],
    };
    return claim;
  });
}

/** A plain (non-controller) owner reference, as the retention policy sets on claims. */
function ownerRef(owner: { apiVersion: string; kind: string; name: string; uid: string }): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid };
}

/**
 * The owner references a claim should carry under persistentVolumeClaimRetentionPolicy
 * (upstream updateClaimOwnerRefForSetAndPod): the set's when whenDeleted is Delete (unless the
 * pod is scaled away under whenScaled Delete), the pod's when whenScaled is Delete and the pod
 * is outside the ordinal range. Other owners are kept.
 */
export function retentionOwnerRefs(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): OwnerReference[] {
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy;
  const whenDeleted = policy?.whenDeleted ?? "Retain";
  const whenScaled = policy?.whenScaled ?? "Retain";
  const scaledDown = !inOrdinalRange(pod, set);
  const setOwns = whenDeleted === "Delete" && !(whenScaled === "Delete" && scaledDown);
  const podOwns = whenScaled === "Delete" && scaledDown;
  const others = (claim.metadata.ownerReferences ?? []).filter(
    (r) => r.uid !== set.metadata.uid && r.uid !== pod.metadata.uid,
  );
  const refs = [...others];
  if (setOwns)
    refs.push(
      ownerRef({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        name: set.metadata.name ?? "",
        uid: set.metadata.uid ?? "",
      }),
    );
  if (podOwns && pod.metadata.uid)
    refs.push(ownerRef({ apiVersion: "v1", kind: "Pod", name: pod.metadata.name ?? "", uid: pod.metadata.uid }));
  return refs;
}

/** The claim's owner references already say what the retention policy wants. */
export function retentionMatches(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  const want = retentionOwnerRefs(claim, set, pod)
    .map((r) => r.uid)
    .sort();
  const have = (claim.metadata.ownerReferences ?? []).map((r) => r.uid).sort();
  return JSON.stringify(want) === JSON.stringify(have);
}
