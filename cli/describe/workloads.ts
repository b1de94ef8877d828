// describe deployment / replicaset, after kubectl's DeploymentDescriber and
// ReplicaSetDescriber.

import type { Deployment, Pod, PodTemplateSpec, ReplicaSet, ReplicationController } from "#pkg/api/types/index.js";
import { labelsString, rfc1123z } from "../format.js";
import { describePodTemplate } from "./pod.js";
import { annotationsMultiline, labelsMultiline, type PrefixWriter } from "./writer.js";

type LabelSelector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
};

/** metav1.FormatLabelSelector: "app=web,tier in (a,b)". */
export function formatSelector(sel: LabelSelector | undefined): string {
  if (!sel) return "<none>";
  const parts: string[] = [];
  for (const k of Object.keys(sel.matchLabels ?? {}).sort()) parts.push(`${k}=${sel.matchLabels?.[k]}`);
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === "exists") parts.push(e.key);
    else if (op === "doesnotexist") parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${op === "notin" ? "notin" : "in"} (${(e.values ?? []).join(",")})`);
  }
  return parts.length > 0 ? parts.join(",") : "<none>";
}

/** The template without the pod-template-hash label, for comparing RS and deployment templates. */
function normalizedTemplate(t: PodTemplateSpec | undefined): unknown {
  if (!t) return undefined;
  const copy = structuredClone(t) as PodTemplateSpec;
  if (copy.metadata?.labels) delete copy.metadata.labels["pod-template-hash"];
  if (copy.metadata) delete (copy.metadata as { creationTimestamp?: unknown }).creationTimestamp;
  return JSON.parse(JSON.stringify(copy, Object.keys(flatKeys(copy)).sort()));
}

function flatKeys(v: unknown, into: Record<string, true> = {}): Record<string, true> {
  if (Array.isArray(v)) for (const x of v) flatKeys(x, into);
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      into[k] = true;
      flatKeys(x, into);
    }
  }
  return into;
}

/** Is the RS's template the deployment's template (ignoring pod-template-hash)? */
function sameTemplate(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return JSON.stringify(normalizedTemplate(a)) === JSON.stringify(normalizedTemplate(b));
}

function rsSummary(rs: ReplicaSet): string {
  return `${rs.metadata.name} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 0} replicas created)`;
}

export function describeDeployment(w: PrefixWriter, d: Deployment, replicaSets: ReplicaSet[]): void {
  const m = d.metadata;
  const spec = d.spec;
  const st = d.status;
  w.write(0, `Name:\t${m.name ?? ""}\n`);
  w.write(0, `Namespace:\t${m.namespace ?? ""}\n`);
  w.write(0, `CreationTimestamp:\t${rfc1123z(m.creationTimestamp)}\n`);
  labelsMultiline(w, 0, "Labels", m.labels);
  annotationsMultiline(w, 0, "Annotations", m.annotations);
  w.write(0, `Selector:\t${formatSelector(spec?.selector as LabelSelector | undefined)}\n`);
  w.write(
    0,
    `Replicas:\t${spec?.replicas ?? 1} desired | ${st?.updatedReplicas ?? 0} updated | ${st?.replicas ?? 0} total | ${st?.availableReplicas ?? 0} available | ${st?.unavailableReplicas ?? 0} unavailable\n`,
  );
  const strategy = spec?.strategy?.type ?? "RollingUpdate";
  w.write(0, `StrategyType:\t${strategy}\n`);
  w.write(0, `MinReadySeconds:\t${spec?.minReadySeconds ?? 0}\n`);
  if (strategy === "RollingUpdate") {
    const ru = spec?.strategy?.rollingUpdate;
    w.write(
      0,
      `RollingUpdateStrategy:\t${String(ru?.maxUnavailable ?? "25%")} max unavailable, ${String(ru?.maxSurge ?? "25%")} max surge\n`,
    );
  }
  describePodTemplate(w, spec?.template as PodTemplateSpec | undefined);
  const conditions = st?.conditions ?? [];
  if (conditions.length > 0) {
    w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
    w.write(1, "----\t------\t------\n");
    for (const c of conditions) w.write(1, `${c.type} \t${c.status}\t${c.reason ?? ""}\n`);
  }
  const owned = replicaSets.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.controller && o.uid === m.uid));
  const newest = owned
    .filter((rs) =>
      sameTemplate(rs.spec?.template as PodTemplateSpec | undefined, spec?.template as PodTemplateSpec | undefined),
    )
    .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""))[0];
  // deploymentutil.FindOldReplicaSets: the old ones still asked for pods.
  const old = owned.filter((rs) => rs !== newest && (rs.spec?.replicas ?? 1) !== 0);
  w.write(0, `OldReplicaSets:\t${old.length > 0 ? old.map(rsSummary).join(", ") : "<none>"}\n`);
  w.write(0, `NewReplicaSet:\t${newest ? rsSummary(newest) : "<none>"}\n`);
}

export function podStatusCounts(pods: Pod[]): string {
  const count = (phase: string) => pods.filter((p) => p.status?.phase === phase).length;
  return `${count("Running")} Running / ${count("Pending")} Waiting / ${count("Succeeded")} Succeeded / ${count("Failed")} Failed`;
}

/** What describe reads of a ReplicaSet or a ReplicationController. */
interface ReplicaSetLike {
  metadata: ReplicaSet["metadata"];
  spec?: { replicas?: number; template?: PodTemplateSpec };
  status?: { replicas?: number; conditions?: Array<{ type: string; status: string; reason?: string }> };
}

/** kubectl's describeReplicaSet and describeReplicationController: the same report but for the selector and owner. */
function describeReplicaSetLike(
  w: PrefixWriter,
  rs: ReplicaSetLike,
  pods: Pod[],
  o: { selector: string; showController: boolean },
): void {
  const m = rs.metadata;
  w.write(0, `Name:\t${m.name ?? ""}\n`);
  w.write(0, `Namespace:\t${m.namespace ?? ""}\n`);
  w.write(0, `Selector:\t${o.selector}\n`);
  labelsMultiline(w, 0, "Labels", m.labels);
  annotationsMultiline(w, 0, "Annotations", m.annotations);
  const controller = m.ownerReferences?.find((r) => r.controller);
  if (o.showController && controller) w.write(0, `Controlled By:\t${controller.kind}/${controller.name}\n`);
  w.write(0, `Replicas:\t${rs.status?.replicas ?? 0} current / ${rs.spec?.replicas ?? 1} desired\n`);
  w.write(0, `Pods Status:\t${podStatusCounts(pods)}\n`);
  describePodTemplate(w, rs.spec?.template);
  const conditions = rs.status?.conditions ?? [];
  if (conditions.length > 0) {
    w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
    w.write(1, "----\t------\t------\n");
    for (const c of conditions) w.write(1, `${c.type} \t${c.status}\t${c.reason ?? ""}\n`);
  }
}

export function describeReplicaSet(w: PrefixWriter, rs: ReplicaSet, pods: Pod[]): void {
  describeReplicaSetLike(w, rs as ReplicaSetLike, pods, {
    selector: formatSelector(rs.spec?.selector as LabelSelector | undefined),
    showController: true,
  });
}

export function describeReplicationController(w: PrefixWriter, rc: ReplicationController, pods: Pod[]): void {
  describeReplicaSetLike(w, rc as ReplicaSetLike, pods, {
    selector: labelsString(rc.spec?.selector),
    showController: false,
  });
}

export { labelsString };
