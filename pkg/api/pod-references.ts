// The objects a pod uses by name (upstream pkg/api/v1/pod VisitPodSecretNames /
// VisitPodConfigmapNames and the Node authorizer's graph): Secrets, ConfigMaps and
// PersistentVolumeClaims from volumes, projections, env, envFrom and imagePullSecrets.

import type { Pod } from "./types/index.js";

function containersOf(pod: Pod) {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

export function podSecretNames(pod: Pod): Set<string> {
  const out = new Set<string>();
  const add = (n: string | undefined) => n && out.add(n);
  for (const s of pod.spec?.imagePullSecrets ?? []) add(s.name);
  for (const v of pod.spec?.volumes ?? []) {
    add(v.secret?.secretName);
    add(v.csi?.nodePublishSecretRef?.name);
    for (const s of v.projected?.sources ?? []) add(s.secret?.name);
  }
  for (const c of containersOf(pod)) {
    for (const ef of c.envFrom ?? []) add(ef.secretRef?.name);
    for (const e of c.env ?? []) add(e.valueFrom?.secretKeyRef?.name);
  }
  return out;
}

export function podConfigMapNames(pod: Pod): Set<string> {
  const out = new Set<string>();
  const add = (n: string | undefined) => n && out.add(n);
  for (const v of pod.spec?.volumes ?? []) {
    add(v.configMap?.name);
    for (const s of v.projected?.sources ?? []) add(s.configMap?.name);
  }
  for (const c of containersOf(pod)) {
    for (const ef of c.envFrom ?? []) add(ef.configMapRef?.name);
    for (const e of c.env ?? []) add(e.valueFrom?.configMapKeyRef?.name);
  }
  return out;
}

export function podClaimNames(pod: Pod): Set<string> {
  const out = new Set<string>();
  for (const v of pod.spec?.volumes ?? [])
    if (v.persistentVolumeClaim?.claimName) out.add(v.persistentVolumeClaim.claimName);
  return out;
}

/** The pod's ServiceAccount (spec.serviceAccountName, its deprecated alias, else "default"). */
export function podServiceAccountName(pod: Pod): string {
  return pod.spec?.serviceAccountName || pod.spec?.serviceAccount || "default";
}
