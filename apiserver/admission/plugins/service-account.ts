// ServiceAccount admission (upstream plugin/pkg/admission/serviceaccount): a new pod runs as a
// ServiceAccount that exists ("default" unless it names one), takes the account's imagePullSecrets
// when it has none, and, unless the pod or the account opts out (automountServiceAccountToken:
// false), gets the kube-api-access-<suffix> projected volume (a bound token the kubelet requests
// and refreshes, the cluster CA from the kube-root-ca.crt ConfigMap, the namespace) mounted
// read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container that does not
// already mount something there.

import { isNotFound } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { SERVICEACCOUNTS } from "#pkg/api/resources.js";
import type { Container, Pod, ServiceAccount, Volume, VolumeMount } from "#pkg/api/types/core.js";
import { generateNameSuffix } from "../../registry/store.js";
import type { AdmissionPlugin } from "../chain.js";
import type { AdmissionContext } from "../context.js";
import { admissionForbidden } from "../errors.js";
import { createdPod } from "./pod-defaults.js";

export const SERVICE_ACCOUNT = "ServiceAccount";

export const DEFAULT_SERVICE_ACCOUNT = "default";
export const DEFAULT_API_TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
/** upstream ServiceAccountVolumeName: the projected volume is named kube-api-access-<5 chars>. */
export const SERVICE_ACCOUNT_VOLUME_NAME = "kube-api-access";
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";
/**
 * upstream WarnOnlyBoundTokenExpirationSeconds: 1 h 7 s, a value no one asks for by hand, so that
 * the API server can recognise tokens of this volume (and extend them when configured to).
 */
export const WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS = 3607;
const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";
/** How often a missing "default" account is looked up again: the ServiceAccount controller makes it moments after its namespace. */
const DEFAULT_ACCOUNT_ATTEMPTS = 10;

/** upstream TokenVolumeSource: the projection every auto-mounted pod gets. */
export function tokenVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { path: "token", expirationSeconds: WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: "ca.crt", path: "ca.crt" }] } },
        {
          downwardAPI: {
            items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
          },
        },
      ],
    },
  };
}

/** upstream shouldAutomount: the pod's setting wins, then the account's, else true. */
function shouldAutomount(sa: ServiceAccount, pod: Pod): boolean {
  return pod.spec?.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
}

/** upstream mountServiceAccountToken. */
function mountServiceAccountToken(pod: Pod, generate: () => string): void {
  const spec = pod.spec;
  if (!spec) return;
  const existing = (spec.volumes ?? []).find((v) => v.name.startsWith(`${SERVICE_ACCOUNT_VOLUME_NAME}-`));
  const volumeName = existing?.name ?? `${SERVICE_ACCOUNT_VOLUME_NAME}-${generate()}`;
  const mount: VolumeMount = { name: volumeName, readOnly: true, mountPath: DEFAULT_API_TOKEN_MOUNT_PATH };
  let needed = false;
  const add = (c: Container) => {
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === DEFAULT_API_TOKEN_MOUNT_PATH)) return;
    c.volumeMounts = [...(c.volumeMounts ?? []), { ...mount }];
    needed = true;
  };
  for (const c of spec.initContainers ?? []) add(c);
  for (const c of spec.containers ?? []) add(c);
  if (!existing && needed) spec.volumes = [...(spec.volumes ?? []), tokenVolume(volumeName)];
}

export interface ServiceAccountAdmissionOptions {
  /** The volume name suffix (tests); default upstream's 5 random characters. */
  generateSuffix?: () => string;
  /** Pause between lookups of a missing "default" account; default 100-200 ms, as upstream. */
  retryMs?: () => number;
}

export function newServiceAccountAdmission(
  ctx: AdmissionContext,
  o: ServiceAccountAdmissionOptions = {},
): AdmissionPlugin {
  const generate = o.generateSuffix ?? generateNameSuffix;
  const retryMs = o.retryMs ?? (() => 100 + Math.floor(Math.random() * 100));

  /**
   * upstream getServiceAccount: the watch cache, then storage; the default account, which the
   * controller creates right after its namespace, is looked up a few times before giving up.
   */
  const lookup = async (namespace: string, name: string): Promise<ServiceAccount> => {
    const cached = ctx.cached(SERVICEACCOUNTS, namespace).find((sa) => sa.metadata.name === name);
    if (cached) return cached as ServiceAccount;
    const attempts = name === DEFAULT_SERVICE_ACCOUNT ? DEFAULT_ACCOUNT_ATTEMPTS : 1;
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, retryMs()));
      try {
        return (await ctx.store(SERVICEACCOUNTS).get(namespace, name)) as KubeObject as ServiceAccount;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        last = err;
      }
    }
    throw last;
  };

  return {
    name: SERVICE_ACCOUNT,
    handles: (op) => op === "CREATE",
    async admit(a) {
      const pod = createdPod(a);
      const spec = pod?.spec;
      if (!pod || !spec) return;
      // Mirror pods are the kubelet's copies of static pods: never changed (kubeling has none yet).
      if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
      if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
      spec.serviceAccount = spec.serviceAccountName;
      let sa: ServiceAccount;
      try {
        sa = await lookup(a.namespace, spec.serviceAccountName);
      } catch (err) {
        // upstream wraps NotFound of the singular resource "serviceaccount".
        const why = isNotFound(err) ? `serviceaccount "${spec.serviceAccountName}" not found` : (err as Error).message;
        throw admissionForbidden(
          a,
          `error looking up service account ${a.namespace}/${spec.serviceAccountName}: ${why}`,
        );
      }
      if (shouldAutomount(sa, pod)) mountServiceAccountToken(pod, generate);
      if (!spec.imagePullSecrets?.length && sa.imagePullSecrets?.length)
        spec.imagePullSecrets = sa.imagePullSecrets.map((s) => ({ ...s }));
    },
    async validate(a) {
      const pod = createdPod(a);
      if (!pod?.spec || pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] === undefined) return;
      if (pod.spec.serviceAccountName) throw admissionForbidden(a, "a mirror pod may not reference service accounts");
      if ((pod.spec.volumes ?? []).some((v) => v.secret || v.projected))
        throw admissionForbidden(a, "a mirror pod may not reference secrets");
    },
  };
}
