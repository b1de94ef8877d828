// The admission plugins kubeling has, in upstream's order (kubeapiserver/options/plugins.go
// AllOrderedPlugins, restricted to the ones implemented here), which of them are on by default,
// and --enable-admission-plugins / --disable-admission-plugins as upstream resolves them: the
// defaults plus the enabled minus the disabled, run in the fixed order whatever the flags' order.

import type { AdmissionPlugin } from "./chain.js";
import { AdmissionChain } from "./chain.js";
import type { AdmissionContext } from "./context.js";
import { LIMIT_RANGER, newLimitRanger } from "./limitranger/admission.js";
import { NODE_RESTRICTION, newNodeRestriction } from "./noderestriction/admission.js";
import { ALWAYS_ADMIT, ALWAYS_DENY, newAlwaysAdmit, newAlwaysDeny } from "./plugins/always.js";
import { NAMESPACE_LIFECYCLE, newNamespaceLifecycle } from "./plugins/namespace-lifecycle.js";
import { DEFAULT_TOLERATION_SECONDS, newDefaultTolerationSeconds } from "./plugins/pod-defaults.js";
import { newPriorityAdmission, PRIORITY } from "./plugins/priority.js";
import { newServiceAccountAdmission, SERVICE_ACCOUNT } from "./plugins/service-account.js";
import { newPodSecurity, POD_SECURITY } from "./podsecurity/admission.js";
import { newResourceQuotaAdmission, RESOURCE_QUOTA } from "./resourcequota/admission.js";
import {
  DEFAULT_STORAGE_CLASS,
  newDefaultStorageClass,
  newPersistentVolumeClaimResize,
  newStorageObjectInUseProtection,
  PERSISTENT_VOLUME_CLAIM_RESIZE,
  STORAGE_OBJECT_IN_USE_PROTECTION,
} from "./storage/admission.js";

export type PluginFactory = (ctx: AdmissionContext) => AdmissionPlugin;

interface PluginEntry {
  name: string;
  factory: PluginFactory;
  /** On unless --disable-admission-plugins names it. */
  defaultOn: boolean;
}

/** Every plugin, in the order they run (upstream AllOrderedPlugins). */
const ORDERED: readonly PluginEntry[] = [
  { name: ALWAYS_ADMIT, factory: newAlwaysAdmit, defaultOn: false },
  { name: NAMESPACE_LIFECYCLE, factory: newNamespaceLifecycle, defaultOn: true },
  { name: LIMIT_RANGER, factory: newLimitRanger, defaultOn: true },
  { name: SERVICE_ACCOUNT, factory: (ctx) => newServiceAccountAdmission(ctx), defaultOn: true },
  // Off by default in upstream's kube-apiserver, but every kubeadm cluster enables it
  // (--enable-admission-plugins=NodeRestriction), and kubeling's default is Node,RBAC.
  { name: NODE_RESTRICTION, factory: newNodeRestriction, defaultOn: true },
  { name: POD_SECURITY, factory: (ctx) => newPodSecurity(ctx), defaultOn: true },
  { name: PRIORITY, factory: (ctx) => newPriorityAdmission(ctx), defaultOn: true },
  { name: DEFAULT_TOLERATION_SECONDS, factory: newDefaultTolerationSeconds, defaultOn: true },
  { name: DEFAULT_STORAGE_CLASS, factory: (ctx) => newDefaultStorageClass(ctx), defaultOn: true },
  { name: STORAGE_OBJECT_IN_USE_PROTECTION, factory: newStorageObjectInUseProtection, defaultOn: true },
  { name: PERSISTENT_VOLUME_CLAIM_RESIZE, factory: (ctx) => newPersistentVolumeClaimResize(ctx), defaultOn: true },
  // Quota goes last but for AlwaysDeny: it charges what every other plugin let through.
  { name: RESOURCE_QUOTA, factory: (ctx) => newResourceQuotaAdmission(ctx), defaultOn: true },
  { name: ALWAYS_DENY, factory: newAlwaysDeny, defaultOn: false },
];

/** The names of every known plugin, in order. */
export const ALL_ADMISSION_PLUGINS: readonly string[] = ORDERED.map((p) => p.name);

/** The plugins on when no flag is given, in order. */
export const DEFAULT_ADMISSION_PLUGINS: readonly string[] = ORDERED.filter((p) => p.defaultOn).map((p) => p.name);

/**
 * The plugins to run, in order, for --enable-admission-plugins and --disable-admission-plugins;
 * throws with upstream's messages for an unknown name or one in both lists.
 */
export function enabledAdmissionPlugins(enable: readonly string[] = [], disable: readonly string[] = []): string[] {
  const errs: string[] = [];
  for (const p of enable)
    if (!ALL_ADMISSION_PLUGINS.includes(p)) errs.push(`enable-admission-plugins plugin "${p}" is unknown`);
  for (const p of disable)
    if (!ALL_ADMISSION_PLUGINS.includes(p)) errs.push(`disable-admission-plugins plugin "${p}" is unknown`);
  const both = enable.filter((p) => disable.includes(p));
  if (both.length > 0)
    errs.push(
      `[${[...new Set(both)].sort().join(" ")}] in enable-admission-plugins and disable-admission-plugins overlapped`,
    );
  if (errs.length > 0) throw new Error(errs.join(", "));
  return ORDERED.filter((p) => !disable.includes(p.name) && (p.defaultOn || enable.includes(p.name))).map(
    (p) => p.name,
  );
}

/** The chain of the named plugins (in the fixed order, whatever the order of names). */
export function newAdmissionChain(
  ctx: AdmissionContext,
  names: readonly string[] = DEFAULT_ADMISSION_PLUGINS,
): AdmissionChain {
  return new AdmissionChain(ORDERED.filter((p) => names.includes(p.name)).map((p) => p.factory(ctx)));
}
