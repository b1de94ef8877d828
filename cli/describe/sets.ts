// describe daemonset / statefulset, after kubectl 1.33's describeDaemonSet and
// describeStatefulSet (with describeVolumeClaimTemplates).

import { intOrStringText } from "#pkg/api/intstr.js";
import type { DaemonSet, Pod, PodTemplateSpec, StatefulSet } from "#pkg/api/types/index.js";
import { labelsString, rfc1123z } from "../format.js";
import { describePodTemplate } from "./pod.js";
import { formatSelector, podStatusCounts } from "./workloads.js";
import { annotationsMultiline, labelsMultiline, type PrefixWriter } from "./writer.js";

type Selector = Parameters<typeof formatSelector>[0];

export function describeDaemonSet(w: PrefixWriter, ds: DaemonSet, pods: Pod[]): void {
  const m = ds.metadata;
  const st = ds.status;
  // The Namespace line is kubectl 1.33's (1.31/1.32 have none).
  w.write(0, `Name:\t${m.name ?? ""}\n`);
  w.write(0, `Namespace:\t${m.namespace ?? ""}\n`);
  w.write(0, `Selector:\t${formatSelector(ds.spec?.selector as Selector)}\n`);
  w.write(0, `Node-Selector:\t${labelsString(ds.spec?.template?.spec?.nodeSelector)}\n`);
  labelsMultiline(w, 0, "Labels", m.labels);
  annotationsMultiline(w, 0, "Annotations", m.annotations);
  w.write(0, `Desired Number of Nodes Scheduled: ${st?.desiredNumberScheduled ?? 0}\n`);
  w.write(0, `Current Number of Nodes Scheduled: ${st?.currentNumberScheduled ?? 0}\n`);
  w.write(0, `Number of Nodes Scheduled with Up-to-date Pods: ${st?.updatedNumberScheduled ?? 0}\n`);
  w.write(0, `Number of Nodes Scheduled with Available Pods: ${st?.numberAvailable ?? 0}\n`);
  w.write(0, `Number of Nodes Misscheduled: ${st?.numberMisscheduled ?? 0}\n`);
  w.write(0, `Pods Status:\t${podStatusCounts(pods)}\n`);
  describePodTemplate(w, ds.spec?.template as PodTemplateSpec | undefined);
}

export function describeStatefulSet(w: PrefixWriter, sts: StatefulSet, pods: Pod[]): void {
  const m = sts.metadata;
  const spec = sts.spec;
  w.write(0, `Name:\t${m.name ?? ""}\n`);
  w.write(0, `Namespace:\t${m.namespace ?? ""}\n`);
  w.write(0, `CreationTimestamp:\t${rfc1123z(m.creationTimestamp)}\n`);
  w.write(0, `Selector:\t${formatSelector(spec?.selector as Selector)}\n`);
  labelsMultiline(w, 0, "Labels", m.labels);
  annotationsMultiline(w, 0, "Annotations", m.annotations);
  w.write(0, `Replicas:\t${spec?.replicas ?? 1} desired | ${sts.status?.replicas ?? 0} total\n`);
  w.write(0, `Update Strategy:\t${spec?.updateStrategy?.type ?? "RollingUpdate"}\n`);
  const ru = spec?.updateStrategy?.rollingUpdate;
  if (ru?.partition !== undefined) {
    w.write(1, `Partition:\t${ru.partition}\n`);
    if (ru.maxUnavailable !== undefined) w.write(1, `MaxUnavailable:\t${intOrStringText(ru.maxUnavailable)}\n`);
  }
  w.write(0, `Pods Status:\t${podStatusCounts(pods)}\n`);
  describePodTemplate(w, spec?.template as PodTemplateSpec | undefined);
  const templates = spec?.volumeClaimTemplates ?? [];
  if (templates.length === 0) {
    w.write(0, "Volume Claims:\t<none>\n");
    return;
  }
  w.write(0, "Volume Claims:\n");
  for (const t of templates) {
    w.write(1, `Name:\t${t.metadata?.name ?? ""}\n`);
    const cls = t.metadata?.annotations?.["volume.beta.kubernetes.io/storage-class"] ?? t.spec?.storageClassName ?? "";
    w.write(1, `StorageClass:\t${cls}\n`);
    labelsMultiline(w, 1, "Labels", t.metadata?.labels);
    labelsMultiline(w, 1, "Annotations", t.metadata?.annotations);
    const storage = t.spec?.resources?.requests?.storage;
    w.write(1, `Capacity:\t${storage !== undefined ? String(storage) : "<default>"}\n`);
    w.write(1, `Access Modes:\t[${(t.spec?.accessModes ?? []).join(" ")}]\n`);
  }
}
