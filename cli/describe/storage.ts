// describe persistentvolume / persistentvolumeclaim / storageclass, after kubectl 1.31/1.32's
// describers (staging/src/k8s.io/kubectl/pkg/describe: describePersistentVolume,
// describePersistentVolumeClaim with getPodsForPVC, describeStorageClass).

import { accessModesString, storageString } from "#pkg/api/storage.js";
import type { Pod } from "#pkg/api/types/core.js";
import {
  claimClass,
  isDefaultStorageClass,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type PersistentVolumeSpec,
  type StorageClass,
  volumeClass,
} from "#pkg/api/types/storage.js";
import { labelsString, rfc1123z, since } from "../format.js";
import { annotationsMultiline, labelsMultiline, type PrefixWriter } from "./writer.js";

/** Go's %v of a []string: "[a b]". */
const goList = (xs: readonly string[] | undefined) => `[${(xs ?? []).join(" ")}]`;

/** The Status line: the phase, or how long the object has been Terminating. */
function statusLine(w: PrefixWriter, m: { deletionTimestamp?: string }, phase: string | undefined): void {
  if (m.deletionTimestamp) w.write(0, `Status:\tTerminating (lasts ${since(m.deletionTimestamp)})\n`);
  else w.write(0, `Status:\t${phase ?? ""}\n`);
}

/** printVolumeNodeAffinity with printNodeSelectorTermsMultilineWithIndent. */
function nodeAffinity(w: PrefixWriter, affinity: PersistentVolumeSpec["nodeAffinity"]): void {
  w.write(0, "Node Affinity:\t");
  if (!affinity?.required) {
    w.write(0, "<none>\n");
    return;
  }
  w.write(0, "\n");
  w.write(1, "Required Terms:\t");
  const terms = affinity.required.nodeSelectorTerms ?? [];
  if (terms.length === 0) {
    w.write(0, "<none>\n");
    return;
  }
  w.write(0, "\n");
  terms.forEach((term, i) => {
    w.write(2, `Term ${i}:\t`);
    const reqs = term.matchExpressions ?? [];
    if (reqs.length === 0) {
      w.write(0, "<none>\n");
      return;
    }
    reqs.forEach((req, j) => {
      if (j !== 0) w.write(2, "\t");
      let expr = `${req.key} ${req.operator.toLowerCase()}`;
      if (req.values?.length) expr += ` [${req.values.join(", ")}]`;
      w.write(0, `${expr}\n`);
    });
  });
}

/** The Source section for the sources kubeling serves (others print only their heading). */
function source(w: PrefixWriter, spec: PersistentVolumeSpec): void {
  if (spec.hostPath) {
    const t = spec.hostPath.type ?? "<none>";
    w.write(
      2,
      `Type:\tHostPath (bare host directory volume)\n    Path:\t${spec.hostPath.path}\n    HostPathType:\t${t}\n`,
    );
  } else if (spec.local) {
    w.write(
      2,
      `Type:\tLocalVolume (a persistent volume backed by local storage on a node)\n    Path:\t${spec.local.path}\n`,
    );
  } else if (spec.nfs) {
    w.write(
      2,
      `Type:\tNFS (an NFS mount that lasts the lifetime of a pod)\n    Server:\t${spec.nfs.server}\n    Path:\t${spec.nfs.path}\n    ReadOnly:\t${spec.nfs.readOnly ?? false}\n`,
    );
  } else if (spec.csi) {
    const c = spec.csi;
    w.write(
      2,
      `Type:\tCSI (a Container Storage Interface (CSI) volume source)\n    Driver:\t${c.driver}\n    FSType:\t${c.fsType ?? ""}\n    VolumeHandle:\t${c.volumeHandle}\n    ReadOnly:\t${c.readOnly ?? false}\n`,
    );
    w.write(2, "VolumeAttributes:\t");
    const keys = Object.keys(c.volumeAttributes ?? {}).sort();
    if (keys.length === 0) w.write(0, "<none>\n");
    keys.forEach((k, i) => {
      const line = `${k}=${c.volumeAttributes?.[k] ?? ""}\n`;
      if (i === 0) w.write(0, line);
      else w.write(2, `\t${line}`);
    });
  }
}

export function describePersistentVolume(w: PrefixWriter, pv: PersistentVolume): void {
  const m = pv.metadata;
  const spec = pv.spec ?? {};
  w.write(0, `Name:\t${m.name ?? ""}\n`);
  labelsMultiline(w, 0, "Labels", m.labels);
  annotationsMultiline(w, 0, "Annotations", m.annotations);
  w.write(0, `Finalizers:\t${goList(m.finalizers)}\n`);
  w.write(0, `StorageClass:\t${volumeClass(pv)}\n`);
  if (spec.volumeAttributesClassName !== undefined)
    w.write(0, `VolumeAttributesClass:\t${spec.volumeAttributesClassName}\n`);
  statusLine(w, m, pv.status?.phase);
  w.write(0, `Claim:\t${spec.claimRef ? `${spec.claimRef.namespace ?? ""}/${spec.claimRef.name ?? ""}` : ""}\n`);
  w.write(0, `Reclaim Policy:\t${spec.persistentVolumeReclaimPolicy ?? ""}\n`);
  w.write(0, `Access Modes:\t${accessModesString(spec.accessModes)}\n`);
  if (spec.volumeMode !== undefined) w.write(0, `VolumeMode:\t${spec.volumeMode}\n`);
  w.write(0, `Capacity:\t${storageString(spec.capacity)}\n`);
  nodeAffinity(w, spec.nodeAffinity);
  w.write(0, `Message:\t${pv.status?.message ?? ""}\n`);
  w.write(0, "Source:\n");
  source(w, spec);
}

/** getPodsForPVC: the namespace's pods naming the claim in a persistentVolumeClaim volume. */
export function podsForClaim(pods: readonly Pod[], pvc: PersistentVolumeClaim): Pod[] {
  return pods.filter((p) =>
    (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === pvc.metadata.name),
  );
}

/** Go's zero time.Time in RFC1123Z, what kubectl prints for an unset condition time. */
const conditionTime = (t: string | null | undefined) => (t ? rfc1123z(t) : "Mon, 01 Jan 0001 00:00:00 +0000");

export function describePersistentVolumeClaim(w: PrefixWriter, pvc: PersistentVolumeClaim, pods: readonly Pod[]): void {
  const m = pvc.metadata;
  const spec = pvc.spec ?? {};
  w.write(0, `Name:\t${m.name ?? ""}\n`);
  w.write(0, `Namespace:\t${m.namespace ?? ""}\n`);
  w.write(0, `StorageClass:\t${claimClass(pvc)}\n`);
  if (spec.volumeAttributesClassName !== undefined)
    w.write(0, `VolumeAttributesClass:\t${spec.volumeAttributesClassName}\n`);
  statusLine(w, m, pvc.status?.phase);
  w.write(0, `Volume:\t${spec.volumeName ?? ""}\n`);
  labelsMultiline(w, 0, "Labels", m.labels);
  annotationsMultiline(w, 0, "Annotations", m.annotations);
  w.write(0, `Finalizers:\t${goList(m.finalizers)}\n`);
  const bound = !!spec.volumeName;
  w.write(0, `Capacity:\t${bound ? storageString(pvc.status?.capacity) : ""}\n`);
  w.write(0, `Access Modes:\t${bound ? accessModesString(pvc.status?.accessModes) : ""}\n`);
  if (spec.volumeMode !== undefined) w.write(0, `VolumeMode:\t${spec.volumeMode}\n`);
  if (spec.dataSource) {
    w.write(0, "DataSource:\n");
    if (spec.dataSource.apiGroup !== undefined) w.write(1, `APIGroup:\t${spec.dataSource.apiGroup}\n`);
    w.write(1, `Kind:\t${spec.dataSource.kind}\n`);
    w.write(1, `Name:\t${spec.dataSource.name}\n`);
  }
  w.write(0, "Used By:\t");
  const names = pods.map((p) => p.metadata.name ?? "").sort();
  if (names.length === 0) w.write(0, "<none>\n");
  names.forEach((n, i) => {
    w.write(0, i === 0 ? `${n}\n` : `\t${n}\n`);
  });
  const conditions = pvc.status?.conditions ?? [];
  if (conditions.length > 0) {
    w.write(0, "Conditions:\n");
    w.write(1, "Type\tStatus\tLastProbeTime\tLastTransitionTime\tReason\tMessage\n");
    w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n");
    for (const c of conditions)
      w.write(
        1,
        `${c.type} \t${c.status} \t${conditionTime(c.lastProbeTime)} \t${conditionTime(c.lastTransitionTime)} \t${c.reason ?? ""} \t${c.message ?? ""}\n`,
      );
  }
}

/** printBoolPtr. */
const boolPtr = (b: boolean | undefined) => (b === undefined ? "<unset>" : b ? "True" : "False");

export function describeStorageClass(w: PrefixWriter, sc: StorageClass): void {
  w.write(0, `Name:\t${sc.metadata.name ?? ""}\n`);
  w.write(0, `IsDefaultClass:\t${isDefaultStorageClass(sc) ? "Yes" : "No"}\n`);
  // kubectl prints the annotations as one labels.FormatLabels line, last-applied included.
  w.write(0, `Annotations:\t${labelsString(sc.metadata.annotations)}\n`);
  w.write(0, `Provisioner:\t${sc.provisioner ?? ""}\n`);
  w.write(0, `Parameters:\t${labelsString(sc.parameters)}\n`);
  w.write(0, `AllowVolumeExpansion:\t${boolPtr(sc.allowVolumeExpansion)}\n`);
  if (!sc.mountOptions?.length) w.write(0, "MountOptions:\t<none>\n");
  else {
    w.write(0, "MountOptions:\n");
    for (const o of sc.mountOptions) w.write(1, `${o}\n`);
  }
  if (sc.reclaimPolicy !== undefined) w.write(0, `ReclaimPolicy:\t${sc.reclaimPolicy}\n`);
  if (sc.volumeBindingMode !== undefined) w.write(0, `VolumeBindingMode:\t${sc.volumeBindingMode}\n`);
  if (sc.allowedTopologies !== undefined) {
    w.write(0, "AllowedTopologies:\t");
    if (sc.allowedTopologies.length === 0) w.write(0, "<none>\n");
    else {
      w.write(0, "\n");
      sc.allowedTopologies.forEach((term, i) => {
        w.write(1, `Term ${i}:\t`);
        const reqs = term.matchLabelExpressions ?? [];
        if (reqs.length === 0) w.write(0, "<none>\n");
        reqs.forEach((req, j) => {
          if (j !== 0) w.write(1, "\t");
          w.write(0, `${req.key} in${req.values?.length ? ` [${req.values.join(", ")}]` : ""}\n`);
        });
      });
    }
  }
}
