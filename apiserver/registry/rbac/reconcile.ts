// The API server's RBAC post-start hook (upstream pkg/registry/rbac/rest/storage_rbac.go
// PostStartHook and pkg/registry/rbac/reconciliation): every bootstrap ClusterRole and
// ClusterRoleBinding exists, and holds at least the bootstrap rules, aggregation selectors,
// subjects, labels and annotations. Nothing is removed, and objects annotated
// rbac.authorization.kubernetes.io/autoupdate=false are left as they are.

import { isAlreadyExists, isConflict, isNotFound } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { CLUSTERROLEBINDINGS, CLUSTERROLES } from "#pkg/api/resources.js";
import type { ClusterRole, ClusterRoleBinding, Subject } from "#pkg/api/types/rbac.js";
import { AUTO_UPDATE_ANNOTATION } from "#pkg/api/types/rbac.js";
import type { Logger } from "#pkg/runtime/log.js";
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from "../../auth/rbac/bootstrap-policy.js";
import { covers } from "../../auth/rbac/escalation.js";
import { deepEqual } from "../common.js";
import type { Store } from "../store.js";

export interface ReconcileStores {
  store(r: typeof CLUSTERROLES | typeof CLUSTERROLEBINDINGS): Store;
}

/** Missing keys of expected added to existing (existing values win, as upstream's merge). */
function mergeMaps(
  expected: Record<string, string> | undefined,
  existing: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (!expected && !existing) return undefined;
  return { ...(expected ?? {}), ...(existing ?? {}) };
}

const autoUpdate = (o: KubeObject) => o.metadata.annotations?.[AUTO_UPDATE_ANNOTATION] !== "false";

/** upstream ReconcileClusterRole in union mode: the reconciled role, or undefined when nothing changes. */
export function reconcileClusterRole(existing: ClusterRole, expected: ClusterRole): ClusterRole | undefined {
  const next: ClusterRole = structuredClone(existing);
  const labels = mergeMaps(expected.metadata.labels, existing.metadata.labels);
  if (labels) next.metadata.labels = labels;
  const annotations = mergeMaps(expected.metadata.annotations, existing.metadata.annotations);
  if (annotations) next.metadata.annotations = annotations;
  if (expected.aggregationRule) {
    // Aggregated: the aggregation controller owns the rules; only selectors are added.
    const have = next.aggregationRule?.clusterRoleSelectors ?? [];
    const missing = (expected.aggregationRule.clusterRoleSelectors ?? []).filter(
      (s) => !have.some((h) => deepEqual(h, s)),
    );
    if (missing.length > 0) next.aggregationRule = { clusterRoleSelectors: [...have, ...missing] };
  } else {
    if (existing.aggregationRule) delete next.aggregationRule;
    const { missing } = covers(existing.rules ?? [], expected.rules ?? []);
    if (missing.length > 0) next.rules = [...(existing.rules ?? []), ...missing];
  }
  return deepEqual(next, existing) ? undefined : next;
}

/** upstream ReconcileClusterRoleBinding in union mode; "recreate" when the roleRef differs. */
export function reconcileClusterRoleBinding(
  existing: ClusterRoleBinding,
  expected: ClusterRoleBinding,
): ClusterRoleBinding | "recreate" | undefined {
  if (!deepEqual(existing.roleRef, expected.roleRef)) return "recreate";
  const next: ClusterRoleBinding = structuredClone(existing);
  const labels = mergeMaps(expected.metadata.labels, existing.metadata.labels);
  if (labels) next.metadata.labels = labels;
  const annotations = mergeMaps(expected.metadata.annotations, existing.metadata.annotations);
  if (annotations) next.metadata.annotations = annotations;
  const have: Subject[] = next.subjects ?? [];
  const missing = (expected.subjects ?? []).filter((s) => !have.some((h) => deepEqual(h, s)));
  if (missing.length > 0) next.subjects = [...have, ...missing];
  return deepEqual(next, existing) ? undefined : next;
}

async function getOrUndefined(store: Store, name: string): Promise<KubeObject | undefined> {
  try {
    return await store.get(undefined, name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** One object: create it, or update/recreate it; retried on the races of several API servers. */
async function ensure<T extends KubeObject>(
  store: Store,
  expected: T,
  reconcile: (existing: T, expected: T) => T | "recreate" | undefined,
  log: Logger,
): Promise<void> {
  const name = expected.metadata.name ?? "";
  for (let attempt = 0; ; attempt++) {
    try {
      const existing = (await getOrUndefined(store, name)) as T | undefined;
      if (!existing) {
        await store.create(undefined, structuredClone(expected), {});
        log.info({ kind: expected.kind, object: name }, "created bootstrap RBAC object");
        return;
      }
      if (!autoUpdate(existing)) return;
      const next = reconcile(existing, expected);
      if (next === undefined) return;
      if (next === "recreate") {
        await store.delete(undefined, name, { preconditions: { uid: existing.metadata.uid } }, {});
        await store.create(undefined, structuredClone(expected), {});
        log.info({ kind: expected.kind, object: name }, "recreated bootstrap RBAC object with its roleRef");
        return;
      }
      await store.update(undefined, name, next, {});
      log.info({ kind: expected.kind, object: name }, "reconciled bootstrap RBAC object");
      return;
    } catch (err) {
      if (attempt < 5 && (isConflict(err) || isAlreadyExists(err) || isNotFound(err))) continue;
      throw err;
    }
  }
}

/** Reconciles the whole bootstrap policy (roles first, so bindings never point at nothing). */
export async function reconcileBootstrapPolicy(stores: ReconcileStores, log: Logger): Promise<void> {
  const roles = stores.store(CLUSTERROLES);
  for (const role of bootstrapClusterRoles()) await ensure(roles, role, reconcileClusterRole, log);
  const bindings = stores.store(CLUSTERROLEBINDINGS);
  for (const b of bootstrapClusterRoleBindings()) await ensure(bindings, b, reconcileClusterRoleBinding, log);
}
